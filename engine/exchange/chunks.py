"""CSV rows to pieces (``Chunk``) of parsed contact records, here or in a second process.

Parsing and phone normalization take about half of an import's CPU time; ``in_worker`` moves
them to a forked process so they overlap with the database writes of the main process. The
queue between the two holds at most ``QUEUE_CHUNKS`` chunks, so memory stays bounded.
"""

from __future__ import annotations

import csv
import multiprocessing
from collections.abc import Iterator
from dataclasses import dataclass, field
from queue import Empty
from typing import IO, Any

from .rows import ContactRecord, Records, RowError, RowParser
from .seen import SeenIds

CHUNK_CHARS = 1_500_000  # a chunk also ends at this much text, so wide rows stay bounded
QUEUE_CHUNKS = 2
POLL_SECONDS = 1.0


@dataclass
class Chunk:
    """A piece of consecutive rows: the good ones parsed, the bad ones with their reason.

    The importer writes one or more pieces per transaction (its chunk size).
    """

    records: Records = field(default_factory=Records)
    rejects: list[tuple[int, str]] = field(default_factory=list)  # (line, reason)
    # line -> the row's cells, for the rows rejected here and the records' suspects: only
    # those can end in a reject, so only they cross between the processes.
    cells: dict[int, list[str]] = field(default_factory=dict)
    rows: int = 0  # rows read (blank ones are not counted)
    position: int = 0  # bytes of the file read when the chunk ended


def numbered_rows(reader: Any) -> Iterator[tuple[int, list[str] | None, str]]:
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
            if any(map(str.strip, row)):
                yield start, row, ""
        start = reader.line_num + 1


def read_chunks(rows: Iterator[tuple[int, list[str] | None, str]], parser: RowParser,
                raw: IO[bytes], chunk_size: int) -> Iterator[Chunk]:
    """Chunks of at most ``chunk_size`` rows (or CHUNK_CHARS of text); the last may be empty.

    The first good row with an external id wins: a later one in the same chunk is rejected
    here; one whose id an earlier chunk probably had is marked a suspect for the writer, who
    confirms it against the database (``SeenIds`` keeps 8-byte hashes, not the ids).
    """
    seen = SeenIds()
    chunk, chars = Chunk(), 0
    records: list[ContactRecord] = []
    good_cells: list[list[str]] = []  # the cells of each record, in case it is a suspect
    first_lines: dict[str, int] = {}  # external id -> line of its good row in this chunk
    for line, row, error in rows:
        chunk.rows += 1
        cells = row or []
        chars += sum(map(len, cells))
        try:
            if row is None:
                raise RowError(error)
            record = parser.parse(row, line)
            first = first_lines.setdefault(record.external_id, line)
            if first != line:
                raise RowError(f"duplicate external_id {record.external_id!r} "
                               f"(first on line {first})")
            records.append(record)
            good_cells.append(cells)
        except RowError as exc:
            chunk.rejects.append((line, str(exc)))
            chunk.cells[line] = cells
        if chunk.rows >= chunk_size or chars >= CHUNK_CHARS:
            yield _finish(chunk, records, good_cells, seen, raw)
            chunk, chars, records, good_cells, first_lines = Chunk(), 0, [], [], {}
    yield _finish(chunk, records, good_cells, seen, raw)


def _finish(chunk: Chunk, records: list[ContactRecord], good_cells: list[list[str]],
            seen: SeenIds, raw: IO[bytes]) -> Chunk:
    ids = [record.external_id for record in records]
    suspects = [index for index, hit in enumerate(seen.contains(ids)) if hit]
    for index in suspects:
        chunk.cells[records[index].line] = good_cells[index]
    seen.add(ids)
    chunk.records = Records.of(records, suspects)
    chunk.position = raw.tell()
    return chunk


def in_worker(chunks: Iterator[Chunk]) -> Iterator[Chunk]:
    """The same chunks, produced by a forked process while the caller works on earlier ones.

    The child inherits the open file and reader at their current position; the caller must
    not read from them any more. Closing this generator early stops the child.
    """
    context = multiprocessing.get_context("fork")
    queue = context.Queue(maxsize=QUEUE_CHUNKS)
    worker = context.Process(target=_produce, args=(chunks, queue), daemon=True,
                             name="dialer-import-parser")
    worker.start()
    try:
        while True:
            try:
                item = queue.get(timeout=POLL_SECONDS)
            except Empty:
                if not worker.is_alive() and queue.empty():
                    raise RuntimeError("the import's parsing process ended unexpectedly "
                                       f"(exit status {worker.exitcode})") from None
                continue
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        if worker.is_alive():
            worker.terminate()
        worker.join()
        queue.close()


def _produce(chunks: Iterator[Chunk], queue: Any) -> None:
    try:
        for chunk in chunks:
            queue.put(chunk)
    except Exception as exc:  # noqa: BLE001 (any error is handed to the main process)
        queue.put(exc)
    else:
        queue.put(None)
