"""Two references for the occupancy a team can reach at exactly the abandon cap.

The **Erlang reference**: live answers arrive at random (Poisson) and the dialer only chooses
their average rate.

It is the number the issue's arithmetic is about: with ``N`` agents, an answer is abandoned
when no agent is free within the answer timeout, and the busier the agents the likelier that
is. The model is an M/G/N queue with deterministic patience (``answer_timeout_s``): Poisson
answers, FIFO, the scenario's own service time (bridge latency + talk + wrap-up, drawn from
the world's distributions). The answer rate is bisected until the abandon share equals the
cap; the occupancy at that rate is the reference. With patience 0 this is Erlang B.

It is **not** an upper bound for a predictive dialer: a dialer that watches its agents (as
ours does) launches fewer calls while all are busy and more when some are about to be free,
so its answers are not Poisson, and it can pass this figure. An oracle that knew every
contact's fate and ring time in advance would reach ~100 % (it would dial each live contact
so as to answer the moment an agent frees), so the exact ceiling lies between the two and has
no closed form here. The reference says what the abandon cap allows *without* prediction, so
the distance above it is what the prediction earns.

The **lag estimate** (``lag_estimate``) is what the cap allows *with* prediction, as long as
the dialer cannot foresee which calls a human will answer: a call answers about one mean ring
time after it is dialed, so the answers of that time are committed and random. Agents free up
at known times at the rate the occupancy needs, ``mu = occupancy * agents / service``; the
idle agents are a normal stock spread like the committed answers, ``sqrt(mu * ring)``,
clipped at 0 with the mean ``agents * (1 - occupancy)``; an answer is abandoned when the stock
is empty and no agent frees up within the answer timeout, ``P(stock < 1) * exp(-timeout *
mu)``. It is an estimate, not a bound (docs/pacing.md, "Round 5", compares it with runs).
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq
from scipy.stats import norm

from .world import Scenario

ANSWERS = 60_000  # simulated answers per evaluation (the 3 % share to about +-0.07 points)
_STEPS = 22  # bisection steps on the offered load


@dataclass(frozen=True)
class ErlangReference:
    occupancy: float  # agents' busy share at the cap
    offered_erlangs: float  # answer rate x mean service time
    abandon_share: float  # measured at that rate (close to the cap)


def abandon_share(agents: int, patience_s: float, arrivals: np.ndarray,
                  services: np.ndarray) -> tuple[float, float]:
    """(abandoned share, busy agent-seconds) of FIFO answers with ``patience_s`` to wait.

    Answers are handled in arrival order; each takes the agent free soonest, if that is
    within its patience (the agent freed first serves the customer who waited longest)."""
    free_at = [0.0] * agents
    abandoned, busy = 0, 0.0
    for t, s in zip(arrivals.tolist(), services.tolist()):
        first = free_at[0]
        if first > t + patience_s:
            abandoned += 1
            continue
        heapq.heapreplace(free_at, max(t, first) + s)
        busy += s
    return abandoned / len(arrivals), busy


def service_times(sc: Scenario, size: int, rng: np.random.Generator) -> np.ndarray:
    """An agent's busy time per served answer in the scenario's world."""
    def lognormal(mean: float, cv: float) -> np.ndarray:
        s2 = math.log1p(cv * cv)
        return rng.lognormal(math.log(mean) - s2 / 2, math.sqrt(s2), size)

    return sc.bridge_latency_s + lognormal(sc.talk_mean_s, sc.talk_cv) + lognormal(
        sc.wrap_mean_s, sc.wrap_cv)


def erlang_reference(sc: Scenario, cap: float, answers: int = ANSWERS,
                     patience_s: float | None = None) -> ErlangReference:
    """The occupancy at which Poisson answers to ``sc``'s team are abandoned at ``cap``."""
    rng = np.random.default_rng(sc.seed)
    services = service_times(sc, answers, rng)
    gaps = rng.exponential(1.0, answers)  # common random numbers: only the rate changes
    patience = sc.answer_timeout_s if patience_s is None else patience_s
    mean_s = float(services.mean())

    def run(erlangs: float) -> tuple[float, float]:
        arrivals = np.cumsum(gaps) * mean_s / erlangs
        share, busy = abandon_share(sc.agents, patience, arrivals, services)
        return share, busy / (sc.agents * float(arrivals[-1]))

    lo, hi = 0.0, 2.0 * sc.agents  # offered load in Erlangs
    for _ in range(_STEPS):
        mid = (lo + hi) / 2
        if run(mid)[0] <= cap:
            lo = mid
        else:
            hi = mid
    share, occupancy = run(lo)
    return ErlangReference(occupancy, lo, share)


def lag_estimate(sc: Scenario, cap: float) -> float:
    """The occupancy at which committed random answers to ``sc``'s team are abandoned at
    ``cap`` when its agents' free times are known (see the module docstring)."""
    service = sc.bridge_latency_s + sc.talk_mean_s + sc.wrap_mean_s

    def excess(occupancy: float) -> float:
        mu = occupancy * sc.agents / service
        spread = math.sqrt(mu * sc.ring_answer_mean_s)
        idle = sc.agents * (1.0 - occupancy)
        # The normal stock's centre whose part above 0 averages `idle` agents.
        centre = brentq(lambda m: m * norm.cdf(m / spread) + spread * norm.pdf(m / spread)
                        - idle, -idle - 10 * spread, idle + 10 * spread)
        empty = norm.cdf((0.5 - centre) / spread)
        return empty * math.exp(-sc.answer_timeout_s * mu) - cap

    return brentq(excess, 1e-6, 1.0 - 1e-6)


def erlang_b(agents: int, erlangs: float) -> float:
    """Erlang B blocking probability (the recurrence), for checking the simulation."""
    blocking = 1.0
    for k in range(1, agents + 1):
        blocking = erlangs * blocking / (k + erlangs * blocking)
    return blocking
