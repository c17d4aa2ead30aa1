"""The closed-loop guards: the abandon cap as the regulator counts it, and dead air.

Abandon rate = abandoned / live answered, per campaign, over the rule's window:
``us_30d`` a rolling 30 days, ``uk_day`` the calendar day in the campaign's time zone. When the
policy says so, estimated AMD false positives (humans hung up on as machines) count as both
live answers and abandons. Outcomes are kept in 15-minute buckets (every time zone offset is a
multiple of 15 minutes, so calendar days are exact; the 30-day edge is exact to 15 minutes).

The abandon *budget* is ``cap * live - abandoned``: how many more abandons the window can take
right now. The *gain* is an integral controller: each live answer served raises it a little,
each abandon lowers it more, so the measured rate settles at ``cap * target_fraction``; it
scales the model's abandon target, correcting whatever bias the model has. The model keeps the abandons that calls in flight may still cause within this budget
at the configured confidence, so the dialer slows down as the rate nears the cap, and stops
dialing ahead when the rate reaches it.

Dead air: the answer-to-bridge delays of the most recent answered calls (an abandoned call
counts with the silence its callee heard). If their p95 passes the threshold, the campaign
dials progressively until it is back under.

``GuardState`` is immutable: ``record`` returns a new state.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from .settings import PacingSettings

BUCKET = timedelta(minutes=15)
US_WINDOW = timedelta(days=30)
CONTROL_STEP = 0.2  # log-gain change per unit of abandon-rate error, per live answer
CONTROL_GAIN = (0.25, 8.0)


class CallResult(enum.StrEnum):
    """What became of an answered call, as the abandon rule sees it."""

    SERVED = "served"  # a live answer bridged to an agent in time
    ABANDONED = "abandoned"  # a live answer with no agent in time
    MACHINE = "machine"  # classified as an answering machine


@dataclass(frozen=True)
class GuardBucket:
    start: datetime  # aware UTC, aligned to BUCKET
    live: int = 0
    abandoned: int = 0
    machines: int = 0


@dataclass(frozen=True)
class AbandonCounts:
    """The rule's window, counted: live and abandoned include estimated AMD false positives."""

    live: float
    abandoned: float
    machines: int
    amd_false_positives: float

    @property
    def rate(self) -> float:
        return self.abandoned / self.live if self.live else 0.0

    def budget(self, cap: float) -> float:
        """More abandons the window can take now without its rate passing ``cap``."""
        return cap * self.live - self.abandoned


@dataclass(frozen=True)
class GuardState:
    buckets: tuple[GuardBucket, ...] = ()
    bridge_delays: tuple[float, ...] = ()  # newest last
    gain: float = 1.0  # closed-loop scale of the model's abandon target

    def record(
        self,
        at: datetime,
        result: CallResult,
        settings: PacingSettings,
        answer_to_bridge_s: float | None = None,
    ) -> "GuardState":
        """Count one answered call at ``at``; live answers also give their dead-air delay."""
        if at.tzinfo is None:
            raise ValueError("GuardState.record needs an aware datetime")
        start = bucket_start(at)
        horizon = start - US_WINDOW - timedelta(days=1)
        kept = [b for b in self.buckets if b.start >= horizon]
        if kept and kept[-1].start == start:
            bucket = kept.pop()
        else:
            bucket = GuardBucket(start)
        bucket = replace(
            bucket,
            live=bucket.live + (result is not CallResult.MACHINE),
            abandoned=bucket.abandoned + (result is CallResult.ABANDONED),
            machines=bucket.machines + (result is CallResult.MACHINE),
        )
        delays = self.bridge_delays
        if result is not CallResult.MACHINE:
            if answer_to_bridge_s is None:
                raise ValueError("GuardState.record: a live answer needs answer_to_bridge_s")
            delays = (*delays, float(answer_to_bridge_s))[-settings.dead_air_calls:]
        merged = sorted([*kept, bucket], key=lambda b: b.start)
        return GuardState(tuple(merged), delays, self.steered(result, settings))

    def steered(self, result: CallResult, settings: PacingSettings) -> float:
        """Integral control: every live answer nudges the gain so that, in the long run,
        the measured abandon rate equals the aim ``cap * target_fraction``."""
        if result is CallResult.MACHINE:
            return self.gain
        return self.steered_by(1, int(result is CallResult.ABANDONED), settings)

    def steered_by(self, live: int, abandoned: int, settings: PacingSettings) -> float:
        """The gain after ``live`` answers (``abandoned`` of them) taken as one step: the
        same as one step per answer unless the gain would meet its bounds in between."""
        aim = settings.abandon_cap * settings.target_fraction
        low, high = CONTROL_GAIN
        return min(max(self.gain * math.exp(CONTROL_STEP * (aim * live - abandoned)), low),
                   high)

    def counts(self, now: datetime, settings: PacingSettings) -> AbandonCounts:
        """The abandon counts of the rule's window ending at ``now``."""
        since = window_start(now, settings)
        inside = [b for b in self.buckets if since <= b.start <= now]
        machines = sum(b.machines for b in inside)
        fp = machines * settings.amd_false_positive_rate
        counted_fp = fp if settings.count_amd_false_positives else 0.0
        return AbandonCounts(
            live=sum(b.live for b in inside) + counted_fp,
            abandoned=sum(b.abandoned for b in inside) + counted_fp,
            machines=machines,
            amd_false_positives=fp,
        )

    def rate_target(self, settings: PacingSettings) -> float:
        """The abandon probability the model may add per live answer: aim times the gain."""
        return settings.abandon_cap * settings.target_fraction * self.gain

    def dead_air_p95(self, settings: PacingSettings) -> float | None:
        """p95 (nearest rank) answer-to-bridge over recent calls, or None with too few of them."""
        if len(self.bridge_delays) < settings.dead_air_min_calls:
            return None
        ranked = sorted(self.bridge_delays)
        return ranked[math.ceil(0.95 * len(ranked)) - 1]  # nearest-rank p95


def window_start(now: datetime, settings: PacingSettings) -> datetime:
    """Where the abandon rule's window begins for a decision at ``now``."""
    if settings.rule == "uk_day":
        local = now.astimezone(ZoneInfo(settings.timezone))
        midnight = datetime.combine(local.date(), time(0), tzinfo=local.tzinfo)
        return midnight.astimezone(timezone.utc)
    return bucket_start(now - US_WINDOW)


def bucket_start(at: datetime) -> datetime:
    at = at.astimezone(timezone.utc)
    return at.replace(minute=at.minute - at.minute % 15, second=0, microsecond=0)
