"""uuid_record: real-time files, channel assignment of stereo recordings, read-only raw streams."""

from __future__ import annotations

import os
import uuid as uuidlib

import gevent
import greenswitch
import numpy as np
import pytest
import soundfile

from tests.sim.helpers import wait_destroyed, wait_for

RATE = 8000


def write_tone(path, freq: float, seconds: float) -> str:
    t = np.arange(int(seconds * RATE)) / RATE
    soundfile.write(str(path), (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32), RATE, subtype="PCM_16")
    return str(path)


def dominant(samples: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64)))
    return float(np.fft.rfftfreq(len(samples), 1 / RATE)[int(np.argmax(spectrum))])


def band_power(samples: np.ndarray, freq: float) -> float:
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64)))
    freqs = np.fft.rfftfreq(len(samples), 1 / RATE)
    return float(spectrum[(freqs > freq - 20) & (freqs < freq + 20)].sum())


@pytest.fixture()
def tones(tmp_path):
    """The callee says a 1 kHz tone for 2 s; we play it a 440 Hz tone for 2.5 s."""
    return write_tone(tmp_path / "callee.wav", 1000, 2.0), write_tone(tmp_path / "prompt.wav", 440, 2.5)


@pytest.fixture()
def client(make_sim, tones):
    world = {"defaults": {"outcomes": {"human": 1}, "post_dial_delay": 0.05, "ring": 0.1, "early_media": 0,
                          "patience": 30, "talk": 30, "dtmf": None, "human_clip": tones[0]}}
    sim = make_sim(world, record_tick=0.05)
    esl = greenswitch.InboundESL(*sim.address, "ClueCon")
    esl.connect()
    esl.events = []
    esl.register_handle("*", esl.events.append)
    esl.send("event plain ALL")
    yield esl
    esl.stop()


def answered_call(esl, variables: str) -> str:
    leg = str(uuidlib.uuid4())
    reply = esl.send(f"api originate {{origination_uuid={leg},{variables}}}sofia/gateway/carrier/100 &park()")
    assert reply.data == f"+OK {leg}\n"
    return leg


def test_stereo_recording_puts_the_callee_left_and_our_audio_right(client, tones, tmp_path):
    leg = answered_call(client, "RECORD_STEREO=true")
    path = str(tmp_path / "rec" / "stereo.wav")
    assert client.send(f"api uuid_record {leg} start {path}").data == "+OK Success\n"
    wait_for(client, lambda h: h.get("Event-Name") == "RECORD_START" and h.get("Record-File-Path") == path)
    gevent.sleep(0.4)  # parked: the switch sends nothing, so a two-way recording skips this time
    assert client.send(f"api uuid_broadcast {leg} {tones[1]} aleg").data == "+OK Message sent\n"
    gevent.sleep(2.8)
    assert client.send(f"api uuid_record {leg} stop {path}").data == "+OK Success\n"
    stop = wait_for(client, lambda h: h.get("Event-Name") == "RECORD_STOP")
    assert stop["Record-File-Path"] == path and int(stop["variable_record_seconds"]) == 2
    data, rate = soundfile.read(path, dtype="int16", always_2d=True)
    assert rate == RATE and data.shape[1] == 2 and 2.2 * RATE <= len(data) <= 2.8 * RATE
    left, right = data[:, 0], data[:, 1]
    assert dominant(left) == pytest.approx(1000, abs=5)
    assert dominant(right) == pytest.approx(440, abs=5)
    assert band_power(left, 440) < 0.01 * band_power(right, 440)
    client.send(f"api uuid_kill {leg}")


def test_read_only_raw_file_grows_in_real_time(client, tones, tmp_path):
    leg = answered_call(client, "RECORD_READ_ONLY=true,enable_file_write_buffering=false")
    path = str(tmp_path / "amd.r8")
    assert client.send(f"api uuid_record {leg} start {path}").data == "+OK Success\n"
    client.send(f"api uuid_broadcast {leg} {tones[1]} aleg")
    gevent.sleep(0.5)
    early = os.path.getsize(path)
    gevent.sleep(1.0)
    later = os.path.getsize(path)
    assert 0 < early < later
    assert later - early == pytest.approx(16000, rel=0.25)  # 8 kHz, 16-bit, one second
    samples = np.fromfile(path, dtype="<i2")
    assert dominant(samples) == pytest.approx(1000, abs=5)
    assert band_power(samples, 440) < 0.01 * band_power(samples, 1000)
    client.send(f"api uuid_kill {leg}")
    stop = wait_for(client, lambda h: h.get("Event-Name") == "RECORD_STOP")
    assert stop["Record-File-Path"] == path
    assert wait_destroyed(client, leg)[-4:] == ["CHANNEL_EXECUTE_COMPLETE", "RECORD_STOP",
                                                "CHANNEL_HANGUP_COMPLETE", "CHANNEL_DESTROY"]


def record_with_prompt(client, leg: str, prompt: str, path: str, seconds: float) -> None:
    """Play `prompt` to the leg and record it for `seconds`, until RECORD_STOP."""
    client.send(f"api uuid_broadcast {leg} {prompt} aleg")
    client.send(f"api uuid_record {leg} start {path}")
    gevent.sleep(seconds)
    client.send(f"api uuid_record {leg} stop all")
    wait_for(client, lambda h: h.get("Event-Name") == "RECORD_STOP")


def test_default_recording_is_mono_and_mixes_both_directions(client, tones, tmp_path):
    leg = answered_call(client, "dialer_attempt_id=1")
    path = str(tmp_path / "mixed.wav")
    record_with_prompt(client, leg, tones[1], path, 1.5)
    data, _ = soundfile.read(path, dtype="int16", always_2d=True)
    assert data.shape[1] == 1
    assert band_power(data[:, 0], 440) > 0 and band_power(data[:, 0], 1000) > 0
    client.send(f"api uuid_kill {leg}")


def test_record_errors(client, tmp_path):
    leg = answered_call(client, "x=1")
    assert client.send(f"api uuid_record {leg} start {tmp_path}/a.mp3").data == "-ERR Cannot record session!\n"
    assert client.send(f"api uuid_record {leg} stop {tmp_path}/never.wav").data == \
        "-ERR Cannot stop record session!\n"
    assert client.send(f"api uuid_record {leg} pause {tmp_path}/a.wav").data == \
        "-USAGE: <uuid> [start|stop] <path> [<limit>]\n"
    client.send(f"api uuid_kill {leg}")


def test_default_write_buffering_holds_audio_back_in_64k_blocks(client, tmp_path):
    leg = answered_call(client, "RECORD_READ_ONLY=true")
    path = str(tmp_path / "buffered.r8")
    client.send(f"api uuid_record {leg} start {path}")
    gevent.sleep(1.2)
    assert os.path.getsize(path) == 0  # 1.2 s is 19 KB: still in FreeSWITCH's 64 KB buffer
    client.send(f"api uuid_record {leg} stop {path}")
    stop = wait_for(client, lambda h: h.get("Event-Name") == "RECORD_STOP")
    assert os.path.getsize(path) == int(stop["variable_record_samples"]) * 2 > 16000
    client.send(f"api uuid_kill {leg}")


@pytest.mark.slow
def test_answering_machine_greeting_ends_with_a_beep(make_sim, tmp_path):
    sim = make_sim(record_tick=0.05)
    esl = greenswitch.InboundESL(*sim.address, "ClueCon")
    esl.connect()
    esl.events = []
    esl.register_handle("*", esl.events.append)
    esl.send("event plain ALL")
    leg = str(uuidlib.uuid4())
    reply = esl.send(f"api originate {{origination_uuid={leg},RECORD_READ_ONLY=true,"
                     f"enable_file_write_buffering=false}}sofia/gateway/carrier/7000001 &park()")
    assert reply.data == f"+OK {leg}\n"
    path = str(tmp_path / "machine.r8")
    esl.send(f"api uuid_record {leg} start {path}")
    wait_destroyed(esl, leg, timeout=30)  # greeting, beep, a short message, then the machine hangs up
    samples = np.fromfile(path, dtype="<i2")
    beep = samples[-int(0.9 * RATE):]
    assert len(samples) > 3 * RATE and dominant(beep) == pytest.approx(1000, abs=5)
    assert np.abs(samples[: len(samples) // 2]).mean() > 200  # the spoken greeting
    esl.stop()


def test_write_only_recording_has_only_what_we_send(client, tones, tmp_path):
    leg = answered_call(client, "RECORD_WRITE_ONLY=true,enable_file_write_buffering=false")
    path = str(tmp_path / "ours.r8")
    record_with_prompt(client, leg, tones[1], path, 1.0)
    samples = np.fromfile(path, dtype="<i2")
    assert dominant(samples) == pytest.approx(440, abs=5)
    assert band_power(samples, 1000) < 0.01 * band_power(samples, 440)
    client.send(f"api uuid_kill {leg}")
