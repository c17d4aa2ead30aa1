"""The one result a detector gives for a call."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Label = Literal["human", "machine", "unknown"]
LABELS: tuple[Label, ...] = ("human", "machine", "unknown")
UNREACHABLE = "unreachable"  # reason prefix: a network announcement or SIT, not a subscriber


@dataclass(frozen=True, slots=True)
class Decision:
    """What answered, why, how sure, and when (ms of audio analysed).

    `reason` is a short code, optionally with details after colons: "classifier", "beep",
    "fingerprint:<name>", "unreachable:sit", "unreachable:fingerprint:<name>", "budget",
    "classifier:budget", "audio-ended" (finish() before the budget), "no-audio"; for the
    app_amd baseline, Asterisk's AMDCAUSE. The caller treats "unknown" as human.

    `beep_at_ms` is when a voicemail beep was recognised (at its end, or while it still sounds
    once it is long enough), if one was heard by the decision; a message played after it should
    wait for the line to go quiet.
    """

    label: Label
    reason: str
    confidence: float
    decision_ms: int
    beep_at_ms: int | None = None

    @property
    def unreachable(self) -> bool:
        return self.reason.startswith(UNREACHABLE)
