"""The dialers the benchmark compares, all driven by the same world through the same hooks."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from engine.pacing import (
    AttemptOutcome,
    CallResult,
    GuardState,
    PacingEstimates,
    PacingSettings,
    PacingSnapshot,
    decide_calls,
)


class _Baseline:
    """A dialer that learns nothing from call progress."""

    name = "baseline"

    def attempt_ended(self, outcome: AttemptOutcome, ring_s: float) -> None:
        """Baselines ignore call progress."""

    def answered(self, result: CallResult, now: datetime, delay_s: float | None) -> None:
        """Baselines ignore answers."""

    def talk_ended(self, talk_s: float) -> None:
        """Baselines ignore talk times."""

    def wrap_ended(self, wrap_s: float) -> None:
        """Baselines ignore wrap-up times."""


class ProgressiveDialer(_Baseline):
    """1:1: one call per ready agent not already covered by a call in flight."""

    name = "progressive"

    def decide(self, snapshot: PacingSnapshot, now: datetime) -> int:
        return snapshot.progressive_safe_calls


class FixedRatioDialer(_Baseline):
    """``ratio`` lines per ready agent, whatever the answer rate or the abandons."""

    name = "fixed_ratio"

    def __init__(self, ratio: float = 3.0) -> None:
        self.ratio = ratio

    def decide(self, snapshot: PacingSnapshot, now: datetime) -> int:
        target = round(self.ratio * len(snapshot.ready_for_s))
        return max(0, target - snapshot.calls_in_flight)


class PredictiveDialer:
    """Ours: engine.pacing's decide_calls, learning from every call like the engine does."""

    name = "ours"

    def __init__(self, settings: PacingSettings) -> None:
        self.settings = settings
        self.estimates = PacingEstimates.from_settings(settings)
        self.guard = GuardState()
        self.modes: Counter[str] = Counter()

    def decide(self, snapshot: PacingSnapshot, now: datetime) -> int:
        decision = decide_calls(snapshot, self.estimates, self.settings, self.guard, now)
        self.modes[str(decision.mode)] += 1
        return decision.calls_to_launch

    def attempt_ended(self, outcome: AttemptOutcome, ring_s: float) -> None:
        self.estimates = self.estimates.observe_attempt(outcome, ring_s)

    def answered(self, result: CallResult, now: datetime, delay_s: float | None) -> None:
        self.guard = self.guard.record(now, result, self.settings, answer_to_bridge_s=delay_s)

    def talk_ended(self, talk_s: float) -> None:
        self.estimates = self.estimates.observe_talk(talk_s)

    def wrap_ended(self, wrap_s: float) -> None:
        self.estimates = self.estimates.observe_wrap(wrap_s)
