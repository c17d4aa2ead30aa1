from pathlib import Path

import numpy as np
import soundfile as sf

from engine.amd.decision import Decision
from engine.amd.evaluate import LabelledFile, Report, Result, evaluate, labelled_files, reason_code


def write(path: Path, seconds: float = 0.5) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, np.zeros(int(8000 * seconds), np.int16), 8000, subtype="PCM_16")
    return path


def result(truth: str, label: str, ms: int, reason: str = "classifier") -> Result:
    return Result(LabelledFile(Path(f"{truth}.wav"), truth), Decision(label, reason, 0.9, ms))  # type: ignore[arg-type]


def test_report_counts_unknown_as_human() -> None:
    report = Report([
        result("human", "human", 1000), result("human", "unknown", 3000, "budget"),
        result("human", "machine", 1200), result("machine", "machine", 1400, "unreachable:sit"),
        result("machine", "unknown", 3000, "budget"),
    ])
    assert report.accuracy == 3 / 5
    assert report.humans_as_machines == 1 / 3
    assert report.machines_found == 1 / 2
    assert report.confusion() == {"human": {"human": 1, "machine": 1, "unknown": 1},
                                  "machine": {"human": 0, "machine": 1, "unknown": 1}}
    assert report.decision_ms(50) == 1400
    assert report.reasons() == {"classifier": 2, "budget": 2, "unreachable:sit": 1}
    assert "accuracy 60.00%" in report.format()


def test_reason_codes() -> None:
    assert reason_code("fingerprint:en-x") == "fingerprint"
    assert reason_code("unreachable:fingerprint:ru-y") == "unreachable:fingerprint"
    assert reason_code("MAXWORDS-3-2") == "MAXWORDS"


def test_labels_from_folders(tmp_path) -> None:  # type: ignore[no-untyped-def]
    write(tmp_path / "human" / "a.wav")
    write(tmp_path / "machine" / "b.wav")
    (tmp_path / "machine" / "notes.txt").write_text("ignored")
    items, problems = labelled_files(tmp_path)
    assert [(i.path.name, i.label) for i in items] == [("a.wav", "human"), ("b.wav", "machine")] and not problems
    assert labelled_files(tmp_path / "human")[1]  # no human/ or machine/ inside: a problem, not a crash


def test_labels_from_csv_keep_good_rows_and_name_bad_ones(tmp_path) -> None:  # type: ignore[no-untyped-def]
    write(tmp_path / "x" / "one.wav")
    write(tmp_path / "x" / "two.wav")
    csv = tmp_path / "labels.csv"
    csv.write_text("path,label,kind\nx/one.wav,human,hello\nx/two.wav,Machine,vm\nx/three.wav,human,\nx/one.wav,robot,\n")
    items, problems = labelled_files(csv)
    assert [(i.path.name, i.label, i.kind) for i in items] == [("one.wav", "human", "hello"), ("two.wav", "machine", "vm")]
    assert problems == [f"{csv}:4: field path: x/three.wav does not exist",
                        f"{csv}:5: field label: 'robot' is not human or machine"]
    (tmp_path / "nolabel.csv").write_text("file,label\n")
    assert "missing column(s) path" in labelled_files(tmp_path / "nolabel.csv")[1][0]


def test_evaluate_skips_unreadable_files_and_reports_them(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from engine.amd.app_amd import AppAmd

    good = write(tmp_path / "human" / "quiet.wav", 3.0)
    bad = tmp_path / "human" / "broken.wav"
    bad.write_text("junk")
    report = evaluate([LabelledFile(good, "human"), LabelledFile(bad, "human")], AppAmd)
    assert len(report.results) == 1 and report.results[0].decision.reason == "INITIALSILENCE-2500-2500"
    assert len(report.problems) == 1 and "broken.wav" in report.problems[0]
