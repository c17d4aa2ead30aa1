"""The signed-in user as the admin sees it: role, tenant and its masking rule."""

from __future__ import annotations

from dataclasses import dataclass

from flask_login import UserMixin
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.store.models import Agent, Role, Tenant, User


@dataclass(frozen=True)
class SignedInUser(UserMixin):
    id: int
    tenant_id: int
    tenant_name: str
    username: str
    role: Role
    locale: str
    mask_numbers: bool
    agent_id: int | None  # the seat of an agent user, if any

    @classmethod
    def load(cls, session: Session, user_id: int) -> SignedInUser | None:
        row = session.execute(
            select(User, Tenant).join(Tenant, Tenant.id == User.tenant_id).where(User.id == user_id)
        ).first()
        if row is None or not row.User.active:
            return None
        user, tenant = row.User, row.Tenant
        agent_id = session.scalar(select(Agent.id).where(Agent.user_id == user.id))
        return cls(user.id, tenant.id, tenant.name, user.username, Role(user.role),
                   user.locale, tenant.mask_numbers, agent_id)

    def get_id(self) -> str:
        return str(self.id)

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def is_agent(self) -> bool:
        return self.role is Role.AGENT
