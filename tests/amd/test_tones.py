import numpy as np
import pytest

from engine.amd.analysis import analyse_block
from engine.amd.beep import BeepParams, is_beep, is_sounding_beep
from engine.amd.corpus import SIT_CODES, make_spec, render, sit_tones
from engine.amd.sit import SitDetector
from engine.amd.tones import ToneSegmenter

from .conftest import frames_of, pcm, silence, tone


def segments_of(audio: np.ndarray):  # type: ignore[no-untyped-def]
    segmenter, found, sounding = ToneSegmenter(), [], []
    frames = frames_of(audio)
    for start in range(0, len(frames), 10):
        found += segmenter.update(analyse_block(frames[start:start + 10]))
        if segmenter.current() is not None:
            sounding.append(segmenter.current())
    return found, sounding


@pytest.mark.parametrize("hz", [440.0, 1000.0, 1400.0])
def test_an_isolated_tone_in_noise_through_g711_is_a_beep(hz: float) -> None:
    found, sounding = segments_of(pcm(silence(500), tone(hz, 600, 0.2), silence(400), noise_db=-40, law="alaw"))
    beeps = [s for s in found if is_beep(s)]
    assert len(beeps) == 1
    assert abs(beeps[0].hz - hz) < 5 and abs(beeps[0].start_ms - 500) <= 40 and abs(beeps[0].end_ms - 1100) <= 40
    assert beeps[0].hz_spread < 1.0
    assert any(is_sounding_beep(s) for s in sounding)  # recognised before it ended


def test_speech_is_not_a_beep(phrases) -> None:  # type: ignore[no-untyped-def]
    for name in ("en-voicemail", "ru-operator", "hello"):
        found, sounding = segments_of(pcm(phrases[name], law="ulaw"))
        assert not any(is_beep(s) for s in found) and not any(is_sounding_beep(s) for s in sounding)


@pytest.mark.parametrize(("split", "index"), [("train", 71), ("test", 176)])
def test_a_held_vowel_is_not_a_beep(split: str, index: int) -> None:
    # corpus seed 7: "Алло, добрый день, Дмитрий слушает." and "Да, я слушаю." hold a vowel so
    # steadily that it passed for a beep until the frequency spread was checked
    found, sounding = segments_of(render(make_spec(7, split, index)))
    loose = BeepParams(max_spread_hz=float("inf"))
    vowels = [s for s in found + sounding if is_beep(s, loose) or is_sounding_beep(s, loose)]
    assert vowels and all(s.hz_spread > BeepParams().max_spread_hz for s in vowels)
    assert not any(is_beep(s) for s in found) and not any(is_sounding_beep(s) for s in sounding)


def test_a_wavering_tone_is_not_a_beep() -> None:
    t = np.arange(4000) / 8000
    wavering = 0.2 * np.sin(2 * np.pi * (600 * t - 8 / (2 * np.pi * 3) * np.cos(2 * np.pi * 3 * t)))  # 600 +- 8 Hz
    found, sounding = segments_of(pcm(silence(300), wavering, silence(400), noise_db=-45, law="ulaw"))
    assert found and all(abs(s.hz - 600) < 10 and s.hz_spread > BeepParams().max_spread_hz for s in found)
    assert not any(is_beep(s) for s in found) and not any(is_sounding_beep(s) for s in sounding)


@pytest.mark.parametrize("code", sorted(SIT_CODES))
def test_every_sit_code_is_heard_and_none_of_its_tones_is_a_beep(code: str) -> None:
    found, sounding = segments_of(pcm(silence(330), sit_tones(code), silence(300), noise_db=-45, law="ulaw"))
    detector = SitDetector()
    assert detector.update(found)
    assert 1100 <= detector.heard_at_ms <= 1600
    assert not any(is_beep(s) for s in found) and not any(is_sounding_beep(s) for s in sounding)


def test_three_unrelated_tones_are_not_sit() -> None:
    found, _ = segments_of(pcm(tone(700, 300), tone(1200, 300), tone(1776.7, 300), silence(200)))
    assert len(found) == 3
    assert not SitDetector().update(found)
