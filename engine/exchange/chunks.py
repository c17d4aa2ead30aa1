"""CSV rows to chunks of parsed contact records, here or in a second process.

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

from .rows import ContactRecord, RowError, RowParser

CHUNK_CHARS = 1_500_000  # a chunk also ends at this much text, so wide rows stay bounded
QUEUE_CHUNKS = 2
POLL_SECONDS = 1.0


@dataclass
class Chunk:
    """Consecutive rows of the file: the good ones parsed, the bad ones with their reason."""

    records: list[ContactRecord] = field(default_factory=list)
    cells: dict[int, list[str]] = field(default_factory=dict)  # line -> the row's cells
    rejects: list[tuple[int, str]] = field(default_factory=list)  # (line, reason)
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
            if any(cell.strip() for cell in row):
                yield start, row, ""
        start = reader.line_num + 1


def read_chunks(rows: Iterator[tuple[int, list[str] | None, str]], parser: RowParser,
                raw: IO[bytes], chunk_size: int) -> Iterator[Chunk]:
    """Chunks of at most ``chunk_size`` rows (or CHUNK_CHARS of text); the last may be empty."""
    chunk, chars = Chunk(), 0
    for line, row, error in rows:
        chunk.cells[line] = row or []
        chars += sum(map(len, chunk.cells[line]))
        try:
            if row is None:
                raise RowError(error)
            chunk.records.append(parser.parse(row, line))
        except RowError as exc:
            chunk.rejects.append((line, str(exc)))
        if len(chunk.cells) >= chunk_size or chars >= CHUNK_CHARS:
            chunk.position = raw.tell()
            yield chunk
            chunk, chars = Chunk(), 0
    chunk.position = raw.tell()
    yield chunk


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
