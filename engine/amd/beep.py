"""The voicemail beep: an isolated, sustained pure tone (not part of a tone sequence such as SIT).

A tone is taken for a beep when it ends, or earlier, while still sounding, once it has lasted
`early_ms` at a frequency that cannot open a SIT sequence. Its pitch must hold steady: a vowel
held long enough to look like a tone ("Алло-о?") still wanders by several hertz.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.amd.sit import SIT_TONES_HZ
from engine.amd.tones import ToneSegment


@dataclass(frozen=True, slots=True)
class BeepParams:
    min_ms: int = 160  # of tonal frames
    min_tonal_share: float = 0.8
    max_ms: int = 3000
    min_hz: float = 300.0
    max_hz: float = 2600.0
    early_ms: int = 160
    sit_margin_hz: float = 8.0  # 1000 Hz beeps are only 15 Hz from SIT's 985.2 Hz
    max_spread_hz: float = 3.0  # a beep holds its pitch; a sung-out vowel ("Алло-о") wanders more


def is_beep(segment: ToneSegment, params: BeepParams = BeepParams()) -> bool:
    """True when a closed tone segment looks like a voicemail beep."""
    return (
        params.min_ms <= segment.tonal_ms and segment.duration_ms <= params.max_ms
        and segment.tonal_ms >= params.min_tonal_share * segment.duration_ms
        and params.min_hz <= segment.hz <= params.max_hz
        and segment.hz_spread <= params.max_spread_hz
        and not segment.after_tone
        and not segment.before_tone
    )


def is_sounding_beep(segment: ToneSegment, params: BeepParams = BeepParams()) -> bool:
    """True when a tone still sounding is already certain to be a beep."""
    return (
        segment.tonal_ms >= params.early_ms
        and params.min_hz <= segment.hz <= params.max_hz
        and segment.hz_spread <= params.max_spread_hz
        and not segment.after_tone
        and all(abs(segment.hz - hz) > params.sit_margin_hz for hz in SIT_TONES_HZ[0])
    )
