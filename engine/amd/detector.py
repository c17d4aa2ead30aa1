"""The streaming detector: 20 ms frames in, at most one Decision out.

Evidence is checked in order of certainty after every block of frames: a SIT sequence
("unreachable"), a fingerprint match of a known recording, a voicemail beep, then the
classifier at each checkpoint (not while a SIT-like tone sounds, so a SIT is reported as such). With no decision by the budget (default 3 s) the result is
"unknown", which the caller treats as human. A stream keeps only running statistics, a few
recent spectral peaks and its fingerprint votes.
"""

from __future__ import annotations

import numpy as np

from engine.amd.analysis import analyse_block
from engine.amd.beep import is_beep, is_sounding_beep
from engine.amd.classifier import AmdModel, FeatureTracker, budget_verdict, checkpoint_verdict
from engine.amd.decision import UNREACHABLE, Decision
from engine.amd.fingerprint import FingerprintDB, FingerprintMatcher
from engine.amd.frames import FRAME_MS, FRAME_SAMPLES
from engine.amd.sit import SitDetector, sounds_like_sit
from engine.amd.tones import ToneSegment, ToneSegmenter

__all__ = ["Decision", "StreamingDetector"]

BLOCK_FRAMES = 10


class StreamingDetector:
    """One call's detector. `feed` frames as they arrive; `finish` when audio ends or time is up."""

    def __init__(self, model: AmdModel | None = None, fingerprints: FingerprintDB | None = None,
                 budget_s: float = 3.0) -> None:
        if budget_s <= 0:
            raise ValueError(f"budget_s must be positive, got {budget_s}")
        self.model = model
        self.budget_ms = int(budget_s * 1000)
        self.features = FeatureTracker()
        self._tones = ToneSegmenter()
        self._sit = SitDetector()
        self._matcher = FingerprintMatcher(fingerprints) if fingerprints is not None and len(fingerprints) else None
        self._block = np.zeros((BLOCK_FRAMES, FRAME_SAMPLES), np.int16)
        self._filled = 0
        self._elapsed = 0
        self._p_machine = 0.0
        self.beep_at_ms: int | None = None
        self.decision: Decision | None = None

    def feed(self, frame: np.ndarray) -> Decision | None:
        """Add one 160-sample int16 frame; returns the Decision at the moment it is made, else None."""
        if frame.shape != (FRAME_SAMPLES,):
            raise ValueError(f"a frame is {FRAME_SAMPLES} samples of 8 kHz audio, got shape {frame.shape}")
        if self.decision is not None:
            return None
        self._block[self._filled] = frame
        self._filled += 1
        if self._filled == BLOCK_FRAMES:
            return self._process()
        return None

    def finish(self) -> Decision:
        """The decision, made now from what was heard if none was made yet."""
        if self.decision is None and self._filled:
            self._process()
        if self.decision is None:
            if not self._elapsed:
                reason = "no-audio"
            else:
                reason = "budget" if self._elapsed >= self.budget_ms else "audio-ended"
            self._decide("unknown", reason, 0.5)
        assert self.decision is not None
        return self.decision

    def _process(self) -> Decision | None:
        block = analyse_block(self._block[:self._filled])
        self._elapsed += self._filled * FRAME_MS
        self._filled = 0
        segments = self._tones.update(block)
        if self.beep_at_ms is None:
            self.beep_at_ms = self._beep_end(segments)
        if self._sit.update(segments):
            return self._decide("machine", f"{UNREACHABLE}:sit", 0.99)
        if self._matcher is not None:
            match = self._matcher.update(block, self._elapsed)
            if match is not None:
                prefix = f"{UNREACHABLE}:" if match.label == UNREACHABLE else ""
                return self._decide("machine", f"{prefix}fingerprint:{match.name}", 0.99)
        if self.beep_at_ms is not None:
            return self._decide("machine", "beep", 0.95)
        self.features.update(block)
        sounding = self._tones.current()
        sit_under_way = any(sounds_like_sit(s) for s in [*segments, *([sounding] if sounding else [])])
        decision = None if sit_under_way else self._classify()
        if decision is None and self._elapsed >= self.budget_ms:
            return self._at_budget()
        return decision

    def _beep_end(self, closed: list[ToneSegment]) -> int | None:
        ended = next((segment.end_ms for segment in closed if is_beep(segment)), None)
        sounding = self._tones.current()
        if ended is None and sounding is not None and is_sounding_beep(sounding):
            return sounding.end_ms
        return ended

    def _classify(self) -> Decision | None:
        if self.model is None or not self.features.at_checkpoint:
            return None
        self._p_machine = p = self.model.p_machine(self.features.vector())
        verdict = checkpoint_verdict(p, self.features.cadence.trailing_silence_ms, self.model.thresholds)
        return self._decide(*verdict) if verdict else None

    def _at_budget(self) -> Decision:
        if self.model is not None and self.features.cadence.in_greeting:
            return self._decide(*budget_verdict(self._p_machine, self.model.thresholds))
        return self._decide(*budget_verdict(None, None))

    def _decide(self, label: str, reason: str, confidence: float) -> Decision:
        self.decision = Decision(label, reason, round(float(confidence), 3), self._elapsed, self.beep_at_ms)  # type: ignore[arg-type]
        return self.decision
