"""What the demo prints: who would be dialed now and when the others will be, and the outcomes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.masking import mask_number
from engine.store.models import CallAttempt, Campaign, Contact, ContactList
from engine.store.queries import load_decisions, strategy_of
from engine.strategy.decide import ContactDecision, PhoneDecision
from engine.strategy.windows import local_time, open_until

NAME_WIDTH = 28


@dataclass(frozen=True)
class PlanRow:
    """One contact of the dialing plan, ready to print."""

    contact: str
    number: str
    local: str  # the time now in the contact's (first) zone
    dialable: bool
    when: str  # "now" or the next possible local time
    reason: str


def _phone_shown(decision: ContactDecision) -> PhoneDecision | None:
    """The phone that would be dialed now, else the one that opens first, else the first."""
    if decision.chosen is not None:
        return decision.chosen
    timed = [p for p in decision.phones if p.next_time is not None]
    if timed:
        return min(timed, key=lambda p: p.next_time)  # type: ignore[arg-type, return-value]
    return decision.phones[0] if decision.phones else None


def _span(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    return f"{days}d {hours}h" if days else f"{hours}h {minutes:02d}m"


def plan_row(decision: ContactDecision, label: str, mask: bool, now: datetime) -> PlanRow:
    phone = _phone_shown(decision)
    if phone is None:
        return PlanRow(label, "-", "-", False, "never", "no phones")
    zones = phone.zones.names
    more = f" +{len(zones) - 1} zones" if len(zones) > 1 else ""
    local = f"{local_time(now, zones[0]):%a %H:%M} {zones[0]}{more}"
    number = mask_number(phone.phone.number) if mask else phone.phone.number
    config = phone.config
    if phone.dialable:
        closes = open_until(config, zones, now)
        reason = (f"window open until {local_time(closes, zones[0]):%H:%M} local"
                  if closes else "window open")
        return PlanRow(label, number or "-", local, True, "now", reason)
    reason = "; ".join(blocker.detail for blocker in phone.blockers)
    if phone.next_time is None:
        return PlanRow(label, number or "-", local, False, "not in sight", reason)
    when = (f"{local_time(phone.next_time, zones[0]):%a %H:%M} local "
            f"(in {_span(phone.next_time - now)})")
    return PlanRow(label, number or "-", local, False, when, reason)


def dialing_plan(session: Session, campaign: Campaign, now: datetime) -> list[PlanRow]:
    """Every contact of the campaign's lists, in list order, decided at ``now``."""
    contacts = session.execute(
        select(Contact.id, Contact.external_id, Contact.name)
        .join(ContactList, ContactList.id == Contact.list_id)
        .where(ContactList.campaign_id == campaign.id).order_by(Contact.id)).all()
    labels = {row.id: f"{row.external_id} {row.name or ''}".strip()[:NAME_WIDTH]
              for row in contacts}
    decisions = load_decisions(session, campaign, list(labels), now, strategy_of(campaign))
    mask = campaign.tenant.mask_numbers
    return [plan_row(decision, labels[decision.contact.id], mask, now)
            for decision in decisions]


def format_plan(rows: list[PlanRow]) -> str:
    """A compact aligned table with a one-line count on top."""
    header = ("contact", "number", "local time", "dial", "reason")
    body = [(r.contact, r.number, r.local, r.when, r.reason) for r in rows]
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(4)]
    lines = [f"{sum(r.dialable for r in rows)} of {len(rows)} contacts would be dialed now"]
    for line in [header, *body]:
        lines.append("  ".join(cell.ljust(width) for cell, width in zip(line, widths))
                     + "  " + line[4])
    return "\n".join(lines)


def idle_note(rows: list[PlanRow]) -> str | None:
    """What to tell the user when the engine will dial nothing now (None when it will)."""
    if any(row.dialable for row in rows):
        return None
    return ("No contact may be called right now (outside every calling window, or waiting for "
            "a retry or a cap), so the engine will dial nothing: that is the rules working. "
            "Run with --anytime (demo only) to see calls at any hour.")


def outcome_counts(session: Session, campaign_id: int,
                   since: datetime | None = None) -> dict[str, int]:
    """Attempts of the campaign (created at or after ``since``) per outcome; open ones as
    ``in progress``."""
    query = (select(CallAttempt.outcome, func.count())
             .where(CallAttempt.campaign_id == campaign_id).group_by(CallAttempt.outcome))
    if since is not None:
        query = query.where(CallAttempt.created_at >= since)
    return {(outcome.value if outcome else "in progress"): count
            for outcome, count in session.execute(query).all()}


def format_counts(counts: dict[str, int]) -> str:
    total = sum(counts.values())
    if not total:
        return "0 attempts"
    parts = ", ".join(f"{name} {count}" for name, count in
                      sorted(counts.items(), key=lambda item: (-item[1], item[0])))
    return f"{total} attempts: {parts}"
