"""Lead statuses: the built-in set and the one way to change a lead's status (with history)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from engine.store.models import Contact, LeadStatus, LeadStatusChange


@dataclass(frozen=True)
class StatusDef:
    code: str
    name: str
    category: str  # new / in_progress / success / lost
    final: bool = False


# Funnel order: a lead moves down this list; the position is the index. Names are the
# reference (English) names; the admin shows them translated by code.
DEFAULT_STATUSES: tuple[StatusDef, ...] = (
    StatusDef("new", "New", "new"),
    StatusDef("assigned", "Assigned", "new"),
    StatusDef("no_answer", "No answer", "in_progress"),
    StatusDef("callback", "Callback", "in_progress"),
    StatusDef("interested", "Interested", "in_progress"),
    StatusDef("client_interested", "Client interested", "success", final=True),
    StatusDef("refused", "Refused", "lost", final=True),
    StatusDef("wrong_number", "Wrong number", "lost", final=True),
    StatusDef("not_reached", "Not reached", "lost", final=True),
)


class UnknownStatus(ValueError):
    """The status code is neither built in nor defined for the lead's tenant."""


def ensure_default_statuses(session: Session) -> None:
    """Insert the built-in statuses (tenant-less) that are missing; never changes existing ones."""
    existing = set(session.scalars(select(LeadStatus.code).where(LeadStatus.tenant_id.is_(None))))
    for position, status in enumerate(DEFAULT_STATUSES):
        if status.code not in existing:
            session.add(LeadStatus(tenant_id=None, code=status.code, name=status.name,
                                   position=position, final=status.final, category=status.category))
    session.flush()


def statuses_for(session: Session, tenant_id: int) -> list[LeadStatus]:
    """The tenant's statuses in funnel order; a tenant's own code overrides a built-in one."""
    rows = session.scalars(
        select(LeadStatus)
        .where(or_(LeadStatus.tenant_id.is_(None), LeadStatus.tenant_id == tenant_id))
    ).all()
    by_code: dict[str, LeadStatus] = {}
    for row in sorted(rows, key=lambda r: r.tenant_id is None):  # the tenant's rows first
        by_code.setdefault(row.code, row)
    return sorted(by_code.values(), key=lambda s: (s.position, s.code))


def set_status(
    session: Session,
    contact: Contact,
    to_status: str,
    *,
    at: datetime,
    user_id: int | None = None,
    agent_id: int | None = None,
    attempt_id: int | None = None,
    comment: str = "",
) -> LeadStatusChange | None:
    """Move ``contact`` to ``to_status`` and record who, when and why; no-op if unchanged."""
    if to_status not in {s.code for s in statuses_for(session, contact.tenant_id)}:
        raise UnknownStatus(f"unknown lead status {to_status!r} for tenant {contact.tenant_id}")
    if contact.status == to_status:
        return None
    change = LeadStatusChange(
        contact_id=contact.id, from_status=contact.status, to_status=to_status, changed_at=at,
        user_id=user_id, agent_id=agent_id, attempt_id=attempt_id, comment=comment,
    )
    contact.status = to_status
    contact.updated_at = at
    session.add(change)
    session.flush()
    return change
