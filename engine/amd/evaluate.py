"""Scoring a detector on labelled recordings: accuracy, confusion matrix, humans lost, timing.

Labels come from a folder with `human/` and `machine/` subfolders, or from a CSV with columns
`path` and `label` (and optionally `kind`), paths relative to the CSV. "unknown" counts as
human, because that is what the dialer does with it.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from engine.amd.decision import Decision
from engine.amd.frames import split_frames
from engine.amd.source import AudioFileError, read_audio

TRUTHS = ("human", "machine")
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".r8", ".raw", ".sln")


class Detector(Protocol):
    """What both StreamingDetector and the AppAmd baseline are."""

    def feed(self, frame: np.ndarray) -> Decision | None: ...

    def finish(self) -> Decision: ...


def reason_code(reason: str) -> str:
    """A reason without its details: "fingerprint:x" -> "fingerprint", "unreachable:sit" stays."""
    parts = reason.split(":")
    if parts[0][:1].isupper():
        return parts[0].split("-")[0]  # app_amd's AMDCAUSE, e.g. "HUMAN-800-800"
    return ":".join(parts[:2]) if parts[0] == "unreachable" else parts[0]


@dataclass(frozen=True, slots=True)
class LabelledFile:
    path: Path
    label: str
    kind: str = ""


@dataclass(frozen=True, slots=True)
class Result:
    item: LabelledFile
    decision: Decision

    @property
    def predicted(self) -> str:
        return "machine" if self.decision.label == "machine" else "human"

    @property
    def correct(self) -> bool:
        return self.predicted == self.item.label


@dataclass
class Report:
    results: list[Result]
    problems: list[str] = field(default_factory=list)

    def _count(self, truth: str, label: str | None = None) -> int:
        return sum(1 for r in self.results if r.item.label == truth and (label is None or r.decision.label == label))

    @property
    def accuracy(self) -> float:
        return sum(r.correct for r in self.results) / len(self.results) if self.results else 0.0

    @property
    def humans_as_machines(self) -> float:
        humans = self._count("human")
        return self._count("human", "machine") / humans if humans else 0.0

    @property
    def machines_found(self) -> float:
        machines = self._count("machine")
        return self._count("machine", "machine") / machines if machines else 0.0

    def confusion(self) -> dict[str, dict[str, int]]:
        """truth -> decision label -> count."""
        return {truth: {label: self._count(truth, label) for label in ("human", "machine", "unknown")}
                for truth in TRUTHS}

    def decision_ms(self, percentile: float) -> float:
        times = [r.decision.decision_ms for r in self.results]
        return float(np.percentile(times, percentile)) if times else 0.0

    def by_kind(self) -> dict[str, tuple[int, int]]:
        """kind -> (correct, total), for manifests that name kinds."""
        totals: Counter[str] = Counter()
        correct: Counter[str] = Counter()
        for r in self.results:
            if r.item.kind:
                totals[r.item.kind] += 1
                correct[r.item.kind] += r.correct
        return {kind: (correct[kind], totals[kind]) for kind in sorted(totals)}

    def reasons(self) -> Counter[str]:
        """How many decisions each kind of evidence made ("fingerprint", "unreachable:sit", ...)."""
        return Counter(reason_code(r.decision.reason) for r in self.results)

    def summary(self) -> dict[str, object]:
        return {
            "files": len(self.results), "accuracy": round(self.accuracy, 4),
            "humans_as_machines": round(self.humans_as_machines, 4),
            "machines_found": round(self.machines_found, 4),
            "decision_ms_p50": self.decision_ms(50), "decision_ms_p90": self.decision_ms(90),
            "decision_ms_p99": self.decision_ms(99), "confusion": self.confusion(),
        }

    def format(self) -> str:
        s = self.summary()
        lines = [
            f"files {s['files']}  accuracy {s['accuracy']:.2%}  humans taken for machines "
            f"{s['humans_as_machines']:.2%}  machines found {s['machines_found']:.2%}",
            f"decision time ms: p50 {s['decision_ms_p50']:.0f}  p90 {s['decision_ms_p90']:.0f}  "
            f"p99 {s['decision_ms_p99']:.0f}",
            "confusion (rows truth, columns decision):   human  machine  unknown",
        ]
        for truth, row in self.confusion().items():
            lines.append(f"  {truth:<8}{row['human']:>37}{row['machine']:>9}{row['unknown']:>9}")
        if self.by_kind():
            lines.append("by kind: " + ", ".join(f"{k} {c}/{t}" for k, (c, t) in self.by_kind().items()))
        lines.append("reasons: " + ", ".join(f"{k} {v}" for k, v in self.reasons().most_common()))
        lines.extend(f"skipped: {problem}" for problem in self.problems)
        return "\n".join(lines)


def labelled_files(source: str | Path) -> tuple[list[LabelledFile], list[str]]:
    """The labelled files of a folder (human/, machine/) or CSV, and the problems met on the way."""
    source = Path(source)
    if source.is_dir():
        manifest = source / "labels.csv"
        if manifest.exists():
            return _from_csv(manifest)
        items = [LabelledFile(path, truth) for truth in TRUTHS if (source / truth).is_dir()
                 for path in sorted((source / truth).iterdir()) if path.suffix.lower() in AUDIO_SUFFIXES]
        if not items:
            return [], [f"{source}: no audio under {source}/human/ or {source}/machine/"]
        return items, []
    if source.suffix.lower() == ".csv":
        return _from_csv(source)
    return [], [f"{source}: neither a folder with human/ and machine/ nor a CSV file"]


def _from_csv(path: Path) -> tuple[list[LabelledFile], list[str]]:
    items: list[LabelledFile] = []
    problems: list[str] = []
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = {"path", "label"} - set(reader.fieldnames or ())
        if missing:
            return [], [f"{path}: missing column(s) {', '.join(sorted(missing))}"]
        for line, row in enumerate(reader, start=2):
            label = (row.get("label") or "").strip().lower()
            file = (row.get("path") or "").strip()
            if label not in TRUTHS:
                problems.append(f"{path}:{line}: field label: {label!r} is not human or machine")
            elif not file:
                problems.append(f"{path}:{line}: field path is empty")
            elif not (path.parent / file).is_file():
                problems.append(f"{path}:{line}: field path: {file} does not exist")
            else:
                items.append(LabelledFile(path.parent / file, label, (row.get("kind") or "").strip()))
    return items, problems


def run_detector(detector: Detector, frames: Iterable[np.ndarray]) -> Decision:
    """Feed frames until the detector decides or the audio ends."""
    for frame in frames:
        decision = detector.feed(frame)
        if decision is not None:
            return decision
    return detector.finish()


def evaluate(items: list[LabelledFile], make_detector: Callable[[], Detector],
             problems: list[str] | None = None) -> Report:
    report = Report([], list(problems or []))
    for item in items:
        try:
            pcm = read_audio(item.path)
        except AudioFileError as exc:
            report.problems.append(str(exc))
            continue
        report.results.append(Result(item, run_detector(make_detector(), split_frames(pcm))))
    return report
