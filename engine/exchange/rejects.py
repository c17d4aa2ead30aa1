"""The reject file: each rejected row with its line number, the reason and its original cells."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TextIO


class RejectWriter:
    """Writes ``line, reason, <the original columns>`` as UTF-8 (with BOM, for spreadsheets).

    It uses the source file's delimiter, so a corrected reject file can be imported again.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._handle: TextIO | None = None
        self._writer: csv.writer | None = None  # type: ignore[valid-type]

    def start(self, headers: tuple[str, ...], delimiter: str) -> None:
        self._handle = open(self.path, "w", encoding="utf-8-sig", newline="")
        self._writer = csv.writer(self._handle, delimiter=delimiter)
        self._writer.writerow(["line", "reason", *headers])

    def __call__(self, line: int, reason: str, row: list[str]) -> None:
        assert self._writer is not None, "start() first"
        self._writer.writerow([line, reason, *(cell.replace("\x00", "") for cell in row)])

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
