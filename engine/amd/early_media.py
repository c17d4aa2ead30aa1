"""Early media: what the network plays while a call rings (183 Session Progress with audio).

Only network verdicts count before an answer: a SIT sequence or a fingerprint of a known
announcement ("the number you have dialled is not in service") means the subscriber cannot be
reached. Ringback, music and anything else the detector might take for a beep or a greeting is
ignored: the watch starts a fresh detector and keeps listening until the audio ends.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path

import numpy as np

from engine import amd
from engine.amd.decision import Decision
from engine.amd.detector import StreamingDetector
from engine.amd.fingerprint import FingerprintDB

LISTEN_S = 30.0  # one detector's budget; a fresh one follows (rings last up to a few minutes)


@functools.lru_cache(maxsize=4)
def _fingerprints(path: Path) -> FingerprintDB | None:
    return FingerprintDB.load(path) if path.exists() else None


def early_media_detector() -> StreamingDetector:
    """A detector with the shipped fingerprints (loaded once) and no classifier: ringing is no
    greeting, and the watch then works even without a trained model."""
    fingerprints = _fingerprints(amd.MODELS_DIR / amd.FINGERPRINT_FILE)
    return StreamingDetector(model=None, fingerprints=fingerprints, budget_s=LISTEN_S)


def watch_early_media(frames: Iterable[np.ndarray],
                      make_detector: Callable[[], StreamingDetector] = early_media_detector
                      ) -> Decision | None:
    """The first "unreachable" verdict on ringing-phase audio (``decision_ms`` counted from the
    first frame), or None when the audio ends without one."""
    detector = make_detector()
    heard_ms = 0  # audio before the current detector started
    for frame in frames:
        decision = detector.feed(frame)
        if decision is None:
            continue
        if decision.unreachable:
            return replace(decision, decision_ms=heard_ms + decision.decision_ms)
        heard_ms += decision.decision_ms
        detector = make_detector()
    last = detector.finish()  # the audio ended: what the last partial block shows
    return replace(last, decision_ms=heard_ms + last.decision_ms) if last.unreachable else None
