"""20 ms frames of 8 kHz signed 16-bit PCM, and the G.711 codecs (mu-law, A-law) in numpy.

The codecs follow ITU-T G.711 (the segment tables of the classic public-domain
Sun reference); tests use them to put synthetic audio through the telephone codec.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

SAMPLE_RATE = 8000
FRAME_MS = 20
FRAME_SAMPLES = SAMPLE_RATE * FRAME_MS // 1000  # 160
FRAME_BYTES = FRAME_SAMPLES * 2

_ULAW_SEG_END = np.array([0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF])
_ALAW_SEG_END = np.array([0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF])
_ULAW_BIAS = 0x84


def split_frames(pcm: np.ndarray, pad: bool = True) -> Iterator[np.ndarray]:
    """Yield consecutive 160-sample int16 frames; the last partial one is zero-padded (or dropped)."""
    pcm = np.asarray(pcm, dtype=np.int16)
    for start in range(0, len(pcm), FRAME_SAMPLES):
        frame = pcm[start:start + FRAME_SAMPLES]
        if len(frame) < FRAME_SAMPLES:
            if not pad:
                return
            frame = np.concatenate([frame, np.zeros(FRAME_SAMPLES - len(frame), np.int16)])
        yield frame


def to_int16(signal: np.ndarray) -> np.ndarray:
    """Float audio in [-1, 1] to int16 PCM, clipping what is out of range."""
    return np.clip(np.round(np.asarray(signal) * 32767.0), -32768, 32767).astype(np.int16)


def to_float(pcm: np.ndarray) -> np.ndarray:
    """int16 PCM to float32 in [-1, 1)."""
    return np.asarray(pcm, dtype=np.float32) / 32768.0


def ulaw_encode(pcm: np.ndarray) -> np.ndarray:
    """Linear int16 PCM to G.711 mu-law bytes (uint8)."""
    val = np.asarray(pcm, dtype=np.int32) >> 2
    mask = np.where(val < 0, 0x7F, 0xFF)
    val = np.minimum(np.abs(val), 8159) + (_ULAW_BIAS >> 2)
    seg = np.searchsorted(_ULAW_SEG_END, val)
    code = np.where(seg >= 8, 0x7F, (seg << 4) | ((val >> (np.minimum(seg, 7) + 1)) & 0xF))
    return (code ^ mask).astype(np.uint8)


def ulaw_decode(codes: np.ndarray) -> np.ndarray:
    """G.711 mu-law bytes to linear int16 PCM."""
    u = ~np.asarray(codes, dtype=np.uint8).astype(np.int32) & 0xFF
    t = (((u & 0x0F) << 3) + _ULAW_BIAS) << ((u & 0x70) >> 4)
    return np.where(u & 0x80, _ULAW_BIAS - t, t - _ULAW_BIAS).astype(np.int16)


def alaw_encode(pcm: np.ndarray) -> np.ndarray:
    """Linear int16 PCM to G.711 A-law bytes (uint8)."""
    val = np.asarray(pcm, dtype=np.int32) >> 3
    negative = val < 0
    mask = np.where(negative, 0x55, 0xD5)
    val = np.where(negative, -val - 1, val)
    seg = np.searchsorted(_ALAW_SEG_END, val)
    shift = np.where(seg < 2, 1, np.minimum(seg, 7))
    code = np.where(seg >= 8, 0x7F, (np.minimum(seg, 7) << 4) | ((val >> shift) & 0xF))
    return (code ^ mask).astype(np.uint8)


def alaw_decode(codes: np.ndarray) -> np.ndarray:
    """G.711 A-law bytes to linear int16 PCM."""
    a = np.asarray(codes, dtype=np.uint8).astype(np.int32) ^ 0x55
    t = (a & 0x0F) << 4
    seg = (a & 0x70) >> 4
    t = np.where(seg == 0, t + 8, t + 0x108)
    t = np.where(seg > 1, t << np.maximum(seg - 1, 0), t)
    return np.where(a & 0x80, t, -t).astype(np.int16)


def g711_roundtrip(pcm: np.ndarray, law: str = "ulaw") -> np.ndarray:
    """PCM as heard after a G.711 leg: encode then decode with 'ulaw' or 'alaw'."""
    if law == "ulaw":
        return ulaw_decode(ulaw_encode(pcm))
    if law == "alaw":
        return alaw_decode(alaw_encode(pcm))
    raise ValueError(f"unknown G.711 law {law!r} (expected 'ulaw' or 'alaw')")
