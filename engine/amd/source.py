"""Where frames come from: a raw 8 kHz file that FreeSWITCH is still writing, or a WAV file.

`RawTailer` follows a growing headerless 16-bit little-endian mono file, as written by
`uuid_record <uuid> start /tmp/x.r8` with RECORD_READ_ONLY=true (the callee's audio only),
and yields 20 ms frames as soon as they are on disk. It gives up after `timeout_s` without new
audio (the call ended or the recording stalled) or when `stop()` is called. It sleeps with
`time.sleep` unless told otherwise, which gevent makes cooperative once monkey-patched.

A live call's audio comes through a tap that also drives the switch: `RecordTap` (stock
FreeSWITCH: the read-only recording, tailed) or `ForkTap` (mod_audio_fork's websocket stream,
`engine.amd.audio_fork`). Both are used the same way: ``start()`` (None, or the switch's
refusal), ``frames()``, ``stop()`` at hangup, then ``finish()`` (the switch stops sending),
``heard()`` (the audio so far, for review samples) and ``discard()``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

from engine.amd.audio_fork import AudioForkServer, fork_command, stream_name
from engine.amd.frames import FRAME_BYTES, SAMPLE_RATE, split_frames
from engine.clock import Clock, SystemClock

# Runs an api command on the call's switch: None when it succeeded, else the switch's error.
Api = Callable[[str], str | None]
FORK_CONNECT_TIMEOUT_S = 1.0  # uuid_audio_fork said +OK but no stream came: record instead


class AudioFileError(ValueError):
    """A file that cannot be read as call audio (the message names the file and the problem)."""


def read_audio(path: str | Path, channel: int = 0) -> np.ndarray:
    """Any soundfile-readable file (WAV, FLAC, ...) as 8 kHz mono int16; raw .r8/.raw as 8 kHz s16le."""
    path = Path(path)
    if path.suffix.lower() in (".r8", ".raw", ".sln"):
        data = path.read_bytes()
        if len(data) % 2:
            raise AudioFileError(f"{path}: odd number of bytes for 16-bit raw audio")
        return np.frombuffer(data, dtype="<i2").astype(np.int16)
    try:
        audio, rate = sf.read(path, dtype="int16", always_2d=True)
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise AudioFileError(f"{path}: cannot read audio ({exc})") from exc
    if not 0 <= channel < audio.shape[1]:
        raise AudioFileError(f"{path}: has {audio.shape[1]} channel(s), channel {channel} asked for")
    mono = audio[:, channel]
    if rate != SAMPLE_RATE:
        mono = np.clip(resample_poly(mono.astype(np.float64), SAMPLE_RATE, rate), -32768, 32767).astype(np.int16)
    return mono


def file_frames(path: str | Path, channel: int = 0) -> Iterator[np.ndarray]:
    """The 20 ms frames of a whole audio file."""
    return split_frames(read_audio(path, channel))


class RawTailer:
    """Frames of a raw s16le 8 kHz file while it grows."""

    def __init__(self, path: str | Path, timeout_s: float = 1.0, poll_s: float = 0.02,
                 clock: Clock | None = None, sleep: Callable[[float], None] = time.sleep) -> None:
        self.path = Path(path)
        self.timeout_s = timeout_s
        self.poll_s = poll_s
        self.clock = clock or SystemClock()
        self.sleep = sleep
        self._stopped = False

    def stop(self) -> None:
        """End the iteration at the next poll (e.g. when the call hangs up)."""
        self._stopped = True

    def frames(self) -> Iterator[np.ndarray]:
        """Yield frames as they are written; the file may appear late (within the timeout)."""
        handle = self._open()
        if handle is None:
            return
        with handle:
            pending = b""
            last_data = self.clock.monotonic()
            while not self._stopped:
                chunk = handle.read()
                if chunk:
                    pending += chunk
                    last_data = self.clock.monotonic()
                    usable = len(pending) // FRAME_BYTES * FRAME_BYTES
                    for start in range(0, usable, FRAME_BYTES):
                        yield np.frombuffer(pending[start:start + FRAME_BYTES], dtype="<i2").astype(np.int16)
                        if self._stopped:
                            return
                    pending = pending[usable:]
                elif self.clock.monotonic() - last_data >= self.timeout_s:
                    return
                else:
                    self.sleep(self.poll_s)

    def _open(self):  # type: ignore[no-untyped-def]
        started = self.clock.monotonic()
        while not self._stopped:
            try:
                return self.path.open("rb")
            except FileNotFoundError:
                if self.clock.monotonic() - started >= self.timeout_s:
                    return None
                self.sleep(self.poll_s)
        return None


class RecordTap:
    """The customer's audio from a read-only ``uuid_record`` to ``path``, tailed as it grows.

    ``RECORD_READ_ONLY`` is read when a recording starts, so it is set just for this one and
    cleared after (a stereo recording of the call may follow); the same for ``RECORD_STEREO``
    (``stereo``: the call has it set), which would otherwise win over it."""

    def __init__(self, uuid: str, path: Path, api: Api, tailer: RawTailer,
                 stereo: bool = False) -> None:
        self.uuid, self.path, self.api, self.stereo = uuid, path, api, stereo
        self.tailer = tailer
        self._frames = tailer.frames()

    def start(self) -> str | None:
        commands = [
            *([f"uuid_setvar {self.uuid} RECORD_STEREO false"] if self.stereo else []),
            f"uuid_setvar {self.uuid} RECORD_READ_ONLY true",
            f"uuid_record {self.uuid} start {self.path}",
        ]
        error = next(filter(None, map(self.api, commands)), None)
        self.api(f"uuid_setvar {self.uuid} RECORD_READ_ONLY undef")
        if self.stereo:
            self.api(f"uuid_setvar {self.uuid} RECORD_STEREO true")
        return error

    def frames(self) -> Iterator[np.ndarray]:
        return self._frames

    def stop(self) -> None:
        self.tailer.stop()

    def finish(self) -> None:
        self._frames.close()
        self.api(f"uuid_record {self.uuid} stop {self.path}")

    def heard(self) -> np.ndarray:
        return read_audio(self.path)

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)


class ForkTap:
    """The customer's audio streamed by mod_audio_fork (media bug ``bug``) to ``server``."""

    def __init__(self, uuid: str, bug: str, server: AudioForkServer, api: Api,
                 timeout_s: float = 1.0,
                 connect_timeout_s: float = FORK_CONNECT_TIMEOUT_S) -> None:
        self.uuid, self.bug, self.server, self.api = uuid, bug, server, api
        self.connect_timeout_s = connect_timeout_s
        self.name = stream_name(uuid, bug)
        self.stream = server.expect(self.name, timeout_s)
        self._frames = self.stream.frames()

    def start(self) -> str | None:
        """None once the switch streams; else why not (its -ERR, or no connection in time)."""
        error = self.api(fork_command(self.uuid, self.bug, self.server.url(self.name)))
        if error is not None:
            return error
        if not self.stream.wait_connected(self.connect_timeout_s):
            return (f"no stream within {self.connect_timeout_s:g} s after +OK"
                    + (f" ({self.stream.error})" if self.stream.error else ""))
        return None

    def frames(self) -> Iterator[np.ndarray]:
        return self._frames

    def stop(self) -> None:
        self.stream.stop()

    def finish(self) -> None:
        self._frames.close()
        self.api(f"uuid_audio_fork {self.uuid} stop {self.bug}")
        self.server.release(self.name)

    def heard(self) -> np.ndarray:
        return self.stream.heard()

    def discard(self) -> None:
        """Nothing on disk: the stream's audio goes with it."""


AudioTap = RecordTap | ForkTap
