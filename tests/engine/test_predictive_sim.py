"""Predictive campaigns end to end against the switch simulator (a fast simulated world)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import timedelta

import gevent
import pytest
from sqlalchemy import select

from engine.agents import AgentState
from engine.runner.base import BUFFER_TTL_S
from engine.runner.predictive import PredictiveRunner
from engine.runner.registry import RUNNERS
from engine.sim.scenario import scenario_from_dict
from engine.sim.server import SwitchSimulator
from engine.store.models import (
    AttemptState,
    Callback,
    CallbackStatus,
    DialMode,
    Outcome,
)

from .conftest import (
    RULES,
    attempts,
    login_ready,
    make_campaign,
    mixed_predictive,
    wait_for,
    world,
)

AGENTS = 20
CAP = 0.1
# Half of the dials answer after a short ring and talk 1.5-3 s; the others are busy at once.
MIXED, PACING = mixed_predictive(ring_max_s=1.2, talk_s=(1.5, 3.0), wrap_s=0.3, cap=CAP)


@pytest.fixture
def simulator() -> Iterator[SwitchSimulator]:
    sim = SwitchSimulator(scenario_from_dict(world(rules=[MIXED, *RULES])), seed=11,
                          record_tick=0.05, heartbeat_seconds=None).start()
    yield sim
    sim.stop()


def decisions(caplog: pytest.LogCaptureFixture) -> list[dict]:  # type: ignore[type-arg]
    prefix = "pacing "
    return [json.loads(r.getMessage().split(prefix, 1)[1]) for r in caplog.records
            if r.name == "engine.runner.predictive" and prefix in r.getMessage()]


def test_registered_for_predictive_campaigns() -> None:
    assert RUNNERS[DialMode.PREDICTIVE] is PredictiveRunner


@pytest.mark.slow  # 10 s of calls in real time, then the calls in flight end
def test_dials_ahead_bridges_and_keeps_the_cap(core, factory, session, sessionmaker_,  # type: ignore[no-untyped-def]
                                                caplog) -> None:
    caplog.set_level(logging.INFO, logger="engine.runner.predictive")
    numbers = [f"+7901{n:07d}" for n in range(500)]
    campaign, agents = make_campaign(factory, session, numbers, agents=AGENTS,
                                     mode=DialMode.PREDICTIVE, pacing=PACING)
    login_ready(core, agents, campaign.id)
    runner = PredictiveRunner(core, campaign.id, tick_s=0.02)
    runner.start()
    try:
        gevent.sleep(10)
    finally:
        runner.stop()
    wait_for(lambda: all(a.state is AttemptState.ENDED for a in attempts(sessionmaker_)), 15,
             "calls in flight to end")
    rows = attempts(sessionmaker_)
    log = decisions(caplog)
    assert log and all({"mode", "reason", "calls_to_launch", "estimates", "abandon"} <= set(d)
                       for d in log)
    # Cold start: while the window cannot take one abandon, every call has a ready agent.
    cold = [d for d in log if d["abandon"]["budget"] < 1]
    assert cold and cold[0]["calls_to_launch"] <= AGENTS
    assert all(d["calls"]["ringing"] + d["calls"]["waiting"] + d["calls_to_launch"]
               <= d["agents"]["ready"] for d in cold)
    # Once it can, it dials ahead of busy agents.
    assert any(d["calls_to_launch"] > d["agents"]["ready"] for d in log)
    assert any(d["calls"]["ringing"] > d["agents"]["ready"] for d in log)
    served = [r for r in rows if r.outcome is Outcome.ANSWERED]
    assert len(served) > 2 * AGENTS
    assert all(r.bridged_at is not None and r.agent_id is not None for r in served)
    abandoned = [r for r in rows if r.outcome is Outcome.ABANDONED]
    assert len(abandoned) <= CAP * (len(served) + len(abandoned))
    with sessionmaker_() as s:
        callbacks = {c.contact_id: c for c in s.scalars(select(Callback))}
    assert {r.contact_id for r in abandoned} == set(callbacks)
    for row in abandoned:
        callback = callbacks[row.contact_id]
        assert (callback.reason, callback.status) == ("abandoned", CallbackStatus.PENDING)
        assert callback.due_at >= row.answered_at + timedelta(seconds=299)
    per_contact = [r.contact_id for r in rows]
    assert len(per_contact) == len(set(per_contact))  # nobody dialed twice, abandoned or not


def test_abandon_plays_message_and_callback_goes_to_reserved_agent(  # type: ignore[no-untyped-def]
        core, factory, session, sessionmaker_, running_clock) -> None:
    pacing = {**PACING, "abandon_message": "silence_stream://300",
              "abandon_callback_after_s": 0}
    campaign, (agent_row,) = make_campaign(factory, session, ["+79001000001"], agents=1,
                                           mode=DialMode.PREDICTIVE, pacing=pacing)
    login_ready(core, [agent_row], campaign.id)
    agent = core.agents.get(agent_row.id)
    agent.pause("coffee")
    runner = PredictiveRunner(core, campaign.id, tick_s=0.02)
    (item,) = runner.next_items(1)
    runner.dial_many([(item, None)])  # a predictive call: no agent reserved
    wait_for(lambda: attempts(sessionmaker_)[0].state is AttemptState.ENDED, 10, "abandon")
    (first,) = attempts(sessionmaker_)
    assert first.outcome is Outcome.ABANDONED and first.bridged_at is None
    waited = (first.ended_at - first.answered_at).total_seconds()
    assert waited >= 0.5 + 0.3  # the answer time-out, then the message
    with sessionmaker_() as s:
        (callback,) = s.scalars(select(Callback))
    assert (callback.reason, callback.status, callback.agent_id) == (
        "abandoned", CallbackStatus.PENDING, agent_row.id)
    assert callback.phone_id == first.phone_id
    # Due now, but its agent is logged in and paused: even asked for 5 calls with no agent
    # ready, the runner does not dial it predictively.
    gevent.sleep(BUFFER_TTL_S)  # the numbers fetched ahead are stale: the callback is seen
    runner._launch(5, core.agents.ready(campaign.id), running_clock.now())
    gevent.sleep(0.3)
    assert len(attempts(sessionmaker_)) == 1
    agent.ready()
    gevent.sleep(BUFFER_TTL_S)
    runner.start()
    try:
        wait_for(lambda: len(attempts(sessionmaker_)) == 2
                 and attempts(sessionmaker_)[1].state is AttemptState.ENDED, 10, "the callback")
    finally:
        runner.stop()
    second = attempts(sessionmaker_)[1]
    assert (second.callback_id, second.agent_id, second.outcome) == (
        callback.id, agent_row.id, Outcome.ANSWERED)
    assert second.bridged_at is not None
    wait_for(lambda: agent.state is AgentState.READY, 5, "agent ready after wrap-up")
