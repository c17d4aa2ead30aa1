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


# Funnel order: a lead moves down this list; the position is the index.
DEFAULT_STATUSES: tuple[StatusDef, ...] = (
    StatusDef("new", "Новый", "new"),
    StatusDef("assigned", "Назначен", "new"),
    StatusDef("no_answer", "Не дозвонились", "in_progress"),
    StatusDef("callback", "Перезвонить", "in_progress"),
    StatusDef("contacted", "Состоялся разговор", "in_progress"),
    StatusDef("interested", "Интересуется", "in_progress"),
    StatusDef("client_interested", "Клиент заинтересован", "success", final=True),
    StatusDef("refused", "Отказ", "lost", final=True),
    StatusDef("wrong_number", "Неверный номер", "lost", final=True),
    StatusDef("not_reached", "Не дозвонились (попытки исчерпаны)", "lost", final=True),
    StatusDef("dnc", "Не звонить", "lost", final=True),
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
        .order_by(LeadStatus.position, LeadStatus.tenant_id.is_(None))
    ).all()
    by_code: dict[str, LeadStatus] = {}
    for row in rows:
        by_code.setdefault(row.code, row)
    return sorted(by_code.values(), key=lambda s: s.position)


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
