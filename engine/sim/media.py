"""The media plane: a shared sample clock, playback sources, and each leg's audio endpoints."""

from __future__ import annotations

import os
import re

import numpy as np

from engine.clock import Clock
from engine.sim.audio import RATE, ClipLibrary, LegAudio, read_clip, tone

UNKNOWN_PROMPT_SECONDS = 3.0


class MediaPlane:
    """Turns monotonic time into sample indexes and playback paths into audio."""

    def __init__(self, clock: Clock, library: ClipLibrary) -> None:
        self.clock = clock
        self.library = library
        self._origin = clock.monotonic()

    def now(self) -> int:
        return int((self.clock.monotonic() - self._origin) * RATE)

    def leg(self) -> LegMedia:
        return LegMedia(self)

    def playback_source(self, path: str) -> tuple[np.ndarray, float | None]:
        """The audio of a playback path and its length in seconds (None: plays until broken)."""
        silence = re.fullmatch(r"silence_stream://(-?\d+)(?:,\d+)?", path)
        if silence:
            ms = int(silence.group(1))
            return np.zeros(0, np.int16), (None if ms < 0 else ms / 1000)
        if path.startswith("tone_stream://"):
            return tone(1.0, 440.0), 1.0
        if os.path.isfile(path):
            try:
                clip = read_clip(path)
                return clip, len(clip) / RATE
            except (RuntimeError, ValueError):
                pass
        clip = self.library.talk(0, 200.0)
        return clip[: int(UNKNOWN_PROMPT_SECONDS * RATE)], UNKNOWN_PROMPT_SECONDS


class LegMedia:
    """One leg's audio: what its far end says, what we play to it, whom it is bridged to."""

    def __init__(self, plane: MediaPlane) -> None:
        self.plane = plane
        self.audio = LegAudio()

    def now(self) -> int:
        return self.plane.now()

    def say(self, clip: np.ndarray, delay_seconds: float = 0.0) -> None:
        """The far end speaks `clip`, starting `delay_seconds` from now."""
        self.audio.say(self.plane.now() + int(delay_seconds * RATE), clip)

    def play(self, path: str) -> float | None:
        """Start sending a playback to the leg; returns its length in seconds."""
        clip, seconds = self.plane.playback_source(path)
        self.audio.send(self.plane.now(), clip)
        return seconds

    def stop_playing(self) -> None:
        self.audio.stop_sending(self.plane.now())

    def connect(self, other: LegMedia) -> None:
        self.audio.connect(other.audio, self.plane.now())

    def disconnect(self) -> None:
        self.audio.disconnect()
