"""Learning from finished attempts, and rebuilding that state after a restart."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest

from engine.pacing import (
    AttemptOutcome,
    CallResult,
    FinishedAttempt,
    GuardState,
    PacingEstimates,
    PacingSettings,
    learn,
    rebuild,
    restore,
)
from engine.pacing.guard import CONTROL_GAIN, GuardBucket

from .conftest import NOW


def _attempts(count: int, seed: int, first: datetime, step_s: float,
              abandoned: float = 0.03) -> list[FinishedAttempt]:
    """A campaign's ended attempts: no answers, machines, served and (a share ``abandoned``
    of all attempts) abandoned humans."""
    rng = random.Random(seed)
    out = []
    for i in range(count):
        at = first + timedelta(seconds=i * step_s)
        roll = rng.random()
        if roll < 0.5:
            out.append(FinishedAttempt(at, AttemptOutcome.NO_ANSWER, rng.uniform(2, 25)))
        elif roll < 0.65:
            out.append(FinishedAttempt(at, AttemptOutcome.MACHINE, rng.uniform(3, 15),
                                       CallResult.MACHINE))
        elif roll < 1 - abandoned:
            out.append(FinishedAttempt(at, AttemptOutcome.HUMAN, rng.uniform(3, 15),
                                       CallResult.SERVED, silence_s=rng.uniform(0.1, 1.5),
                                       talk_s=rng.lognormvariate(4, 1), wrap_s=10.0))
        else:
            out.append(FinishedAttempt(at, AttemptOutcome.HUMAN, rng.uniform(3, 15),
                                       CallResult.ABANDONED, silence_s=2.0))
    return out


def _learnt(attempts: list[FinishedAttempt], settings: PacingSettings
            ) -> tuple[PacingEstimates, GuardState, list[float]]:
    """Live learning, one attempt at a time; also the gain after each."""
    estimates, guard, gains = PacingEstimates.from_settings(settings), GuardState(), []
    for attempt in attempts:
        estimates, guard = learn(estimates, guard, attempt, settings)
        gains.append(guard.gain)
    return estimates, guard, gains


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_rebuild_equals_learning_live(seed: int) -> None:
    settings = PacingSettings.from_dict({})
    attempts = _attempts(1500, seed, NOW - timedelta(hours=5), 12.0, abandoned=0.005)
    live_estimates, live_guard, gains = _learnt(attempts, settings)
    low, high = CONTROL_GAIN
    assert low < min(gains) and max(gains) < high  # the gain never met a bound
    shuffled = random.Random(seed).sample(attempts, len(attempts))  # any order in, time order used
    estimates, guard = rebuild(shuffled, settings, NOW)
    assert guard.counts(NOW, settings) == live_guard.counts(NOW, settings)
    assert guard.buckets == live_guard.buckets
    assert guard.bridge_delays == live_guard.bridge_delays
    assert guard.gain == pytest.approx(live_guard.gain, rel=1e-12)
    assert guard.rate_target(settings) == pytest.approx(live_guard.rate_target(settings))
    assert estimates.summary() == live_estimates.summary()
    assert guard.counts(NOW, settings).abandoned > 0


def test_restored_gain_stays_within_its_bounds_when_live_met_one() -> None:
    # 3 % of attempts abandoned (~9 % of live answers): the live gain sits on its lower
    # bound most of the time; bucket by bucket the restore lands there too.
    settings = PacingSettings.from_dict({})
    attempts = _attempts(1500, 1, NOW - timedelta(hours=5), 12.0)
    _, live_guard, gains = _learnt(attempts, settings)
    assert min(gains) == CONTROL_GAIN[0]
    _, guard = rebuild(attempts, settings, NOW)
    assert guard.buckets == live_guard.buckets
    assert CONTROL_GAIN[0] <= guard.gain <= CONTROL_GAIN[1]
    assert guard.gain == pytest.approx(live_guard.gain, rel=0.05)


def test_restore_from_bucket_counts_equals_rebuild_from_attempts() -> None:
    # What a database gives (per-bucket counts, the last attempts, the last silences) makes
    # the same state as the whole list of attempts.
    settings = PacingSettings.from_dict({"memory_calls": 20, "dead_air_calls": 30})
    attempts = _attempts(800, 6, NOW - timedelta(days=31), 3600.0 * 24 * 31 / 800,
                         abandoned=0.005)
    estimates, guard = rebuild(attempts, settings, NOW)
    since = NOW - timedelta(days=30)
    window = [a for a in attempts if a.ended_at >= since and a.result is not None]
    buckets = [GuardBucket(b.start, b.live, b.abandoned, b.machines) for b in guard.buckets]
    outside = GuardBucket(NOW - timedelta(days=40), live=50, abandoned=50)  # left out
    live = [a.silence_s for a in window if a.silence_s is not None]
    again = restore([outside, *reversed(buckets)], attempts[-200:], live[-30:], settings, NOW)
    assert again == (estimates, guard)
    assert guard.counts(NOW, settings).live == len(live) > 30
    assert len(guard.bridge_delays) == 30


def test_rebuild_counts_only_the_rules_window_but_learns_from_older_attempts() -> None:
    settings = PacingSettings.from_dict({"rule": "uk_day", "timezone": "Europe/London"})
    yesterday = _attempts(300, 4, NOW - timedelta(days=1), 30.0)
    today = _attempts(50, 5, NOW - timedelta(hours=1), 60.0)
    estimates, guard = rebuild([*yesterday, *today], settings, NOW)
    counts = guard.counts(NOW, settings)
    live_today = [a for a in today if a.result in (CallResult.SERVED, CallResult.ABANDONED)]
    assert counts.live == len(live_today)
    assert counts.abandoned == sum(a.result is CallResult.ABANDONED for a in live_today)
    # The estimates learnt from all 350 attempts (20 prior observations + 350, below the
    # memory limit), not from today's 50 alone.
    assert estimates.human_rate.n == pytest.approx(settings.prior_calls + 350)
    cold = PacingEstimates.from_settings(settings)
    assert estimates.talk.dist.mean != pytest.approx(cold.talk.dist.mean)


def test_rebuild_replays_only_recent_attempts_into_the_estimates() -> None:
    settings = PacingSettings.from_dict({"memory_calls": 10})
    old = [FinishedAttempt(NOW - timedelta(hours=3, seconds=i), AttemptOutcome.HUMAN, 5.0,
                           CallResult.SERVED, silence_s=0.2, talk_s=30.0, wrap_s=5.0)
           for i in range(500)]
    recent = [FinishedAttempt(NOW - timedelta(seconds=100 - i), AttemptOutcome.NO_ANSWER, 20.0)
              for i in range(100)]  # the last 10 half-lives: all unanswered
    estimates, _ = rebuild([*old, *recent], settings, NOW)
    assert estimates.human_rate.value < 0.01


def test_an_empty_history_is_a_cold_start() -> None:
    settings = PacingSettings.from_dict({})
    estimates, guard = rebuild([], settings, NOW)
    assert estimates == PacingEstimates.from_settings(settings)
    assert guard == GuardState()


def test_finished_attempt_rejects_what_it_cannot_count() -> None:
    with pytest.raises(ValueError, match="aware"):
        FinishedAttempt(NOW.replace(tzinfo=None), AttemptOutcome.NO_ANSWER, 3.0)
    with pytest.raises(ValueError, match="silence_s"):
        FinishedAttempt(NOW, AttemptOutcome.HUMAN, 3.0, CallResult.SERVED)
