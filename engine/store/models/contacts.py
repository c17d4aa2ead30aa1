"""Contact lists, contacts (leads), their phones, lead statuses and callbacks."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, BigId, str_enum


class PhoneType(enum.StrEnum):
    MOBILE = "mobile"
    WORK = "work"
    HOME = "home"
    OTHER = "other"


class ContactList(Base):
    __tablename__ = "contact_lists"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]


class Contact(Base):
    """A lead: one person or company to reach, with its current status."""

    __tablename__ = "contacts"
    __table_args__ = (
        UniqueConstraint("list_id", "external_id"),
        # The leads table filters by status, agent or list and sorts by update time.
        Index("ix_contacts_tenant_status_updated", "tenant_id", "status", "updated_at"),
        Index("ix_contacts_agent_status_updated", "assigned_agent_id", "status", "updated_at"),
        Index("ix_contacts_list_status_updated", "list_id", "status", "updated_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    # Its own index too: the dialer walks a list's contacts in id order (list_id, rowid).
    list_id: Mapped[int] = mapped_column(ForeignKey("contact_lists.id"), index=True)
    external_id: Mapped[str] = mapped_column(String(120))
    name: Mapped[str] = mapped_column(String(255), default="")
    fields: Mapped[dict[str, Any]] = mapped_column(default=dict)
    timezone: Mapped[str | None] = mapped_column(String(64))  # IANA zone, when known
    region: Mapped[str | None] = mapped_column(String(120))  # free text or region code
    consent: Mapped[bool] = mapped_column(default=False)
    consent_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(40), default="new")
    assigned_agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    attempts: Mapped[int] = mapped_column(default=0)
    last_attempt_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    phones: Mapped[list[Phone]] = relationship(
        back_populates="contact", order_by="Phone.priority", cascade="all, delete-orphan"
    )


class Phone(Base):
    __tablename__ = "phones"
    __table_args__ = (
        UniqueConstraint("contact_id", "number"),
        Index("ix_phones_number", "number"),
        Index("ix_phones_next_attempt", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    number: Mapped[str] = mapped_column(String(20))  # E.164, e.g. +79161234567
    phone_type: Mapped[PhoneType] = mapped_column(str_enum(PhoneType), default=PhoneType.MOBILE)
    priority: Mapped[int] = mapped_column(default=0)  # lower is tried first within a type
    attempts: Mapped[int] = mapped_column(default=0)
    last_attempt_at: Mapped[datetime | None]
    last_outcome: Mapped[str | None] = mapped_column(String(24))
    next_attempt_at: Mapped[datetime | None]  # earliest retry time set by the retry rules
    disabled_reason: Mapped[str | None] = mapped_column(String(120))  # e.g. invalid number

    contact: Mapped[Contact] = relationship(back_populates="phones")


class LeadStatus(Base):
    """A status a lead can have; ``position`` orders the funnel."""

    __tablename__ = "lead_statuses"
    __table_args__ = (UniqueConstraint("tenant_id", "code"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id"))  # None: built in
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(120))
    position: Mapped[int] = mapped_column(default=0)
    final: Mapped[bool] = mapped_column(default=False)
    category: Mapped[str] = mapped_column(String(24), default="in_progress")  # success/lost/...


class LeadStatusChange(Base):
    __tablename__ = "lead_status_history"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(40))
    to_status: Mapped[str] = mapped_column(String(40))
    changed_at: Mapped[datetime] = mapped_column(index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    attempt_id: Mapped[int | None] = mapped_column(ForeignKey("call_attempts.id"))
    comment: Mapped[str] = mapped_column(Text, default="")


class CallbackStatus(enum.StrEnum):
    PENDING = "pending"
    DONE = "done"
    CANCELLED = "cancelled"


class Callback(Base):
    """A call promised at a time (stored UTC; chosen in the customer's local time)."""

    __tablename__ = "callbacks"
    __table_args__ = (Index("ix_callbacks_due", "campaign_id", "status", "due_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    phone_id: Mapped[int | None] = mapped_column(ForeignKey("phones.id", ondelete="SET NULL"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))  # reserved agent
    due_at: Mapped[datetime] = mapped_column(index=True)
    reason: Mapped[str] = mapped_column(String(40), default="agent")  # agent / abandoned
    status: Mapped[CallbackStatus] = mapped_column(
        str_enum(CallbackStatus), default=CallbackStatus.PENDING
    )
    created_at: Mapped[datetime]
    done_at: Mapped[datetime | None]  # the attempt that served it has callback_id set
