"""Voice activity from frame level and zero crossings, against an adaptive noise floor.

The floor is the minimum frame level over a sliding window (minimum statistics), so it follows
a changing background yet does not climb into a greeting that has short pauses between words.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class VadParams:
    margin_db: float = 7.0  # speech is this far above the floor...
    fricative_margin_db: float = 5.0  # ...or this far when the frame is noisy-hissy (high ZCR)
    fricative_zcr: float = 0.35
    min_speech_db: float = -55.0  # nothing quieter than this is speech
    window_frames: int = 100  # the floor is the quietest frame of the last 2 s (in whole blocks)


class Vad:
    """Streaming VAD: feed per-frame levels a block at a time, get a speech flag per frame."""

    def __init__(self, params: VadParams | None = None) -> None:
        self.params = params or VadParams()
        self._block_minimums: deque[tuple[float, int]] = deque()  # (quietest frame, frames) per block
        self._frames = 0

    @property
    def floor_db(self) -> float:
        """The current noise floor estimate in dBFS (-100 before any audio)."""
        return min(level for level, _ in self._block_minimums) if self._block_minimums else -100.0

    def update(self, energy_db: np.ndarray, zcr: np.ndarray) -> np.ndarray:
        """Flags (bool per frame) for one block; the block's own minimum updates the floor first."""
        p = self.params
        self._block_minimums.append((float(energy_db.min()), len(energy_db)))
        self._frames += len(energy_db)
        while self._frames - self._block_minimums[0][1] >= p.window_frames:
            self._frames -= self._block_minimums.popleft()[1]
        floor = self.floor_db
        loud = energy_db > floor + p.margin_db
        hiss = (energy_db > floor + p.fricative_margin_db) & (zcr > p.fricative_zcr)
        return (loud | hiss) & (energy_db > p.min_speech_db)
