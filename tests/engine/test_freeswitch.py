"""The engine against a real FreeSWITCH (freeswitch_conf/) with sipp far ends.

A progressive campaign: the agent's softphone (sipp, plays a 1 kHz tone) is called once and
parked; the customer (sipp, plays speech) answers, is bridged to the agent and recorded in
stereo; the customer leg is hung up and the agent goes back to park, then to ready.
"""

from __future__ import annotations

import gevent
import pytest
import soundfile

from engine.agents import AgentState
from engine.runner.progressive import ProgressiveRunner
from engine.store.models import AttemptState, Outcome
from tests.freeswitch.audio import band_energy_ratio, rms
from tests.freeswitch.conftest import AGENT_TONE_HZ

from .conftest import attempts, login_ready, make_campaign, wait_for

pytestmark = pytest.mark.freeswitch



def _one_agent_campaign(core, far_end, factory, session, number, customer_phone):  # type: ignore[no-untyped-def]
    """A progressive campaign of one number behind ``customer_phone`` and one agent, running."""
    agent_phone = far_end("uas_answer.xml", audio="tone.pcap")
    campaign, _ = make_campaign(
        factory, session, [number], agents=0,
        gateway=f"sofia/trunk/{{number}}@{customer_phone.ip}:{customer_phone.port}")
    agent = factory.agent(campaign.tenant, dial_string=f"sofia/agents/{agent_phone.uri('agent')}")
    session.commit()
    login_ready(core, [agent], campaign.id)
    runner = ProgressiveRunner(core, campaign.id, tick_s=0.05)
    runner.start()
    return agent, runner


def test_progressive_call_bridged_and_recorded(fs_core, far_end, factory, session,  # type: ignore[no-untyped-def]
                                               sessionmaker_) -> None:
    agent, runner = _one_agent_campaign(fs_core, far_end, factory, session, "+79001000001",
                                        far_end("uas_answer.xml", audio="speech.pcap"))
    try:
        wait_for(lambda: attempts(sessionmaker_) and
                 attempts(sessionmaker_)[0].state is AttemptState.BRIDGED, 20, "the bridge")
        assert fs_core.agents.get(agent.id).state is AgentState.TALKING
        gevent.sleep(2.5)  # both far ends talk while bridged
        call_uuid = attempts(sessionmaker_)[0].call_uuid
        fs_core.pool["fs1"].api(f"uuid_kill {call_uuid} NORMAL_CLEARING")
        wait_for(lambda: attempts(sessionmaker_)[0].state is AttemptState.ENDED, 10, "the end")
        wait_for(lambda: fs_core.agents.get(agent.id).state is AgentState.READY, 5,
                 "the agent parked and ready again")
    finally:
        runner.stop()
    row = attempts(sessionmaker_)[0]
    assert row.outcome is Outcome.ANSWERED and row.hangup_cause == "NORMAL_CLEARING"
    assert row.dead_air_ms is not None and row.answered_at <= row.bridged_at <= row.ended_at
    samples, rate = soundfile.read(row.recording_path, dtype="int16")
    assert samples.ndim == 2 and samples.shape[1] == 2
    left, right = samples[:, 0], samples[:, 1]
    assert rms(left) > 0.02, "customer speech missing on the left"
    assert band_energy_ratio(right, rate, AGENT_TONE_HZ) > 0.8, "agent tone missing on the right"
    assert band_energy_ratio(left, rate, AGENT_TONE_HZ) < 0.2, "agent tone leaked to the left"
    fs_core.logout(agent.id)


def test_busy_customer_frees_the_agent(fs_core, far_end, factory, session, sessionmaker_) -> None:  # type: ignore[no-untyped-def]
    agent, runner = _one_agent_campaign(fs_core, far_end, factory, session, "+79002000001",
                                        far_end("uas_busy.xml"))
    try:
        wait_for(lambda: attempts(sessionmaker_) and
                 attempts(sessionmaker_)[0].state is AttemptState.ENDED, 20, "the busy signal")
    finally:
        runner.stop()
    row = attempts(sessionmaker_)[0]
    assert (row.outcome, row.hangup_cause, row.sip_code) == (Outcome.BUSY, "USER_BUSY", 486)
    assert row.answered_at is None
    assert fs_core.agents.get(agent.id).state is AgentState.READY  # reserved, then released
    fs_core.logout(agent.id)
