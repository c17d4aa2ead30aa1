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
)

from .conftest import NOW


def _attempts(count: int, seed: int, first: datetime, step_s: float) -> list[FinishedAttempt]:
    """A campaign's ended attempts: no answers, machines, served and abandoned humans."""
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
        elif roll < 0.97:
            out.append(FinishedAttempt(at, AttemptOutcome.HUMAN, rng.uniform(3, 15),
                                       CallResult.SERVED, silence_s=rng.uniform(0.1, 1.5),
                                       talk_s=rng.lognormvariate(4, 1), wrap_s=10.0))
        else:
            out.append(FinishedAttempt(at, AttemptOutcome.HUMAN, rng.uniform(3, 15),
                                       CallResult.ABANDONED, silence_s=2.0))
    return out


def _learnt(attempts: list[FinishedAttempt],
            settings: PacingSettings) -> tuple[PacingEstimates, GuardState]:
    estimates, guard = PacingEstimates.from_settings(settings), GuardState()
    for attempt in attempts:
        estimates, guard = learn(estimates, guard, attempt, settings)
    return estimates, guard


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_rebuild_equals_learning_live(seed: int) -> None:
    settings = PacingSettings.from_dict({})
    attempts = _attempts(1500, seed, NOW - timedelta(hours=5), 12.0)
    live_estimates, live_guard = _learnt(attempts, settings)
    shuffled = random.Random(seed).sample(attempts, len(attempts))  # any order in, time order used
    estimates, guard = rebuild(shuffled, settings, NOW)
    assert guard.counts(NOW, settings) == live_guard.counts(NOW, settings)
    assert guard.buckets == live_guard.buckets
    assert guard.bridge_delays == live_guard.bridge_delays
    assert guard.gain == pytest.approx(live_guard.gain, rel=1e-12)
    assert guard.rate_target(settings) == pytest.approx(live_guard.rate_target(settings))
    assert estimates.summary() == live_estimates.summary()
    assert guard.counts(NOW, settings).abandoned > 0


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
