"""The per-frame front end shared by every detector: level, zero crossings and power spectrum.

Frames are analysed a block at a time (a 2-D array, one 20 ms frame per row) so that one
vectorised pass serves the VAD, the spectral features, the beep detector and the fingerprinter.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.amd.frames import FRAME_SAMPLES, SAMPLE_RATE

N_FFT = 256
N_BINS = N_FFT // 2 + 1
BIN_HZ = SAMPLE_RATE / N_FFT
SILENT_DB = -100.0
_WINDOW = np.hanning(FRAME_SAMPLES + 2)[1:-1].astype(np.float32)
_FULL_SCALE = 32768.0
_BAND = slice(8, 110)  # 250-3400 Hz
_BAND_SCALE = 2.0 / (N_FFT * float((_WINDOW ** 2).sum()))  # one-sided power sum -> mean square


@dataclass(frozen=True, slots=True)
class BlockAnalysis:
    """Per-frame measurements of a block of frames (arrays indexed by frame)."""

    samples: np.ndarray  # (n, 160) float32 in [-1, 1)
    energy_db: np.ndarray  # (n,) RMS level in dBFS, floored at SILENT_DB
    band_db: np.ndarray  # (n,) level of the speech band (250-3400 Hz) alone, same scale
    zcr: np.ndarray  # (n,) zero-crossing rate per sample, 0..1
    power: np.ndarray  # (n, 129) power spectrum of the Hann-windowed frame


def analyse_block(frames: np.ndarray) -> BlockAnalysis:
    """Measure a (n, 160) int16 block of frames."""
    if frames.ndim != 2 or frames.shape[1] != FRAME_SAMPLES:
        raise ValueError(f"expected a (n, {FRAME_SAMPLES}) block of frames, got shape {frames.shape}")
    x = frames.astype(np.float32) / _FULL_SCALE
    mean_square = np.einsum("ij,ij->i", x, x) / FRAME_SAMPLES
    energy_db = np.maximum(10.0 * np.log10(mean_square + 1e-12), SILENT_DB)
    signs = np.signbit(x)
    zcr = np.count_nonzero(signs[:, 1:] != signs[:, :-1], axis=1) / (FRAME_SAMPLES - 1)
    spectrum = np.fft.rfft(x * _WINDOW, n=N_FFT, axis=1)
    power = spectrum.real ** 2 + spectrum.imag ** 2
    band_db = np.maximum(10.0 * np.log10(power[:, _BAND].sum(axis=1) * _BAND_SCALE + 1e-12), SILENT_DB)
    return BlockAnalysis(x, energy_db, band_db, zcr, power.astype(np.float32))


def bin_of(hz: float) -> int:
    """The spectrum bin nearest to a frequency."""
    return int(round(hz / BIN_HZ))
