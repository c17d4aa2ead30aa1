"""Streams a CSV file into a contact list, chunk by chunk, with rejects and a summary.

Atomicity: each chunk of rows (default 5,000 rows, or fewer when they hold more than
CHUNK_CHARS of text) is written in one transaction, all or nothing;
a crash loses at most the chunk in progress, and running the same import again completes it
(the upsert is idempotent). ``single_transaction=True`` makes the whole file all or nothing,
at the cost of holding the database's write lock for the whole import on SQLite.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from engine.clock import Clock

from .dialect import delimiter_name, sniff_delimiter
from .encoding import EncodingChoice, detect_encoding
from .mapping import Mapping, plan_columns
from .phones import PhoneNormalizer
from .rows import ContactRecord, RowError, RowParser
from .upsert import ContactUpserter

SNIFF_CHARS = 64 << 10
CHUNK_CHARS = 1_000_000  # a chunk also ends at this much text, so wide rows stay bounded
RejectSink = Callable[[int, str, list[str]], None]


class ImportFileError(ValueError):
    """The file as a whole cannot be imported (empty, bad header); nothing was written."""


@dataclass
class ImportSummary:
    rows_read: int = 0
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0

    def line(self) -> str:
        return (f"rows read {self.rows_read}, imported {self.imported}, updated {self.updated}, "
                f"unchanged {self.unchanged}, rejected {self.rejected}")


@dataclass(frozen=True)
class FileFormat:
    encoding: EncodingChoice
    delimiter: str

    def describe(self) -> str:
        return (f"encoding {self.encoding.name} ({self.encoding.reason}), "
                f"delimiter {delimiter_name(self.delimiter)}")


class Importer:
    """One import run; ``summary`` holds the counts so far, also after a crash."""

    def __init__(self, factory: sessionmaker[Session], path: str | Path, *, tenant_id: int,
                 list_id: int, mapping: Mapping, region: str, clock: Clock,
                 chunk_size: int = 5000, single_transaction: bool = False) -> None:
        self.factory = factory
        self.path = Path(path)
        self.mapping = mapping
        self.normalizer = PhoneNormalizer(region)
        self.upserter = ContactUpserter(tenant_id, list_id, clock)
        self.chunk_size = chunk_size
        self.single_transaction = single_transaction
        self.summary = ImportSummary()
        self.format: FileFormat | None = None

    def run(self, on_reject: RejectSink, *, on_header: Callable[[tuple[str, ...], str], None]
            = lambda headers, delimiter: None,
            on_progress: Callable[[int], None] = lambda position: None) -> ImportSummary:
        """Import the file; ``on_reject(line, reason, cells)`` hears of every rejected row."""
        encoding = detect_encoding(self.path, declared=self.mapping.encoding)
        with open(self.path, "rb") as raw:
            text = io.TextIOWrapper(raw, encoding=encoding.name, newline="")
            delimiter = self.mapping.delimiter or sniff_delimiter(text.read(SNIFF_CHARS))
            text.seek(0)
            self.format = FileFormat(encoding, delimiter)
            reader = csv.reader(text, delimiter=delimiter)
            rows = _numbered_rows(reader)
            _, header, error = next(rows, (0, None, "the file is empty (no header line)"))
            if header is None or any("\x00" in cell for cell in header):
                raise ImportFileError(f"{self.path}: {error or 'the header has a NUL byte'}")
            parser = RowParser(plan_columns(self.mapping, header, self.path), self.normalizer)
            on_header(parser.plan.headers, delimiter)
            if self.single_transaction:
                with self.factory.begin() as session:
                    self._import(session, rows, parser, on_reject,
                                 lambda: on_progress(raw.tell()), commit=False)
            else:
                with self.factory() as session:
                    self._import(session, rows, parser, on_reject,
                                 lambda: on_progress(raw.tell()), commit=True)
        return self.summary

    def _import(self, session: Session, rows: Iterator[tuple[int, list[str] | None, str]],
                parser: RowParser, on_reject: RejectSink, progress: Callable[[], None],
                commit: bool) -> None:
        records: list[ContactRecord] = []
        cells: dict[int, list[str]] = {}
        rejects: list[tuple[int, str]] = []
        chars = 0
        for line, row, error in rows:
            self.summary.rows_read += 1
            cells[line] = row or []
            chars += sum(map(len, cells[line]))
            try:
                if row is None:
                    raise RowError(error)
                records.append(parser.parse(row, line))
            except RowError as exc:
                rejects.append((line, str(exc)))
            if len(cells) >= self.chunk_size or chars >= CHUNK_CHARS:
                self._flush(session, records, cells, rejects, on_reject, commit)
                progress()
                chars = 0
        self._flush(session, records, cells, rejects, on_reject, commit)
        progress()

    def _flush(self, session: Session, records: list[ContactRecord],
               cells: dict[int, list[str]], rejects: list[tuple[int, str]],
               on_reject: RejectSink, commit: bool) -> None:
        result = self.upserter.write(session, records)
        if commit:
            session.commit()
        rejects += [(record.line, reason) for record, reason in result.duplicates]
        for line, reason in sorted(rejects):
            on_reject(line, reason, cells[line])
        self.summary.imported += result.imported
        self.summary.updated += result.updated
        self.summary.unchanged += result.unchanged
        self.summary.rejected += len(rejects)
        records.clear()
        cells.clear()
        rejects.clear()


def _numbered_rows(reader: Any) -> Iterator[tuple[int, list[str] | None, str]]:
    """(first line number, cells or None, csv error) per record; blank rows are skipped."""
    start = 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield start, None, f"unreadable row: {exc}"
        else:
            if any(cell.strip() for cell in row):
                yield start, row, ""
        start = reader.line_num + 1
