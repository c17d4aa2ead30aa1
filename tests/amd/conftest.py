"""Synthetic audio helpers for the AMD tests (8 kHz int16, deterministic)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.amd.corpus import make_noise, silence, speak, tone
from engine.amd.frames import g711_roundtrip, split_frames, to_int16

HELDOUT_SEED = 2026
HELDOUT_COUNT = 240


def pcm(*parts: np.ndarray, noise_db: float | None = None, seed: int = 0, law: str | None = None) -> np.ndarray:
    """Join float parts, optionally add white noise at noise_db dBFS and pass through G.711."""
    signal = np.concatenate(parts)
    if noise_db is not None:
        signal = signal + make_noise("white", len(signal), np.random.default_rng(seed)) * 10 ** (noise_db / 20)
    out = to_int16(signal)
    return g711_roundtrip(out, law) if law else out


def frames_of(audio: np.ndarray) -> np.ndarray:
    return np.array(list(split_frames(audio)))


@pytest.fixture(scope="session")
def phrases() -> dict[str, np.ndarray]:
    """A few espeak-ng utterances at 8 kHz (float), made once per session."""
    return {
        "ru-operator": speak("Абонент временно недоступен, пожалуйста, перезвоните позже.", "ru+f3", 160, 50),
        "en-voicemail": speak("Hello, you have reached the voicemail box of number five five five.", "en-us+m3", 160, 50),
        "en-other": speak("The weather today is sunny with a light breeze from the north.", "en-us+m3", 160, 50),
        "hello": speak("Hello?", "en-us+f2", 170, 50),
    }


@pytest.fixture(scope="session")
def heldout_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The held-out test split (texts and voices training never used), generated once per session."""
    from engine.amd.corpus import generate

    root = tmp_path_factory.mktemp("amd-heldout")
    generate(root, HELDOUT_SEED, HELDOUT_COUNT, "test")
    return root


__all__ = ["frames_of", "pcm", "silence", "tone"]
