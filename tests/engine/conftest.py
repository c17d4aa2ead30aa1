"""Fixtures for engine tests against the switch simulator."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import gevent
import pytest
from sqlalchemy import select

from engine.agents import AgentState
from engine.config import SwitchNode
from engine.runner.core import DialerCore
from engine.runner.finish import default_hooks
from engine.runner.progressive import ProgressiveRunner
from engine.sim.scenario import scenario_from_dict
from engine.sim.server import SwitchSimulator
from engine.store.models import CallAttempt, CampaignStatus, DialMode
from engine.store.queries import next_dialable
from tests.freeswitch.conftest import (  # noqa: F401 (fixtures of the real-switch tests)
    audio_dir,
    far_end,
    freeswitch_binary,
    switch,
)

# Number prefix -> what the simulated callee does (deterministic, fast).
FAST = {"post_dial_delay": 0.05, "ring": 0.3, "early_media": 0.0}
RULES = [
    {"prefix": "+7900100", "outcomes": {"human": 1}, "talk": {"dist": "uniform", "min": 0.6, "max": 1.0},
     "patience": 3, "dtmf": None, **FAST},
    {"prefix": "+7900200", "outcomes": {"busy": 1}, **FAST},
    {"prefix": "+7900300", "outcomes": {"no_answer": 1}, **FAST},
    {"prefix": "+7900400", "outcomes": {"rejected": 1}, **FAST},
    {"prefix": "+7900500", "outcomes": {"unallocated": 1}, **FAST},
    {"prefix": "+7900600", "outcomes": {"network_failure": 1}, **FAST},
    {"prefix": "+7900700", "outcomes": {"human": 1}, "talk": 30, "patience": 30, "dtmf": None, **FAST},
    {"prefix": "+7900801", "outcomes": {"human": 1}, "talk": 0.5, "patience": 30,
     "dtmf": {"digits": "1", "probability": 1, "delay": 0.5}, **FAST},
    {"prefix": "+7900809", "outcomes": {"human": 1}, "talk": 0.5, "patience": 30,
     "dtmf": {"digits": "9", "probability": 1, "delay": 0.5}, **FAST},
    {"prefix": "+7900800", "outcomes": {"human": 1}, "talk": 0.5, "patience": 30, "dtmf": None,
     **FAST},
]


class RunningClock:
    """Real elapsed time from a fixed start (Mon 2026-11-23 10:00 UTC): deterministic dates,
    real durations for a daemon that sleeps in real time."""

    def __init__(self, start: datetime) -> None:
        self._start, self._t0 = start, time.monotonic()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=time.monotonic() - self._t0)

    def monotonic(self) -> float:
        return time.monotonic()


@pytest.fixture
def running_clock() -> RunningClock:
    return RunningClock(datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc))


def world(**overrides: Any) -> dict[str, Any]:
    return {"name": "engine-tests", "seed": 7, "time_scale": 1.0, "rules": RULES,
            "agents": [{"extensions": "1000-1019", "answer": 0.1}], **overrides}


@pytest.fixture
def simulator() -> Iterator[SwitchSimulator]:
    sim = SwitchSimulator(scenario_from_dict(world()), seed=7, record_tick=0.05,
                          heartbeat_seconds=None).start()
    yield sim
    sim.stop()


def sim_node(sim: SwitchSimulator) -> SwitchNode:
    host, port = sim.address
    return SwitchNode("sim", host, port, sim.password)


def new_core(simulator: SwitchSimulator, sessions: Any, clock: Any,
             recordings_dir: Path, node_id: str = "dialer-1") -> DialerCore:
    """A core on the simulator as the tests run it (not started): a restart test makes a
    second one on the same database (another ``node_id``: a second engine)."""
    return DialerCore(nodes=[sim_node(simulator)], sessions=sessions, clock=clock,
                      source=next_dialable, recordings_dir=recordings_dir,
                      finish_hooks=default_hooks(90), tick_s=0.02, node_id=node_id)


@pytest.fixture
def core(simulator, sessionmaker_, running_clock, tmp_path) -> Iterator[DialerCore]:  # type: ignore[no-untyped-def]
    core = new_core(simulator, sessionmaker_, running_clock, tmp_path / "rec")
    core.start()
    assert core.pool.wait_up(5)
    yield core
    core.stop()


def make_campaign(factory, session, numbers: list[str], agents: int = 2,  # type: ignore[no-untyped-def]
                  mode: DialMode = DialMode.PROGRESSIVE, zone: str = "Europe/Moscow", **kw: Any):
    tenant = factory.tenant()
    kw.setdefault("pacing", {"ring_timeout_s": 15, "wrap_up_s": 0.2})
    kw.setdefault("gateway", "sofia/gateway/carrier/{number}")
    campaign = factory.campaign(tenant, mode=mode, status=CampaignStatus.RUNNING,
                                caller_id_number="+74950000000", **kw)
    contacts = factory.contact_list(campaign)
    for number in numbers:
        factory.contact(contacts, phones=[number], timezone=zone)
    agent_rows = [factory.agent(tenant, dial_string=f"user/{1000 + n}@sim") for n in range(agents)]
    session.commit()
    return campaign, agent_rows


def wait_for(predicate, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        gevent.sleep(0.05)


def attempts(sessionmaker_) -> list[CallAttempt]:  # type: ignore[no-untyped-def]
    """Every attempt, oldest first (a fresh read)."""
    with sessionmaker_() as session:
        return list(session.scalars(select(CallAttempt).order_by(CallAttempt.id)))


def login_ready(core: DialerCore, agents, campaign_id: int) -> None:  # type: ignore[no-untyped-def]
    """Log agents in and wait until their softphones answered."""
    for agent in agents:
        core.login(agent.id, campaign_id)
    wait_for(lambda: all(core.agents.get(a.id).state is AgentState.READY for a in agents), 5,
             "agents ready")


def drain(queue) -> list[tuple[str, dict[str, Any]]]:  # type: ignore[no-untyped-def]
    """Everything an event-hub subscriber has received so far, oldest first."""
    out = []
    while not queue.empty():
        out.append(queue.get_nowait())
    return out


def drain_until(queue, done, timeout: float, what: str) -> list[tuple[str, dict[str, Any]]]:  # type: ignore[no-untyped-def]
    """What an event-hub subscriber receives, oldest first, until ``done(received)`` holds:
    events are published once their batch commits, so they can trail the state they
    describe."""
    deadline = time.monotonic() + timeout
    out = drain(queue)
    while not done(out):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}; received {out}")
        gevent.sleep(0.05)
        out.extend(drain(queue))
    return out


def saw_call(state: str):  # type: ignore[no-untyped-def]
    """A ``drain_until`` condition: a call event in ``state`` has arrived."""
    return lambda got: any(kind == "call" and data.get("state") == state for kind, data in got)


def run_until(core: DialerCore, campaign_id: int, done, timeout: float, what: str,  # type: ignore[no-untyped-def]
              runner_class: Any = None) -> None:
    """Run the campaign (progressive unless ``runner_class``) until ``done()``; the runner
    is stopped either way."""
    runner = (runner_class or ProgressiveRunner)(core, campaign_id, tick_s=0.02)
    runner.start()
    try:
        wait_for(done, timeout, what)
    finally:
        runner.stop()


def first_call_ended(sessionmaker_):  # type: ignore[no-untyped-def]
    """A predicate: the first attempt exists and has ended."""
    return lambda: bool(attempts(sessionmaker_)) and attempts(sessionmaker_)[0].ended_at is not None


def mixed_predictive(ring_max_s: float, talk_s: tuple[float, float], wrap_s: float,
                     cap: float = 0.1) -> tuple[dict[str, Any], dict[str, Any]]:
    """A simulator rule for numbers +7901...: half the dials answer after a ring of 0.3 s to
    ``ring_max_s`` and talk ``talk_s`` (min, max) seconds, the others are busy at once; and
    predictive pacing settings whose cold-start defaults match that world."""
    low, high = talk_s
    rule = {"prefix": "+7901", "outcomes": {"human": 1, "busy": 1}, "post_dial_delay": 0.05,
            "early_media": 0.0, "ring": {"dist": "uniform", "min": 0.3, "max": ring_max_s},
            "talk": {"dist": "uniform", "min": low, "max": high}, "patience": 10, "dtmf": None}
    pacing = {"ring_timeout_s": 15, "wrap_up_s": wrap_s, "abandon_cap": cap,
              "answer_timeout_s": 0.5,
              "defaults": {"answer_rate": 0.5, "machine_rate": 0.0,
                           "ring_answer_mean_s": round(0.05 + (0.3 + ring_max_s) / 2, 3),
                           "ring_noanswer_mean_s": 0.2, "talk_mean_s": (low + high) / 2,
                           "talk_cv": 0.3, "wrap_mean_s": wrap_s, "wrap_cv": 0.3}}
    return rule, pacing


@pytest.fixture
def fs_core(switch, sessionmaker_, running_clock, tmp_path) -> Iterator[DialerCore]:  # type: ignore[no-untyped-def]
    """An engine core connected to the real FreeSWITCH of ``switch``."""
    core = DialerCore(nodes=[SwitchNode("fs1", switch.host, switch.esl_port, switch.esl_password)],
                      sessions=sessionmaker_, clock=running_clock, source=next_dialable,
                      recordings_dir=tmp_path / "rec", finish_hooks=default_hooks(90))
    core.start()
    assert core.pool.wait_up(10)
    yield core
    core.stop()
