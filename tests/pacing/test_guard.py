from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from engine.pacing import CallResult, GuardState, PacingSettings

from .conftest import NOW


def _record(guard: GuardState, at: datetime, result: CallResult, settings: PacingSettings,
            times: int = 1, delay: float = 0.5) -> GuardState:
    for _ in range(times):
        guard = guard.record(at, result, settings,
                             None if result is CallResult.MACHINE else delay)
    return guard


def test_us_rule_counts_a_rolling_30_days() -> None:
    s = PacingSettings.from_dict({"rule": "us_30d"})
    g = _record(GuardState(), NOW - timedelta(days=31), CallResult.ABANDONED, s, 5)
    g = _record(g, NOW - timedelta(days=29), CallResult.ABANDONED, s, 2)
    g = _record(g, NOW, CallResult.SERVED, s, 98)
    counts = g.counts(NOW, s)
    assert (counts.live, counts.abandoned) == (100, 2)
    assert counts.rate == 0.02 and abs(counts.budget(0.03) - 1.0) < 1e-9


def test_uk_rule_counts_the_local_calendar_day() -> None:
    s = PacingSettings.from_dict({"rule": "uk_day", "timezone": "Asia/Kolkata"})  # UTC+5:30
    before_midnight = datetime(2026, 11, 23, 18, 15, tzinfo=timezone.utc)  # 23:45 local
    after_midnight = datetime(2026, 11, 23, 18, 45, tzinfo=timezone.utc)  # 00:15 local
    g = _record(GuardState(), before_midnight, CallResult.ABANDONED, s, 3)
    g = _record(g, after_midnight, CallResult.SERVED, s, 10)
    assert g.counts(before_midnight, s).abandoned == 3
    assert (g.counts(after_midnight, s).live, g.counts(after_midnight, s).abandoned) == (10, 0)


def test_amd_false_positives_count_as_abandons_when_the_policy_says_so() -> None:
    counting = PacingSettings.from_dict({"amd_false_positive_rate": 0.02})
    ignoring = PacingSettings.from_dict({"amd_false_positive_rate": 0.02,
                                         "count_amd_false_positives": False})
    g = _record(GuardState(), NOW, CallResult.MACHINE, counting, 500)
    g = _record(g, NOW, CallResult.SERVED, counting, 90)
    c = g.counts(NOW, counting)
    assert (c.live, c.abandoned, c.amd_false_positives) == (100.0, 10.0, 10.0)
    assert g.counts(NOW, ignoring).abandoned == 0


def test_dead_air_p95_needs_enough_calls_and_keeps_only_recent_ones() -> None:
    s = PacingSettings.from_dict({"dead_air_calls": 40, "dead_air_min_calls": 20})
    g = _record(GuardState(), NOW, CallResult.SERVED, s, 19, delay=3.0)
    assert g.dead_air_p95(s) is None
    g = _record(g, NOW, CallResult.SERVED, s, 1, delay=3.0)
    assert g.dead_air_p95(s) == 3.0
    g = _record(g, NOW, CallResult.SERVED, s, 40, delay=0.4)
    assert g.dead_air_p95(s) == 0.4 and len(g.bridge_delays) == 40


def test_old_buckets_are_pruned() -> None:
    s = PacingSettings()
    g = _record(GuardState(), NOW - timedelta(days=40), CallResult.SERVED, s)
    g = _record(g, NOW, CallResult.SERVED, s)
    assert [b.start for b in g.buckets] == [NOW]


def test_the_controller_steers_towards_the_aim() -> None:
    s = PacingSettings()  # aim 0.024
    calm = _record(GuardState(), NOW, CallResult.SERVED, s, 200)
    assert calm.gain > 2.0 and calm.rate_target(s) == s.abandon_cap * 0.8 * calm.gain
    rough = _record(calm, NOW, CallResult.ABANDONED, s, 10)
    assert rough.gain < calm.gain * 0.2
    # At exactly the aim (3 abandons per 125 live answers) the gain comes back where it was.
    steady = GuardState()
    for _ in range(4):
        steady = _record(steady, NOW, CallResult.SERVED, s, 122)
        steady = _record(steady, NOW, CallResult.ABANDONED, s, 3)
    assert abs(steady.gain - 1.0) < 1e-9
    assert _record(GuardState(), NOW, CallResult.ABANDONED, s, 100).gain == 0.25  # clipped


def test_many_answers_steer_as_one_step_until_a_bound() -> None:
    settings = PacingSettings.from_dict({})
    one_by_one = GuardState(gain=2.0)
    results = [CallResult.SERVED] * 40 + [CallResult.ABANDONED] + [CallResult.SERVED] * 9
    for result in results:
        one_by_one = GuardState(gain=one_by_one.steered(result, settings))
    assert GuardState(gain=2.0).steered_by(50, 1, settings) == pytest.approx(one_by_one.gain)
    assert GuardState(gain=2.0).steered_by(1, 0, settings) == \
        GuardState(gain=2.0).steered(CallResult.SERVED, settings)
    # Five abandons in twenty answers would take it under its lower bound: it stops there.
    assert GuardState(gain=0.3).steered_by(20, 5, settings) == 0.25
