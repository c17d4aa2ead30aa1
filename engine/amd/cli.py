"""`dialer amd ...`: classify files, evaluate, train, generate the corpus, manage fingerprints."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import click

from engine.amd import FINGERPRINT_FILE, MODELS_DIR

DETECTORS = ("ours", "app_amd")


def _factory(detector: str, models: Path, budget_s: float) -> Callable:  # type: ignore[type-arg]
    if detector == "app_amd":
        from engine.amd.app_amd import AppAmd

        return AppAmd
    from engine.amd import load_default_detector

    try:
        load_default_detector(models, budget_s)
    except (FileNotFoundError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    return lambda: load_default_detector(models, budget_s)


def _common(f):  # type: ignore[no-untyped-def]
    f = click.option("--models", type=click.Path(file_okay=False, path_type=Path), default=MODELS_DIR,
                     show_default=True, help="Folder with the model and fingerprints.")(f)
    f = click.option("--budget", type=click.FloatRange(min=0.1), default=3.0, show_default=True,
                     help="Seconds of audio after which the answer is 'unknown'.")(f)
    return click.option("--detector", type=click.Choice(DETECTORS), default="ours", show_default=True)(f)


@click.group()
def amd() -> None:
    """Answering-machine detection."""


@amd.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_common
def classify(files: tuple[Path, ...], detector: str, budget: float, models: Path) -> None:
    """Print label, reason and decision time for each audio FILE (WAV or raw 8 kHz .r8)."""
    from engine.amd.evaluate import run_detector
    from engine.amd.frames import split_frames
    from engine.amd.source import AudioFileError, read_audio

    make = _factory(detector, models, budget)
    failed = False
    for path in files:
        try:
            decision = run_detector(make(), split_frames(read_audio(path)))
        except AudioFileError as exc:
            click.echo(f"{path}\terror\t{exc}", err=True)
            failed = True
            continue
        beep = f"\tbeep@{decision.beep_at_ms}ms" if decision.beep_at_ms is not None else ""
        click.echo(f"{path}\t{decision.label}\t{decision.reason}\t{decision.decision_ms}ms"
                   f"\tconfidence {decision.confidence:.2f}{beep}")
    if failed:
        raise SystemExit(1)


@amd.command("eval")
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@_common
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
def eval_(source: Path, detector: str, budget: float, models: Path, as_json: bool) -> None:
    """Score a detector on SOURCE: a folder with human/ and machine/, or a CSV (path,label)."""
    from engine.amd.evaluate import evaluate, labelled_files

    items, problems = labelled_files(source)
    if not items:
        raise click.ClickException("; ".join(problems) or f"{source}: no labelled audio")
    report = evaluate(items, _factory(detector, models, budget), problems)
    click.echo(json.dumps({"detector": detector, **report.summary()}) if as_json else report.format())


@amd.command()
@click.argument("corpus", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=MODELS_DIR, show_default=True)
@click.option("--budget", type=click.FloatRange(min=0.1), default=3.0, show_default=True)
@click.option("--accuracy-slack", type=click.FloatRange(0.0, 1.0), default=None,
              help="Accuracy to give up, at most, for a faster median decision (default 0: the most accurate).")
def train(corpus: Path, out: Path, budget: float, accuracy_slack: float | None) -> None:
    """Fit the classifier on CORPUS (a generated corpus, or a folder with human/ and machine/).

    A generated corpus's held-out test split is then scored, with the app_amd baseline too,
    and the figures go into the model card beside the model.
    """
    from engine.amd.train import ACCURACY_SLACK, train_and_report

    try:
        slack = ACCURACY_SLACK if accuracy_slack is None else accuracy_slack
        card = train_and_report(corpus, out, budget, slack)
    except (ValueError, RuntimeError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(card)


@amd.group()
def corpus() -> None:
    """The synthetic corpus."""


@corpus.command("generate")
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--count", type=click.IntRange(min=1), default=1200, show_default=True, help="Training clips.")
@click.option("--test-count", type=click.IntRange(min=0), default=None, help="Held-out clips (default count/3).")
def corpus_generate(out: Path, seed: int, count: int, test_count: int | None) -> None:
    """Write synthetic clips to OUT/{train,test}/{human,machine}/ and the known recordings to OUT/known/."""
    from engine.amd.corpus import CorpusError, generate, write_known

    if (out / "manifest.csv").exists():
        raise click.ClickException(f"{out}/manifest.csv exists; generate into an empty folder")
    try:
        for split, n in (("train", count), ("test", count // 3 if test_count is None else test_count)):
            if n:
                generate(out, seed, n, split)
                click.echo(f"{split}: {n} clips")
        click.echo(f"known: {len(write_known(out))} recordings in {out / 'known'}")
    except CorpusError as exc:
        raise click.ClickException(str(exc)) from exc


@amd.group()
def fingerprint() -> None:
    """The database of known greetings and announcements."""


@fingerprint.command("add")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--label", type=click.Choice(("machine", "unreachable")), required=True,
              help="machine: voicemail, assistant, IVR; unreachable: a network announcement.")
@click.option("--name", default=None, help="Name for a single FILE (default: the file's stem).")
@click.option("--db", "db_path", type=click.Path(dir_okay=False, path_type=Path),
              default=MODELS_DIR / FINGERPRINT_FILE, show_default=True)
def fingerprint_add(files: tuple[Path, ...], label: str, name: str | None, db_path: Path) -> None:
    """Index FILE(s) so that a call playing them is recognised at once."""
    from engine.amd.fingerprint import FingerprintDB
    from engine.amd.source import AudioFileError, read_audio

    if name and len(files) > 1:
        raise click.ClickException("--name goes with a single FILE")
    db = FingerprintDB.load(db_path) if db_path.exists() else FingerprintDB()
    for path in files:
        try:
            db.add(read_audio(path), name or path.stem, label)
        except (AudioFileError, ValueError) as exc:
            raise click.ClickException(f"{path}: {exc}") from exc
    db_path.parent.mkdir(parents=True, exist_ok=True)
    db.save(db_path)
    click.echo(f"{db_path}: {len(db)} recordings, {len(db.hashes)} landmarks")


@fingerprint.command("list")
@click.option("--db", "db_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=MODELS_DIR / FINGERPRINT_FILE, show_default=True)
def fingerprint_list(db_path: Path) -> None:
    """Show the recordings in the database."""
    from engine.amd.fingerprint import FingerprintDB

    for entry in FingerprintDB.load(db_path).entries:
        click.echo(f"{entry['name']}\t{entry['label']}\t{entry['duration_ms']}ms")


# AMD in production (review samples, confusion matrix): engine/amd/production_cli.py
from engine.amd.production_cli import quality, review

amd.add_command(review)
amd.add_command(quality)


