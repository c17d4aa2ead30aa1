"""Nailed-up agent flow on a real FreeSWITCH: customer answers and is recorded in stereo, an agent
leg parked with park_after_bridge=true is uuid_bridge-d to it, the customer is killed and the
agent goes back to park. The WAV must have the customer's speech left and the agent right."""

from __future__ import annotations

import gevent
import pytest
import soundfile

from tests.freeswitch.audio import band_energy_ratio, rms
from tests.freeswitch.conftest import AGENT_TONE_HZ, FarEnd
from tests.freeswitch.esl_client import DialerEsl
from tests.freeswitch.switch import SwitchInfo

pytestmark = pytest.mark.freeswitch


def test_record_stereo_bridge_kill_customer_agent_returns_to_park(
    esl: DialerEsl, far_end: FarEnd, switch: SwitchInfo
) -> None:
    customer_phone = far_end("uas_answer.xml", audio="speech.pcap")
    agent_phone = far_end("uas_answer.xml", audio="tone.pcap")

    customer = esl.originate_parked("dialer_attempt=7,RECORD_STEREO=true", f"sofia/trunk/{customer_phone.uri('cust')}")
    recording = switch.recordings_dir / f"rec_{customer}.wav"
    assert esl.api(f"uuid_record {customer} start {recording}") == "+OK Success\n"
    esl.wait_event("RECORD_START", customer)
    # Parked channels get no write frames, and a stereo recording then drops the customer's audio
    # until the bridge; sending silence keeps both channels running from the start.
    assert esl.api(f"uuid_broadcast {customer} silence_stream://-1 aleg").startswith("+OK")
    esl.wait_event("PLAYBACK_START", customer)
    gevent.sleep(1.0)  # the customer talks into silence while "the engine looks for an agent"

    agent = esl.originate_parked("dialer_agent=1001,park_after_bridge=true", f"sofia/agents/{agent_phone.uri('agent')}")
    assert esl.api(f"uuid_bridge {customer} {agent}") == f"+OK {agent}\n"
    bridge = esl.wait_event("CHANNEL_BRIDGE", customer)
    assert bridge["Other-Leg-Unique-ID"] == agent
    gevent.sleep(2.5)  # let both far ends talk while bridged

    mark = len(esl.events)
    assert esl.api(f"uuid_kill {customer} NORMAL_CLEARING") == "+OK\n"
    assert esl.wait_event("CHANNEL_HANGUP_COMPLETE", customer, after=mark)["Hangup-Cause"] == "NORMAL_CLEARING"
    stop = esl.wait_event("RECORD_STOP", customer, after=mark)
    assert stop["Record-File-Path"] == str(recording)
    # FreeSWITCH reports CHANNEL_UNBRIDGE on the customer leg only (not on the agent's).
    assert esl.wait_event("CHANNEL_UNBRIDGE", customer, after=mark)["Other-Leg-Unique-ID"] == agent
    park = esl.wait_event("CHANNEL_PARK", agent, after=mark)
    assert park["Answer-State"] == "answered"
    assert esl.api(f"uuid_exists {agent}") == "true"

    assert esl.api(f"uuid_kill {agent}") == "+OK\n"
    assert esl.wait_event("CHANNEL_HANGUP_COMPLETE", agent)["Hangup-Cause"] == "NORMAL_CLEARING"

    samples, rate = soundfile.read(recording, dtype="int16")
    assert samples.ndim == 2 and samples.shape[1] == 2, "RECORD_STEREO must give a 2-channel WAV"
    left, right = samples[:, 0], samples[:, 1]
    assert rms(left) > 0.02, "customer speech missing from the left channel"
    assert band_energy_ratio(left, rate, AGENT_TONE_HZ) < 0.2, "agent tone leaked into the customer channel"
    assert band_energy_ratio(right, rate, AGENT_TONE_HZ) > 0.8, "agent tone missing from the right channel"
    assert rms(right) > 0.05
    before_bridge = int(rate * 0.9)
    assert rms(left[:before_bridge]) > 0.02, "customer audio before the bridge was not recorded"
    assert rms(right[:before_bridge]) < 0.001, "right channel should be silent before the agent is bridged"
