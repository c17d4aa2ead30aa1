"""The model's parts against closed forms."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.pacing import PacingEstimates, PacingSettings, PacingSnapshot
from engine.pacing.model import (
    Outlook,
    _largest,
    _outlooks,
    poisson_binomial_pmfs,
    _poisson_pmfs,
    agent_free_probabilities,
    ringing_answer_probabilities,
)


def _one_slot(ready: int, agents: int, answers: float) -> tuple[float, float]:
    free_pmf = np.ones((1, 1))  # nobody frees up
    out = _outlooks(np.array([0]), ready, agents, free_pmf, np.array([[answers]]), True)[0]
    return out.abandons, out.p_any_abandon


@pytest.mark.parametrize("lam", [0.3, 2.0, 6.5])
def test_chain_with_no_agent_abandons_every_answer(lam: float) -> None:
    abandons, p_any = _one_slot(0, 5, lam)
    assert abandons == pytest.approx(lam, rel=1e-6)
    assert p_any == pytest.approx(1 - math.exp(-lam), rel=1e-6)


def test_chain_with_ready_agents_matches_the_poisson_overflow() -> None:
    lam, ready = 3.0, 2
    pmf = [math.exp(-lam) * lam**k / math.factorial(k) for k in range(60)]
    expected = sum((k - ready) * p for k, p in enumerate(pmf) if k > ready)
    abandons, p_any = _one_slot(ready, 10, lam)
    assert abandons == pytest.approx(expected, rel=1e-6)
    assert p_any == pytest.approx(1 - sum(pmf[: ready + 1]), rel=1e-6)


def test_poisson_binomial_is_exact() -> None:
    pmf = poisson_binomial_pmfs(np.array([[0.5], [0.2]]))[0]
    assert pmf == pytest.approx([0.4, 0.5, 0.1])
    assert _poisson_pmfs(np.array([1.0]))[0][:2] == pytest.approx([math.exp(-1)] * 2)


def test_agents_near_the_end_of_wrap_up_free_up_sooner() -> None:
    settings = PacingSettings.from_dict({"defaults": {"wrap_mean_s": 20, "wrap_cv": 0.3}})
    est = PacingEstimates.from_settings(settings)
    snap = PacingSnapshot(talking_for_s=(5.0,), wrapping_for_s=(2.0, 25.0))
    p = agent_free_probabilities(snap, est, np.array([2.0, 10.0, 30.0]))
    talk, early_wrap, late_wrap = p
    assert late_wrap[0] > early_wrap[0]
    assert all(np.diff(row).min() >= 0 for row in p)  # more time, more chance
    assert talk[-1] < early_wrap[-1]  # talk then a whole wrap-up takes longer


def test_long_ringing_calls_are_less_likely_to_be_answered() -> None:
    est = PacingEstimates.from_settings(PacingSettings())
    snap = PacingSnapshot(ringing_for_s=(1.0, 30.0))
    fresh, stale = ringing_answer_probabilities(snap, est, 0.25, np.array([10.0]))[:, 0]
    assert fresh > stale and 0 < fresh < 0.25 + 1e-9


@pytest.mark.parametrize(("hi", "point", "guess"), [(0, 0, 0), (500, -1, 40), (500, 3, 400),
                                                    (1000, 777, 0), (30, 30, 5)])
def test_batched_search_finds_the_last_good_candidate(hi: int, point: int, guess: int) -> None:
    found = _largest(lambda ns: [n <= point for n in ns], hi, guess)
    assert found == (point if point >= 0 else None)


def test_abandon_tail_is_a_hurdle_poisson() -> None:
    out = Outlook(calls=0, live_answers=1.0, abandons=0.2, p_any_abandon=0.1)
    assert out.p_more_than(0.5) == pytest.approx(0.1)  # one abandon passes a budget of 0.5
    # Given any abandon, 1 + Poisson(0.2 / 0.1 - 1) of them: P(>= 2) = 0.1 * (1 - e^-1).
    assert out.p_more_than(1.5) == pytest.approx(0.1 * (1 - math.exp(-1.0)))
    assert Outlook(0, 1.0, 0.0, 0.0).p_more_than(0.0) == 0.0
