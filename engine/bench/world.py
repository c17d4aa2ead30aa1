"""The simulated campaign world (simpy): a contact list, ringing calls, agents, abandons.

The world knows nothing of the dialer that drives it; every dialer sees the same contacts with
the same fates in the same order (the n-th dialed contact behaves the same whatever dials it).

Distributions (documented in docs/pacing.md; chosen from common call-centre figures, not from
the pacing code):

* fate of a dial: a live human answers with ``answer_rate``, a machine with ``machine_rate``,
  otherwise no answer;
* ring time to answer: lognormal, mean 9 s, CV 0.5 (clipped at the 25 s ring timeout);
* unanswered attempts: ``fail_fraction`` (30 %) end fast (busy, rejected, invalid number:
  lognormal mean 4 s, CV 0.5); the rest ring until the dialer's 25 s timeout;
* machines: the line is held for AMD (no agent needed) and dropped;
* a human answer goes at once to the longest-ready agent; with none free within
  ``answer_timeout_s`` (2 s) the call is abandoned; a bridged call adds ``bridge_latency_s``;
* talk: lognormal with the scenario's mean, CV 1.0; wrap-up: lognormal, CV 0.5;
* agents are logged in for the whole run and take the next call as soon as wrap-up ends;
* every dialer decides each ``tick_s`` (1 s) and, as the engine does, also as soon as an agent
  becomes ready with no customer waiting.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Generator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

import numpy as np
import simpy

from engine.pacing import AttemptOutcome, CallResult, PacingSnapshot

START = datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc)  # a Monday morning, UTC campaign
_FATE_CHUNK = 4096


@dataclass(frozen=True)
class Scenario:
    agents: int = 20
    answer_rate: float = 0.25
    talk_mean_s: float = 60.0
    wrap_mean_s: float = 10.0
    hours: float = 1.0
    seed: int = 1
    machine_rate: float = 0.15
    talk_cv: float = 1.0
    wrap_cv: float = 0.5
    ring_answer_mean_s: float = 9.0
    ring_answer_cv: float = 0.5
    ring_timeout_s: float = 25.0
    fail_fraction: float = 0.3
    fail_mean_s: float = 4.0
    fail_cv: float = 0.5
    answer_timeout_s: float = 2.0
    bridge_latency_s: float = 0.1
    tick_s: float = 1.0  # every dialer decides this often, and when an agent becomes ready
    warmup_h: float = 1.0  # steady-state figures leave out the first hour (the cold start)

    def __post_init__(self) -> None:
        if self.agents < 1 or self.hours <= 0:
            raise ValueError("Scenario: agents must be >= 1 and hours > 0")
        if not (0 < self.answer_rate and self.answer_rate + self.machine_rate < 1):
            raise ValueError("Scenario: need 0 < answer_rate and answer_rate + machine_rate < 1")

    @property
    def label(self) -> str:
        return (f"{self.agents}ag ans{self.answer_rate:.0%} talk{self.talk_mean_s:.0f}s "
                f"wrap{self.wrap_mean_s:.0f}s")


class Dialer(Protocol):
    """What drives the world: decides each tick, and hears about every call's progress."""

    name: str

    def decide(self, snapshot: PacingSnapshot, now: datetime) -> int: ...

    def attempt_ended(self, outcome: AttemptOutcome, ring_s: float) -> None: ...

    def answered(self, result: CallResult, now: datetime, delay_s: float | None) -> None: ...

    def talk_ended(self, talk_s: float) -> None: ...

    def wrap_ended(self, wrap_s: float) -> None: ...


def _lognormal(rng: np.random.Generator, mean: float, cv: float, size: int) -> np.ndarray:
    s2 = math.log1p(cv * cv)
    return rng.lognormal(math.log(mean) - s2 / 2, math.sqrt(s2), size)


class ContactList:
    """An endless list of contacts whose fates are drawn in order from the scenario's seed."""

    def __init__(self, sc: Scenario) -> None:
        self._sc = sc
        self._rng = np.random.default_rng(sc.seed)
        self._chunk: list[tuple[AttemptOutcome, float, float, float]] = []

    def next(self) -> tuple[AttemptOutcome, float, float, float]:
        """(outcome, ring or ring-until-fail seconds, talk seconds, wrap seconds)."""
        if not self._chunk:
            self._chunk = self._draw()[::-1]
        return self._chunk.pop()

    def _draw(self) -> list[tuple[AttemptOutcome, float, float, float]]:
        sc, rng, n = self._sc, self._rng, _FATE_CHUNK
        u = rng.random(n)
        ring = np.minimum(_lognormal(rng, sc.ring_answer_mean_s, sc.ring_answer_cv, n),
                          sc.ring_timeout_s)
        fails = rng.random(n) < sc.fail_fraction
        fail_s = np.minimum(_lognormal(rng, sc.fail_mean_s, sc.fail_cv, n), sc.ring_timeout_s)
        unanswered = np.where(fails, fail_s, sc.ring_timeout_s)
        talk = _lognormal(rng, sc.talk_mean_s, sc.talk_cv, n)
        wrap = _lognormal(rng, sc.wrap_mean_s, sc.wrap_cv, n)
        fates = []
        for i in range(n):
            if u[i] < sc.answer_rate:
                fates.append((AttemptOutcome.HUMAN, float(ring[i]), float(talk[i]),
                              float(wrap[i])))
            elif u[i] < sc.answer_rate + sc.machine_rate:
                fates.append((AttemptOutcome.MACHINE, float(ring[i]), 0.0, 0.0))
            else:
                fates.append((AttemptOutcome.NO_ANSWER, float(unanswered[i]), 0.0, 0.0))
        return fates


@dataclass
class Agent:
    index: int
    state: str = "ready"  # ready | talking | wrapping
    since: float = 0.0
    busy_s: float = 0.0


@dataclass
class Tally:
    """Raw counts and event times; metrics.py turns them into figures."""

    attempts: int = 0
    machines: int = 0
    live_times: list[float] = field(default_factory=list)  # every live answer
    abandon_times: list[float] = field(default_factory=list)
    bridge_delays: list[float] = field(default_factory=list)
    busy_s: float = 0.0
    busy_s_at_warmup: float | None = None  # None: the run is no longer than the warm-up
    attempts_at_warmup: int = 0


class World:
    """One run of one dialer over one scenario."""

    def __init__(self, scenario: Scenario, dialer: Dialer) -> None:
        self.sc = scenario
        self.dialer = dialer
        self.env = simpy.Environment()
        self.contacts = ContactList(scenario)
        self.agents = [Agent(i) for i in range(scenario.agents)]
        self.ready: deque[Agent] = deque(self.agents)
        self.ringing: dict[int, float] = {}
        self.waiting: deque[tuple[float, simpy.Event]] = deque()
        self.tally = Tally()
        self._next_call = 0
        self._agent_ready = self.env.event()

    def run(self) -> Tally:
        end = self.sc.hours * 3600.0
        self.env.process(self._pacer())
        warmup = self.sc.warmup_h * 3600.0
        if warmup < end:
            self.env.run(until=warmup)
            self.tally.busy_s_at_warmup = self._busy_s()
            self.tally.attempts_at_warmup = self.tally.attempts
        self.env.run(until=end)
        self.tally.busy_s = self._busy_s()
        return self.tally

    def _busy_s(self) -> float:
        """Agent time spent talking or wrapping up so far."""
        return sum(a.busy_s for a in self.agents) + sum(
            self.env.now - a.since for a in self.agents if a.state != "ready")

    def now_dt(self) -> datetime:
        return START + timedelta(seconds=self.env.now)

    def snapshot(self) -> PacingSnapshot:
        t = self.env.now
        by_state: dict[str, list[float]] = {"ready": [], "talking": [], "wrapping": []}
        for a in self.agents:
            by_state[a.state].append(t - a.since)
        return PacingSnapshot(
            ready_for_s=tuple(by_state["ready"]),
            talking_for_s=tuple(by_state["talking"]),
            wrapping_for_s=tuple(by_state["wrapping"]),
            ringing_for_s=tuple(t - s for s in self.ringing.values()),
            waiting_for_s=tuple(t - s for s, _ in self.waiting),
        )

    def _pacer(self) -> Generator[simpy.Event, Any, None]:
        while True:
            for _ in range(self.dialer.decide(self.snapshot(), self.now_dt())):
                self.env.process(self._call(*self.contacts.next()))
            self._agent_ready = self.env.event()
            yield self._agent_ready | self.env.timeout(self.sc.tick_s)

    def _call(self, outcome: AttemptOutcome, ring_s: float, talk_s: float,
              wrap_s: float) -> Generator[simpy.Event, Any, None]:
        env, call_id = self.env, self._next_call
        self._next_call += 1
        self.ringing[call_id] = env.now
        yield env.timeout(ring_s)
        del self.ringing[call_id]
        self.tally.attempts += 1
        self.dialer.attempt_ended(outcome, ring_s)
        if outcome is AttemptOutcome.MACHINE:
            self.tally.machines += 1
            self.dialer.answered(CallResult.MACHINE, self.now_dt(), None)
        if outcome is not AttemptOutcome.HUMAN:
            return
        answered_at = env.now
        self.tally.live_times.append(answered_at)
        agent = yield from self._agent_for(answered_at)
        if agent is None:
            self.tally.abandon_times.append(env.now)
            self.dialer.answered(CallResult.ABANDONED, self.now_dt(), env.now - answered_at)
            return
        delay = env.now - answered_at + self.sc.bridge_latency_s
        self.tally.bridge_delays.append(delay)
        self.dialer.answered(CallResult.SERVED, self.now_dt(), delay)
        self._move(agent, "talking")
        yield env.timeout(self.sc.bridge_latency_s + talk_s)
        self.dialer.talk_ended(talk_s)
        self._move(agent, "wrapping")
        yield env.timeout(wrap_s)
        self.dialer.wrap_ended(wrap_s)
        self._move(agent, "ready")
        if self.waiting:
            _, event = self.waiting.popleft()
            event.succeed(agent)
        else:
            self.ready.append(agent)
            if not self._agent_ready.triggered:
                self._agent_ready.succeed()

    def _agent_for(self, answered_at: float) -> Generator[simpy.Event, Any, Agent | None]:
        """The longest-ready agent, waiting up to the answer timeout; None: abandoned."""
        if self.ready:
            return self.ready.popleft()
        event = self.env.event()
        item = (answered_at, event)
        self.waiting.append(item)
        yield event | self.env.timeout(self.sc.answer_timeout_s)
        if event.triggered:
            return event.value
        self.waiting.remove(item)
        return None

    def _move(self, agent: Agent, state: str) -> None:
        if agent.state != "ready":
            agent.busy_s += self.env.now - agent.since
        agent.state, agent.since = state, self.env.now
