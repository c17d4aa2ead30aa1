"""Cadence of the greeting, as Asterisk's app_amd sees it, from per-frame VAD flags.

A *word* is a run of speech frames at least `min_word_ms` long; gaps shorter than
`between_words_ms` do not split a word. Everything is counted in whole 20 ms frames.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.amd.frames import FRAME_MS

CADENCE_FEATURES = (
    "elapsed_ms", "initial_silence_ms", "voiced_ms", "greeting_ms", "words",
    "longest_word_ms", "trailing_silence_ms", "longest_pause_ms", "voiced_ratio",
)


@dataclass(slots=True)
class Cadence:
    """Running cadence counters (all durations in ms)."""

    min_word_ms: int = 100
    between_words_ms: int = 100
    elapsed_ms: int = 0
    speech_started_ms: int | None = None  # start of the first word
    voiced_ms: int = 0  # speech frames since the first word started
    words: int = 0
    longest_word_ms: int = 0
    longest_pause_ms: int = 0  # longest silence between words
    run_ms: int = 0  # current speech run, gaps shorter than between_words_ms included
    silence_ms: int = 0  # current silence run
    _run_counted: bool = False

    def update(self, speech: np.ndarray) -> None:
        """Advance by one flag per 20 ms frame."""
        for flag in speech.tolist():
            self._step(flag)

    def _step(self, speech: bool) -> None:
        self.elapsed_ms += FRAME_MS
        if speech:
            if self.silence_ms >= self.between_words_ms:
                if self.words:
                    self.longest_pause_ms = max(self.longest_pause_ms, self.silence_ms)
                self.run_ms = 0
                self._run_counted = False
            self.run_ms += self.silence_ms if self.run_ms else 0  # short gap stays inside the word
            self.silence_ms = 0
            self.run_ms += FRAME_MS
            if self.speech_started_ms is not None:
                self.voiced_ms += FRAME_MS
            if self.run_ms >= self.min_word_ms and not self._run_counted:
                self._run_counted = True
                self.words += 1
                if self.speech_started_ms is None:
                    self.speech_started_ms = self.elapsed_ms - self.run_ms
                    self.voiced_ms = self.run_ms
            if self._run_counted:
                self.longest_word_ms = max(self.longest_word_ms, self.run_ms)
        else:
            self.silence_ms += FRAME_MS

    @property
    def in_greeting(self) -> bool:
        return self.speech_started_ms is not None

    @property
    def initial_silence_ms(self) -> int:
        return self.elapsed_ms if self.speech_started_ms is None else self.speech_started_ms

    @property
    def greeting_ms(self) -> int:
        """From the start of the first word to the end of the last speech frame."""
        if self.speech_started_ms is None:
            return 0
        return self.elapsed_ms - self.silence_ms - self.speech_started_ms

    @property
    def trailing_silence_ms(self) -> int:
        """Silence since the greeting's last speech (0 before the greeting)."""
        return self.silence_ms if self.in_greeting else 0

    def vector(self) -> list[float]:
        """The values named by CADENCE_FEATURES."""
        greeting = self.greeting_ms
        return [
            float(self.elapsed_ms), float(self.initial_silence_ms), float(self.voiced_ms),
            float(greeting), float(self.words), float(self.longest_word_ms),
            float(self.trailing_silence_ms), float(self.longest_pause_ms),
            self.voiced_ms / greeting if greeting else 0.0,
        ]
