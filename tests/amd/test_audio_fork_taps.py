"""The taps that drive the switch for AMD audio: ``ForkTap`` (mod_audio_fork) and ``RecordTap``
(read-only uuid_record), with the switch's api replaced by a script of replies."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import gevent
import numpy as np
import pytest

from engine.amd.audio_fork import AudioForkServer
from engine.amd.frames import FRAME_SAMPLES
from engine.amd.source import ForkTap, RawTailer, RecordTap

from .test_audio_fork import ModuleClient, ramp

UUID = "1b4f7a2e-0000-4000-8000-000000000002"


class FakeSwitch:
    """Records api commands; ``reply(command)`` says what each one returns (None: +OK)."""

    def __init__(self, reply: Callable[[str], str | None] = lambda command: None) -> None:
        self.commands: list[str] = []
        self.reply = reply

    def api(self, command: str) -> str | None:
        self.commands.append(command)
        return self.reply(command)


@pytest.fixture
def server() -> Iterator[AudioForkServer]:
    srv = AudioForkServer().start()
    yield srv
    srv.stop()


def streaming_module(server: AudioForkServer, audio: np.ndarray) -> Callable[[str], str | None]:
    """A reply function that, like the module on ``start``, connects and streams ``audio``."""
    def reply(command: str) -> str | None:
        if " start " in command:
            url, metadata = command.split()[3], command.split()[-1]
            gevent.spawn(stream, url.split("/", 3)[3], metadata)
        return None

    def stream(path: str, metadata: str) -> None:
        client = ModuleClient(server, f"/{path}")
        client.text(metadata)
        client.audio(audio.astype("<i2").tobytes())
        client.close()
    return reply


def test_fork_tap_streams_and_stops_its_own_bug(server: AudioForkServer) -> None:
    switch = FakeSwitch(streaming_module(server, ramp(FRAME_SAMPLES * 3)))
    tap = ForkTap(UUID, "dialer_amd", server, switch.api)
    assert tap.start() is None
    frames = list(tap.frames())
    tap.finish()
    tap.discard()
    assert len(frames) == 3
    np.testing.assert_array_equal(tap.heard(), ramp(FRAME_SAMPLES * 3))
    start, stop = switch.commands
    assert start.startswith(f"uuid_audio_fork {UUID} start ws://127.0.0.1:")
    assert start.endswith(f"/{UUID}/dialer_amd mono 8k dialer_amd "
                          + json.dumps({"stream": f"{UUID}/dialer_amd"}, separators=(",", ":")))
    assert stop == f"uuid_audio_fork {UUID} stop dialer_amd"
    assert not server.expects(tap.stream)


def test_fork_tap_reports_the_switch_refusal(server: AudioForkServer) -> None:
    refusal = "fs: api uuid_audio_fork: -ERR uuid_audio_fork Command not found!"
    tap = ForkTap(UUID, "dialer_amd", server, FakeSwitch(lambda command: refusal).api)
    assert tap.start() == refusal


def test_fork_tap_without_a_connection_after_ok(server: AudioForkServer) -> None:
    tap = ForkTap(UUID, "dialer_amd", server, FakeSwitch().api, connect_timeout_s=0.05)
    assert tap.start() == "no stream within 0.05 s after +OK"


def test_record_tap_sets_read_only_for_its_own_recording(tmp_path: Path) -> None:
    path = tmp_path / f"{UUID}.r8"
    switch = FakeSwitch()
    tap = RecordTap(UUID, path, switch.api, RawTailer(path, timeout_s=0.05, poll_s=0.01),
                    stereo=True)
    assert tap.start() is None
    path.write_bytes(ramp(FRAME_SAMPLES * 2).astype("<i2").tobytes())  # as the switch would
    assert len(list(tap.frames())) == 2
    tap.finish()
    np.testing.assert_array_equal(tap.heard(), ramp(FRAME_SAMPLES * 2))
    tap.discard()
    assert not path.exists()
    assert switch.commands == [
        f"uuid_setvar {UUID} RECORD_STEREO false", f"uuid_setvar {UUID} RECORD_READ_ONLY true",
        f"uuid_record {UUID} start {path}", f"uuid_setvar {UUID} RECORD_READ_ONLY undef",
        f"uuid_setvar {UUID} RECORD_STEREO true", f"uuid_record {UUID} stop {path}"]


def test_record_tap_refused_still_restores_the_variables(tmp_path: Path) -> None:
    path = tmp_path / f"{UUID}.r8"
    switch = FakeSwitch(lambda c: "-ERR Cannot record session!" if "uuid_record" in c else None)
    tap = RecordTap(UUID, path, switch.api, RawTailer(path, timeout_s=0.05))
    assert tap.start() == "-ERR Cannot record session!"
    assert switch.commands[-1] == f"uuid_setvar {UUID} RECORD_READ_ONLY undef"
