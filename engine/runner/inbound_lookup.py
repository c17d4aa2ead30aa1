"""Who is calling back: the campaign(s) behind the dialled number and the caller's contact.

A customer who missed a campaign call dials the number they saw (the campaign's caller
ID). Both numbers are compared in E.164 form; the contact is the one our last call to
that number was for, else a contact of those campaigns' lists with that phone.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.exchange.phones import PhoneError, PhoneNormalizer
from engine.store.models import CallAttempt, Campaign, Contact, ContactList, Phone


@dataclass(frozen=True)
class Caller:
    """What the lookup found. ``contact_id`` is None for a caller we do not know."""

    number: str  # the caller's number, E.164 when it could be read
    campaign_id: int
    tenant_id: int
    contact_id: int | None = None
    phone_id: int | None = None
    last_agent_id: int | None = None  # the agent of our last connected call to them


def e164(normalizer: PhoneNormalizer, raw: str) -> str:
    """``raw`` in E.164 when it is a valid number, else its digits (with a leading +)."""
    try:
        return normalizer.normalize(raw).number
    except PhoneError:
        digits = "".join(ch for ch in raw if ch.isdigit())
        return ("+" if raw.strip().startswith("+") else "") + digits


def campaigns_for(session: Session, normalizer: PhoneNormalizer, dialled: str) -> list[Campaign]:
    """Campaigns whose caller ID is the dialled number (newest first)."""
    wanted = e164(normalizer, dialled)
    rows = session.scalars(select(Campaign).where(Campaign.caller_id_number != "")
                           .order_by(Campaign.id.desc()))
    return [c for c in rows if e164(normalizer, c.caller_id_number) == wanted]


def find_caller(session: Session, normalizer: PhoneNormalizer, dialled: str,
                caller_number: str) -> Caller | None:
    """The caller among the contacts of the campaigns behind ``dialled``; None when no
    campaign has that number."""
    campaigns = campaigns_for(session, normalizer, dialled)
    if not campaigns:
        return None
    number = e164(normalizer, caller_number)
    by_id = {c.id: c for c in campaigns}
    last = session.scalars(
        select(CallAttempt)
        .where(CallAttempt.number == number, CallAttempt.campaign_id.in_(by_id))
        .order_by(CallAttempt.created_at.desc(), CallAttempt.id.desc()).limit(1)).first()
    if last is not None:
        return Caller(number, last.campaign_id, last.tenant_id, last.contact_id, last.phone_id,
                      _last_agent(session, last.contact_id, list(by_id)))
    phone = session.execute(
        select(Phone.id, Phone.contact_id, ContactList.campaign_id)
        .join(Contact, Contact.id == Phone.contact_id)
        .join(ContactList, ContactList.id == Contact.list_id)
        .where(Phone.number == number, ContactList.campaign_id.in_(by_id))
        .order_by(Contact.id.desc()).limit(1)).first()
    if phone is not None:
        campaign = by_id[phone.campaign_id]
        return Caller(number, campaign.id, campaign.tenant_id, phone.contact_id, phone.id)
    return Caller(number, campaigns[0].id, campaigns[0].tenant_id)


def _last_agent(session: Session, contact_id: int, campaign_ids: list[int]) -> int | None:
    return session.scalars(
        select(CallAttempt.agent_id)
        .where(CallAttempt.contact_id == contact_id, CallAttempt.campaign_id.in_(campaign_ids),
               CallAttempt.agent_id.is_not(None), CallAttempt.bridged_at.is_not(None))
        .order_by(CallAttempt.created_at.desc(), CallAttempt.id.desc()).limit(1)).first()
