"""The worst-case exposure limit: dialing ahead that holds the cap even if no agent frees."""

from __future__ import annotations

from dataclasses import replace

import pytest

from engine.pacing import GuardState, PacingEstimates, PacingSettings, PacingSnapshot, decide_calls
from engine.pacing.estimates import EwRate
from engine.pacing.exposure import worst_case_limit

from .conftest import NOW, guard_with

BUSY = PacingSnapshot(ready_for_s=(3.0, 7.0), talking_for_s=(50.0,) * 8,
                      ringing_for_s=(1.0, 4.0))


def _rate(est: PacingEstimates, rate: float, n: float = 400.0) -> PacingEstimates:
    return replace(est, human_rate=EwRate(rate, n, est.human_rate.n_max))


@pytest.mark.parametrize("rate", [0.01, 0.10, 0.90])
def test_single_abandon_budget_takes_no_chance(estimates: PacingEstimates, rate: float) -> None:
    # Budget 1.5: 2 ready agents and 1 abandon cover 3 calls; 2 ring, so 1 more, whatever
    # the answer rate.
    assert worst_case_limit(BUSY, _rate(estimates, rate), 1.5, 0.999, 50) == 1
    waiting = replace(BUSY, waiting_for_s=(0.5, 1.0))
    assert worst_case_limit(waiting, _rate(estimates, rate), 1.5, 0.999, 50) == 0


def test_limit_grows_with_budget_and_falls_with_answer_rate(estimates: PacingEstimates) -> None:
    low = _rate(estimates, 0.05)
    limits = [worst_case_limit(BUSY, low, b, 0.999, 500) for b in (2.0, 3.0, 4.0)]
    assert limits[0] < limits[1] < limits[2]
    assert worst_case_limit(BUSY, _rate(estimates, 0.40), 3.0, 0.999, 500) < limits[1]
    assert worst_case_limit(BUSY, low, 4.0, 0.999, 5) == 5  # the line limit


def test_young_answer_rate_is_taken_pessimistically(estimates: PacingEstimates) -> None:
    young = worst_case_limit(BUSY, _rate(estimates, 0.10, n=20), 3.0, 0.999, 500)
    old = worst_case_limit(BUSY, _rate(estimates, 0.10, n=400), 3.0, 0.999, 500)
    assert young < old


def test_no_room_no_calls(estimates: PacingEstimates) -> None:
    flooded = replace(BUSY, ringing_for_s=(5.0,) * 40)
    assert worst_case_limit(flooded, _rate(estimates, 0.30), 2.5, 0.999, 50) == 0


def test_decision_below_ramp_budget_is_limited(settings: PacingSettings,
                                               estimates: PacingEstimates) -> None:
    est = _rate(estimates, 0.03)  # the model would dial many calls ahead of 8 long talks
    young = decide_calls(BUSY, est, settings, guard_with(40, 0), NOW)  # budget 1.2
    assert young.explain["worst_case_limit"] == 1
    assert young.calls_to_launch == 1 and young.explain["reason"] == "worst-case limit"
    warm = decide_calls(BUSY, est, settings, guard_with(5000, 50), NOW)  # budget 100
    assert "worst_case_limit" not in warm.explain
    assert warm.calls_to_launch > young.calls_to_launch


def test_single_abandon_budget_holds_over_a_burst_of_decisions(
    settings: PacingSettings, estimates: PacingEstimates
) -> None:
    # Whatever happens next, at most floor(budget) calls ride beyond the ready agents.
    guard: GuardState = guard_with(50, 0)  # budget 1.5
    snap = replace(BUSY, ringing_for_s=())
    for _ in range(5):
        d = decide_calls(snap, _rate(estimates, 0.05), settings, guard, NOW)
        snap = replace(snap, ringing_for_s=snap.ringing_for_s + (0.0,) * d.calls_to_launch)
    assert snap.calls_in_flight - len(snap.ready_for_s) == 1
