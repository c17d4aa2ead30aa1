"""Where frames come from: a raw 8 kHz file that FreeSWITCH is still writing, or a WAV file.

`RawTailer` follows a growing headerless 16-bit little-endian mono file, as written by
`uuid_record <uuid> start /tmp/x.r8` with RECORD_READ_ONLY=true (the callee's audio only),
and yields 20 ms frames as soon as they are on disk. It gives up after `timeout_s` without new
audio (the call ended or the recording stalled) or when `stop()` is called. It sleeps with
`time.sleep` unless told otherwise, which gevent makes cooperative once monkey-patched.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

from engine.amd.frames import FRAME_BYTES, SAMPLE_RATE, split_frames
from engine.clock import Clock, SystemClock


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
