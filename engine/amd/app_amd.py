"""Asterisk's app_amd, re-implemented frame for frame as the baseline to beat.

Defaults are those of Asterisk's `apps/app_amd.c` (master branch): dfltInitialSilence 2500,
dfltGreeting 1500, dfltAfterGreetingSilence 800, dfltTotalAnalysisTime 5000,
dfltMinimumWordLength 100, dfltBetweenWordsSilence 50, dfltMaximumNumberOfWords 2 (3 in
releases before Asterisk 1.8.x/11 and in forks such as CallWeaver), dfltSilenceThreshold 256
(from dsp.conf's default), dfltMaximumWordLength 5000. The silence test is that of
`ast_dsp_silence()`: a frame is silent when its mean absolute sample value is below the
threshold, and the detector sees the length of the current silent run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.amd.decision import Decision
from engine.amd.frames import FRAME_MS

_IN_WORD, _IN_SILENCE = 1, 2


@dataclass(frozen=True, slots=True)
class AppAmdParams:
    initial_silence: int = 2500
    greeting: int = 1500
    after_greeting_silence: int = 800
    total_analysis_time: int = 5000
    min_word_length: int = 100
    between_words_silence: int = 50
    maximum_number_of_words: int = 2
    silence_threshold: int = 256
    maximum_word_length: int = 5000


class AppAmd:
    """Streaming app_amd: `feed` 20 ms frames; it returns the Decision once (AMDSTATUS/AMDCAUSE).

    HUMAN maps to "human", MACHINE to "machine", NOTSURE to "unknown"; the reason is AMDCAUSE.
    """

    def __init__(self, params: AppAmdParams | None = None) -> None:
        self.p = params or AppAmdParams()
        self._decision: Decision | None = None
        self._in_initial_silence = True
        self._in_greeting = False
        self._voice = 0
        self._silence = 0
        self._dsp_silence = 0
        self._total = 0
        self._words = 0
        self._state = _IN_WORD
        self._consecutive_voice = 0

    @property
    def decision(self) -> Decision | None:
        return self._decision

    def feed(self, frame: np.ndarray) -> Decision | None:
        if self._decision is not None:
            return None
        self._decision = self._step(frame)
        return self._decision

    def finish(self) -> Decision:
        if self._decision is None:
            self._decision = self._decide("unknown", f"TOOLONG-{self._total}")
        return self._decision

    def _decide(self, label: str, cause: str) -> Decision:
        return Decision(label, cause, 0.0 if label == "unknown" else 1.0, self._total)  # type: ignore[arg-type]

    def _step(self, frame: np.ndarray) -> Decision | None:  # noqa: C901 - mirrors the C loop
        p = self.p
        self._total += FRAME_MS
        if self._total >= p.total_analysis_time:
            return self._decide("unknown", f"TOOLONG-{self._total}")
        if np.abs(frame.astype(np.int32)).mean() < p.silence_threshold:
            self._dsp_silence += FRAME_MS
        else:
            self._dsp_silence = 0
        if self._dsp_silence > 0:
            self._silence = self._dsp_silence
            if self._silence >= p.between_words_silence:
                self._state = _IN_SILENCE
                self._consecutive_voice = 0
            if self._in_initial_silence and self._silence >= p.initial_silence:
                return self._decide("machine", f"INITIALSILENCE-{self._silence}-{p.initial_silence}")
            if self._silence >= p.after_greeting_silence and self._in_greeting:
                return self._decide("human", f"HUMAN-{self._silence}-{p.after_greeting_silence}")
            return None
        self._consecutive_voice += FRAME_MS
        self._voice += FRAME_MS
        if self._consecutive_voice >= p.min_word_length and self._state == _IN_SILENCE:
            self._words += 1
            self._state = _IN_WORD
        if self._consecutive_voice >= p.maximum_word_length:
            return self._decide("machine", f"MAXWORDLENGTH-{self._consecutive_voice}")
        if self._words > p.maximum_number_of_words:
            return self._decide("machine", f"MAXWORDS-{self._words}-{p.maximum_number_of_words}")
        if self._in_greeting and self._voice >= p.greeting:
            return self._decide("machine", f"LONGGREETING-{self._voice}-{p.greeting}")
        if self._voice >= p.min_word_length:
            self._silence = 0
        if self._consecutive_voice >= p.min_word_length and not self._in_greeting:
            self._in_initial_silence = False
            self._in_greeting = True
        return None
