import json

import soundfile as sf
from click.testing import CliRunner

from engine.cli import main

from .conftest import pcm, silence, tone


def test_corpus_fingerprint_classify_and_eval_commands(tmp_path, phrases) -> None:  # type: ignore[no-untyped-def]
    runner = CliRunner()
    corpus = tmp_path / "corpus"
    result = runner.invoke(main, ["amd", "corpus", "generate", str(corpus), "--seed", "3", "--count", "4", "--test-count", "2"])
    assert result.exit_code == 0, result.output
    assert "train: 4 clips" in result.output and len(list((corpus / "known").glob("*.wav"))) == 6
    assert runner.invoke(main, ["amd", "corpus", "generate", str(corpus)]).exit_code != 0  # never overwrites

    db = tmp_path / "fp" / "known.npz"
    announcement = tmp_path / "announcement.wav"
    sf.write(announcement, pcm(phrases["ru-operator"]), 8000, subtype="PCM_16")
    result = runner.invoke(main, ["amd", "fingerprint", "add", str(announcement), "--label", "unreachable", "--db", str(db)])
    assert result.exit_code == 0, result.output
    listing = runner.invoke(main, ["amd", "fingerprint", "list", "--db", str(db)])
    assert listing.output.startswith("announcement\tunreachable\t")

    beep = tmp_path / "beep.wav"
    sf.write(beep, pcm(silence(300), tone(1000, 600), silence(1000)), 8000, subtype="PCM_16")
    result = runner.invoke(main, ["amd", "classify", str(beep)])
    assert result.exit_code == 0, result.output
    fields = result.output.strip().split("\t")
    assert fields[1:3] == ["machine", "beep"] and fields[3].endswith("ms")

    result = runner.invoke(main, ["amd", "eval", str(corpus / "test"), "--detector", "app_amd", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["detector"] == "app_amd" and summary["files"] == 2


def test_classify_reports_a_bad_file_and_fails(tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.wav"
    bad.write_text("junk")
    result = CliRunner().invoke(main, ["amd", "classify", "--detector", "app_amd", str(bad)])
    assert result.exit_code == 1 and "bad.wav" in result.output and "cannot read audio" in result.output
