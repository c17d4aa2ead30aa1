"""Spectral features of the greeting so far: MFCC and deltas, centroid, flatness, roll-off, ZCR.

The per-frame definitions are librosa's (its mel filter bank; centroid and roll-off on the
magnitude spectrum, flatness on the power spectrum, as `librosa.feature.spectral_*` compute
them), applied to the front end's 20 ms frames. Only running sums over the speech frames are
kept, so a stream's memory does not grow with the greeting.
"""

from __future__ import annotations

import librosa
import numpy as np
import scipy.fft

from engine.amd.analysis import N_FFT, BlockAnalysis
from engine.amd.frames import SAMPLE_RATE

N_MFCC = 13
N_MELS = 26
ROLL_PERCENT = 0.85
_FREQS = librosa.fft_frequencies(sr=SAMPLE_RATE, n_fft=N_FFT).astype(np.float32)
_MEL_BASIS = librosa.filters.mel(sr=SAMPLE_RATE, n_fft=N_FFT, n_mels=N_MELS, fmin=100.0, fmax=3800.0)
_AMIN = 1e-10

_FRAME_FEATURES = (
    [f"mfcc{i}" for i in range(N_MFCC)] + [f"dmfcc{i}" for i in range(N_MFCC)]
    + ["centroid", "flatness", "rolloff", "zcr"]
)
SPECTRAL_FEATURES = tuple(
    [f"{name}_mean" for name in _FRAME_FEATURES] + [f"{name}_std" for name in _FRAME_FEATURES]
)


def mfcc(power: np.ndarray) -> np.ndarray:
    """MFCCs (n, 13) of power spectra (n, 129), as librosa.feature.mfcc with this mel basis."""
    log_mel = 10.0 * np.log10(np.maximum(power @ _MEL_BASIS.T, _AMIN))
    return scipy.fft.dct(log_mel, type=2, norm="ortho", axis=1)[:, :N_MFCC]


def spectral_centroid(power: np.ndarray) -> np.ndarray:
    mag = np.sqrt(power)
    return (mag @ _FREQS) / np.maximum(mag.sum(axis=1), _AMIN)


def spectral_flatness(power: np.ndarray) -> np.ndarray:
    p = np.maximum(power, _AMIN)
    return np.exp(np.log(p).mean(axis=1)) / p.mean(axis=1)


def spectral_rolloff(power: np.ndarray) -> np.ndarray:
    mag = np.sqrt(power)
    cumulative = np.cumsum(mag, axis=1)
    threshold = ROLL_PERCENT * cumulative[:, -1:]
    index = np.argmax(cumulative >= threshold, axis=1)
    return _FREQS[index]


class SpectralStats:
    """Running mean and standard deviation of the frame features over the speech frames."""

    def __init__(self) -> None:
        width = len(_FRAME_FEATURES)
        self.count = 0
        self._sum = np.zeros(width)
        self._sum_sq = np.zeros(width)
        self._last_mfcc: np.ndarray | None = None

    def update(self, block: BlockAnalysis, speech: np.ndarray) -> None:
        """Add the block's speech frames (deltas are taken between consecutive frames)."""
        if not speech.any():
            return
        power = block.power[speech]
        coefficients = mfcc(power)
        first = coefficients[0] if self._last_mfcc is None else self._last_mfcc
        deltas = np.abs(coefficients - np.vstack([first[None, :], coefficients[:-1]]))
        self._last_mfcc = coefficients[-1]
        rows = np.hstack([
            coefficients, deltas,
            np.column_stack([spectral_centroid(power), spectral_flatness(power),
                             spectral_rolloff(power), block.zcr[speech]]),
        ])
        self.count += len(rows)
        self._sum += rows.sum(axis=0)
        self._sum_sq += (rows ** 2).sum(axis=0)

    def vector(self) -> np.ndarray:
        """Means then standard deviations, in SPECTRAL_FEATURES order (zeros before any speech)."""
        if not self.count:
            return np.zeros(2 * len(_FRAME_FEATURES))
        mean = self._sum / self.count
        std = np.sqrt(np.maximum(self._sum_sq / self.count - mean ** 2, 0.0))
        return np.concatenate([mean, std])

