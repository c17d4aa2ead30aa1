"""AMD on a real FreeSWITCH, driven by the engine: sipp far ends play a machine greeting and a
human greeting from the corpus generator; the machine is dropped, the human bridged to a sipp
agent. A third far end answers 183 and plays a SIT announcement as early media: the engine hangs
it up while it rings."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from engine.amd import load_default_detector
from engine.amd.corpus import make_spec, render, silence, sit_tones, speak, tone
from engine.amd.evaluate import run_detector
from engine.amd.frames import SAMPLE_RATE, split_frames, to_int16
from engine.config import SwitchNode
from engine.runner.core import DialerCore
from engine.runner.finish import default_hooks
from engine.runner.progressive import ProgressiveRunner
from engine.store.models import AttemptState, Outcome
from engine.store.queries import next_dialable
from tests.engine.conftest import (
    RunningClock,
    attempts,
    login_ready,
    make_campaign,
    wait_for,
)
from tests.freeswitch.audio import _sox_to_ulaw, write_rtp_pcap
from tests.freeswitch.sipp import SippAgent
from tests.freeswitch.switch import SwitchInfo

pytestmark = pytest.mark.freeswitch

HELDOUT_SEED = 2026  # the corpus's held-out split (tests/amd/conftest.py)
EARLY_MEDIA_SCENARIO = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<!-- 183 with SDP, plays ./audio.pcap as early media, never answers; takes the CANCEL. -->
<scenario name="announcement in early media">
  <recv request="INVITE" crlf="true">
    <action>
      <ereg regexp="[0-9]+ INVITE" search_in="hdr" header="CSeq:" assign_to="invite_cseq"/>
    </action>
  </recv>
  <send>
    <![CDATA[
      SIP/2.0 183 Session Progress
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:[local_ip]:[local_port];transport=[transport]>
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=sipp 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0
      a=rtpmap:0 PCMU/8000
      a=ptime:20
      a=sendrecv

    ]]>
  </send>
  <nop><action><exec play_pcap_audio="audio.pcap"/></action></nop>
  <recv request="CANCEL" timeout="60000"/>
  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
  <send>
    <![CDATA[
      SIP/2.0 487 Request Terminated
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      CSeq: [$invite_cseq]
      Content-Length: 0

    ]]>
  </send>
  <recv request="ACK" crlf="true"/>
  <timewait milliseconds="200"/>
</scenario>
"""


@functools.cache
def corpus_clip(kind: str, label: str) -> np.ndarray:
    """The first held-out clip of ``kind`` that the shipped detector labels ``label`` offline
    (this test checks the engine and the switch, not the detector's accuracy)."""
    for index in range(400):
        spec = make_spec(HELDOUT_SEED, "test", index)
        if spec.kind != kind:
            continue
        audio = render(spec)
        if run_detector(load_default_detector(), split_frames(audio)).label == label:
            return audio
    raise AssertionError(f"no held-out {kind} clip the detector calls {label}")


def write_pcap(audio: np.ndarray, workdir: Path) -> None:
    """``audio`` (8 kHz int16) as the u-law RTP pcap a sipp far end plays."""
    wav = workdir / "clip.wav"
    sf.write(wav, audio, SAMPLE_RATE, subtype="PCM_16")
    write_rtp_pcap(_sox_to_ulaw([str(wav)], []), workdir / "audio.pcap")


@pytest.fixture
def phones(tmp_path: Path) -> Iterator[Any]:
    """Factory of sipp far ends playing given audio; all stopped at teardown."""
    started: list[SippAgent] = []

    def start(audio: np.ndarray, scenario: str = "uas_answer.xml") -> SippAgent:
        workdir = tmp_path / f"phone{len(started)}"
        workdir.mkdir()
        write_pcap(audio, workdir)
        phone = SippAgent(scenario, workdir)
        started.append(phone)
        return phone.start()

    yield start
    for phone in started:
        phone.stop()


@pytest.fixture
def engine(switch: SwitchInfo, sessionmaker_: Any, tmp_path: Path) -> Iterator[DialerCore]:
    clock = RunningClock(datetime(2026, 11, 23, 10, 0, tzinfo=UTC))
    core = DialerCore(nodes=[SwitchNode("fs", switch.host, switch.esl_port, switch.esl_password)],
                      sessions=sessionmaker_, clock=clock, source=next_dialable,
                      recordings_dir=tmp_path / "rec", finish_hooks=default_hooks(90), tick_s=0.02)
    core.start()
    assert core.pool.wait_up(10)
    yield core
    for agent in list(core.agents):  # nailed-up legs outlive an engine stop: hang them up
        core.logout(agent.agent_id)
    core.stop()


def campaign_to(factory: Any, session: Any, phone: SippAgent, agent: SippAgent | None,
                number: str) -> tuple[Any, list[Any]]:
    campaign, agents = make_campaign(
        factory, session, [number], agents=1, amd={"enabled": True, "review_sample": 0},
        gateway=f"sofia/trunk/{{number}}@{phone.ip}:{phone.port}")
    if agent is not None:
        agents[0].dial_string = f"sofia/agents/{agent.uri('agent')}"
    session.commit()
    return campaign, agents


def call_once(core: DialerCore, campaign: Any, agents: list[Any], sessionmaker_: Any) -> Any:
    """Run the campaign until its one attempt has ended; that attempt."""
    login_ready(core, agents, campaign.id)
    runner = ProgressiveRunner(core, campaign.id, tick_s=0.02)
    runner.start()
    try:
        wait_for(lambda: [a.state for a in attempts(sessionmaker_)
                          if a.campaign_id == campaign.id] == [AttemptState.ENDED], 30,
                 f"the call of campaign {campaign.id} to end")
    finally:
        runner.stop()
    return next(a for a in attempts(sessionmaker_) if a.campaign_id == campaign.id)


@pytest.mark.slow  # real-time calls and corpus clips made with espeak-ng
def test_machine_dropped_human_bridged(engine, phones, factory, session, sessionmaker_) -> None:  # type: ignore[no-untyped-def]
    machine_phone = phones(corpus_clip("voicemail", "machine"))
    human_phone = phones(corpus_clip("human_short", "human"))
    agent_phone = phones(to_int16(tone(1000, 8000)))
    machine, agents = campaign_to(factory, session, machine_phone, agent_phone, "+79001000001")
    dropped = call_once(engine, machine, agents, sessionmaker_)
    assert (dropped.outcome, dropped.amd_result) == (Outcome.MACHINE, "machine")
    assert dropped.bridged_at is None and 0 < dropped.amd_decision_ms <= 3000

    human, _ = campaign_to(factory, session, human_phone, None, "+79001000002")
    engine.agents.get(agents[0].id).campaign_id = human.id  # the same softphone, now for this one
    runner = ProgressiveRunner(engine, human.id, tick_s=0.02)
    runner.start()
    try:
        wait_for(lambda: any(a.state is AttemptState.BRIDGED for a in attempts(sessionmaker_)),
                 30, "the human bridged")
        bridged = next(a for a in attempts(sessionmaker_) if a.campaign_id == human.id)
        assert bridged.amd_result in ("human", "unknown") and bridged.agent_id == agents[0].id
        engine.kill(engine.calls[bridged.call_uuid])
        wait_for(lambda: all(a.state is AttemptState.ENDED for a in attempts(sessionmaker_)),
                 10, "the human call to end")
    finally:
        runner.stop()
    assert next(a for a in attempts(sessionmaker_) if a.campaign_id == human.id).outcome \
        is Outcome.ANSWERED


@pytest.mark.slow
def test_sit_in_early_media_hung_up_while_ringing(  # type: ignore[no-untyped-def]
        engine, phones, factory, session, sessionmaker_, tmp_path) -> None:
    (tmp_path / "early.xml").write_text(EARLY_MEDIA_SCENARIO)
    announcement = to_int16(np.concatenate([
        silence(300), sit_tones("intercept"), silence(200),
        0.3 * speak("The number you have dialled is not in service.", "en-us", 160, 50),
        silence(10_000)]))
    phone = phones(announcement, str(tmp_path / "early.xml"))
    agent_phone = phones(to_int16(tone(1000, 8000)))
    campaign, agents = campaign_to(factory, session, phone, agent_phone, "+79001000003")
    row = call_once(engine, campaign, agents, sessionmaker_)
    print(row.outcome, row.amd_reason, row.amd_decision_ms, row.hangup_cause)
    assert row.outcome is Outcome.NETWORK_FAILURE and row.answered_at is None
    assert row.amd_reason == "early-media:unreachable:sit"
    assert (row.ended_at - row.originated_at).total_seconds() < 8  # not the 15 s ring timeout
