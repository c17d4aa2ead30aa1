"""The engine on a real FreeSWITCH (freeswitch_conf/) with sipp: inbound callbacks through the
trunk profile, per-call agent ringing recorded from the answer (progressive, predictive and an
inbound caller)."""

from __future__ import annotations

import gevent
import numpy as np
import pytest
import soundfile

from engine.agents import AgentState
from engine.api.hub import EventHub
from engine.runner.inbound_claim import claim, owner, release
from engine.runner.predictive import PredictiveRunner
from engine.runner.progressive import ProgressiveRunner
from engine.store.models import AttemptState, DialMode, Outcome
from tests.freeswitch.audio import band_energy_ratio, rms
from tests.freeswitch.conftest import AGENT_TONE_HZ
from tests.freeswitch.switch import LOOPBACK

from .conftest import attempts, drain, login_ready, make_campaign, wait_for

pytestmark = pytest.mark.freeswitch

CAMPAIGN_NUMBER = "4951234567"  # as the PBX passes it on (national form)
CUSTOMER_NUMBER = "79001234567"


def onset_s(samples: np.ndarray, rate: int, level: float = 500.0) -> float | None:
    """When the first 20 ms frame louder than ``level`` (int16 RMS) starts, in seconds."""
    frame = rate // 50
    frames = samples[: len(samples) // frame * frame].reshape(-1, frame).astype(float)
    loud = np.flatnonzero(np.sqrt((frames ** 2).mean(axis=1)) > level)
    return float(loud[0]) / 50 if len(loud) else None


def bridged_then_hung_up(core, sessionmaker_, talk_s: float):  # type: ignore[no-untyped-def]
    """Wait for the first attempt's bridge, let both talk ``talk_s``, hang the customer up
    and wait for the end; the attempt, read again."""
    wait_for(lambda: attempts(sessionmaker_) and
             attempts(sessionmaker_)[0].state is AttemptState.BRIDGED, 20, "the bridge")
    gevent.sleep(talk_s)
    core.pool["fs1"].api(f"uuid_kill {attempts(sessionmaker_)[0].call_uuid} NORMAL_CLEARING")
    wait_for(lambda: attempts(sessionmaker_)[0].state is AttemptState.ENDED, 10, "the end")
    return attempts(sessionmaker_)[0]


def test_customer_calling_back_reaches_an_agent_with_the_card(  # type: ignore[no-untyped-def]
        fs_core, far_end, switch, factory, session, sessionmaker_) -> None:
    hub = EventHub()
    fs_core.send_events_to(hub.publish)
    events = hub.subscribe()
    agent_phone = far_end("uas_answer.xml", audio="tone.pcap")
    campaign, _ = make_campaign(factory, session, ["+" + CUSTOMER_NUMBER], agents=0)
    campaign.caller_id_number = "+7" + CAMPAIGN_NUMBER
    agent = factory.agent(campaign.tenant, dial_string=f"sofia/agents/{agent_phone.uri('agent')}")
    session.commit()
    login_ready(fs_core, [agent], campaign.id)
    customer = far_end("uac_callback.xml", audio="speech.pcap",
                       remote=f"{LOOPBACK}:{switch.trunk_sip_port}",
                       extra_args=["-s", CAMPAIGN_NUMBER, "-key", "caller", CUSTOMER_NUMBER])
    row = bridged_then_hung_up(fs_core, sessionmaker_, 2.0)
    assert customer.wait(5.0) == 0
    wait_for(lambda: fs_core.agents.get(agent.id).state is AgentState.READY, 5,
             "the agent parked and ready again")
    assert row.direction == "inbound" and row.number == "+" + CUSTOMER_NUMBER
    assert row.agent_id == agent.id and row.outcome is Outcome.ANSWERED
    cards = [data for kind, data in drain(events) if kind == "card"]
    assert [(c["agent_id"], c["contact_id"], c["inbound"]) for c in cards] == [
        (agent.id, row.contact_id, True)]
    samples, rate = soundfile.read(row.recording_path, dtype="int16")
    assert rms(samples[:, 0]) > 0.02, "the caller's speech is missing on the left"
    assert band_energy_ratio(samples[:, 1], rate, AGENT_TONE_HZ) > 0.8, "agent tone missing"
    fs_core.logout(agent.id)


def test_per_call_ringing_bridges_on_agent_answer_recorded_from_the_answer(  # type: ignore[no-untyped-def]
        fs_core, far_end, factory, session, sessionmaker_) -> None:
    """The agent's phone rings 1.5 s after the customer answered: the stereo file (recording
    from the answer) keeps the customer's speech of that wait on the left, silence on the
    right until the agent comes."""
    customer = far_end("uas_answer.xml", audio="speech.pcap")
    agent_phone = far_end("uas_answer_late.xml", audio="tone.pcap")
    campaign, _ = make_campaign(
        factory, session, ["+79001000001"], agents=0, agent_ringing=True,
        recording={"from": "answer"},
        gateway=f"sofia/trunk/{{number}}@{customer.ip}:{customer.port}")
    agent = factory.agent(campaign.tenant, dial_string=f"sofia/agents/{agent_phone.uri('agent')}")
    session.commit()
    fs_core.login(agent.id, campaign.id)
    assert fs_core.agents.get(agent.id).state is AgentState.READY  # no leg called at login
    runner = ProgressiveRunner(fs_core, campaign.id, tick_s=0.05)
    runner.start()
    try:
        row = bridged_then_hung_up(fs_core, sessionmaker_, 2.0)
        wait_for(lambda: fs_core.agents.get(agent.id).state is AgentState.READY, 5, "ready")
    finally:
        runner.stop()
    assert row.outcome is Outcome.ANSWERED and row.dead_air_ms >= 1400  # the phone rang 1.5 s
    session_agent = fs_core.agents.get(agent.id)
    assert session_agent.leg_uuid is None  # the agent's leg ended with the customer
    assert agent_phone.wait(5.0) == 0  # and sipp saw its BYE
    samples, rate = soundfile.read(row.recording_path, dtype="int16")
    left, right = samples[:, 0], samples[:, 1]
    wait_s = row.dead_air_ms / 1000
    speech, tone = onset_s(left, rate), onset_s(right, rate)
    assert speech is not None and speech < 0.5, "the customer's first words are missing"
    assert tone is not None and tone >= wait_s - 0.3, (
        f"the agent's tone starts at {tone} s in the file, before the bridge ({wait_s} s): "
        "the wait before the bridge was dropped from the recording")
    before = left[: int(rate * (wait_s - 0.2))]
    assert rms(before) > 0.02, "customer speech before the bridge was not recorded"
    assert rms(right[: int(rate * (wait_s - 0.2))]) < 0.01, "the right channel is not quiet"
    assert band_energy_ratio(right[int(rate * (tone + 0.1)):], rate, AGENT_TONE_HZ) > 0.8


def test_predictive_human_answer_rings_a_per_call_agent(  # type: ignore[no-untyped-def]
        fs_core, far_end, factory, session, sessionmaker_) -> None:
    """A predictive call (no agent reserved) answered by a human: the per-call agent's phone
    is rung then and bridged within the answer time-out."""
    customer = far_end("uas_answer.xml", audio="speech.pcap")
    agent_phone = far_end("uas_answer.xml", audio="tone.pcap")
    campaign, _ = make_campaign(
        factory, session, ["+79001000002"], agents=0, agent_ringing=True,
        mode=DialMode.PREDICTIVE,
        pacing={"ring_timeout_s": 15, "wrap_up_s": 0.5, "answer_timeout_s": 2.0},
        gateway=f"sofia/trunk/{{number}}@{customer.ip}:{customer.port}")
    agent = factory.agent(campaign.tenant, dial_string=f"sofia/agents/{agent_phone.uri('agent')}")
    session.commit()
    fs_core.login(agent.id, campaign.id)
    runner = PredictiveRunner(fs_core, campaign.id, tick_s=0.05)
    runner.start()
    try:
        row = bridged_then_hung_up(fs_core, sessionmaker_, 0.5)
    finally:
        runner.stop()
    assert row.outcome is Outcome.ANSWERED and row.agent_id == agent.id
    assert 0 < row.dead_air_ms < 2000  # the ring, within the answer time-out
    assert agent_phone.wait(5.0) == 0  # the agent's leg ended with the customer
    wait_for(lambda: fs_core.agents.get(agent.id).state is AgentState.READY, 5, "ready")
    assert fs_core.agents.get(agent.id).leg_uuid is None


def test_inbound_caller_rings_a_per_call_agent_recorded_from_the_answer(  # type: ignore[no-untyped-def]
        fs_core, far_end, switch, factory, session, sessionmaker_) -> None:
    """A customer calling back while the campaign rings agents per call and records from the
    answer: the agent's phone rings 1.5 s, the wait is in the file (speech left, quiet right)."""
    agent_phone = far_end("uas_answer_late.xml", audio="tone.pcap")
    campaign, _ = make_campaign(factory, session, ["+" + CUSTOMER_NUMBER], agents=0,
                                agent_ringing=True, recording={"from": "answer"})
    campaign.caller_id_number = "+7" + CAMPAIGN_NUMBER
    agent = factory.agent(campaign.tenant, dial_string=f"sofia/agents/{agent_phone.uri('agent')}")
    session.commit()
    fs_core.login(agent.id, campaign.id)
    customer = far_end("uac_callback.xml", audio="speech.pcap",
                       remote=f"{LOOPBACK}:{switch.trunk_sip_port}",
                       extra_args=["-s", CAMPAIGN_NUMBER, "-key", "caller", CUSTOMER_NUMBER])
    row = bridged_then_hung_up(fs_core, sessionmaker_, 1.5)
    assert customer.wait(5.0) == 0 and agent_phone.wait(5.0) == 0
    assert row.direction == "inbound" and row.agent_id == agent.id
    assert row.outcome is Outcome.ANSWERED
    wait_s = (row.bridged_at - row.answered_at).total_seconds()
    assert wait_s >= 1.4  # the phone rang 1.5 s
    samples, rate = soundfile.read(row.recording_path, dtype="int16")
    left, right = samples[:, 0], samples[:, 1]
    before = int(rate * (wait_s - 0.3))
    assert rms(left[:before]) > 0.02, "the caller's speech of the wait is missing"
    assert rms(right[:before]) < 0.01, "the right channel is not quiet before the bridge"
    tone = onset_s(right, rate)
    assert tone is not None and tone >= wait_s - 0.3
    wait_for(lambda: fs_core.agents.get(agent.id).state is AgentState.READY, 5, "ready")


def test_inbound_claim_is_atomic_on_the_switch(fs_core) -> None:  # type: ignore[no-untyped-def]
    """mod_hash answers the claims as the simulator does: the first engine wins, the same
    engine finds its claim again, only the owner releases it."""
    connection = fs_core.pool["fs1"]
    assert claim(connection, "leg-a", "dialer-1") and not claim(connection, "leg-a", "dialer-2")
    assert claim(connection, "leg-a", "dialer-1")
    release(connection, "leg-a", "dialer-2")
    assert owner(connection, "leg-a") == "dialer-1"
    release(connection, "leg-a", "dialer-1")
    assert owner(connection, "leg-a") is None  # the switch says "-ERR no reply"
    assert claim(connection, "leg-a", "dialer-2")  # free again
    release(connection, "leg-a", "dialer-2")
