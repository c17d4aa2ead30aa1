"""Row counts of what the demo seeds and imports, for the idempotency checks."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.store.models import Agent, Campaign, Contact, ContactList, Phone, Tenant, User

# 1 tenant, demo-admin and demo-agent, the agent's seat and 5 simulated agents, 36 good rows of
# engine/demo/contacts.csv with 2 phones each.
SEEDED = {"Tenant": 1, "User": 2, "Agent": 6, "Campaign": 1, "ContactList": 1, "Contact": 36,
          "Phone": 72}


def table_counts(session: Session) -> dict[str, int]:
    return {model.__name__: session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Tenant, User, Agent, Campaign, ContactList, Contact, Phone)}
