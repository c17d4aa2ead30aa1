"""Per-call agent ringing (``Campaign.agent_ringing``) on the simulator."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from engine.agents import MISSED_CALL, AgentState
from engine.runner.progressive import ProgressiveRunner
from engine.sim.scenario import scenario_from_dict
from engine.sim.server import SwitchSimulator
from engine.store.models import AttemptState, Outcome

from .conftest import (
    attempts,
    first_call_ended,
    make_campaign,
    new_core,
    run_until,
    wait_for,
    world,
)

SLOW = "1050"  # answers after 5 s: rings out with a 1 s agent ring time-out


@pytest.fixture
def simulator() -> Iterator[SwitchSimulator]:
    agents = [{"extensions": "1000-1019", "answer": 0.1}, {"extension": SLOW, "answer": 5}]
    sim = SwitchSimulator(scenario_from_dict(world(agents=agents)), seed=7, record_tick=0.05,
                          heartbeat_seconds=None).start()
    yield sim
    sim.stop()


def ringing_campaign(factory, session, numbers: list[str], agents: int, slow_first: bool = False):  # type: ignore[no-untyped-def]
    campaign, rows = make_campaign(
        factory, session, numbers, agents=agents, agent_ringing=True,
        pacing={"ring_timeout_s": 15, "wrap_up_s": 0.2, "agent_ring_timeout_s": 1})
    if slow_first:
        rows[0].dial_string = f"user/{SLOW}@sim"
        session.commit()
    return campaign, rows


def test_agent_phone_rings_per_call_and_is_bridged(core, simulator, factory, session,  # type: ignore[no-untyped-def]
                                                   sessionmaker_) -> None:
    campaign, agents = ringing_campaign(factory, session, ["+79001000301"], agents=1)
    agent = core.login(agents[0].id, campaign.id)
    assert agent.state is AgentState.READY and agent.leg_uuid is None  # nothing was called
    assert simulator.switch.channels == {}
    run_until(core, campaign.id, first_call_ended(sessionmaker_), 10, "the call to end")
    attempt = attempts(sessionmaker_)[0]
    assert attempt.outcome is Outcome.ANSWERED and attempt.agent_id == agents[0].id
    assert attempt.bridged_at is not None and attempt.dead_air_ms >= 100  # the phone rang
    wait_for(lambda: simulator.switch.channels == {}, 5, "the agent's leg to go too")
    wait_for(lambda: agent.state is AgentState.READY, 5, "wrap-up over")
    assert agent.leg_uuid is None and agent.node is None  # ready for a call on any node


def test_agent_who_misses_the_call_is_paused_and_the_next_agent_takes_it(  # type: ignore[no-untyped-def]
        core, simulator, factory, session, sessionmaker_) -> None:
    campaign, agents = ringing_campaign(factory, session, ["+79001000302"], agents=2,
                                        slow_first=True)
    slow = core.login(agents[0].id, campaign.id)  # longest ready: rung first
    fast = core.login(agents[1].id, campaign.id)
    fast.pause("not yet")

    def first_agent_then_the_other() -> bool:
        if fast.state is AgentState.PAUSED and attempts(sessionmaker_):
            assert attempts(sessionmaker_)[0].agent_id == slow.agent_id
            fast.ready()  # while the slow agent's phone rings
        return first_call_ended(sessionmaker_)()

    run_until(core, campaign.id, first_agent_then_the_other, 10, "the call to end")
    attempt = attempts(sessionmaker_)[0]
    assert slow.reason == MISSED_CALL and slow.call_uuid is None and slow.leg_uuid is None
    assert attempt.agent_id == fast.agent_id and attempt.bridged_at is not None
    assert attempt.outcome is Outcome.ANSWERED


def test_no_agent_answers_the_customer_is_abandoned(core, simulator, factory, session,  # type: ignore[no-untyped-def]
                                                    sessionmaker_) -> None:
    campaign, agents = ringing_campaign(factory, session, ["+79001000303"], agents=1,
                                        slow_first=True)
    slow = core.login(agents[0].id, campaign.id)
    run_until(core, campaign.id, first_call_ended(sessionmaker_), 10, "the call to end")
    attempt = attempts(sessionmaker_)[0]
    assert attempt.state is AttemptState.ENDED and attempt.outcome is Outcome.ABANDONED
    assert attempt.bridged_at is None
    assert (slow.state, slow.reason) == (AgentState.PAUSED, MISSED_CALL)
    wait_for(lambda: simulator.switch.channels == {}, 5, "every leg gone")


def test_a_bridged_per_call_leg_is_adopted_after_a_restart(  # type: ignore[no-untyped-def]
        core, simulator, factory, session, sessionmaker_, running_clock, tmp_path) -> None:
    """The engine goes away mid-call: the next one finds the agent talking on the per-call
    leg (not logged in as nailed up), and when the customer leaves, hangs the leg up and
    keeps the agent logged in for the next call."""
    campaign, agents = ringing_campaign(factory, session, ["+79007000301"], agents=1)
    core.login(agents[0].id, campaign.id)
    runner = ProgressiveRunner(core, campaign.id, tick_s=0.02)
    runner.start()
    wait_for(lambda: attempts(sessionmaker_) and attempts(sessionmaker_)[0].bridged_at, 10,
             "the customer bridged to the agent's phone")
    runner.stop()
    core.stop()  # the customer (talking 30 s) and the agent's leg stay up
    assert len(simulator.switch.channels) == 2
    successor = new_core(simulator, sessionmaker_, running_clock, tmp_path / "rec2")
    successor.start()
    try:
        assert successor.pool.wait_up(5)
        wait_for(lambda: successor.agents.get(agents[0].id) is not None
                 and successor.agents.get(agents[0].id).state is AgentState.TALKING, 5,
                 "the agent adopted, talking")
        agent = successor.agents.get(agents[0].id)
        customer = attempts(sessionmaker_)[0].call_uuid
        assert agent.per_call and agent.call_uuid == customer
        wait_for(lambda: customer in successor.calls, 5, "the customer's call adopted")
        successor.kill(successor.calls[customer])  # the customer hangs up
        wait_for(lambda: simulator.switch.channels == {}, 5, "the agent's per-call leg gone too")
        wait_for(lambda: agent.state is AgentState.READY, 5, "wrap-up over")
        assert successor.agents.get(agents[0].id) is agent  # still logged in
        assert agent.leg_uuid is None
    finally:
        successor.stop()
    rows = attempts(sessionmaker_)
    assert len(rows) == 1 and rows[0].state is AttemptState.ENDED
    assert rows[0].outcome is Outcome.ANSWERED and rows[0].agent_id == agents[0].id


def test_a_ringing_per_call_leg_is_hung_up_after_a_restart(  # type: ignore[no-untyped-def]
        core, simulator, factory, session, sessionmaker_, running_clock, tmp_path) -> None:
    """An agent's phone still ringing when the engine went away: the next engine hangs that
    leg up and the agent is simply ready (per call) again."""
    campaign, agents = ringing_campaign(factory, session, ["+79007000302"], agents=1,
                                        slow_first=True)
    agent = core.login(agents[0].id, campaign.id)
    runner = ProgressiveRunner(core, campaign.id, tick_s=0.02)
    runner.start()
    wait_for(lambda: agent.leg_uuid is not None, 10, "the agent's phone ringing")
    leg = agent.leg_uuid
    runner.stop()
    core.stop()
    successor = new_core(simulator, sessionmaker_, running_clock, tmp_path / "rec2")
    successor.start()
    try:
        assert successor.pool.wait_up(5)
        wait_for(lambda: leg not in simulator.switch.channels, 5, "the ringing leg hung up")
        adopted = successor.agents.get(agents[0].id)
        assert adopted is not None and adopted.per_call
        assert adopted.state in (AgentState.READY, AgentState.RESERVED, AgentState.TALKING)
    finally:
        successor.stop()
