"""The cold start: credible bounds on young estimates, a surer budget while it is small."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
from scipy.stats import binom

from engine.pacing import PacingEstimates, PacingSettings, PacingSnapshot, decide_calls
from engine.pacing.estimates import EwLogNormal, EwRate
from engine.pacing.model import choose_calls

from .conftest import NOW, guard_with

# Ten agents, eight of them busy with talks well under way, two ready, two calls ringing.
BUSY = PacingSnapshot(ready_for_s=(3.0, 7.0),
                      talking_for_s=tuple(30.0 + 5 * i for i in range(8)),
                      ringing_for_s=(1.0, 4.0))


def _world(est: PacingEstimates, n: float, rate: float = 0.10) -> PacingEstimates:
    """Estimates that have converged to a 10 % answer rate, 60 s talks and 10 s wrap-ups,
    as if learnt from ``n`` observations."""
    nm = est.human_rate.n_max
    return replace(est, human_rate=EwRate(rate, n, nm), talk=EwLogNormal.start(60.0, 1.0, n, nm),
                   wrap=EwLogNormal.start(10.0, 0.5, n, nm))


@pytest.mark.parametrize("z", [1.0, 2.0])
def test_credible_bounds_lean_towards_abandons_and_narrow_with_history(
    estimates: PacingEstimates, z: float
) -> None:
    young, old = _world(estimates, 20.0), _world(estimates, 400.0)
    for est in (young, old):
        bound = est.pessimistic(z)
        assert bound.human_rate.value > est.human_rate.value
        assert bound.talk.dist.mean > est.talk.dist.mean
        assert bound.wrap.dist.mean > est.wrap.dist.mean
        assert bound.talk.dist.sigma == pytest.approx(est.talk.dist.sigma)  # spread kept
        # Normal mean with known spread: z standard errors of the log-mean up.
        assert bound.talk.dist.mu - est.talk.dist.mu == pytest.approx(
            z * est.talk.dist.sigma / math.sqrt(est.talk.n))
    shift = [e.pessimistic(z).talk.dist.mean / e.talk.dist.mean for e in (young, old)]
    assert shift[0] > shift[1] > 1.0


def test_the_budget_constraint_reads_the_credible_bounds(
    settings: PacingSettings, estimates: PacingEstimates
) -> None:
    # Same point estimates, so the same rate constraint; only the young history's wider
    # bounds make the budget bind sooner.
    calls = {n: choose_calls(BUSY, _world(estimates, n), settings, budget=2.5, max_calls=200,
                             rate_target=0.5, confidence=0.999)
             for n in (20.0, 400.0)}
    assert calls[20.0].limited_by == "budget"
    assert calls[20.0].calls < calls[400.0].calls


def test_a_small_budget_holds_with_ramp_confidence(
    settings: PacingSettings, estimates: PacingEstimates
) -> None:
    est, snap = _world(estimates, 60.0), replace(BUSY, ringing_for_s=())
    young = decide_calls(snap, est, settings, guard_with(40, 0), NOW)  # budget 1.2
    warm = decide_calls(snap, est, settings, guard_with(5000, 50), NOW)  # budget 100
    assert young.explain["model"]["confidence"] == settings.ramp_confidence
    assert warm.explain["model"]["confidence"] == settings.confidence
    assert young.explain["model"]["limited_by"] == "budget"
    assert young.explain["model"]["p_abandon_over_budget"] <= 1 - settings.ramp_confidence
    assert 0 < young.calls_to_launch < warm.calls_to_launch


def test_a_burst_of_decisions_on_a_one_abandon_budget_stays_bounded(
    settings: PacingSettings, estimates: PacingEstimates
) -> None:
    # Decisions each second while every call launched is still ringing: the calls already in
    # flight count against the budget, so the burst stops, and even if no busy agent freed
    # up at all, two abandons (which would pass the cap) would stay unlikely.
    est = _world(estimates, 60.0)
    guard = guard_with(50, 0)  # budget 1.5
    snap = replace(BUSY, ringing_for_s=())
    launched = []
    for _ in range(10):
        calls = decide_calls(snap, est, settings, guard, NOW).calls_to_launch
        launched.append(calls)
        snap = replace(snap, ringing_for_s=tuple(t + 1.0 for t in snap.ringing_for_s)
                       + (0.0,) * calls)
    assert launched[0] > 0 and launched[-1] == 0
    ahead = len(snap.ringing_for_s)
    no_frees = binom.sf(len(snap.ready_for_s) + 1, ahead,
                        est.human_rate.upper(2.0))  # > ready + 1 answers: 2+ abandons
    assert no_frees < 0.05
    warm = decide_calls(replace(BUSY, ringing_for_s=()), est, settings,
                        guard_with(5000, 50), NOW)
    assert ahead < warm.calls_to_launch


def test_ramp_confidence_is_validated() -> None:
    assert PacingSettings.from_dict({}).ramp_confidence == 0.9999
    with pytest.raises(ValueError, match="pacing.ramp_confidence"):
        PacingSettings.from_dict({"confidence": 0.999, "ramp_confidence": 0.99})
    with pytest.raises(ValueError, match="pacing.ramp_confidence"):
        PacingSettings.from_dict({"ramp_confidence": 1.0})
    assert PacingSettings.from_dict({"ramp_confidence": 0.999}).ramp_confidence == 0.999
