"""Early media: SIT tones and known announcements heard while a call rings; nothing else counts."""

from __future__ import annotations

import numpy as np
import pytest

from engine.amd.corpus import silence, sit_tones, tone
from engine.amd.detector import StreamingDetector
from engine.amd.early_media import watch_early_media
from engine.amd.fingerprint import FingerprintDB
from engine.amd.frames import split_frames

from .conftest import pcm


def ringback(cycles: int) -> np.ndarray:
    """The Russian ringing tone: 425 Hz, 1 s on, 4 s off."""
    return np.concatenate([np.concatenate([tone(425, 1000), silence(4000)])] * cycles)


def frames(*parts: np.ndarray) -> list[np.ndarray]:
    return list(split_frames(pcm(*parts, noise_db=-60, law="alaw")))


def plain() -> StreamingDetector:
    return StreamingDetector(model=None, fingerprints=None, budget_s=30)


def test_sit_after_ringing_is_unreachable_with_its_time() -> None:
    decision = watch_early_media(frames(ringback(2), sit_tones("intercept"), silence(1000)), plain)
    assert decision is not None and decision.reason == "unreachable:sit"
    assert 10_000 < decision.decision_ms <= 10_000 + 928 + 400  # the SIT's end, a block later


def test_ringing_music_and_voicemail_beeps_are_not_verdicts() -> None:
    music = pcm(tone(523, 400), tone(659, 400), tone(784, 400), tone(1047, 600))
    beep = tone(1000, 600)
    assert watch_early_media(frames(ringback(2), music, beep, silence(500)), plain) is None


def test_a_beep_taken_first_does_not_hide_a_later_sit() -> None:
    made: list[StreamingDetector] = []

    def counting() -> StreamingDetector:
        made.append(plain())
        return made[-1]

    decision = watch_early_media(
        frames(silence(500), tone(1000, 800), silence(1000), sit_tones("vacant"), silence(500)),
        counting)
    assert decision is not None and decision.reason == "unreachable:sit"
    assert len(made) >= 2  # the beep's verdict was dropped and a fresh detector listened on
    assert made[0].decision is not None and made[0].decision.reason == "beep"


def test_known_announcement_without_sit_by_fingerprint(phrases) -> None:  # type: ignore[no-untyped-def]
    db = FingerprintDB()
    db.add(pcm(phrases["ru-operator"]), "ru-not-in-service", "unreachable")
    decision = watch_early_media(
        frames(ringback(1), phrases["ru-operator"], silence(500)),
        lambda: StreamingDetector(model=None, fingerprints=db, budget_s=30))
    assert decision is not None
    assert decision.reason == "unreachable:fingerprint:ru-not-in-service"
    assert decision.decision_ms > 5000  # after the ringing


@pytest.mark.parametrize("audio_ms", [0, 40])
def test_audio_ending_without_a_verdict(audio_ms: int) -> None:
    assert watch_early_media(frames(silence(audio_ms)) if audio_ms else [], plain) is None
