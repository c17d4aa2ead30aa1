"""Display rows for leads: the related names, first phone and last recording, fetched per page.

Everything a user can see of a lead goes through :func:`build_rows`, which applies the tenant's
number masking, so the table, the JSON and the XLSX export cannot diverge on what they reveal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.store.models import Agent, CallAttempt, Campaign, Contact, ContactList, Phone, Team

from . import masking
from .statuses import status_label

COLUMNS = {
    "id": _l("#"), "external_id": _l("External ID"), "name": _l("Name"), "phone": _l("Phone"),
    "status": _l("Status"), "campaign": _l("Campaign"), "list": _l("List"), "agent": _l("Agent"),
    "team": _l("Team"), "attempts": _l("Attempts"), "last_attempt_at": _l("Last call"),
    "created_at": _l("Created"), "updated_at": _l("Updated"), "recording": _l("Recording"),
}
DEFAULT_COLUMNS = ("name", "phone", "status", "campaign", "agent", "updated_at", "recording")


def chosen_columns(preferences: dict[str, object] | None) -> list[str]:
    """The user's remembered columns in table order (defaults when none or all invalid)."""
    saved = (preferences or {}).get("lead_columns")
    if isinstance(saved, list):
        valid = [key for key in COLUMNS if key in saved]
        if valid:
            return valid
    return list(DEFAULT_COLUMNS)


@dataclass(frozen=True)
class LeadRow:
    id: int
    external_id: str
    name: str
    phone: str
    status: str
    status_name: str
    campaign: str
    list: str
    agent: str
    team: str
    attempts: int
    last_attempt_at: datetime | None
    created_at: datetime
    updated_at: datetime
    recording: int | None  # id of the attempt with the last recording

    def value(self, column: str) -> object:
        return self.status_name if column == "status" else getattr(self, column)

    def as_json(self, columns: Sequence[str]) -> dict[str, object]:
        out: dict[str, object] = {"id": self.id}
        for column in columns:
            value = self.value(column)
            out[column] = value.isoformat() if isinstance(value, datetime) else value
        return out


def build_rows(session: Session, contacts: Sequence[Contact], masked: bool,
               status_names: dict[str, str]) -> list[LeadRow]:
    ids = [c.id for c in contacts]
    if not ids:
        return []
    phones: dict[int, str] = {}
    for contact_id, number in session.execute(
        select(Phone.contact_id, Phone.number).where(Phone.contact_id.in_(ids))
        .order_by(Phone.contact_id, Phone.priority.desc(), Phone.id.desc())
    ):
        phones[contact_id] = number  # the last one written wins: the lowest priority value
    lists = {row.id: row for row in session.execute(
        select(ContactList.id, ContactList.name, Campaign.name.label("campaign"))
        .outerjoin(Campaign, Campaign.id == ContactList.campaign_id)
        .where(ContactList.id.in_({c.list_id for c in contacts})))}
    agent_ids = {c.assigned_agent_id for c in contacts if c.assigned_agent_id}
    agents = {row.id: row for row in session.execute(
        select(Agent.id, Agent.name, Team.name.label("team"))
        .outerjoin(Team, Team.id == Agent.team_id).where(Agent.id.in_(agent_ids)))}
    recordings = dict(session.execute(
        select(CallAttempt.contact_id, func.max(CallAttempt.id))
        .where(CallAttempt.contact_id.in_(ids), CallAttempt.recording_path.is_not(None))
        .group_by(CallAttempt.contact_id)).all())
    rows = []
    for c in contacts:
        in_list = lists.get(c.list_id)
        agent = agents.get(c.assigned_agent_id) if c.assigned_agent_id else None
        rows.append(LeadRow(
            id=c.id, external_id=masking.external_id_text(c, masked),
            name=masking.contact_label(c, masked),
            phone=masking.phone_text(phones.get(c.id), masked), status=c.status,
            status_name=status_label(c.status, status_names),
            campaign=(in_list.campaign or "") if in_list else "",
            list=in_list.name if in_list else "", agent=agent.name if agent else "",
            team=(agent.team or "") if agent else "", attempts=c.attempts,
            last_attempt_at=c.last_attempt_at, created_at=c.created_at, updated_at=c.updated_at,
            recording=recordings.get(c.id),
        ))
    return rows
