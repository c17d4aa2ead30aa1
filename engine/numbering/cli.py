"""``dialer numbering-plan load FILE...``: load the regulator's numbering-plan registry files."""

from __future__ import annotations

import sys

import click

from engine.cli import AppContext, pass_app
from engine.store.db import transaction

from .loader import load_registry
from .registry import RegistryFormatError

MAX_ERRORS_SHOWN = 20


@click.group("numbering-plan")
def numbering_plan() -> None:
    """Russian numbering-plan registry (ABC/DEF ranges -> region -> time zone)."""


@numbering_plan.command("load")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@pass_app
def load(app: AppContext, files: tuple[str, ...]) -> None:
    """Load registry CSV FILES; each replaces the ranges loaded before from a file of its name.

    Exit status: 0 all rows loaded, 1 some rows rejected, 2 some file unusable.
    """
    status = 0
    for path in files:
        try:
            with transaction(app.sessionmaker) as session:
                report = load_registry(session, path)
        except RegistryFormatError as exc:
            click.echo(f"error: {exc}", err=True)
            status = 2
            continue
        click.echo(report.summary())
        for error in report.errors[:MAX_ERRORS_SHOWN]:
            click.echo(f"{report.file}: {error}", err=True)
        if len(report.errors) > MAX_ERRORS_SHOWN:
            click.echo(f"{report.file}: ... and {len(report.errors) - MAX_ERRORS_SHOWN} more",
                       err=True)
        if report.rejected:
            status = max(status, 1)
    sys.exit(status)
