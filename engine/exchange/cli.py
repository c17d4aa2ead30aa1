"""``dialer import`` and ``dialer export``: thin wrappers over the importer and exporters."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import click

from engine.cli import AppContext, pass_app
from engine.clock import SystemClock
from engine.store.db import transaction

from .encoding import EncodingError
from .export import ExportConflict, export_attempts
from .importer import CHUNK_ROWS, Importer, ImportFileError
from .leads import export_leads
from .mapping import Mapping, MappingError, load_mapping
from .rejects import RejectWriter
from .tables import check_format
from .targets import TargetError, ensure_list, resolve_campaign, resolve_tenant

EXIT_OK, EXIT_CRASH, EXIT_USAGE, EXIT_REJECTED = 0, 1, 2, 3
SHOWN_REJECTS = 20
log = logging.getLogger(__name__)


class UsageError(click.ClickException):
    """A bad argument, file or mapping: exit status 2, nothing imported."""

    exit_code = EXIT_USAGE


class RejectReport:
    """Sends rejected rows to the reject file (when given) and the first few to stderr."""

    def __init__(self, reject_file: str | None) -> None:
        self.writer = RejectWriter(reject_file) if reject_file else None
        self.count = 0

    def start(self, headers: tuple[str, ...], delimiter: str) -> None:
        if self.writer is not None:
            self.writer.start(headers, delimiter)

    def __call__(self, line: int, reason: str, cells: list[str]) -> None:
        self.count += 1
        if self.writer is not None:
            self.writer(line, reason, cells)
        elif self.count <= SHOWN_REJECTS:
            click.echo(f"line {line}: {reason}", err=True)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        elif self.count > SHOWN_REJECTS:
            click.echo(f"... and {self.count - SHOWN_REJECTS} more rejected rows "
                       "(use --reject-file to keep them all)", err=True)


@contextmanager
def progress_bar(path: Path) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr when it is a terminal; silent for cron."""
    if not sys.stderr.isatty():
        yield lambda position: None
        return
    with click.progressbar(length=path.stat().st_size, label="importing", file=sys.stderr,
                           show_pos=False) as bar:
        yield lambda position: bar.update(position - bar.pos)


@click.command("import", epilog="""\b
Exit status (for cron jobs):
  0  every row was imported, updated or unchanged
  3  some rows were rejected (the others were imported)
  2  usage or file error (bad option, encoding, header, mapping): nothing imported
  1  crash (e.g. database error): chunks committed before it are kept;
     run the same import again to finish it
""")
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--list", "list_name", required=True, help="Contact list (created when missing).")
@click.option("--campaign", help="Campaign id or name to link a new list to.")
@click.option("--tenant", help="Tenant name (needed when there is more than one).")
@click.option("--mapping", "mapping_path", type=click.Path(dir_okay=False, exists=True),
              help="Column mapping file (YAML); optional when headers use the default names.")
@click.option("--reject-file", type=click.Path(dir_okay=False),
              help="Write rejected rows here (line, reason, original columns).")
@click.option("--region", help="Default phone region, e.g. RU (default: settings).")
@click.option("--chunk-size", default=CHUNK_ROWS, show_default=True,
              type=click.IntRange(1, CHUNK_ROWS),
              help="Rows per transaction (fewer when one has been open for 3 seconds).")
@click.option("--single-transaction", is_flag=True,
              help="Import the whole file in one transaction (all or nothing).")
@pass_app
@click.pass_context
def import_command(ctx: click.Context, app: AppContext, file: Path, list_name: str,
                   campaign: str | None, tenant: str | None, mapping_path: str | None,
                   reject_file: str | None, region: str | None, chunk_size: int,
                   single_transaction: bool) -> None:
    """Import contacts from a CSV FILE into a list: upsert by external id.

    Ends with one line: rows read N, imported N, updated N, unchanged N, rejected N.
    See docs/exchange.md for the columns and the mapping file.
    """
    clock = SystemClock()
    try:
        mapping = load_mapping(mapping_path) if mapping_path else Mapping()
        with transaction(app.sessionmaker) as session:
            owner = resolve_tenant(session, tenant)
            target = resolve_campaign(session, owner, campaign) if campaign else None
            contact_list = ensure_list(session, owner, list_name, target, clock)
            tenant_id, list_id = owner.id, contact_list.id
        importer = Importer(app.sessionmaker, file, tenant_id=tenant_id, list_id=list_id,
                            mapping=mapping, region=region or app.settings.default_region,
                            clock=clock, chunk_size=chunk_size,
                            single_transaction=single_transaction)
    except (MappingError, TargetError, ValueError) as exc:
        raise UsageError(str(exc)) from exc
    report = RejectReport(reject_file)
    try:
        with progress_bar(file) as on_progress:
            summary = importer.run(report, on_header=report.start, on_progress=on_progress)
    except (ImportFileError, EncodingError, MappingError, OSError) as exc:
        raise UsageError(str(exc)) from exc
    except Exception as exc:  # a crash: report what is kept, for the cron job's mail
        log.exception("import of %s crashed", file)
        kept = "nothing was kept" if single_transaction else "earlier chunks were kept"
        click.echo(f"import aborted: {exc.__class__.__name__}: {exc}; {kept}; "
                   f"{importer.summary.line()}", err=True)
        ctx.exit(EXIT_CRASH)
    finally:
        report.close()
    if importer.format is not None:
        click.echo(f"{file}: {importer.format.describe()}", err=True)
    click.echo(summary.line())
    ctx.exit(EXIT_REJECTED if summary.rejected else EXIT_OK)


@click.group("export")
def export_group() -> None:
    """Export call attempts and lead results for a CRM (CSV or XLSX)."""


def _parse_since(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise UsageError(f"--since {value!r} is not an ISO-8601 date or time") from exc
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment


def _checked_out(out: Path) -> Path:
    try:
        check_format(out)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    return out


@export_group.command("attempts", epilog="""\b
Exit status: 0 written, 2 usage error, 1 failure (no file written, cursor unchanged).
""")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Output file, .csv or .xlsx.")
@click.option("--consumer", help="Watermark name: export only attempts ended since its last run.")
@click.option("--since", help="Only attempts ended at or after this UTC time (ISO-8601).")
@click.option("--tenant", help="Only this tenant's attempts.")
@pass_app
def export_attempts_command(app: AppContext, out: Path, consumer: str | None, since: str | None,
                            tenant: str | None) -> None:
    """Export ended call attempts in the order they ended (columns: docs/exchange.md)."""
    moment = _parse_since(since)
    _checked_out(out)
    tenant_id = None
    if tenant is not None:
        with transaction(app.sessionmaker) as session:
            try:
                tenant_id = resolve_tenant(session, tenant).id
            except TargetError as exc:
                raise UsageError(str(exc)) from exc
    try:
        result = export_attempts(app.sessionmaker, out, SystemClock(), consumer=consumer,
                                 since=moment, tenant_id=tenant_id)
    except ExportConflict as exc:
        raise click.ClickException(str(exc)) from exc
    cursor = f" (consumer {consumer} at {result.last_seq})" if consumer else ""
    click.echo(f"exported {result.rows} attempts to {out}{cursor}")


@export_group.command("leads", epilog="""\b
Exit status: 0 written, 2 usage error, 1 failure (no file written).
""")
@click.option("--campaign", required=True, help="Campaign id or name.")
@click.option("--status", "statuses", multiple=True, help="Only leads in this status (repeatable).")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Output file, .csv or .xlsx.")
@click.option("--tenant", help="Tenant name (needed when there is more than one).")
@pass_app
def export_leads_command(app: AppContext, campaign: str, statuses: tuple[str, ...], out: Path,
                         tenant: str | None) -> None:
    """Export the campaign's leads with status, last call and result fields."""
    _checked_out(out)
    with transaction(app.sessionmaker) as session:
        try:
            campaign_id = resolve_campaign(session, resolve_tenant(session, tenant), campaign).id
        except TargetError as exc:
            raise UsageError(str(exc)) from exc
    count = export_leads(app.sessionmaker, out, campaign_id, statuses)
    click.echo(f"exported {count} leads to {out}")
