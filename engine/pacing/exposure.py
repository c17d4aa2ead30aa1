"""The worst-case exposure limit: calls dialed ahead that keep the cap even if no agent frees.

The model's budget constraint trusts the talk and wrap-up fits to say when busy agents free
up; right after a cold start (or near the cap) those fits may be far off, and one clump of
abandons can pass the cap. This limit trusts only the answer rate, the best-measured estimate
(every attempt observes it), taken pessimistically: it assumes no busy agent frees up before
the calls in flight are answered, so only the ready agents serve them. The live answers still
to come are the calls already waiting, a Bernoulli per ringing call (conditioned on its
elapsed ring time) and a Bernoulli per new call; every one beyond the ready agents is an
abandon. The largest ``n`` new calls whose abandons stay within the budget with probability
``confidence`` is the limit. Agents that free up only lower the abandons, so the bound holds
whatever the talk and wrap-up times are.

While the budget holds a single abandon (a clump of two would pass the cap) no chance is
taken: every call beyond the ready agents counts as answered, so at most one can be
abandoned, a certainty that needs no estimate at all.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import binom

from .estimates import PacingEstimates
from .model import PESSIMISM_SD, poisson_binomial_pmfs, ringing_answer_probabilities
from .state import PacingSnapshot

_EVER = np.array([1e9])  # "answered at all": a horizon past any ring timeout
_CERTAIN_BELOW = 2.0  # budgets under this take no chance at all


def worst_case_limit(
    snapshot: PacingSnapshot, estimates: PacingEstimates, budget: float, confidence: float,
    max_calls: int,
) -> int:
    """The most new calls (``<= max_calls``) whose worst-case abandons fit ``budget``."""
    # Live answers the ready agents cannot take before the budget is spent.
    room = len(snapshot.ready_for_s) + math.floor(budget) - len(snapshot.waiting_for_s)
    if budget < _CERTAIN_BELOW:
        # Room for a single abandon: a clump of two passes the cap, so no chance is taken:
        # every call beyond the ready agents counts as answered.
        return max(0, min(max_calls, room - len(snapshot.ringing_for_s)))
    rate = estimates.human_rate.upper(PESSIMISM_SD)
    ringing = ringing_answer_probabilities(snapshot, estimates, rate, _EVER)
    in_flight = poisson_binomial_pmfs(ringing)[0] if len(ringing) else np.ones(1)
    slack = 1.0 - confidence
    if room < 0 or _p_over(in_flight, 0, rate, room) > slack:
        return 0
    lo, hi = 0, max_calls  # p_over grows with n: bisect for the largest n within slack
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if _p_over(in_flight, mid, rate, room) <= slack:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _p_over(in_flight: np.ndarray, calls: int, rate: float, room: int) -> float:
    """P(in-flight answers + Binomial(calls, rate) > room)."""
    k = np.arange(len(in_flight))
    # For each in-flight count k, the new calls' answers must exceed room - k.
    return float(np.dot(in_flight, binom.sf(room - k, calls, rate)))
