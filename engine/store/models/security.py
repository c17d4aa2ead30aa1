"""Failed logins, shared by every admin process through the database (login throttling)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, BigId


class LoginFailure(Base):
    """One failed login for a throttle key (``scope`` "user" with a username, "address" with a
    client address); rows older than the lockout window are purged as new ones arrive."""

    __tablename__ = "login_failures"
    __table_args__ = (
        Index("ix_login_failures_scope_key_failed", "scope", "key", "failed_at"),
        Index("ix_login_failures_failed_at", "failed_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    scope: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(200))
    failed_at: Mapped[datetime]
