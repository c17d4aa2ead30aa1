"""Writing exported tables: CSV or XLSX by the file's suffix, into place only when complete."""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from openpyxl import Workbook

FORMATS = (".csv", ".xlsx")


def check_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(f"{path}: the file name must end in .csv or .xlsx")
    return suffix


@contextmanager
def atomic_output(path: Path) -> Iterator[Path]:
    """A temporary path beside ``path``, renamed onto it when the block ends without error."""
    partial = path.with_name(f".{path.name}.partial")
    try:
        yield partial
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def csv_value(value: Any) -> str:
    """Times as UTC ISO-8601 with milliseconds and Z, dicts as JSON, None as empty."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace(
            "+00:00", "Z")
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def xlsx_value(value: Any) -> Any:
    """Spreadsheet cells: times as naive UTC datetimes (Excel has no zones), dicts as JSON."""
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).replace(tzinfo=None)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return value


def write_table(path: Path, suffix: str, columns: Sequence[str],
                rows: Iterable[Sequence[Any]], sheet: str = "export") -> int:
    """Write a header and the rows as CSV (UTF-8, comma) or XLSX; return the row count."""
    count = 0
    if suffix == ".csv":
        with open(path, "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(columns)
            for row in rows:
                writer.writerow([csv_value(value) for value in row])
                count += 1
        return count
    workbook = Workbook(write_only=True)
    worksheet = workbook.create_sheet(sheet)
    worksheet.append(list(columns))
    for row in rows:
        worksheet.append([xlsx_value(value) for value in row])
        count += 1
    workbook.save(path)
    return count
