import numpy as np

from engine.amd.analysis import analyse_block
from engine.amd.cadence import CADENCE_FEATURES, Cadence
from engine.amd.vad import Vad

from .conftest import frames_of, pcm, silence


def burst(ms: float, seed: int, level: float = 0.2) -> np.ndarray:
    """Speech-like noise: band noise with a syllable-rate envelope."""
    rng = np.random.default_rng(seed)
    n = int(8 * ms)
    envelope = 0.6 + 0.4 * np.sin(np.linspace(0, np.pi * ms / 150, n)) ** 2
    return level * envelope * rng.normal(size=n)


def vad_flags(audio: np.ndarray) -> np.ndarray:
    vad = Vad()
    frames = frames_of(audio)
    out = [vad.update(b.band_db, b.zcr) for b in (analyse_block(frames[i:i + 10]) for i in range(0, len(frames), 10))]
    return np.concatenate(out)


def test_vad_finds_speech_over_noise_and_not_the_noise() -> None:
    audio = pcm(silence(1000), burst(600, 1), silence(1000), noise_db=-45, law="ulaw")
    flags = vad_flags(audio)
    assert not flags[5:50].any()
    assert flags[52:78].mean() > 0.9
    assert not flags[85:].any()


def test_vad_floor_follows_a_louder_background() -> None:
    quiet = pcm(silence(1000), noise_db=-60)
    loud = pcm(silence(3000), burst(500, 2, 0.3), noise_db=-35, seed=1)
    flags = vad_flags(np.concatenate([quiet, loud]))
    assert flags[50:55].all()  # the step up is first taken for speech...
    assert not flags[160:200].any()  # ...but the floor adapts within its 2 s window
    assert flags[201:224].mean() > 0.8


def test_cadence_counts_initial_silence_words_and_trailing_silence() -> None:
    cadence = Cadence()
    pattern = [0] * 25 + [1] * 10 + [0] * 2 + [1] * 5 + [0] * 10 + [1] * 8 + [0] * 30
    cadence.update(np.array(pattern, bool))
    assert cadence.initial_silence_ms == 500
    assert cadence.words == 2  # the 40 ms gap stays inside the first word
    assert cadence.longest_word_ms == 340
    assert cadence.longest_pause_ms == 200
    assert cadence.voiced_ms == 460
    assert cadence.greeting_ms == (10 + 2 + 5 + 10 + 8) * 20
    assert cadence.trailing_silence_ms == 600
    vector = cadence.vector()
    assert len(vector) == len(CADENCE_FEATURES)
    assert vector[CADENCE_FEATURES.index("elapsed_ms")] == len(pattern) * 20


def test_cadence_ignores_clicks_shorter_than_a_word() -> None:
    cadence = Cadence()
    cadence.update(np.array([0] * 10 + [1] * 4 + [0] * 10, bool))
    assert cadence.words == 0 and not cadence.in_greeting and cadence.initial_silence_ms == 480
