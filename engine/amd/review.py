"""Kept samples of machine-dropped calls and reviewers' labels for them.

A campaign keeps the audio of a share (``amd.review_sample``, default 5 %) of the calls AMD
dropped as machines: the WAV of what the detector heard goes under the recordings folder and an
``AmdReview`` row waits for a person to say whether it was a human or a machine. Those labels,
with agents' "answering machine" dispositions, make the production confusion matrix
(``engine.amd.quality``).
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.amd.frames import SAMPLE_RATE
from engine.store.models import AmdReview

LABELS = ("human", "machine")
DEFAULT_SAMPLE = 0.05
DEFAULT_MIN_REVIEWED = 30
DEFAULT_MACHINE_DISPOSITION = "answering_machine"


class ReviewError(ValueError):
    """A review setting or label that cannot be used; the message names it."""


@dataclass(frozen=True)
class ReviewSettings:
    """The review keys of a campaign's ``amd`` settings."""

    sample: float = DEFAULT_SAMPLE  # share of machine drops whose audio is kept
    min_reviewed: int = DEFAULT_MIN_REVIEWED  # labelled samples before pacing uses the estimate
    machine_disposition: str = DEFAULT_MACHINE_DISPOSITION  # the agents' lead status for it

    @classmethod
    def from_amd(cls, amd: Mapping[str, Any] | None, where: str = "amd") -> ReviewSettings:
        amd = amd or {}
        sample = amd.get("review_sample", DEFAULT_SAMPLE)
        if isinstance(sample, bool) or not isinstance(sample, (int, float)) or not 0 <= sample <= 1:
            raise ReviewError(f"{where}.review_sample must be a share from 0 to 1, got {sample!r}")
        least = amd.get("review_min_samples", DEFAULT_MIN_REVIEWED)
        if isinstance(least, bool) or not isinstance(least, int) or least < 1:
            raise ReviewError(
                f"{where}.review_min_samples must be a whole number of at least 1, got {least!r}")
        status = amd.get("machine_disposition", DEFAULT_MACHINE_DISPOSITION)
        if not isinstance(status, str) or not status.strip():
            raise ReviewError(f"{where}.machine_disposition must be a lead status code, "
                              f"got {status!r}")
        return cls(sample=float(sample), min_reviewed=least, machine_disposition=status)

    def keeps(self, rng: random.Random) -> bool:
        """Whether to keep this machine drop's audio (drawn once per drop)."""
        return self.sample > 0 and rng.random() < self.sample


def review_path(recordings_dir: Path, tenant_id: int, attempt_id: int) -> Path:
    """Where a kept sample's WAV goes."""
    return Path(recordings_dir) / "amd-review" / str(tenant_id) / f"{attempt_id}.wav"


def keep_sample(session: Session, *, audio: np.ndarray, target: Path, attempt_id: int,
                campaign_id: int, amd_reason: str, now: datetime) -> AmdReview:
    """Write the detector's audio (8 kHz int16) as WAV and add the review row awaiting a label."""
    target.parent.mkdir(parents=True, exist_ok=True)
    sf.write(target, audio.astype(np.int16), SAMPLE_RATE, subtype="PCM_16")
    review = AmdReview(attempt_id=attempt_id, campaign_id=campaign_id,
                       amd_reason=amd_reason[:80], audio_path=str(target), created_at=now)
    session.add(review)
    session.flush()
    return review


def reviews(session: Session, campaign_id: int | None = None,
            pending_only: bool = True) -> list[AmdReview]:
    """Kept samples, oldest first; by default those still waiting for a label."""
    query = select(AmdReview).order_by(AmdReview.id)
    if campaign_id is not None:
        query = query.where(AmdReview.campaign_id == campaign_id)
    if pending_only:
        query = query.where(AmdReview.label.is_(None))
    return list(session.scalars(query))


def get_review(session: Session, review_id: int) -> AmdReview:
    review = session.get(AmdReview, review_id)
    if review is None:
        raise ReviewError(f"review {review_id} does not exist")
    return review


def label_review(session: Session, review_id: int, label: str, *, reviewer: str | None,
                 now: datetime) -> AmdReview:
    """Store what the reviewer heard (a later label replaces an earlier one)."""
    if label not in LABELS:
        raise ReviewError(f"label must be one of {', '.join(LABELS)}, got {label!r}")
    review = get_review(session, review_id)
    review.label, review.reviewer, review.labelled_at = label, reviewer, now
    session.flush()
    return review
