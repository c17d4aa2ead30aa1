"""Special Information Tones: the three-tone sequence a network plays before an announcement.

ITU-T E.180 / Telcordia SIT: first tone 913.8 or 985.2 Hz, second 1370.6 or 1428.5 Hz, third
1776.7 Hz, each 274 ms (short) or 380 ms (long), back to back. Which frequencies and lengths
are used encodes the cause (vacant number, no circuit, reorder, ...); all mean "unreachable".
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from engine.amd.tones import ToneSegment

SIT_TONES_HZ: tuple[tuple[float, ...], ...] = ((913.8, 985.2), (1370.6, 1428.5), (1776.7,))


@dataclass(frozen=True, slots=True)
class SitParams:
    tolerance_hz: float = 20.0
    min_ms: int = 180
    max_ms: int = 480


def sounds_like_sit(segment: ToneSegment, params: SitParams = SitParams()) -> bool:
    """True when a tone is at one of the SIT frequencies (a sequence may be under way)."""
    return any(abs(segment.hz - hz) <= params.tolerance_hz for tones in SIT_TONES_HZ for hz in tones)


class SitDetector:
    """Watches closed tone segments for the SIT sequence; `update` is True once it has been heard."""

    def __init__(self, params: SitParams | None = None) -> None:
        self.params = params or SitParams()
        self._recent: deque[ToneSegment] = deque(maxlen=3)
        self.heard_at_ms: int | None = None

    def update(self, segments: list[ToneSegment]) -> bool:
        for segment in segments:
            self._recent.append(segment)
            if self.heard_at_ms is None and self._is_sequence():
                self.heard_at_ms = segment.end_ms
        return self.heard_at_ms is not None

    def _is_sequence(self) -> bool:
        if len(self._recent) < 3:
            return False
        p = self.params
        for position, (segment, allowed) in enumerate(zip(self._recent, SIT_TONES_HZ)):
            if not p.min_ms <= segment.duration_ms <= p.max_ms:
                return False
            if min(abs(segment.hz - hz) for hz in allowed) > p.tolerance_hz:
                return False
            if position > 0 and not segment.after_tone:
                return False
        return True
