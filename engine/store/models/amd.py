"""AMD review: machine-dropped calls whose audio was kept, and what a person heard in it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, BigId


class AmdReview(Base):
    """One kept sample: the detector said machine and dropped the call; ``label`` is the truth
    a reviewer heard (null until reviewed)."""

    __tablename__ = "amd_reviews"
    __table_args__ = (Index("ix_amd_reviews_campaign_created", "campaign_id", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    attempt_id: Mapped[int] = mapped_column(
        ForeignKey("call_attempts.id", ondelete="CASCADE"), unique=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    amd_reason: Mapped[str] = mapped_column(String(80), default="")  # the detector's reason
    audio_path: Mapped[str] = mapped_column(String(500))  # WAV of what the detector heard
    label: Mapped[str | None] = mapped_column(String(16))  # human / machine, null: not reviewed
    reviewer: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime]
    labelled_at: Mapped[datetime | None]
