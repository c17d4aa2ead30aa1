"""Pure tones in the audio: which frames hold one, and the segments they form.

A frame is *tonal* when one narrow spectral peak (+-3 bins of the 31.25 Hz grid) holds most of
its power. Consecutive tonal frames at a steady frequency form a segment; a segment closes after
a few non-tonal frames (short dropouts under noise are bridged) or at once when the frequency
jumps, which is how the back-to-back tones of a SIT sequence are told apart. The beep and SIT
detectors read the closed segments.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.amd.analysis import BIN_HZ, BlockAnalysis, bin_of
from engine.amd.frames import FRAME_MS

_HALF_WIDTH = 3
_LOW_BIN, _HIGH_BIN = bin_of(250.0), bin_of(3000.0)


@dataclass(frozen=True, slots=True)
class ToneParams:
    min_concentration: float = 0.75
    min_level_db: float = -50.0
    max_drift_hz: float = 15.0  # a frame further than this from the segment's frequency breaks it
    max_gap_frames: int = 2  # non-tonal frames bridged inside a segment


@dataclass(frozen=True, slots=True)
class ToneSegment:
    start_ms: int
    end_ms: int
    hz: float
    tonal_ms: int  # the part of the segment's frames that were tonal (gaps bridged excluded)
    after_tone: bool  # began right after another tone segment (a tone sequence)
    before_tone: bool  # another tone followed right after it
    hz_spread: float = 0.0  # standard deviation of its frames' frequencies (a held vowel wanders)

    @property
    def duration_ms(self) -> int:
        return self.end_ms - self.start_ms


def frame_tones(block: BlockAnalysis, params: ToneParams) -> np.ndarray:
    """Frequency in Hz of each frame's dominant pure tone, or 0.0 where the frame is not tonal."""
    power = block.power
    band = power[:, _LOW_BIN:_HIGH_BIN]
    peak = np.argmax(band, axis=1) + _LOW_BIN
    rows = np.arange(len(power))
    total = power[:, 2:-2].sum(axis=1) + 1e-12
    cumulative = np.cumsum(power, axis=1)
    around = cumulative[rows, peak + _HALF_WIDTH] - cumulative[rows, peak - _HALF_WIDTH - 1]
    tonal = (around / total >= params.min_concentration) & (block.energy_db >= params.min_level_db)
    log_p = np.log(power[rows[:, None], peak[:, None] + np.array([-1, 0, 1])] + 1e-20)
    curvature = log_p[:, 0] - 2.0 * log_p[:, 1] + log_p[:, 2]
    safe = np.where(curvature < 0, curvature, -1.0)
    offset = np.where(curvature < 0, 0.5 * (log_p[:, 0] - log_p[:, 2]) / safe, 0.0)
    return np.where(tonal, (peak + offset) * BIN_HZ, 0.0)


class ToneSegmenter:
    """Streaming grouping of tonal frames into segments."""

    def __init__(self, params: ToneParams | None = None) -> None:
        self.params = params or ToneParams()
        self._frame = 0
        self._start = -1  # frame index where the open segment began, -1 when none
        self._end = 0  # one past its last tonal frame
        self._hz_sum = 0.0
        self._hz_sq = 0.0
        self._count = 0
        self._after_tone = False
        self._last_end = -10  # end frame of the previous closed segment

    def update(self, block: BlockAnalysis) -> list[ToneSegment]:
        """Feed a block; return the segments that closed in it."""
        closed: list[ToneSegment] = []
        for hz in frame_tones(block, self.params).tolist():
            if self._start >= 0:
                steady = hz > 0 and abs(hz - self._hz_sum / self._count) <= self.params.max_drift_hz
                if steady:
                    self._end = self._frame + 1
                    self._hz_sum += hz
                    self._hz_sq += hz * hz
                    self._count += 1
                elif hz > 0:
                    closed.append(self._close(before_tone=True))
                elif self._frame - self._end >= self.params.max_gap_frames:
                    closed.append(self._close(before_tone=False))
            if self._start < 0 and hz > 0:
                self._open(hz)
            self._frame += 1
        return closed

    def current(self) -> ToneSegment | None:
        """The segment still sounding, as far as it has been heard (None when there is none)."""
        if self._start < 0:
            return None
        return self._segment(before_tone=False)

    def _open(self, hz: float) -> None:
        self._start, self._end = self._frame, self._frame + 1
        self._hz_sum, self._hz_sq, self._count = hz, hz * hz, 1
        self._after_tone = self._frame - self._last_end <= self.params.max_gap_frames + 1

    def _close(self, before_tone: bool) -> ToneSegment:
        segment = self._segment(before_tone)
        self._last_end = self._end
        self._start = -1
        return segment

    def _segment(self, before_tone: bool) -> ToneSegment:
        mean = self._hz_sum / self._count
        spread = float(np.sqrt(max(self._hz_sq / self._count - mean * mean, 0.0)))
        return ToneSegment(self._start * FRAME_MS, self._end * FRAME_MS, mean, self._count * FRAME_MS,
                           self._after_tone, before_tone, spread)
