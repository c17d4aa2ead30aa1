from __future__ import annotations

import json
from dataclasses import replace

import pytest

from engine.pacing import (
    GuardState,
    PacingEstimates,
    PacingMode,
    PacingSettings,
    PacingSnapshot,
    decide_calls,
)
from engine.pacing.estimates import EwRate

from .conftest import NOW, guard_with

# Twenty agents, all busy, most well into calls that last 60 s on average (wrap-up 5 s).
ALL_BUSY_LONG = PacingSnapshot(
    talking_for_s=tuple(40.0 + 4 * i for i in range(18)),
    wrapping_for_s=(2.0, 3.0),
)


@pytest.fixture
def settings() -> PacingSettings:
    return PacingSettings.from_dict({"defaults": {
        "talk_mean_s": 60, "talk_cv": 0.5, "wrap_mean_s": 5, "wrap_cv": 0.3}})


def _with_answer_rate(est: PacingEstimates, rate: float, n: float = 400.0) -> PacingEstimates:
    return replace(est, human_rate=EwRate(rate, n, est.human_rate.n_max))


def test_all_busy_with_long_talks_and_low_answer_rate_dials_ahead(
    settings: PacingSettings, estimates: PacingEstimates, warm_guard: GuardState
) -> None:
    d = decide_calls(ALL_BUSY_LONG, _with_answer_rate(estimates, 0.10), settings,
                     warm_guard, NOW)
    assert d.mode is PacingMode.PREDICTIVE
    assert d.calls_to_launch >= 3  # ahead of agents: none is ready
    assert d.explain["model"]["expected_abandons"] <= (
        0.03 * d.explain["model"]["expected_live_answers"])


def test_lower_answer_rate_means_more_calls(
    settings: PacingSettings, estimates: PacingEstimates, warm_guard: GuardState
) -> None:
    low = decide_calls(ALL_BUSY_LONG, _with_answer_rate(estimates, 0.10), settings,
                       warm_guard, NOW)
    high = decide_calls(ALL_BUSY_LONG, _with_answer_rate(estimates, 0.40), settings,
                        warm_guard, NOW)
    assert low.calls_to_launch > high.calls_to_launch


def test_agents_fresh_into_long_talks_get_no_calls(warm_guard: GuardState) -> None:
    slow = PacingSettings.from_dict({"defaults": {"talk_mean_s": 600, "talk_cv": 0.2}})
    fresh = PacingSnapshot(talking_for_s=(1.0,) * 8)
    d = decide_calls(fresh, PacingEstimates.from_settings(slow), slow, warm_guard, NOW)
    assert d.calls_to_launch == 0


def test_cap_reached_launches_nothing_ahead(
    settings: PacingSettings, estimates: PacingEstimates
) -> None:
    at_cap = guard_with(1000, 30)
    d = decide_calls(ALL_BUSY_LONG, _with_answer_rate(estimates, 0.10), settings, at_cap, NOW)
    assert (d.calls_to_launch, d.mode) == (0, PacingMode.PAUSED_BY_CAP)
    two_ready = replace(ALL_BUSY_LONG, ready_for_s=(5.0, 9.0), ringing_for_s=(3.0,))
    d = decide_calls(two_ready, estimates, settings, at_cap, NOW)
    assert (d.calls_to_launch, d.mode) == (1, PacingMode.PAUSED_BY_CAP)  # one per free agent


def test_near_the_cap_it_slows_down(
    settings: PacingSettings, estimates: PacingEstimates
) -> None:
    est = _with_answer_rate(estimates, 0.10)
    calls = [decide_calls(ALL_BUSY_LONG, est, settings, guard_with(1000, a), NOW).calls_to_launch
             for a in (0, 26, 29)]
    assert calls[0] > calls[2] and calls[0] >= calls[1] >= calls[2]


def test_cold_start_does_not_burst(settings: PacingSettings, estimates: PacingEstimates) -> None:
    ready = PacingSnapshot(ready_for_s=(1.0,) * 10)
    cold = decide_calls(ready, estimates, settings, GuardState(), NOW)
    # No history: not one abandon fits under the cap, so one call per ready agent, no more.
    assert (cold.calls_to_launch, cold.mode) == (10, PacingMode.PAUSED_BY_CAP)
    assert cold.explain["abandon"]["budget"] == 0 and "model" not in cold.explain
    est = _with_answer_rate(estimates, 0.10, n=20)
    young = guard_with(40, 0)  # budget 1.2: predictive, but the budget binds
    busy_young = decide_calls(ALL_BUSY_LONG, est, settings, young, NOW)
    busy_warm = decide_calls(ALL_BUSY_LONG, est, settings, guard_with(5000, 50), NOW)
    assert busy_young.mode is PacingMode.PREDICTIVE
    assert busy_young.explain["model"]["limited_by"] == "budget"
    assert busy_young.calls_to_launch < busy_warm.calls_to_launch


def test_dead_air_falls_back_to_progressive(
    settings: PacingSettings, estimates: PacingEstimates
) -> None:
    slow = GuardState(guard_with(5000, 50).buckets, bridge_delays=(2.5,) * 100)
    snap = replace(ALL_BUSY_LONG, ready_for_s=(4.0, 8.0, 12.0), ringing_for_s=(1.0,))
    d = decide_calls(snap, _with_answer_rate(estimates, 0.10), settings, slow, NOW)
    assert (d.calls_to_launch, d.mode) == (2, PacingMode.PROGRESSIVE_FALLBACK)
    recovered = GuardState(slow.buckets, bridge_delays=(0.3,) * 100)
    d = decide_calls(snap, _with_answer_rate(estimates, 0.10), settings, recovered, NOW)
    assert d.mode is PacingMode.PREDICTIVE and d.calls_to_launch > 2


def test_no_agents_no_calls(settings: PacingSettings, estimates: PacingEstimates,
                            warm_guard: GuardState) -> None:
    d = decide_calls(PacingSnapshot(ringing_for_s=(2.0,)), estimates, settings, warm_guard, NOW)
    assert d.calls_to_launch == 0


def test_line_limit_caps_calls(settings: PacingSettings, estimates: PacingEstimates,
                               warm_guard: GuardState) -> None:
    snap = replace(ALL_BUSY_LONG, ringing_for_s=(30.0,) * 12)  # long-ringing: rarely answered
    est = _with_answer_rate(estimates, 0.02)
    free = decide_calls(snap, est, settings, warm_guard, NOW)
    tight = replace(settings, max_lines_per_agent=1.0)
    capped = decide_calls(snap, est, tight, warm_guard, NOW)
    assert free.calls_to_launch > 8
    assert capped.calls_to_launch == 8  # 1 line for each of 20 agents, 12 already ringing


def test_decisions_are_deterministic_and_explainable(
    settings: PacingSettings, estimates: PacingEstimates, warm_guard: GuardState
) -> None:
    first = decide_calls(ALL_BUSY_LONG, estimates, settings, warm_guard, NOW)
    again = decide_calls(ALL_BUSY_LONG, estimates, settings, warm_guard, NOW)
    assert first == again
    logged = json.loads(json.dumps(first.explain))
    assert logged["calls_to_launch"] == first.calls_to_launch
    assert {"agents", "calls", "abandon", "estimates", "model", "mode", "reason"} <= set(logged)


def test_snapshot_rejects_negative_elapsed() -> None:
    with pytest.raises(ValueError, match="ringing_for_s"):
        PacingSnapshot(ringing_for_s=(-1.0,))
