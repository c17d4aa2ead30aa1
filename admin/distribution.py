"""Distribution: hand a list's unassigned leads to agents in turn (round robin).

A lead still ``new`` becomes ``assigned`` (with a status-history row naming the user who
distributed it); a lead already further along keeps its status and only gets the agent.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from engine.store.models import Contact, LeadStatusChange

CHUNK = 5000


def round_robin(contact_ids: Sequence[int], agent_ids: Sequence[int],
                start: int = 0) -> dict[int, list[int]]:
    """Contacts per agent, dealt in turn beginning with ``agent_ids[start % len]``."""
    if not agent_ids:
        raise ValueError("no agents to distribute to")
    dealt: dict[int, list[int]] = defaultdict(list)
    for offset, contact_id in enumerate(contact_ids):
        dealt[agent_ids[(start + offset) % len(agent_ids)]].append(contact_id)
    return dict(dealt)


def distribute(session: Session, tenant_id: int, list_id: int, agent_ids: Sequence[int],
               user_id: int, now: datetime) -> int:
    """Assign every unassigned lead of the list; returns how many were assigned (committed
    chunk by chunk)."""
    assigned = 0
    after = 0
    while True:
        rows = session.execute(
            select(Contact.id, Contact.status)
            .where(Contact.tenant_id == tenant_id, Contact.list_id == list_id,
                   Contact.assigned_agent_id.is_(None), Contact.id > after)
            .order_by(Contact.id).limit(CHUNK)).all()
        if not rows:
            return assigned
        fresh = {row.id for row in rows if row.status == "new"}
        history = []
        for agent_id, ids in round_robin([row.id for row in rows], agent_ids, assigned).items():
            session.execute(update(Contact).where(Contact.id.in_(ids)).values(
                assigned_agent_id=agent_id, updated_at=now))
            new_ids = [i for i in ids if i in fresh]
            if new_ids:
                session.execute(update(Contact).where(Contact.id.in_(new_ids)).values(
                    status="assigned"))
                history += [{"contact_id": i, "from_status": "new", "to_status": "assigned",
                             "changed_at": now, "user_id": user_id, "agent_id": agent_id,
                             "comment": ""} for i in new_ids]
        if history:
            session.execute(insert(LeadStatusChange), history)
        session.commit()
        assigned += len(rows)
        after = rows[-1].id
