"""The predictive model: how many calls to launch so agents stay busy and abandons stay rare.

Time ahead is cut into slots as long as the answer timeout ``tau`` (a live answer may wait
that long for an agent), up to the time by which 90 % of answered calls have answered. Per slot:

* frees ``F_k``: each busy agent frees up in slot k with the probability given by its elapsed
  talk time (then a whole wrap-up) or elapsed wrap-up, from the fitted lognormal distributions
  (the hazard conditioned on elapsed time);
* live answers ``A_k``: each ringing call is answered by a human in slot k with a probability
  conditioned on it still ringing after its elapsed time; each of ``n`` new calls with
  ``p_human * P(ring time in slot k)``; answered calls already waiting count in slot 1.

``F_k`` has the exact distribution of its sum of Bernoullis; ``A_k`` is Poisson with its mean
(a sum of many small chances). Slots are taken as independent, which overstates the chance that
no agent at all frees up over several slots (a cautious error). A small Markov
chain carries the distribution of idle agents from slot to slot: ``idle += F_k - A_k``; a
negative result is that many abandons. It yields the expected abandons ``E[O]``, the expected
live answers ``E[D]``, and ``P(O >= 1)``; the tail of ``O`` is a hurdle Poisson matching both.

Expected agent utilisation grows with ``n``, so the largest ``n`` meeting both constraints
maximises it:

1. rate: the new calls' share, ``E[O(n)] - E[O(0)] <= rate_target * (E[D(n)] - E[D(0)])``
   (the abandon probability per live answer they add; unlike the ratio over all calls in
   flight this grows with ``n``, and calls already in flight cannot dilute it). The guard sets
   ``rate_target`` in closed loop so the measured rate settles at ``cap * target_fraction``;
2. budget: ``P(O > budget) <= 1 - confidence`` with pessimistic estimates (credible bounds:
   more answers, longer talks and wrap-ups), where the budget
   is what the guard says the abandon rule can still take (so a cold start risks no burst).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.special import gammaln, ndtr, pdtr

from .estimates import PacingEstimates
from .settings import PacingSettings
from .state import PacingSnapshot

_TALK_SLICES = 8
_HORIZON_QUANTILE_Z = 1.2816  # the 90th percentile of answered calls' ring time
_MAX_SLOTS = 30
_BATCH = 12  # candidates judged together by the vectorised chain
_SQRT_2PI = math.sqrt(2 * math.pi)
PESSIMISM_SD = 2.0  # standard errors of the credible bounds the budget constraint reads


@dataclass(frozen=True)
class Outlook:
    """What ``calls`` new calls lead to over the horizon."""

    calls: int
    live_answers: float  # expected, within the horizon
    abandons: float  # expected
    p_any_abandon: float

    def p_more_than(self, budget: float) -> float:
        """P(abandons > budget), the tail as a hurdle Poisson (clumps of abandons)."""
        need = math.floor(max(budget, 0.0)) + 1  # abandons that would pass the budget
        if self.p_any_abandon <= 0.0:
            return 0.0
        excess = max(self.abandons / self.p_any_abandon - 1.0, 0.0)
        return self.p_any_abandon * (1.0 - float(pdtr(need - 2, excess))) if need > 1 \
            else self.p_any_abandon


@dataclass(frozen=True)
class Candidate:
    outlook: Outlook
    rate_ok: bool
    budget_ok: bool
    p_over_budget: float | None  # None: not needed (rate failed, or budget surely enough)


@dataclass(frozen=True)
class ModelResult:
    calls: int
    horizon_s: float
    expected_free_agents: float
    chosen: Candidate
    limited_by: str | None  # rate, budget, or None: the line limit

    def explain(self) -> dict[str, float | int | str | None]:
        out = self.chosen.outlook
        return {
            "horizon_s": round(self.horizon_s, 2),
            "expected_free_agents": round(self.expected_free_agents, 3),
            "expected_live_answers": round(out.live_answers, 3),
            "expected_abandons": round(out.abandons, 4),
            "p_abandon_over_budget": None if self.chosen.p_over_budget is None
            else round(self.chosen.p_over_budget, 6),
            "limited_by": self.limited_by,
        }


def agent_free_probabilities(
    snapshot: PacingSnapshot, estimates: PacingEstimates, within_s: np.ndarray
) -> np.ndarray:
    """P(busy agent frees up within each of ``within_s``): one row per busy agent."""
    talk, wrap = estimates.talk.dist, estimates.wrap.dist
    horizons = np.asarray(within_s, dtype=float)[None, :]
    wrapping = np.asarray(snapshot.wrapping_for_s)[:, None]
    wrap_sf = np.maximum(wrap.sf(wrapping), 1e-300)
    wrap_p = 1.0 - wrap.sf(wrapping + horizons) / wrap_sf
    # Talk then wrap-up: sum over slices of the remaining talk of P(talk ends in the slice)
    # times P(wrap-up fits in what is left of the horizon).
    talking = np.asarray(snapshot.talking_for_s)[:, None]
    span = float(horizons.max()) if horizons.size else 0.0
    edges = np.linspace(0.0, span, _TALK_SLICES + 1)[None, :]
    talk_sf = talk.sf(talking + edges)
    ends = (talk_sf[:, :-1] - talk_sf[:, 1:]) / np.maximum(talk_sf[:, :1], 1e-300)
    mids = ((edges[:, :-1] + edges[:, 1:]) / 2)[0]
    wrap_fits = wrap.cdf(np.maximum(horizons.T - mids[None, :], 0.0)) * (
        mids[None, :] <= horizons.T)  # (horizons, slices)
    talk_p = ends @ wrap_fits.T
    return np.clip(np.vstack([talk_p, wrap_p]), 0.0, 1.0)


def ringing_answer_probabilities(
    snapshot: PacingSnapshot, estimates: PacingEstimates, human_rate: float, within_s: np.ndarray
) -> np.ndarray:
    """P(a human answers within each of ``within_s``) for each call still ringing."""
    ring_a, ring_n = estimates.ring_answer.dist, estimates.ring_noanswer.dist
    answered = min(human_rate + estimates.machine_rate.value, 1.0)
    elapsed = np.asarray(snapshot.ringing_for_s)[:, None]
    still = answered * ring_a.sf(elapsed) + (1.0 - answered) * ring_n.sf(elapsed)
    answers = human_rate * (ring_a.sf(elapsed) - ring_a.sf(elapsed + np.asarray(within_s)))
    return np.clip(answers / np.maximum(still, 1e-12), 0.0, 1.0)


def _poisson_pmfs(means: np.ndarray) -> np.ndarray:
    """The Poisson pmf of each entry of ``means`` over 0..top (a new last axis)."""
    top = int(means.max() + 8 * math.sqrt(means.max()) + 8) if means.size else 0
    k = np.arange(top + 1, dtype=float)
    safe = np.maximum(means, 1e-300)[..., None]
    pmf = np.exp(k * np.log(safe) - safe - gammaln(k + 1))
    pmf[means <= 0] = 0.0
    pmf[means <= 0, 0] = 1.0
    return pmf


def poisson_binomial_pmfs(probs: np.ndarray) -> np.ndarray:
    """Row k: the exact pmf of the number of successes among independent ``probs[:, k]``."""
    items, columns = probs.shape
    pmf = np.zeros((columns, items + 1))
    pmf[:, 0] = 1.0
    for p in probs:
        q = p[:, None]
        nxt = pmf * (1.0 - q)
        nxt[:, 1:] += pmf[:, :-1] * q
        pmf = nxt
    used = np.nonzero(pmf.max(axis=0) > 1e-15)[0]
    return pmf[:, : used[-1] + 1]


def _outlooks(
    calls: np.ndarray, ready: int, agents: int, free_pmf: np.ndarray, answers: np.ndarray,
    with_tail: bool,
) -> list[Outlook]:
    """Run the idle-agent chain over the slots for several candidates at once.

    ``free_pmf``: (slots, values) pmf of frees per slot; ``answers``: (candidates, slots)
    expected live answers. Rows 0..B-1 carry the idle distribution; with ``with_tail``,
    rows B..2B-1 carry only its part with no abandon yet (for ``p_any_abandon``, else 0).
    Both live in cells 0..agents.
    """
    count, width = len(calls), agents + 1
    answer_pmf = _poisson_pmfs(answers)[:, :, ::-1]  # reversed: value -j at index top-j
    low = answer_pmf.shape[2] - 1  # index of change 0 in a convolution with it
    depth = np.arange(low, 0, -1, dtype=float)  # abandons for changes below 0
    state = np.zeros(((1 + with_tail) * count, width))
    state[:, min(ready, agents)] = 1.0
    abandons = np.zeros(count)
    size = 1 << (width + answer_pmf.shape[2] + free_pmf.shape[1] - 3).bit_length()  # >= full
    # Per slot, the change (frees - answers) as a spectrum, for both row halves.
    change = np.fft.rfft(answer_pmf, size) * np.fft.rfft(free_pmf, size)[None, :, :]
    if with_tail:
        change = np.concatenate([change, change])
    for k in range(answers.shape[1]):
        spectrum = np.fft.rfft(state, size) * change[:, k, :]
        full = np.clip(np.fft.irfft(spectrum, size), 0.0, None)
        abandons += full[:count, :low] @ depth
        state = full[:, low:low + width].copy()
        state[:count, 0] += full[:count, :low].sum(axis=1)
        state[:, -1] += full[:, low + width:].sum(axis=1)
    p_any = (np.clip(1.0 - state[count:].sum(axis=1), 0.0, 1.0) if with_tail
             else np.zeros(count))
    live = answers.sum(axis=1)
    return [Outlook(int(n), float(d), float(o), float(p))
            for n, d, o, p in zip(calls, live, abandons, p_any)]


def _frees_per_slot(
    snapshot: PacingSnapshot, estimates: PacingEstimates, slot_ends: np.ndarray
) -> np.ndarray:
    """P(busy agent frees up in each slot): one row per busy agent, one column per slot."""
    free_by = agent_free_probabilities(snapshot, estimates, slot_ends)
    free_in_slot = np.diff(np.hstack([np.zeros((len(free_by), 1)), free_by]), axis=1)
    return np.clip(free_in_slot, 0.0, 1.0)


def _normal_overflow(mean: float, var: float) -> float:
    """E[max(X, 0)] for a normal X."""
    sd = math.sqrt(max(var, 1e-12))
    z = mean / sd
    return mean * float(ndtr(z)) + sd * math.exp(-0.5 * z * z) / _SQRT_2PI


def choose_calls(
    snapshot: PacingSnapshot,
    estimates: PacingEstimates,
    settings: PacingSettings,
    budget: float,
    max_calls: int,
    rate_target: float,
    confidence: float,
) -> ModelResult:
    """The largest ``n <= max_calls`` meeting the rate and budget constraints.

    ``rate_target``: the abandon probability allowed per live answer the new calls add;
    ``confidence``: the probability with which the abandons stay within ``budget``.
    """
    tau = settings.answer_timeout_s
    ring_a = estimates.ring_answer.dist
    horizon = math.exp(ring_a.mu + _HORIZON_QUANTILE_Z * ring_a.sigma)
    slots = min(_MAX_SLOTS, max(1, math.ceil(horizon / tau)))
    edges = tau * np.arange(slots + 1)
    # An answer may wait tau for an agent. Answers count in slot k when they come between
    # 1.5 and 0.5 slots before its end, so on average they may use agents freed up to tau
    # after them.
    answer_edges = np.maximum(edges - tau / 2, 0.0)
    agents = snapshot.agents_logged_in
    ready = len(snapshot.ready_for_s)
    waiting = len(snapshot.waiting_for_s)
    new_share = np.diff(ring_a.cdf(answer_edges))  # P(a call's ring time falls in each slot)
    # The rate constraint reads the point estimates; the budget constraint their credible
    # bounds (more answers, later frees), so a young campaign spends its budget carefully.
    views = {"point": estimates, "pessimistic": estimates.pessimistic(PESSIMISM_SD)}
    rates = {name: view.human_rate.value for name, view in views.items()}
    ringing, free_in_slot = {}, {}
    for name, view in views.items():
        cum = ringing_answer_probabilities(snapshot, view, rates[name],
                                           answer_edges[1:]).sum(axis=0)
        per_slot = np.diff(np.concatenate([[0.0], cum]))
        per_slot[0] += waiting
        ringing[name] = per_slot
        free_in_slot[name] = _frees_per_slot(snapshot, view, edges[1:])
    free_pmfs = {name: poisson_binomial_pmfs(p) for name, p in free_in_slot.items()}
    frees = free_in_slot["point"].sum(axis=0)
    slack = 1.0 - confidence
    checked: dict[tuple[str, int], Candidate] = {}

    def check(kind: str, ns: list[int]) -> None:
        """Fill ``checked`` for candidates ``ns`` (kind: rate, or budget with pessimism)."""
        todo = np.array([n for n in ns if (kind, n) not in checked], dtype=int)
        if not todo.size:
            return
        rate_kind = "point" if kind == "rate" else "pessimistic"
        answers = ringing[rate_kind][None, :] + np.outer(todo * rates[rate_kind], new_share)
        for out in _outlooks(todo, ready, agents, free_pmfs[rate_kind], answers,
                             kind == "budget"):
            if kind == "rate":
                base = checked["rate", 0].outlook if out.calls else out
                added = out.live_answers - base.live_answers
                ok = out.abandons - base.abandons <= rate_target * added + 1e-12
                checked[kind, out.calls] = Candidate(out, ok, True, None)
            else:
                p_over = out.p_more_than(budget)
                checked[kind, out.calls] = Candidate(out, True, p_over <= slack, p_over)

    expected_free = ready + float(frees.sum())
    # Past `hi` new calls the expected live answers exceed every agent that could be free
    # plus the budget, which neither constraint allows. A normal approximation of the overflow
    # over the whole horizon gives a first guess; the exact search starts there.
    per_call = rates["point"] * float(new_share.sum())
    base = float(ringing["point"].sum())
    most_free = expected_free + 8 * math.sqrt(expected_free + 1) + max(budget, 0.0) + 2
    hi = max(0, min(max_calls, math.ceil((most_free - base) / max(per_call, 1e-6))))
    guess, top = 0, hi
    while guess < top:
        mid = (guess + top + 1) // 2
        demand = base + mid * per_call
        over = _normal_overflow(demand - expected_free, demand + expected_free)
        if over <= rate_target * demand:
            guess = mid
        else:
            top = mid - 1
    check("rate", [0])
    by_rate = _largest(lambda ns: check("rate", ns) or [checked["rate", n].rate_ok
                                                        for n in ns], hi, guess) or 0
    by_rate_limit = "rate" if by_rate < hi else None
    worst_answers = float(ringing["pessimistic"].sum() + by_rate * rates["pessimistic"])
    if worst_answers + 8 * math.sqrt(worst_answers) + 1 <= budget:  # O <= D: surely fits
        return ModelResult(by_rate, horizon, expected_free, checked["rate", by_rate],
                           by_rate_limit)
    calls = _largest(lambda ns: check("budget", ns) or [checked["budget", n].budget_ok
                                                        for n in ns], by_rate, by_rate)
    limit = "budget" if calls is None or calls < by_rate else by_rate_limit
    calls = calls or 0
    check("rate", [calls])  # explain with the point estimate, budget verdict kept
    worst = checked["budget", calls]
    chosen = Candidate(checked["rate", calls].outlook, True, worst.budget_ok,
                       worst.p_over_budget)
    return ModelResult(calls if worst.budget_ok else 0, horizon, expected_free, chosen, limit)


def _largest(ok: Callable[[list[int]], list[bool]], hi: int, guess: int) -> int | None:
    """The largest n in 0..hi with ok(n), for ok true up to a point (None: not even 0).

    ``ok`` judges a batch of candidates at once: a window of ``_BATCH`` around ``guess``,
    then windows moving by doubling steps until the point is bracketed, then bisecting.
    """
    lo, up = -1, hi + 1  # ok(lo) known true (or lo = -1); ok(up) known false (or past hi)
    start = min(max(guess - _BATCH // 2, 0), max(hi - _BATCH + 1, 0))
    step = _BATCH
    while lo + 1 < up:
        ns = list(range(max(start, lo + 1), min(start + _BATCH, up)))
        verdicts = ok(ns)
        good = [n for n, v in zip(ns, verdicts) if v]
        bad = [n for n, v in zip(ns, verdicts) if not v]
        lo = max([lo, *good])
        up = min([up, *bad])
        if lo >= 0 and up <= hi:  # bracketed: look in the middle
            start = (lo + up) // 2 - _BATCH // 2
        else:  # all good: jump up; all bad: jump down; the steps double
            start = lo + 1 + step - _BATCH if good else up - step
            step *= 2
        start = max(lo + 1, min(start, up - _BATCH))
    return lo if lo >= 0 else None
