"""Who must not be called: DNC lists, cross-tenant blocks, and the numbering plan for zones."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, BigId


class DncEntry(Base):
    """A number never to dial: for one tenant, or for all (``tenant_id`` is None)."""

    __tablename__ = "dnc_entries"
    __table_args__ = (UniqueConstraint("tenant_id", "number"), Index("ix_dnc_number", "number"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id"))
    number: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(120), default="")
    source: Mapped[str] = mapped_column(String(40), default="manual")  # manual/import/ivr/...
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]


class ContactBlock(Base):
    """Once a number was reached for one tenant, other tenants may not dial it until then."""

    __tablename__ = "contact_blocks"
    __table_args__ = (Index("ix_contact_blocks_number_until", "number", "blocked_until"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    number: Mapped[str] = mapped_column(String(20))
    owner_tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    blocked_until: Mapped[datetime]
    attempt_id: Mapped[int | None] = mapped_column(ForeignKey("call_attempts.id"))
    created_at: Mapped[datetime]


class NumberingRange(Base):
    """A block of numbers from a regulator's numbering plan (Russian ABC/DEF registry)."""

    __tablename__ = "numbering_ranges"
    __table_args__ = (
        Index("ix_numbering_ranges_span", "country", "first", "last"),
        Index("ix_numbering_ranges_source", "source"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    country: Mapped[str] = mapped_column(String(2))
    first: Mapped[int] = mapped_column(BigInteger)  # full national number incl. country code
    last: Mapped[int] = mapped_column(BigInteger)
    operator: Mapped[str] = mapped_column(String(255), default="")
    region: Mapped[str] = mapped_column(String(255), default="")
    # IANA zone(s) mapped from the region, space-separated when the region spans several;
    # None when the region is unknown or nationwide.
    timezone: Mapped[str | None] = mapped_column(String(255))
    source: Mapped[str] = mapped_column(String(120), default="")  # registry file name (reloads)


class ExportCursor(Base):
    """How far an export consumer has read (by ``CallAttempt.final_seq``)."""

    __tablename__ = "export_cursors"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime]
