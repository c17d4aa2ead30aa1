"""Learning from finished attempts, one at a time (live) or all at once (after a restart).

A ``FinishedAttempt`` is what pacing needs to know of one ended dial attempt. ``learn`` feeds
one to the estimates and the abandon guard; ``restore`` gives the state an engine would have
reached by learning from a campaign's stored attempts, from per-bucket counts of the rule's
window and the most recent attempts (cheap to read however big the window), so that a
restart neither forgets the abandons in the window nor starts its estimates cold;
``rebuild`` does the same from a list of attempts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from .estimates import AttemptOutcome, PacingEstimates
from .guard import CallResult, GuardBucket, GuardState, bucket_start, window_start
from .settings import PacingSettings

REPLAY_HALF_LIVES = 10  # estimates replay this many half-lives of attempts (0.1 % weight left)


@dataclass(frozen=True)
class FinishedAttempt:
    """One ended attempt, as pacing sees it."""

    ended_at: datetime  # aware
    kind: AttemptOutcome  # how its ringing phase ended
    ring_s: float  # dial to answer, or dial to the end when unanswered
    result: CallResult | None = None  # None: no live answer and no machine
    silence_s: float | None = None  # live answers: hand-over to an agent queue to bridge
    talk_s: float | None = None  # bridged calls: bridge to hangup
    wrap_s: float | None = None  # bridged calls: the agent's wrap-up

    def __post_init__(self) -> None:
        if self.ended_at.tzinfo is None:
            raise ValueError("FinishedAttempt.ended_at must be aware")
        live = self.result in (CallResult.SERVED, CallResult.ABANDONED)
        if live and self.silence_s is None:
            raise ValueError("FinishedAttempt: a live answer needs silence_s")


def learn(estimates: PacingEstimates, guard: GuardState, attempt: FinishedAttempt,
          settings: PacingSettings) -> tuple[PacingEstimates, GuardState]:
    """Estimates and guard after one more finished attempt."""
    estimates = estimates.observe_attempt(attempt.kind, attempt.ring_s)
    if attempt.talk_s is not None:
        estimates = estimates.observe_talk(attempt.talk_s)
    if attempt.wrap_s is not None:
        estimates = estimates.observe_wrap(attempt.wrap_s)
    if attempt.result is not None:
        guard = guard.record(attempt.ended_at, attempt.result, settings,
                             answer_to_bridge_s=attempt.silence_s)
    return estimates, guard


def rebuild(attempts: Sequence[FinishedAttempt], settings: PacingSettings,
            now: datetime) -> tuple[PacingEstimates, GuardState]:
    """The estimates and guard after learning from ``attempts`` (any order) in end order.

    The guard counts every attempt that ended in the rule's window at ``now``, in the same
    15-minute buckets as ``restore`` gets them from a database; its dead-air delays are the
    window's last live answers. The estimates replay the most recent
    ``REPLAY_HALF_LIVES * memory_calls`` attempts from the campaign defaults; older ones
    would weigh less than 0.1 %.
    """
    ordered = sorted(attempts, key=lambda a: a.ended_at)
    since = window_start(now, settings)
    counted = [a for a in ordered if a.result is not None and since <= a.ended_at <= now]
    tally: dict[datetime, Counter[CallResult]] = {}
    for a in counted:
        tally.setdefault(bucket_start(a.ended_at), Counter())[a.result] += 1
    buckets = [GuardBucket(start, live=c[CallResult.SERVED] + c[CallResult.ABANDONED],
                           abandoned=c[CallResult.ABANDONED], machines=c[CallResult.MACHINE])
               for start, c in tally.items()]
    delays = [a.silence_s for a in counted
              if a.result is not CallResult.MACHINE and a.silence_s is not None]
    return restore(buckets, ordered, delays, settings, now)


def restore(buckets: Iterable[GuardBucket], recent: Sequence[FinishedAttempt],
            delays: Sequence[float], settings: PacingSettings,
            now: datetime) -> tuple[PacingEstimates, GuardState]:
    """The estimates and guard from what a store can give cheaply after a restart.

    ``buckets``: counts of the campaign's ended attempts per 15-minute bucket (any order;
    those outside the rule's window at ``now`` are left out); ``recent``: its most recent
    ended attempts (any order; the last ``REPLAY_HALF_LIVES * memory_calls`` are replayed
    into the estimates); ``delays``: the silences of the window's last live answers, oldest
    first. The controller's gain replays the window bucket by bucket, which equals replaying
    it answer by answer unless the gain meets one of its bounds within a bucket.
    """
    estimates = PacingEstimates.from_settings(settings)
    ordered = sorted(recent, key=lambda a: a.ended_at)
    for attempt in ordered[-int(REPLAY_HALF_LIVES * settings.memory_calls):]:
        estimates, _ = learn(estimates, GuardState(), _without_result(attempt), settings)
    since = window_start(now, settings)
    window = sorted((b for b in buckets if since <= b.start <= now and (b.live or b.machines)),
                    key=lambda b: b.start)
    gain = GuardState().gain
    for bucket in window:
        gain = GuardState(gain=gain).steered_by(bucket.live, bucket.abandoned, settings)
    kept = tuple(float(d) for d in delays)[-settings.dead_air_calls:]
    return estimates, GuardState(tuple(window), kept, gain)


def _without_result(attempt: FinishedAttempt) -> FinishedAttempt:
    return FinishedAttempt(attempt.ended_at, attempt.kind, attempt.ring_s,
                           talk_s=attempt.talk_s, wrap_s=attempt.wrap_s)
