"""Training: checkpoint features of labelled clips, a gradient-boosted model, tuned thresholds.

Clips are put into cross-validation folds by text (a manifest's `text` column, or the file
name for plain folders), so thresholds are tuned on greetings the scoring model did not fit.
Thresholds are chosen by
replaying each validation clip's checkpoints through the detector's own decision rules:
among the settings that keep humans taken for machines within `max_human_loss`, the one
with the fastest median decision whose accuracy is within `accuracy_slack` of the best.
"""

from __future__ import annotations

import csv
import itertools
import zlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from threadpoolctl import threadpool_limits

from engine.amd.classifier import (
    CHECKPOINT_MS, FEATURE_NAMES, AmdModel, Thresholds, budget_verdict, checkpoint_verdict,
)
from engine.amd.detector import StreamingDetector
from engine.amd.evaluate import LabelledFile, Report, run_detector
from engine.amd.fingerprint import FingerprintDB
from engine.amd.frames import split_frames
from engine.amd.source import read_audio

_ELAPSED = FEATURE_NAMES.index("elapsed_ms")
_TRAILING = FEATURE_NAMES.index("trailing_silence_ms")
_NEVER = Thresholds(machine=2.0, human=-1.0, budget_machine=2.0)
ESTIMATOR_PARAMS = {"max_iter": 200, "learning_rate": 0.08, "max_leaf_nodes": 15, "max_depth": 6,
                    "l2_regularization": 1.0}
MAX_HUMAN_LOSS = 0.005
ACCURACY_SLACK = 0.0  # accuracy given up, at most, for a faster median decision


class _Recorder:
    """Stands in for a model while features are collected: records vectors, never decides."""

    thresholds = _NEVER

    def __init__(self) -> None:
        self.vectors: list[np.ndarray] = []

    def p_machine(self, vector: np.ndarray) -> float:
        self.vectors.append(vector)
        return 0.5


@dataclass
class ClipTrace:
    """What the detector saw in one clip: checkpoint vectors and any decision made without the model."""

    item: LabelledFile
    group: str
    vectors: np.ndarray  # (checkpoints, features)
    evidence: tuple[str, int] | None  # (label, decision_ms) from SIT, fingerprint or beep


def trace_clip(item: LabelledFile, group: str, fingerprints: FingerprintDB | None, budget_s: float) -> ClipTrace:
    recorder = _Recorder()
    detector = StreamingDetector(model=recorder, fingerprints=fingerprints, budget_s=budget_s)  # type: ignore[arg-type]
    decision = run_detector(detector, split_frames(read_audio(item.path)))
    undecided = decision.label == "unknown"
    evidence = None if undecided else (decision.label, decision.decision_ms)
    vectors = np.array(recorder.vectors) if recorder.vectors else np.zeros((0, len(FEATURE_NAMES)))
    return ClipTrace(item, group, vectors, evidence)


def replay(trace: ClipTrace, p: np.ndarray, t: Thresholds, budget_ms: int) -> tuple[str, int]:
    """The (label, decision_ms) the detector would give with thresholds t."""
    for vector, p_machine in zip(trace.vectors, p):
        at = int(vector[_ELAPSED])
        if trace.evidence and trace.evidence[1] <= at:
            break
        verdict = checkpoint_verdict(float(p_machine), int(vector[_TRAILING]), t)
        if verdict:
            return verdict[0], at
    if trace.evidence:
        return trace.evidence
    label = budget_verdict(float(p[-1]) if len(p) else None, t if len(p) else None)[0]
    return label, budget_ms


def score(traces: list[ClipTrace], probabilities: list[np.ndarray], t: Thresholds, budget_ms: int) -> tuple[float, float, float]:
    """(accuracy, share of humans taken for machines, median decision ms)."""
    outcomes = [replay(trace, p, t, budget_ms) for trace, p in zip(traces, probabilities)]
    truths = [trace.item.label for trace in traces]
    correct = sum((label == "machine") == (truth == "machine") for (label, _), truth in zip(outcomes, truths))
    humans = [label for (label, _), truth in zip(outcomes, truths) if truth == "human"]
    loss = sum(label == "machine" for label in humans) / max(len(humans), 1)
    return correct / len(traces), loss, float(np.median([ms for _, ms in outcomes]))


def tune(traces: list[ClipTrace], probabilities: list[np.ndarray], budget_ms: int, max_human_loss: float,
         accuracy_slack: float = 0.0) -> tuple[Thresholds, tuple[float, float, float]]:
    never = 2.0  # a probability threshold no score reaches
    grid = itertools.product((0.8, 0.9, 0.95, 0.98, 0.99, 0.995, never), (0.02, 0.05, 0.1, 0.2, 0.3),
                             (200, 400, 600), (0.5, 0.7, 0.9, 0.95, never))
    candidates = []
    for machine, human, silence_ms, budget_machine in grid:
        t = Thresholds(machine, human, silence_ms, budget_machine)
        result = score(traces, probabilities, t, budget_ms)
        if result[1] <= max_human_loss:
            candidates.append((t, result))
    if not candidates:
        raise RuntimeError(f"no thresholds keep humans taken for machines within {max_human_loss:.1%}")
    best = max(result[0] for _, result in candidates)
    return min((c for c in candidates if c[1][0] >= best - accuracy_slack), key=lambda c: (c[1][2], -c[1][0]))


def corpus_items(corpus_dir: Path, split: str = "train") -> list[tuple[LabelledFile, str]]:
    """(file, group) pairs of a corpus split; the group is the spoken text, for splitting by text."""
    with (corpus_dir / "manifest.csv").open(newline="", encoding="utf-8") as handle:
        rows = [row for row in csv.DictReader(handle) if row["split"] == split]
    return [(LabelledFile(corpus_dir / row["path"], row["label"], row["kind"]), row["text"]) for row in rows]


def fit(items: list[tuple[LabelledFile, str]], fingerprints: FingerprintDB | None, budget_s: float = 3.0,
        max_human_loss: float = MAX_HUMAN_LOSS, accuracy_slack: float = ACCURACY_SLACK, seed: int = 0,
        folds: int = 5) -> tuple[AmdModel, dict[str, object]]:
    """Train a model on (file, group) pairs; returns it and its cross-validated figures.

    Clips are put in folds by group (text); every clip is scored by a model fitted on the other
    folds, thresholds are tuned on those out-of-fold scores, and the final model is fitted on all.
    """
    traces = [trace_clip(item, group, fingerprints, budget_s) for item, group in items]
    fold_of = [zlib.crc32(t.group.encode()) % folds for t in traces]
    if len(set(fold_of)) < 2:
        raise ValueError("too few distinct greetings to cross-validate; add recordings with other texts")
    probabilities: list[np.ndarray] = [np.zeros(0)] * len(traces)
    with threadpool_limits(1):
        for fold in sorted(set(fold_of)):
            estimator = _fit_estimator([t for t, f in zip(traces, fold_of) if f != fold], seed)
            for i, trace in enumerate(traces):
                if fold_of[i] == fold and len(trace.vectors):
                    probabilities[i] = estimator.predict_proba(trace.vectors)[:, 1]
        final = _fit_estimator(traces, seed)
    thresholds, (accuracy, loss, median_ms) = tune(traces, probabilities, int(budget_s * 1000), max_human_loss,
                                                   accuracy_slack)
    figures = {"clips": len(traces), "checkpoints": int(sum(len(t.vectors) for t in traces)),
               "cv_accuracy": accuracy, "cv_humans_as_machines": loss, "cv_median_ms": median_ms,
               "max_human_loss": max_human_loss, "accuracy_slack": accuracy_slack}
    return AmdModel(final, thresholds), figures


def _fit_estimator(traces: list[ClipTrace], seed: int) -> HistGradientBoostingClassifier:
    x = np.vstack([t.vectors for t in traces if len(t.vectors)])
    y = np.concatenate([np.full(len(t.vectors), t.item.label == "machine") for t in traces])
    return HistGradientBoostingClassifier(**ESTIMATOR_PARAMS, random_state=seed).fit(x, y)


def train_and_report(corpus: Path, out: Path, budget_s: float = 3.0, accuracy_slack: float = ACCURACY_SLACK) -> str:
    """Fit on a corpus's train split (or a labelled folder), save the model, write the model card."""
    from engine.amd import FINGERPRINT_FILE, MODEL_FILE
    from engine.amd.app_amd import AppAmd
    from engine.amd.evaluate import evaluate, labelled_files

    if (corpus / "manifest.csv").exists():
        items, test = corpus_items(corpus, "train"), [item for item, _ in corpus_items(corpus, "test")]
    else:
        files, problems = labelled_files(corpus)
        if problems:
            raise ValueError("; ".join(problems))
        items, test = [(item, item.path.stem) for item in files], []
    db_path = out / FINGERPRINT_FILE
    db = FingerprintDB.load(db_path) if db_path.exists() else None
    model, figures = fit(items, db, budget_s, accuracy_slack=accuracy_slack)
    model.trained_on = str(corpus)
    out.mkdir(parents=True, exist_ok=True)
    model.save(out / MODEL_FILE)
    reports = {}
    if test:
        reports["ours"] = evaluate(test, lambda: StreamingDetector(model, db, budget_s))
        reports["app_amd"] = evaluate(test, AppAmd)
    card = model_card(model, figures, [item for item, _ in items], reports, budget_s)
    (out / "MODEL_CARD.md").write_text(card, encoding="utf-8")
    return card


def model_card(model: AmdModel, figures: dict[str, object], items: list[LabelledFile],
               reports: dict[str, Report], budget_s: float) -> str:
    kinds = Counter(f"{item.label}/{item.kind}" if item.kind else item.label for item in items)
    t = model.thresholds
    lines = [
        "# AMD classifier: model card", "",
        f"- Created: {model.created}; trained on `{model.trained_on}` with `dialer amd train`.",
        "- Model: scikit-learn HistGradientBoostingClassifier ("
        + ", ".join(f"{k} {v}" for k, v in ESTIMATOR_PARAMS.items())
        + "), evaluated by `CompiledTrees` (same output).",
        f"- Features ({len(FEATURE_NAMES)}), at every {CHECKPOINT_MS} ms checkpoint once the greeting began: "
        "cadence (elapsed, initial silence, voiced, greeting length, words, longest word, trailing "
        "silence, longest pause, voiced ratio), levels (noise floor, speech SNR, spread of speech "
        "level), and means and "
        "deviations over speech frames of 13 MFCCs, their deltas, spectral centroid, flatness, "
        "roll-off and zero-crossing rate.",
        f"- Decision rules (tuned on out-of-fold scores: at most {figures['max_human_loss']:.1%} humans taken "
        f"for machines, then the fastest median decision within {figures['accuracy_slack']:.0%} of the best "
        f"accuracy): machine when P >= {t.machine}; human when "
        f"P <= {t.human} after {t.human_silence_ms} ms of silence; at the {budget_s:g} s budget machine "
        f"when P >= {t.budget_machine}, else unknown (the dialer treats it as human). SIT tones, "
        "fingerprint matches and beeps decide before the model.",
        "", "## Data", "",
        f"{len(items)} training clips: " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())) + ".",
        "Synthetic 8 kHz G.711 clips from `dialer amd corpus generate` (espeak-ng voices, sox, noise); "
        "the held-out split uses other texts, names and voice variants.",
        "", "## Cross-validated on the training clips (5 folds by text)", "",
        f"accuracy {figures['cv_accuracy']:.2%}, humans taken for machines "
        f"{figures['cv_humans_as_machines']:.2%}, median decision {figures['cv_median_ms']:.0f} ms",
    ]
    for name, report in reports.items():
        lines += ["", f"## Held-out test split: {name}", "", "```", report.format(), "```"]
    lines += ["", "## Limits", "",
              "Trained on synthetic speech only: real recordings differ (voices, codecs, line noise). "
              "Long human greetings that are still going at the budget and short voicemail greetings "
              "without a beep in time are the errors; retrain with labelled real calls "
              "(`dialer amd train FOLDER` with human/ and machine/).", ""]
    return "\n".join(lines)
