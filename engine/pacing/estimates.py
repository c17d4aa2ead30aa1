"""Online estimates of the campaign's world: answer and machine rates, ring, talk, wrap-up times.

Every estimator is an immutable value; ``observe_*`` returns a new one. Each starts from the
campaign defaults held with a weight of ``prior_calls`` observations and then averages with
weight ``1/(n+1)`` until ``n`` reaches the memory limit, after which it is an exponentially
weighted average whose half-life is ``memory_calls`` observations.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, replace

import numpy as np
from scipy.special import ndtr

from .settings import PacingSettings

_MIN_DURATION_S = 0.1


class AttemptOutcome(enum.StrEnum):
    """How a dial attempt ended its ringing phase."""

    HUMAN = "human"  # a live person answered
    MACHINE = "machine"  # an answering machine answered
    NO_ANSWER = "no_answer"  # no answer, busy, rejected, failed


def _memory_limit(settings: PacingSettings) -> float:
    """The effective sample size of an EW average with the configured half-life."""
    return 1.0 / (1.0 - 0.5 ** (1.0 / settings.memory_calls))


@dataclass(frozen=True)
class LogNormal:
    """A lognormal distribution of a duration in seconds (parameters of its logarithm)."""

    mu: float
    sigma: float

    @classmethod
    def from_mean_cv(cls, mean: float, cv: float) -> "LogNormal":
        s2 = math.log1p(cv * cv)
        return cls(math.log(mean) - s2 / 2, math.sqrt(s2))

    @property
    def mean(self) -> float:
        return math.exp(self.mu + self.sigma**2 / 2)

    def cdf(self, t: np.ndarray | float) -> np.ndarray:
        t = np.maximum(np.asarray(t, dtype=float), 1e-9)
        return ndtr((np.log(t) - self.mu) / self.sigma)

    def sf(self, t: np.ndarray | float) -> np.ndarray:
        t = np.maximum(np.asarray(t, dtype=float), 1e-9)
        return ndtr((self.mu - np.log(t)) / self.sigma)


@dataclass(frozen=True)
class EwRate:
    """Exponentially weighted frequency of an event per observation."""

    value: float
    n: float
    n_max: float

    def observe(self, hit: bool) -> "EwRate":
        n = min(self.n + 1.0, self.n_max)
        return replace(self, value=self.value + (float(hit) - self.value) / n, n=n)

    def upper(self, z: float) -> float:
        """A pessimistic (higher) value: ``z`` standard errors above the estimate."""
        return min(1.0, self.value + z * math.sqrt(self.value * (1 - self.value) / self.n))


@dataclass(frozen=True)
class EwLogNormal:
    """Exponentially weighted moments of log-durations, read as a lognormal fit."""

    m1: float  # mean of ln(t)
    m2: float  # mean of ln(t)^2
    n: float
    n_max: float

    @classmethod
    def start(cls, mean: float, cv: float, n: float, n_max: float) -> "EwLogNormal":
        d = LogNormal.from_mean_cv(mean, cv)
        return cls(d.mu, d.sigma**2 + d.mu**2, n, n_max)

    def observe(self, seconds: float) -> "EwLogNormal":
        x = math.log(max(seconds, _MIN_DURATION_S))
        n = min(self.n + 1.0, self.n_max)
        return replace(
            self, m1=self.m1 + (x - self.m1) / n, m2=self.m2 + (x * x - self.m2) / n, n=n
        )

    @property
    def dist(self) -> LogNormal:
        return LogNormal(self.m1, math.sqrt(max(self.m2 - self.m1**2, 1e-4)))

    def longer(self, z: float) -> "EwLogNormal":
        """A pessimistic fit: the log-mean ``z`` standard errors up (the credible bound of a
        normal mean whose prior counts as ``n`` observations), the spread unchanged."""
        d = self.dist
        shift = z * d.sigma / math.sqrt(self.n)
        m1 = self.m1 + shift
        return replace(self, m1=m1, m2=d.sigma**2 + m1 * m1)


@dataclass(frozen=True)
class PacingEstimates:
    """Everything the model needs to know about the campaign's world, as of now."""

    human_rate: EwRate
    machine_rate: EwRate
    ring_answer: EwLogNormal  # ring time of calls that were answered (human or machine)
    ring_noanswer: EwLogNormal  # duration of attempts that ended unanswered
    talk: EwLogNormal
    wrap: EwLogNormal

    @classmethod
    def from_settings(cls, settings: PacingSettings) -> "PacingEstimates":
        """Cold start: the campaign defaults, weighted as ``prior_calls`` observations."""
        d, n0, nm = settings.defaults, settings.prior_calls, _memory_limit(settings)
        return cls(
            human_rate=EwRate(d.answer_rate, n0, nm),
            machine_rate=EwRate(d.machine_rate, n0, nm),
            ring_answer=EwLogNormal.start(d.ring_answer_mean_s, d.ring_answer_cv, n0, nm),
            ring_noanswer=EwLogNormal.start(d.ring_noanswer_mean_s, d.ring_noanswer_cv, n0, nm),
            talk=EwLogNormal.start(d.talk_mean_s, d.talk_cv, n0, nm),
            wrap=EwLogNormal.start(d.wrap_mean_s, d.wrap_cv, n0, nm),
        )

    def observe_attempt(self, outcome: AttemptOutcome, ring_s: float) -> "PacingEstimates":
        """A dial attempt left the ringing phase after ``ring_s`` seconds."""
        answered = outcome is not AttemptOutcome.NO_ANSWER
        return replace(
            self,
            human_rate=self.human_rate.observe(outcome is AttemptOutcome.HUMAN),
            machine_rate=self.machine_rate.observe(outcome is AttemptOutcome.MACHINE),
            ring_answer=self.ring_answer.observe(ring_s) if answered else self.ring_answer,
            ring_noanswer=self.ring_noanswer if answered else self.ring_noanswer.observe(ring_s),
        )

    def observe_talk(self, talk_s: float) -> "PacingEstimates":
        return replace(self, talk=self.talk.observe(talk_s))

    def observe_wrap(self, wrap_s: float) -> "PacingEstimates":
        return replace(self, wrap=self.wrap.observe(wrap_s))

    def pessimistic(self, z: float) -> "PacingEstimates":
        """Credible bounds ``z`` standard errors towards more abandons: more live answers,
        longer talks and wrap-ups (busy agents free up later). A young campaign, whose
        estimates still lean on the defaults, gets wide bounds; they narrow as history grows."""
        human = self.human_rate
        return replace(self, human_rate=replace(human, value=human.upper(z)),
                       talk=self.talk.longer(z), wrap=self.wrap.longer(z))

    def summary(self) -> dict[str, float]:
        """Point estimates, for decision logs."""
        return {
            "human_rate": round(self.human_rate.value, 4),
            "machine_rate": round(self.machine_rate.value, 4),
            "ring_answer_mean_s": round(self.ring_answer.dist.mean, 2),
            "ring_noanswer_mean_s": round(self.ring_noanswer.dist.mean, 2),
            "talk_mean_s": round(self.talk.dist.mean, 2),
            "wrap_mean_s": round(self.wrap.dist.mean, 2),
            "history_calls": round(self.human_rate.n, 1),
        }
