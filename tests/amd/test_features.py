import librosa
import numpy as np
import pytest

from engine.amd.analysis import analyse_block
from engine.amd.features import (
    N_MELS, SPECTRAL_FEATURES, SpectralStats, mfcc, spectral_centroid, spectral_flatness, spectral_rolloff,
)

from .conftest import frames_of, pcm


def block_of(phrases: dict[str, np.ndarray]):  # type: ignore[no-untyped-def]
    return analyse_block(frames_of(pcm(phrases["en-voicemail"][:16000]))[20:60])


def test_centroid_flatness_rolloff_match_librosa(phrases) -> None:  # type: ignore[no-untyped-def]
    block = block_of(phrases)
    mag = np.sqrt(block.power).T
    kw = {"sr": 8000, "n_fft": 256}
    np.testing.assert_allclose(spectral_centroid(block.power), librosa.feature.spectral_centroid(S=mag, **kw)[0], rtol=1e-4)
    np.testing.assert_allclose(spectral_flatness(block.power), librosa.feature.spectral_flatness(S=mag)[0], rtol=1e-3)
    np.testing.assert_allclose(spectral_rolloff(block.power), librosa.feature.spectral_rolloff(S=mag, **kw)[0], atol=32)


def test_mfcc_matches_librosa_on_the_same_mel_spectrum(phrases) -> None:  # type: ignore[no-untyped-def]
    block = block_of(phrases)
    mel = librosa.feature.melspectrogram(S=block.power.T, sr=8000, n_fft=256, n_mels=N_MELS, fmin=100.0, fmax=3800.0)
    expected = librosa.feature.mfcc(S=librosa.power_to_db(mel, top_db=None), n_mfcc=13)
    np.testing.assert_allclose(mfcc(block.power), expected.T, rtol=1e-3, atol=1e-2)


def test_running_stats_equal_batch_stats_over_speech_frames(phrases) -> None:  # type: ignore[no-untyped-def]
    block = block_of(phrases)
    speech = block.energy_db > -45
    stats = SpectralStats()
    for start in range(0, len(speech), 7):  # fed in uneven pieces
        piece = type(block)(*(a[start:start + 7] for a in (block.samples, block.energy_db, block.band_db, block.zcr, block.power)))
        stats.update(piece, speech[start:start + 7])
    vector = stats.vector()
    assert vector.shape == (len(SPECTRAL_FEATURES),)
    coefficients = mfcc(block.power[speech])
    np.testing.assert_allclose(vector[:13], coefficients.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(vector[len(SPECTRAL_FEATURES) // 2:][:13], coefficients.std(axis=0), rtol=1e-5)
    centroid_mean = SPECTRAL_FEATURES.index("centroid_mean")
    assert vector[centroid_mean] == pytest.approx(float(spectral_centroid(block.power[speech]).mean()), rel=1e-5)


def test_no_speech_gives_zeros() -> None:
    assert not SpectralStats().vector().any()
