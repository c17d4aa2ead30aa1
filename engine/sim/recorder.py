"""`uuid_record`: write a leg's audio to a file in real time, as FreeSWITCH's record media bug does."""

from __future__ import annotations

import enum
import logging
import wave
from pathlib import Path

import gevent
import numpy as np

from engine.sim.audio import RATE
from engine.sim.media import LegMedia

log = logging.getLogger(__name__)
RAW_SUFFIXES = (".r8", ".raw")
SUPPORTED_SUFFIXES = (".wav", *RAW_SUFFIXES)
WRITE_BUFFER_BYTES = 65536  # FreeSWITCH's default file write buffer


class Mode(enum.Enum):
    """What goes into the file, chosen from the channel variables at start."""

    MIXED = "mixed"            # both directions summed, mono (the default)
    READ_ONLY = "read"         # RECORD_READ_ONLY=true: only what the leg sent us
    WRITE_ONLY = "write"       # RECORD_WRITE_ONLY=true: only what we sent the leg
    STEREO = "stereo"          # RECORD_STEREO=true: read on the left, write on the right
    STEREO_SWAP = "stereo_swap"  # RECORD_STEREO_SWAP=true: write on the left, read on the right

    @classmethod
    def from_variables(cls, variables: dict[str, str]) -> Mode:
        def true(name: str) -> bool:
            return variables.get(name, "").lower() in ("true", "yes", "on", "1")

        if true("RECORD_STEREO_SWAP"):
            return cls.STEREO_SWAP
        if true("RECORD_STEREO"):
            return cls.STEREO
        if true("RECORD_READ_ONLY"):
            return cls.READ_ONLY
        if true("RECORD_WRITE_ONLY"):
            return cls.WRITE_ONLY
        return cls.MIXED


class Recorder:
    """Appends the leg's audio to `path` every `tick` seconds until stopped (or `limit` reached).

    Like FreeSWITCH: a recording that includes what we send skips the time the switch sends the
    leg nothing (a parked leg), and the file gets data in 64 KB blocks unless the channel has
    `enable_file_write_buffering=false`.
    """

    def __init__(self, media: LegMedia, path: str, mode: Mode, limit_seconds: int = 0,
                 tick: float = 0.1, buffered: bool = True) -> None:
        self.media = media
        self.path = path
        self.mode = mode
        self.buffer_bytes = WRITE_BUFFER_BYTES if buffered else 0
        self._pending: list[bytes] = []
        self._pending_bytes = 0
        self.stereo = mode in (Mode.STEREO, Mode.STEREO_SWAP)
        self.limit_samples = limit_seconds * RATE if limit_seconds > 0 else None
        self.tick = tick
        self.samples_written = 0
        self.bytes_written = 0
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        self._raw = target.suffix.lower() in RAW_SUFFIXES
        if self._raw:
            self._file = open(target, "wb")  # noqa: SIM115 - closed in stop()
            self._wave = None
        else:
            self._file = None
            self._wave = wave.open(str(target), "wb")
            self._wave.setnchannels(2 if self.stereo else 1)
            self._wave.setsampwidth(2)
            self._wave.setframerate(RATE)
            self.bytes_written = 44
        self._position = media.now()
        self._greenlet = gevent.spawn(self._run)

    def _frames(self, end: int) -> bytes:
        read = self.media.audio.render_received(self._position, end)
        write = self.media.audio.render_sent(self._position, end)
        if self.mode is Mode.READ_ONLY:
            samples = read
        elif self.mode is Mode.WRITE_ONLY:
            samples = write
        elif self.stereo:
            left, right = (read, write) if self.mode is Mode.STEREO else (write, read)
            samples = np.column_stack([left, right]).reshape(-1)
        else:
            samples = np.clip(read.astype(np.int32) + write, -32768, 32767).astype(np.int16)
        return samples.astype("<i2").tobytes()

    def capture(self) -> None:
        """Take the audio up to now into the write buffer."""
        end = self.media.now()
        if self.limit_samples is not None:
            end = min(end, self._position + max(0, self.limit_samples - self.samples_written))
        if end <= self._position:
            return
        if self.mode is not Mode.READ_ONLY and not self.media.audio.sending:
            self._position = end  # no write stream: the media bug gets no frames
            return
        data = self._frames(end)
        self._pending.append(data)
        self._pending_bytes += len(data)
        self.samples_written += end - self._position
        self.bytes_written += len(data)
        self._position = end

    def write_out(self, force: bool = False) -> None:
        """Hand buffered audio to the file once a block is full (or when forced)."""
        if not self._pending or (self._pending_bytes < self.buffer_bytes and not force):
            return
        data = b"".join(self._pending)
        self._pending, self._pending_bytes = [], 0
        if self._raw:
            self._file.write(data)
            self._file.flush()
        else:
            self._wave.writeframes(data)

    def _run(self) -> None:
        while True:
            gevent.sleep(self.tick)
            try:
                self.capture()
                self.write_out()
            except OSError as exc:
                log.error("recording %s failed: %s", self.path, exc)
                return

    def stop(self) -> None:
        """Flush the tail and close the file."""
        if self._greenlet is not gevent.getcurrent():
            self._greenlet.kill(block=False)
        try:
            self.capture()
            self.write_out(force=True)
        finally:
            if self._raw:
                self._file.close()
            else:
                self._wave.close()
