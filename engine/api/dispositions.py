"""An agent's disposition of a finished call: lead status, result fields, callback time."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from engine.leads import set_status, statuses_for
from engine.store.models import CallAttempt, Callback, Campaign, Contact
from engine.strategy.zones import customer_zone


class DispositionError(ValueError):
    """A disposition that cannot be stored; the message names the field."""


def local_to_utc(text: str, zone: str) -> datetime:
    """``2026-11-24 15:30`` in the customer's zone -> aware UTC."""
    try:
        naive = datetime.fromisoformat(text)
    except ValueError as exc:
        raise DispositionError(f"callback_at {text!r} is not a date and time like "
                               "2026-11-24 15:30") from exc
    if naive.tzinfo is not None:
        raise DispositionError("callback_at is the customer's local time: give no offset")
    return naive.replace(tzinfo=ZoneInfo(zone)).astimezone(timezone.utc)


CONSENT_COMMENT = {True: "consent given", False: "consent withdrawn"}


def record_consent(contact: Contact, attempt: CallAttempt, consent: bool, now: datetime) -> None:
    """The customer's answer on this call: on the contact (with its time) and, as the
    history of every answer, on the attempt's result (``consent``, ``consent_at``)."""
    contact.consent, contact.consent_at = consent, now
    attempt.result = {**attempt.result, "consent": consent, "consent_at": now.isoformat()}


def dispose(session: Session, attempt_id: int, *, status: str, agent_id: int | None,
            now: datetime, result: dict[str, Any] | None = None,
            callback_at: str | None = None, consent: bool | None = None) -> Callback | None:
    """Store the disposition on the attempt, move the lead's status, record the customer's
    consent (given or withdrawn), schedule a callback (due at ``callback_at`` in the
    customer's local time, with the same agent reserved)."""
    attempt = session.get(CallAttempt, attempt_id)
    if attempt is None:
        raise DispositionError(f"attempt {attempt_id} does not exist")
    codes = {s.code for s in statuses_for(session, attempt.tenant_id)}
    if status not in codes:
        raise DispositionError(f"status {status!r} is not a lead status of this tenant "
                               f"(known: {', '.join(sorted(codes)) or 'none'})")
    contact = session.get(Contact, attempt.contact_id)
    campaign = session.get(Campaign, attempt.campaign_id)
    attempt.disposition = status
    attempt.result = {**(attempt.result or {}), **(result or {})}
    comment = ""
    if consent is not None:
        record_consent(contact, attempt, consent, now)
        comment = CONSENT_COMMENT[consent]
    set_status(session, contact, status, at=now, agent_id=agent_id, attempt_id=attempt.id,
               comment=comment)
    callback = None
    if callback_at:
        zone = customer_zone(contact.timezone, contact.region,
                             [phone.number for phone in contact.phones], campaign.timezone)
        due = local_to_utc(callback_at, zone)
        if due <= now:
            raise DispositionError(f"callback_at {callback_at} ({due:%Y-%m-%d %H:%M} UTC) "
                                   "is in the past")
        callback = Callback(campaign_id=campaign.id, contact_id=contact.id,
                            phone_id=attempt.phone_id, agent_id=attempt.agent_id or agent_id,
                            due_at=due, reason="agent", created_at=now)
        session.add(callback)
    session.flush()
    return callback
