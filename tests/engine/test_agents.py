"""The agent state machine and its state log."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.agents import AgentPool, AgentSession, AgentState, AgentStateError, DbStateLog
from engine.clock import ManualClock
from engine.store.models import AgentStateLog

from .transcripts import events

LEG = "c3bdbce0-20bf-4d03-91c3-2a9ae7b98928"


def agent_events(name: str):  # type: ignore[no-untyped-def]
    return [e for e in events("answered_park_record_bridge_kill.txt")
            if e.unique_id == LEG and e.name == name]


@pytest.fixture
def agent(factory, sessionmaker_, clock: ManualClock, session) -> AgentSession:  # type: ignore[no-untyped-def]
    row = factory.agent(factory.tenant())
    session.commit()
    return AgentSession(agent_id=row.id, tenant_id=row.tenant_id, dial_string=row.dial_string,
                        clock=clock, state_log=DbStateLog(sessionmaker_))


def test_full_cycle_is_logged_with_times(agent: AgentSession, clock: ManualClock,
                                         sessionmaker_) -> None:  # type: ignore[no-untyped-def]
    agent.login(LEG, "fs1", campaign_id=None)
    assert agent.state is AgentState.PAUSED and agent.reason == "connecting"
    with pytest.raises(AgentStateError, match="not answered"):
        agent.ready()
    agent.handle(agent_events("CHANNEL_ANSWER")[0])  # the softphone answered
    assert agent.state is AgentState.READY
    clock.advance(5)
    agent.reserve("cust-1")
    clock.advance(3)
    agent.talking()
    clock.advance(60)
    agent.wrap_up_s = 10
    agent.call_done()
    clock.advance(9)
    agent.tick()
    assert agent.state is AgentState.WRAP_UP
    clock.advance(1)
    agent.tick()
    assert agent.state is AgentState.READY
    agent.handle(agent_events("CHANNEL_HANGUP")[0])  # the softphone hung up
    assert agent.state is AgentState.OFFLINE
    with sessionmaker_() as session:
        rows = session.scalars(select(AgentStateLog).order_by(AgentStateLog.id)).all()
    assert [(r.state, (r.ended_at - r.started_at).total_seconds()) for r in rows] == [
        ("paused", 0.0), ("ready", 5.0), ("reserved", 3.0), ("talking", 60.0),
        ("wrap_up", 10.0), ("ready", 0.0)]
    assert all(r.ended_at is not None for r in rows)


def test_pause_while_busy_applies_after_wrap_up(agent: AgentSession, clock: ManualClock) -> None:
    agent.login(LEG, "fs1", None)
    agent.on_channel_answer(agent_events("CHANNEL_ANSWER")[0])
    agent.reserve("c")
    agent.talking()
    agent.pause("lunch")
    assert agent.state is AgentState.TALKING
    agent.call_done()
    agent.tick()
    assert (agent.state, agent.reason) == (AgentState.PAUSED, "lunch")


def test_reserved_call_that_fails_frees_the_agent(agent: AgentSession) -> None:
    agent.login(LEG, "fs1", None)
    agent.on_channel_answer(agent_events("CHANNEL_ANSWER")[0])
    agent.reserve("c")
    agent.release()
    assert agent.state is AgentState.READY and agent.call_uuid is None


def test_illegal_transition_names_states(agent: AgentSession) -> None:
    with pytest.raises(AgentStateError, match="offline -> talking"):
        agent.talking()


def test_pool_orders_ready_agents_longest_first(clock: ManualClock) -> None:
    class NoLog:
        def record(self, *args: object) -> None:
            """Nothing to keep in this test."""

    pool = AgentPool()
    agents = []
    for n in range(3):
        a = AgentSession(agent_id=n, tenant_id=1, dial_string="user/x", clock=clock,
                         state_log=NoLog())
        a.login(f"leg-{n}", "fs1", campaign_id=9)
        pool.add(a)
        agents.append(a)
    for a in (agents[2], agents[0], agents[1]):
        clock.advance(1)
        a.on_channel_answer(None)  # type: ignore[arg-type]
    assert [a.agent_id for a in pool.ready(9)] == [2, 0, 1]
    assert pool.by_leg("leg-1") is agents[1]
    assert pool.ready(8) == []
