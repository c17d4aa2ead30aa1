"""The learned part: greeting features at checkpoints, and a small scikit-learn model over them.

A checkpoint falls every `CHECKPOINT_MS` of audio once the greeting has begun. At each one the
model gives P(machine | what was heard so far); `AmdModel` keeps the thresholds that turn that
probability into an early decision (they are tuned by train.py on a validation split).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import joblib
import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier

from engine.amd.analysis import BlockAnalysis
from engine.amd.cadence import CADENCE_FEATURES, Cadence
from engine.amd.features import SPECTRAL_FEATURES, SpectralStats
from engine.amd.vad import Vad

CHECKPOINT_MS = 200
LEVEL_FEATURES = ("noise_floor_db", "speech_snr_db", "speech_level_std_db")
FEATURE_NAMES = CADENCE_FEATURES + LEVEL_FEATURES + SPECTRAL_FEATURES
MODEL_FORMAT = 1


class FeatureTracker:
    """VAD, cadence, levels and spectral statistics of one stream, updated a block at a time."""

    def __init__(self) -> None:
        self.vad = Vad()
        self.cadence = Cadence()
        self.spectral = SpectralStats()
        self._speech_db_sum = 0.0
        self._speech_db_sq = 0.0
        self._speech_frames = 0

    def update(self, block: BlockAnalysis) -> None:
        speech = self.vad.update(block.band_db, block.zcr)
        self.cadence.update(speech)
        self.spectral.update(block, speech)
        levels = block.band_db[speech]
        self._speech_db_sum += float(levels.sum())
        self._speech_db_sq += float((levels ** 2).sum())
        self._speech_frames += int(speech.sum())

    @property
    def at_checkpoint(self) -> bool:
        return self.cadence.in_greeting and self.cadence.elapsed_ms % CHECKPOINT_MS == 0

    def vector(self) -> np.ndarray:
        floor, n = self.vad.floor_db, self._speech_frames
        mean = self._speech_db_sum / n if n else floor
        spread = np.sqrt(max(self._speech_db_sq / n - mean ** 2, 0.0)) if n else 0.0  # compressed recordings vary less
        return np.concatenate([self.cadence.vector(), [floor, mean - floor, spread], self.spectral.vector()])


@dataclass
class Thresholds:
    """How P(machine) becomes a decision."""

    machine: float = 0.9  # decide "machine" as soon as P >= this
    human: float = 0.1  # decide "human" when P <= this...
    human_silence_ms: int = 400  # ...and the greeting has been followed by this much silence
    budget_machine: float = 0.7  # at the budget, "machine" if P >= this, else "unknown"


Verdict = tuple[str, str, float]  # label, reason, confidence


def checkpoint_verdict(p_machine: float, trailing_silence_ms: int, t: Thresholds) -> Verdict | None:
    """The early decision at a checkpoint, if the probability is decisive."""
    if p_machine >= t.machine:
        return "machine", "classifier", p_machine
    if p_machine <= t.human and trailing_silence_ms >= t.human_silence_ms:
        return "human", "classifier", 1.0 - p_machine
    return None


def budget_verdict(p_machine: float | None, t: Thresholds | None) -> Verdict:
    """The decision when the budget runs out (p_machine None: no greeting was heard)."""
    if p_machine is not None and t is not None and p_machine >= t.budget_machine:
        return "machine", "classifier:budget", p_machine
    return "unknown", "budget", 0.5


class CompiledTrees:
    """A fitted binary HistGradientBoostingClassifier as flat arrays, for one-row predictions.

    scikit-learn spends ~1 ms validating each predict_proba call, which a detector that asks
    five times a second per stream cannot afford; walking the same trees here gives the same
    probability (tests compare them) far faster. All trees are laid end to end; a leaf points
    to itself, so every tree can take the same number of steps. Features are never missing.
    """

    def __init__(self, estimator: HistGradientBoostingClassifier) -> None:
        trees = [predictors[0].nodes for predictors in estimator._predictors]
        offsets = np.cumsum([0] + [len(tree) for tree in trees[:-1]])
        nodes = np.concatenate(trees)
        base = np.repeat(offsets, [len(tree) for tree in trees])
        own = np.arange(len(nodes))
        leaf = nodes["is_leaf"].astype(bool)
        self.feature = np.where(leaf, 0, nodes["feature_idx"]).astype(np.int64)
        self.threshold = np.where(leaf, np.inf, nodes["num_threshold"])
        self.left = np.where(leaf, own, nodes["left"] + base).astype(np.int64)
        self.right = np.where(leaf, own, nodes["right"] + base).astype(np.int64)
        self.value = np.where(leaf, nodes["value"], 0.0)
        self.roots = offsets.astype(np.int64)
        self.depth = int(max(tree["depth"].max() for tree in trees))
        self.baseline = float(np.ravel(estimator._baseline_prediction)[0])

    def p_machine(self, x: np.ndarray) -> float:
        node = self.roots
        for _ in range(self.depth):
            node = np.where(x[self.feature[node]] <= self.threshold[node], self.left[node], self.right[node])
        raw = self.baseline + float(self.value[node].sum())
        return 1.0 / (1.0 + np.exp(-raw))


@dataclass
class AmdModel:
    """A fitted HistGradientBoostingClassifier (class 1 = machine) and its thresholds."""

    estimator: HistGradientBoostingClassifier
    thresholds: Thresholds = field(default_factory=Thresholds)
    feature_names: tuple[str, ...] = FEATURE_NAMES
    trained_on: str = ""
    created: str = field(default_factory=lambda: dt.date.today().isoformat())
    _compiled: CompiledTrees | None = field(default=None, repr=False, compare=False)

    def p_machine(self, vector: np.ndarray) -> float:
        if self._compiled is None:
            self._compiled = CompiledTrees(self.estimator)
        return self._compiled.p_machine(vector)

    def save(self, path: str | Path) -> None:
        joblib.dump({"format": MODEL_FORMAT, "model": self}, path, compress=3)

    @classmethod
    def load(cls, path: str | Path) -> AmdModel:
        data = joblib.load(path)
        if not isinstance(data, dict) or data.get("format") != MODEL_FORMAT:
            raise ValueError(f"{path}: not an AMD model file of format {MODEL_FORMAT}")
        model = data["model"]
        if tuple(model.feature_names) != FEATURE_NAMES:
            raise ValueError(f"{path}: model was trained on other features; retrain with `dialer amd train`")
        return model
