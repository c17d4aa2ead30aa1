"""Per-call agent ringing in predictive and IVR campaigns and for inbound callbacks, and
inbound calls recorded from the answer (simulator)."""

from __future__ import annotations

import gevent
import soundfile
from sqlalchemy import select

from engine.agents import MISSED_CALL, AgentState
from engine.api.hub import EventHub
from engine.runner.ivr import IvrRunner
from engine.runner.predictive import PredictiveRunner
from engine.sim.scenario import IncomingCall
from engine.store.models import AttemptState, Callback, Contact, DialMode, Outcome

from .conftest import (
    attempts,
    drain,
    first_call_ended,
    login_ready,
    make_campaign,
    wait_for,
)
from .test_agent_ringing_sim import SLOW, simulator  # noqa: F401 (a fixture used by name)
from .test_inbound_sim import CAMPAIGN_NUMBER, previous_call
from .test_ivr_sim import IVR

PREDICTIVE = {"ring_timeout_s": 15, "wrap_up_s": 0.2, "agent_ring_timeout_s": 1,
              "answer_timeout_s": 3.0}


def per_call_campaign(factory, session, numbers, agents, slow_first=False, **kw):  # type: ignore[no-untyped-def]
    campaign, rows = make_campaign(factory, session, numbers, agents=agents, agent_ringing=True,
                                   **kw)
    if slow_first:
        rows[0].dial_string = f"user/{SLOW}@sim"
        session.commit()
    return campaign, rows


def dial_one(core, campaign_id: int) -> PredictiveRunner:  # type: ignore[no-untyped-def]
    """A predictive runner that dialed its campaign's one number with no agent reserved."""
    runner = PredictiveRunner(core, campaign_id, tick_s=0.02)
    (item,) = runner.next_items(1)
    runner.dial_many([(item, None)])
    return runner


# --- predictive ---------------------------------------------------------------------------

def test_predictive_human_answer_rings_the_longest_ready_agent(  # type: ignore[no-untyped-def]
        core, simulator, factory, session, sessionmaker_) -> None:
    campaign, rows = per_call_campaign(factory, session, ["+79001000401"], agents=2,
                                       mode=DialMode.PREDICTIVE, pacing=PREDICTIVE)
    first = core.login(rows[0].id, campaign.id)
    core.login(rows[1].id, campaign.id)
    assert first.leg_uuid is None and simulator.switch.channels == {}  # nothing at login
    dial_one(core, campaign.id)
    wait_for(first_call_ended(sessionmaker_), 10, "the call to end")
    (row,) = attempts(sessionmaker_)
    assert row.outcome is Outcome.ANSWERED and row.agent_id == first.agent_id
    assert row.bridged_at is not None and row.dead_air_ms >= 100  # the phone rang 0.1 s
    wait_for(lambda: simulator.switch.channels == {}, 5, "the agent's leg to go too")
    wait_for(lambda: first.state is AgentState.READY, 5, "wrap-up over")
    assert first.leg_uuid is None


def test_predictive_agent_who_misses_leaves_the_customer_to_the_next_in_time(  # type: ignore[no-untyped-def]
        core, simulator, factory, session, sessionmaker_) -> None:
    campaign, rows = per_call_campaign(factory, session, ["+79001000402"], agents=2,
                                       slow_first=True, mode=DialMode.PREDICTIVE,
                                       pacing=PREDICTIVE)
    slow = core.login(rows[0].id, campaign.id)
    fast = core.login(rows[1].id, campaign.id)
    fast.pause("not yet")
    dial_one(core, campaign.id)
    wait_for(lambda: slow.state is AgentState.RESERVED, 5, "the slow agent's phone to ring")
    fast.ready()  # free while the slow agent's phone rings: not taken over (it is rung)
    wait_for(first_call_ended(sessionmaker_), 10, "the call to end")
    (row,) = attempts(sessionmaker_)
    assert (slow.state, slow.reason) == (AgentState.PAUSED, MISSED_CALL)
    assert row.outcome is Outcome.ANSWERED and row.agent_id == fast.agent_id
    assert 1000 <= row.dead_air_ms < 3000  # one ring time-out, within the answer time-out


def test_predictive_no_agent_answers_within_the_answer_time_out_abandons(  # type: ignore[no-untyped-def]
        core, simulator, factory, session, sessionmaker_) -> None:
    pacing = {**PREDICTIVE, "answer_timeout_s": 0.5, "agent_ring_timeout_s": 10}
    campaign, rows = per_call_campaign(factory, session, ["+79001000403"], agents=1,
                                       slow_first=True, mode=DialMode.PREDICTIVE, pacing=pacing)
    slow = core.login(rows[0].id, campaign.id)
    dial_one(core, campaign.id)
    wait_for(first_call_ended(sessionmaker_), 10, "the abandon")
    (row,) = attempts(sessionmaker_)
    assert row.state is AttemptState.ENDED and row.outcome is Outcome.ABANDONED
    assert row.bridged_at is None and 500 <= row.dead_air_ms < 2000  # counted from the answer
    with sessionmaker_() as s:
        (callback,) = s.scalars(select(Callback))
    assert (callback.reason, callback.agent_id) == ("abandoned", slow.agent_id)
    wait_for(lambda: simulator.switch.channels == {}, 5, "the ringing leg hung up too")
    # Still ringing when the customer was given up: not the agent's fault, no pause.
    assert (slow.state, slow.leg_uuid, slow.call_uuid) == (AgentState.READY, None, None)


# --- IVR ----------------------------------------------------------------------------------

def run_ivr(core, campaign_id: int, sessionmaker_):  # type: ignore[no-untyped-def]
    """Run the IVR campaign until its one call ended; that call's attempt."""
    runner = IvrRunner(core, campaign_id, tick_s=0.02)
    runner.start()
    try:
        wait_for(first_call_ended(sessionmaker_), 15, "the IVR call to end")
    finally:
        runner.stop()
    (row,) = attempts(sessionmaker_)
    assert row.result["ivr_choice"] == "agent"  # the callee pressed 1
    return row


def test_ivr_connect_key_rings_a_per_call_agent(core, simulator, factory, session,  # type: ignore[no-untyped-def]
                                                sessionmaker_) -> None:
    campaign, rows = per_call_campaign(
        factory, session, ["+79008010001"], agents=1, mode=DialMode.IVR, ivr=IVR,
        pacing={"ring_timeout_s": 15, "wrap_up_s": 0.2, "agent_ring_timeout_s": 2})
    agent = core.login(rows[0].id, campaign.id)
    row = run_ivr(core, campaign.id, sessionmaker_)
    assert row.outcome is Outcome.ANSWERED and row.agent_id == agent.agent_id
    assert row.bridged_at is not None and row.dead_air_ms >= 100  # the phone rang
    wait_for(lambda: simulator.switch.channels == {}, 5, "the agent's leg to go too")


def test_ivr_connect_key_abandons_when_the_agent_misses(core, simulator, factory, session,  # type: ignore[no-untyped-def]
                                                         sessionmaker_) -> None:
    campaign, rows = per_call_campaign(
        factory, session, ["+79008010002"], agents=1, slow_first=True, mode=DialMode.IVR,
        ivr=IVR, pacing={"ring_timeout_s": 15, "wrap_up_s": 0.2, "agent_ring_timeout_s": 1})
    agent = core.login(rows[0].id, campaign.id)
    row = run_ivr(core, campaign.id, sessionmaker_)
    assert row.outcome is Outcome.ABANDONED and row.bridged_at is None
    assert (agent.state, agent.reason) == (AgentState.PAUSED, MISSED_CALL)


# --- inbound callbacks --------------------------------------------------------------------

def test_inbound_caller_rings_their_per_call_agent_with_the_card(  # type: ignore[no-untyped-def]
        core, simulator, factory, session, sessionmaker_, clock) -> None:
    hub = EventHub()
    core.send_events_to(hub.publish)
    events = hub.subscribe()
    campaign, rows = per_call_campaign(
        factory, session, ["+79001000404"], agents=2, slow_first=True,
        pacing={"ring_timeout_s": 15, "wrap_up_s": 0.2, "agent_ring_timeout_s": 1})
    contact = session.scalars(select(Contact)).one()
    previous_call(session, campaign, contact, rows[0].id, clock)  # the slow one was theirs
    slow = core.login(rows[0].id, campaign.id)
    fast = core.login(rows[1].id, campaign.id)
    simulator.call_in(IncomingCall(caller="+79001000404", dialled=CAMPAIGN_NUMBER,
                                   talk_seconds=0.6))
    wait_for(lambda: len(attempts(sessionmaker_)) == 2 and attempts(sessionmaker_)[-1].ended_at,
             10, "the inbound call to end")
    inbound = attempts(sessionmaker_)[-1]
    assert inbound.direction == "inbound" and inbound.outcome is Outcome.ANSWERED
    assert inbound.agent_id == fast.agent_id and inbound.bridged_at is not None
    assert (slow.state, slow.reason) == (AgentState.PAUSED, MISSED_CALL)
    cards = [data for kind, data in drain(events) if kind == "card"]
    assert [c["agent_id"] for c in cards] == [slow.agent_id, fast.agent_id]  # while ringing
    assert core.cards == {}
    wait_for(lambda: simulator.switch.channels == {}, 5, "every leg gone")


def test_inbound_call_recorded_from_the_answer(core, simulator, factory, session,  # type: ignore[no-untyped-def]
                                               sessionmaker_) -> None:
    campaign, rows = make_campaign(factory, session, ["+79001000405"], agents=1,
                                   recording={"from": "answer"})
    login_ready(core, rows, campaign.id)
    agent = core.agents.get(rows[0].id)
    agent.pause("back in a second")
    simulator.call_in(IncomingCall(caller="+79001000405", dialled=CAMPAIGN_NUMBER,
                                   talk_seconds=0.6))
    wait_for(lambda: attempts(sessionmaker_) and attempts(sessionmaker_)[0].recording_path,
             5, "the recording to start")
    assert attempts(sessionmaker_)[0].state is AttemptState.ANSWERED  # before any agent
    gevent.sleep(1.0)
    agent.ready()
    wait_for(lambda: attempts(sessionmaker_)[0].ended_at is not None, 10, "the call to end")
    (row,) = attempts(sessionmaker_)
    assert row.bridged_at is not None and row.outcome is Outcome.ANSWERED
    info = soundfile.info(row.recording_path)
    waited = (row.bridged_at - row.answered_at).total_seconds()
    assert waited >= 1.0 and info.channels == 2
    assert info.duration >= waited + 0.4  # the wait and the talk, not the talk alone
