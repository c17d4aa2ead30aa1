"""Named monotonic counters (one row each), e.g. the sequence of ended call attempts."""

from __future__ import annotations

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class Counter(Base):
    """A counter advanced by ``UPDATE ... RETURNING``: the row lock orders concurrent writers."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)
