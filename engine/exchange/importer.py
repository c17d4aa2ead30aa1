"""Streams a CSV file into a contact list, chunk by chunk, with rejects and a summary.

Atomicity: each chunk of rows (default 100,000 rows, or fewer when its transaction has been
open for TRANSACTION_SECONDS) is written in one transaction, all or nothing; a crash loses at
most the chunk in progress, and running the same import again completes it (the upsert is
idempotent). ``single_transaction=True`` makes the whole file all or nothing, at the cost of
holding the database's write lock for the whole import on SQLite. The file is parsed and
handed to the writer in smaller pieces (``chunks.Chunk``: at most PIECE_ROWS rows or
chunks.CHUNK_CHARS of text), so memory stays bounded whatever the chunk size; fewer, larger
transactions write each hot index page (a random phone number's) to SQLite's log fewer times.
"""

from __future__ import annotations

import csv
import gc
import io
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from engine.clock import Clock

from .chunks import CHUNK_CHARS, Chunk, in_worker, numbered_rows, read_chunks
from .dialect import delimiter_name, sniff_delimiter
from .encoding import EncodingChoice, detect_encoding
from .mapping import Mapping, plan_columns
from .phones import PhoneNormalizer
from .rows import RowParser
from .upsert import ChunkResult, ContactUpserter

SNIFF_CHARS = 64 << 10
PARALLEL_BYTES = 4 << 20  # from this file size on, rows are parsed in a second process
CHUNK_ROWS = 100_000  # rows per transaction, by default and at most
PIECE_ROWS = 20_000  # rows per parsed piece handed to the writer
# A transaction is committed once open this long, so that other writers (the dialer) never
# wait long for SQLite's write lock.
TRANSACTION_SECONDS = 3.0
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

    def add(self, other: ImportSummary) -> None:
        self.rows_read += other.rows_read
        self.imported += other.imported
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.rejected += other.rejected


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
                 chunk_size: int = CHUNK_ROWS, single_transaction: bool = False,
                 parallel: bool | None = None) -> None:
        self.factory = factory
        self.path = Path(path)
        self.mapping = mapping
        self.normalizer = PhoneNormalizer(region)
        self.upserter = ContactUpserter(tenant_id, list_id, clock)
        self.clock = clock
        self.chunk_size = chunk_size
        self.single_transaction = single_transaction
        self.parallel = parallel  # parse in a second process; None: for files of PARALLEL_BYTES
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
            rows = numbered_rows(reader)
            _, header, error = next(rows, (0, None, "the file is empty (no header line)"))
            if header is None or any("\x00" in cell for cell in header):
                raise ImportFileError(f"{self.path}: {error or 'the header has a NUL byte'}")
            parser = RowParser(plan_columns(self.mapping, header, self.path), self.normalizer)
            on_header(parser.plan.headers, delimiter)
            chunks = read_chunks(rows, parser, raw, min(self.chunk_size, PIECE_ROWS))
            parallel = (self.parallel if self.parallel is not None
                        else self.path.stat().st_size >= PARALLEL_BYTES)
            with frozen_heap(), closing(in_worker(chunks) if parallel else chunks) as source:
                if self.single_transaction:
                    with self.factory.begin() as session:
                        self._import(session, source, on_reject, on_progress, commit=False)
                else:
                    with self.factory() as session:
                        self._import(session, source, on_reject, on_progress, commit=True)
        return self.summary

    def _import(self, session: Session, chunks: Iterator[Chunk], on_reject: RejectSink,
                on_progress: Callable[[int], None], commit: bool) -> None:
        """Write the pieces; with ``commit``, one transaction per chunk of pieces."""
        pending = _Pending()
        opened = self.clock.monotonic()
        for chunk in chunks:
            pending.add(chunk, self.upserter.write(session, chunk.records))
            if commit and not pending.due(self.chunk_size, self.clock.monotonic() - opened):
                continue
            self._settle(session, pending, on_reject, on_progress, commit)
            pending = _Pending()
            opened = self.clock.monotonic()
        if pending.pieces:
            self._settle(session, pending, on_reject, on_progress, commit)

    def _settle(self, session: Session, pending: _Pending, on_reject: RejectSink,
                on_progress: Callable[[int], None], commit: bool) -> None:
        """Commit the pending pieces (with ``commit``), then report them."""
        if commit:
            session.commit()
        for line, reason, cells in sorted(pending.rejects):
            on_reject(line, reason, cells)
        self.summary.add(pending.counts)
        on_progress(pending.position)


@dataclass
class _Pending:
    """Pieces written in the open transaction, reported once it commits."""

    pieces: int = 0
    counts: ImportSummary = field(default_factory=ImportSummary)
    rejects: list[tuple[int, str, list[str]]] = field(default_factory=list)
    reject_chars: int = 0  # text held for the rejects: bounded too (a file of bad rows)
    position: int = 0

    def add(self, chunk: Chunk, result: ChunkResult) -> None:
        rejects = [(line, reason, chunk.cells[line])
                   for line, reason in chunk.rejects + result.duplicates]
        self.pieces += 1
        self.counts.add(ImportSummary(chunk.rows, result.imported, result.updated,
                                      result.unchanged, len(rejects)))
        self.rejects += rejects
        self.reject_chars += sum(len(cell) for _, _, cells in rejects for cell in cells)
        self.position = chunk.position

    def due(self, chunk_size: int, open_seconds: float) -> bool:
        """Whether to commit now: the chunk is full, holds much reject text or is open long."""
        return (self.counts.rows_read >= chunk_size or self.reject_chars >= CHUNK_CHARS
                or open_seconds >= TRANSACTION_SECONDS)


@contextmanager
def frozen_heap() -> Iterator[None]:
    """The objects alive before the import are left out of garbage collection meanwhile.

    An import allocates millions of small containers, each few hundred of which start a
    collection; without this, the older generations' scans revisit the whole application heap
    (SQLAlchemy's, the ORM's) again and again.
    """
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
