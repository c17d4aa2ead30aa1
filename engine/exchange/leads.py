"""Export of lead results for a campaign: one row per contact with its status and last call."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from engine.masking import mask_number, mask_values
from engine.store.db import transaction
from engine.store.models import (
    Agent,
    CallAttempt,
    Campaign,
    Contact,
    ContactList,
    LeadStatusChange,
    Phone,
    Tenant,
)

from .tables import atomic_output, write_table

LEAD_COLUMNS = (
    "contact_external_id", "list", "campaign", "name", "status", "status_changed_at",
    "attempts", "last_attempt_at", "last_outcome", "last_disposition", "last_agent", "phones",
    "timezone", "region", "consent", "fields_json", "result_json",
)
PAGE = 1000


def lead_rows(session: Session, campaign: Campaign,
              statuses: Sequence[str] = ()) -> Iterator[list[Any]]:
    """Rows in LEAD_COLUMNS order for the contacts of the campaign's lists, by contact id."""
    masked = session.scalar(select(Tenant.mask_numbers).where(Tenant.id == campaign.tenant_id))
    last_seq = (select(CallAttempt.contact_id, func.max(CallAttempt.final_seq).label("seq"))
                .where(CallAttempt.campaign_id == campaign.id,
                       CallAttempt.final_seq.is_not(None))
                .group_by(CallAttempt.contact_id).subquery())
    changed = (select(LeadStatusChange.contact_id,
                      func.max(LeadStatusChange.changed_at).label("at"))
               .group_by(LeadStatusChange.contact_id).subquery())
    query = (
        select(Contact, ContactList.name, changed.c.at, CallAttempt.outcome,
               CallAttempt.disposition, CallAttempt.result, Agent.name)
        .join(ContactList, ContactList.id == Contact.list_id)
        .outerjoin(changed, changed.c.contact_id == Contact.id)
        .outerjoin(last_seq, last_seq.c.contact_id == Contact.id)
        .outerjoin(CallAttempt, CallAttempt.final_seq == last_seq.c.seq)
        .outerjoin(Agent, Agent.id == CallAttempt.agent_id)
        .where(ContactList.campaign_id == campaign.id)
        .order_by(Contact.id).limit(PAGE)
    )
    if statuses:
        query = query.where(Contact.status.in_(list(statuses)))
    after = 0
    while page := session.execute(query.where(Contact.id > after)).all():
        after = page[-1][0].id
        phones = _phones(session, [row[0].id for row in page])
        for contact, list_name, changed_at, outcome, disposition, result, agent in page:
            numbers = " ".join(phones.get(contact.id, []))
            fields, result = contact.fields or {}, result or {}
            if masked:
                numbers = " ".join(map(mask_number, numbers.split()))
                fields, result = mask_values(fields), mask_values(result)
            yield [contact.external_id, list_name, campaign.name, contact.name, contact.status,
                   changed_at, contact.attempts, contact.last_attempt_at,
                   outcome.value if outcome else None, disposition, agent, numbers,
                   contact.timezone, contact.region, contact.consent, fields, result]
        session.expunge_all()


def export_leads(factory: sessionmaker[Session], out: Path, campaign_id: int,
                 statuses: Sequence[str] = ()) -> int:
    """Write the campaign's leads to ``out`` (.csv or .xlsx); returns the row count."""
    with atomic_output(out) as partial, transaction(factory) as session:
        campaign = session.get_one(Campaign, campaign_id)
        return write_table(partial, out.suffix.lower(), LEAD_COLUMNS,
                           lead_rows(session, campaign, statuses), sheet="leads")


def _phones(session: Session, contact_ids: list[int]) -> dict[int, list[str]]:
    numbers: dict[int, list[str]] = {}
    for contact_id, number in session.execute(
        select(Phone.contact_id, Phone.number).where(Phone.contact_id.in_(contact_ids))
        .order_by(Phone.contact_id, Phone.priority, Phone.id)
    ):
        numbers.setdefault(contact_id, []).append(number)
    return numbers
