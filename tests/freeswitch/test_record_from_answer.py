"""What a stereo recording started at the answer holds before the bridge.

A parked leg is written no frames, and FreeSWITCH's stereo recorder then drops part of the
wait (the customer's side runs ahead of the silent side). With ``send_silence_when_idle``
(the engine sets 400 on every customer leg) the switch writes comfort noise while the leg is
parked and the file keeps the whole wait: the agent's audio starts in the file when the
bridge happened. ``recording.from = "answer"`` relies on this.
"""

from __future__ import annotations

import gevent
import numpy as np
import pytest
import soundfile

from tests.freeswitch.audio import rms
from tests.freeswitch.conftest import FarEnd
from tests.freeswitch.esl_client import DialerEsl
from tests.freeswitch.switch import SwitchInfo

pytestmark = pytest.mark.freeswitch

WAIT_S = 1.5  # parked, recorded, before the agent's leg is called


def tone_onset_s(channel: np.ndarray, rate: int) -> float:
    frame = rate // 50
    frames = channel[: len(channel) // frame * frame].reshape(-1, frame).astype(float)
    loud = np.flatnonzero(np.sqrt((frames ** 2).mean(axis=1)) > 500)
    assert len(loud), "no agent audio in the file"
    return float(loud[0]) / 50


def record_wait_then_bridge(esl: DialerEsl, far_end: FarEnd, switch: SwitchInfo,
                            variables: str) -> tuple[np.ndarray, int, float]:
    """Customer answered (speech) and recorded at once, agent (tone) bridged after WAIT_S;
    returns the file's samples, its rate, and when the bridge happened after the record start."""
    customer_phone = far_end("uas_answer.xml", audio="speech.pcap")
    agent_phone = far_end("uas_answer.xml", audio="tone.pcap")
    customer = esl.originate_parked(variables, f"sofia/trunk/{customer_phone.uri('cust')}")
    path = switch.recordings_dir / f"answer_{customer}.wav"
    assert esl.api(f"uuid_record {customer} start {path}").startswith("+OK")
    started = esl.wait_event("RECORD_START", customer)
    gevent.sleep(WAIT_S)
    agent = esl.originate_parked("park_after_bridge=true",
                                 f"sofia/agents/{agent_phone.uri('agent')}")
    assert esl.api(f"uuid_bridge {customer} {agent}") == f"+OK {agent}\n"
    bridged = esl.wait_event("CHANNEL_BRIDGE", customer)
    gevent.sleep(1.5)
    assert esl.api(f"uuid_kill {customer}") == "+OK\n"
    esl.wait_event("RECORD_STOP", customer)
    esl.api(f"uuid_kill {agent}")
    samples, rate = soundfile.read(path, dtype="int16")
    wait = (int(bridged["Event-Date-Timestamp"]) - int(started["Event-Date-Timestamp"])) / 1e6
    return samples, rate, wait


def test_comfort_noise_keeps_the_whole_wait_in_the_file(esl: DialerEsl, far_end: FarEnd,
                                                       switch: SwitchInfo) -> None:
    samples, rate, wait = record_wait_then_bridge(
        esl, far_end, switch, "RECORD_STEREO=true,send_silence_when_idle=400")
    left, right = samples[:, 0], samples[:, 1]
    onset = tone_onset_s(right, rate)
    print(f"with send_silence_when_idle=400: bridge {wait:.2f} s after the record start, "
          f"agent audio at {onset:.2f} s in the file")
    assert abs(onset - wait) < 0.2, "the wait before the bridge is not all in the file"
    assert rms(left[: int(rate * (wait - 0.2))]) > 0.02, "customer speech of the wait missing"
    assert rms(right[: int(rate * (wait - 0.2))]) < 0.01, "only comfort noise before the bridge"


def test_a_silent_parked_leg_loses_part_of_the_wait(esl: DialerEsl, far_end: FarEnd,
                                                    switch: SwitchInfo) -> None:
    samples, rate, wait = record_wait_then_bridge(esl, far_end, switch, "RECORD_STEREO=true")
    onset = tone_onset_s(samples[:, 1], rate)
    print(f"plain park: bridge {wait:.2f} s after the record start, agent audio at "
          f"{onset:.2f} s in the file")
    assert onset < wait - 0.2, "FreeSWITCH now keeps the wait without comfort noise"
