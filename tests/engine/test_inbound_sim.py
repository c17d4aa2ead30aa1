"""Inbound callbacks on the simulator: a customer calls the campaign's number back."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
import soundfile
from sqlalchemy import select

from engine.agents import AgentState
from engine.api.hub import EventHub
from engine.sim.scenario import IncomingCall, ScenarioError, scenario_from_dict
from engine.store.models import (
    AttemptState,
    CallAttempt,
    Callback,
    Contact,
    Outcome,
    Phone,
)

from .conftest import (
    attempts,
    drain,
    drain_until,
    login_ready,
    make_campaign,
    new_core,
    saw_call,
    wait_for,
    world,
)
from .test_recovery_sim import cut_event_sockets

CAMPAIGN_NUMBER = "+74950000000"  # make_campaign's caller ID


@pytest.fixture
def events(core):  # type: ignore[no-untyped-def]
    hub = EventHub()
    core.send_events_to(hub.publish)
    return hub.subscribe()


def published(queue, kind: str) -> list[dict]:  # type: ignore[no-untyped-def]
    return [data for got_kind, data in drain(queue) if got_kind == kind]


def previous_call(session, campaign, contact: Contact, agent_id: int, clock) -> None:  # type: ignore[no-untyped-def]
    """Our earlier call to the contact, connected to ``agent_id``."""
    phone = contact.phones[0]
    at = clock.now() - timedelta(hours=2)
    session.add(CallAttempt(
        tenant_id=campaign.tenant_id, campaign_id=campaign.id, contact_id=contact.id,
        phone_id=phone.id, number=phone.number, agent_id=agent_id, mode="progressive",
        node="sim", call_uuid=f"old-{contact.id}", state=AttemptState.ENDED,
        outcome=Outcome.NO_ANSWER, created_at=at, bridged_at=at, ended_at=at, result={}))
    session.commit()


def test_known_caller_reaches_their_last_agent_with_the_card(core, simulator, events, factory,  # type: ignore[no-untyped-def]
                                                             session, sessionmaker_, clock) -> None:
    campaign, agents = make_campaign(factory, session, ["+79001000123"], agents=2)
    contact = session.scalars(select(Contact)).one()
    previous_call(session, campaign, contact, agents[1].id, clock)
    login_ready(core, agents[:1], campaign.id)
    login_ready(core, agents[1:], campaign.id)  # agent 0 is the longest ready; 1 was theirs
    # The trunk presents the caller in national format; the campaign number without '+'.
    simulator.call_in(IncomingCall(caller="89001000123", dialled="74950000000", talk_seconds=0.6))
    wait_for(lambda: len(attempts(sessionmaker_)) == 2 and attempts(sessionmaker_)[-1].ended_at,
             10, "the inbound call to end")
    inbound = attempts(sessionmaker_)[-1]
    assert inbound.direction == "inbound" and inbound.contact_id == contact.id
    assert inbound.number == "+79001000123" and inbound.agent_id == agents[1].id
    assert inbound.bridged_at is not None and inbound.outcome is Outcome.ANSWERED
    assert inbound.originated_at is None and inbound.answered_at is not None
    assert inbound.recording_path and inbound.recording_path.endswith(".wav")
    cards = published(events, "card")
    assert len(cards) == 1 and cards[0]["agent_id"] == agents[1].id
    assert cards[0]["contact_id"] == contact.id and cards[0]["inbound"] is True
    assert cards[0]["attempt_id"] == inbound.id and cards[0]["number"] == "+79001000123"
    assert core.cards == {}  # the card goes with the call
    with sessionmaker_() as s:  # a customer's own call is not one of our attempts
        assert s.get(Contact, contact.id).attempts == 0
        assert s.get(Phone, contact.phones[0].id).attempts == 0
    wait_for(lambda: core.agents.get(agents[1].id).state is AgentState.READY, 5, "wrap-up over")
    assert core.agents.get(agents[0].id).state is AgentState.READY  # never disturbed


def test_unknown_caller_goes_to_a_ready_agent_without_a_card(core, simulator, events, factory,  # type: ignore[no-untyped-def]
                                                             session, sessionmaker_) -> None:
    campaign, agents = make_campaign(factory, session, [], agents=1)
    login_ready(core, agents, campaign.id)
    channel = simulator.call_in(IncomingCall(caller="+79005550000", dialled=CAMPAIGN_NUMBER,
                                             talk_seconds=30))
    wait_for(lambda: core.agents.get(agents[0].id).state is AgentState.TALKING, 5, "the bridge")
    shown = {a.agent_id: a for a in core.agents}
    assert shown[agents[0].id].call_uuid == channel.uuid
    everything = drain_until(events, saw_call("bridged"), 5, "the bridged call event")
    assert core.cards == {} and [d for kind, d in everything if kind == "card"] == []
    assert attempts(sessionmaker_) == []  # no contact: nothing to write an attempt for
    calls = [data for kind, data in everything if kind == "call"]
    assert [c["state"] for c in calls] == ["answered", "bridged"]
    assert calls[-1]["attempt_id"] is None and calls[-1]["agent_id"] == agents[0].id
    channel.hangup("NORMAL_CLEARING", remote=True)
    wait_for(lambda: core.agents.get(agents[0].id).state is not AgentState.TALKING, 5, "hangup")
    assert channel.uuid not in core.calls


def test_nobody_ready_hangs_up_and_promises_a_callback(core, simulator, factory, session,  # type: ignore[no-untyped-def]
                                                       sessionmaker_, clock) -> None:
    campaign, agents = make_campaign(factory, session, ["+79001000124"], agents=1,
                                     pacing={"ring_timeout_s": 15, "wrap_up_s": 0.2,
                                             "inbound_wait_s": 0.5,
                                             "inbound_callback_after_s": 120})
    contact = session.scalars(select(Contact)).one()
    previous_call(session, campaign, contact, agents[0].id, clock)
    login_ready(core, agents, campaign.id)
    core.agents.get(agents[0].id).pause("lunch")
    channel = simulator.call_in(IncomingCall(caller="+79001000124", dialled=CAMPAIGN_NUMBER))
    wait_for(lambda: len(attempts(sessionmaker_)) == 2 and attempts(sessionmaker_)[-1].ended_at,
             10, "the inbound call to be given up")
    inbound = attempts(sessionmaker_)[-1]
    assert inbound.direction == "inbound" and inbound.outcome is Outcome.ABANDONED
    assert inbound.bridged_at is None and simulator.switch.find(channel.uuid) is None
    with sessionmaker_() as s:
        callback = s.scalars(select(Callback)).one()
    assert (callback.contact_id, callback.agent_id, callback.reason) == (
        contact.id, agents[0].id, "inbound_missed")
    waited = callback.due_at - inbound.answered_at
    assert timedelta(seconds=119) < waited < timedelta(seconds=122)
    assert core.agents.get(agents[0].id).state is AgentState.PAUSED


def test_a_number_no_campaign_has_is_refused(core, simulator, factory, session,  # type: ignore[no-untyped-def]
                                             sessionmaker_) -> None:
    make_campaign(factory, session, [], agents=0)
    channel = simulator.call_in(IncomingCall(caller="+79001000125", dialled="+74951112233"))
    wait_for(lambda: simulator.switch.find(channel.uuid) is None, 5, "the hangup")
    assert channel.hangup_cause == "UNALLOCATED_NUMBER" and attempts(sessionmaker_) == []


def test_calls_parked_while_the_engine_was_away_are_routed(core, simulator, factory, session,  # type: ignore[no-untyped-def]
                                                           sessionmaker_) -> None:
    campaign, agents = make_campaign(factory, session, ["+79001000126"], agents=1)
    login_ready(core, agents, campaign.id)
    connection = core.pool["sim"]
    cut_event_sockets(simulator)
    wait_for(lambda: not connection.is_up, 5, "the engine to notice the loss")
    channel = simulator.call_in(IncomingCall(caller="+79001000126", dialled=CAMPAIGN_NUMBER,
                                             talk_seconds=0.5))
    wait_for(lambda: connection.is_up and connection.connects == 2, 10, "reconnect")
    wait_for(lambda: attempts(sessionmaker_) and attempts(sessionmaker_)[-1].ended_at, 10,
             "the parked call to be routed and end")
    inbound = attempts(sessionmaker_)[-1]
    assert inbound.call_uuid == channel.uuid and inbound.direction == "inbound"
    assert inbound.agent_id == agents[0].id and inbound.outcome is Outcome.ANSWERED
    assert channel.hangup_cause == "NORMAL_CLEARING"  # the customer hung up after talking


def test_scenario_schedules_inbound_calls() -> None:
    scenario = scenario_from_dict(world(time_scale=0.5, inbound=[
        {"at": 2, "from": "+79001000127", "to": CAMPAIGN_NUMBER, "talk": 4}]))
    call, = scenario.inbound
    assert (call.at, call.caller, call.talk_seconds, call.patience_seconds) == (
        1.0, "+79001000127", 2.0, 15.0)
    with pytest.raises(ScenarioError, match=r"inbound\[0\]\.from"):
        scenario_from_dict(world(inbound=[{"to": CAMPAIGN_NUMBER}]))


def test_a_waiting_caller_is_adopted_by_the_next_engine(core, simulator, factory, session,  # type: ignore[no-untyped-def]
                                                        sessionmaker_, running_clock,
                                                        tmp_path) -> None:
    campaign, agents = make_campaign(factory, session, ["+79001000128"], agents=1,
                                     pacing={"ring_timeout_s": 15, "wrap_up_s": 0.2,
                                             "inbound_wait_s": 20})
    login_ready(core, agents, campaign.id)
    core.agents.get(agents[0].id).pause("meeting")
    channel = simulator.call_in(IncomingCall(caller="+79001000128", dialled=CAMPAIGN_NUMBER,
                                             patience_seconds=60, talk_seconds=0.5))
    wait_for(lambda: attempts(sessionmaker_), 5, "the inbound attempt")
    core.stop()  # the engine goes away while the caller waits; the agent's leg stays up
    successor = new_core(simulator, sessionmaker_, running_clock, tmp_path / "rec2")
    successor.start()
    try:
        assert successor.pool.wait_up(5)
        # The agent's leg is adopted (ready again) and the waiting caller goes to them.
        wait_for(lambda: attempts(sessionmaker_)[0].ended_at, 10, "the adopted call to end")
    finally:
        successor.stop()
    rows = attempts(sessionmaker_)
    assert len(rows) == 1 and rows[0].call_uuid == channel.uuid  # adopted, not written again
    assert rows[0].agent_id == agents[0].id and rows[0].bridged_at is not None
    assert rows[0].outcome is Outcome.ANSWERED
    with sessionmaker_() as s:
        assert s.scalars(select(Callback)).all() == []  # the first engine promised nothing


def test_nobody_ready_message_then_voicemail(core, simulator, factory, session,  # type: ignore[no-untyped-def]
                                             sessionmaker_, tmp_path) -> None:
    message = tmp_path / "sorry.wav"
    soundfile.write(message, np.zeros(4000, dtype=np.int16), 8000)  # 0.5 s
    campaign, agents = make_campaign(factory, session, ["+79001000129"], agents=1, pacing={
        "ring_timeout_s": 15, "wrap_up_s": 0.2, "inbound_wait_s": 0.3,
        "inbound_message": str(message), "inbound_voicemail_s": 1})
    login_ready(core, agents, campaign.id)
    core.agents.get(agents[0].id).pause("lunch")
    channel = simulator.call_in(IncomingCall(caller="+79001000129", dialled=CAMPAIGN_NUMBER))
    wait_for(lambda: attempts(sessionmaker_) and attempts(sessionmaker_)[0].ended_at, 10,
             "the voicemail to end the call")
    row = attempts(sessionmaker_)[0]
    assert row.outcome is Outcome.ABANDONED and row.result["voicemail"] is True
    assert row.recording_path and Path(row.recording_path).exists()
    assert channel.last_app == ("playback", str(message))  # the message, then the recording
    took = (row.ended_at - row.answered_at).total_seconds()
    assert 1.7 < took < 4, took  # wait 0.3 + message 0.5 + voicemail 1.0
    with sessionmaker_() as s:
        assert s.scalars(select(Callback)).one().reason == "inbound_missed"
