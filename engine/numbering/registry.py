"""Reader for the Russian numbering-plan registry files (ABC-3xx, ABC-4xx, ABC-8xx, DEF-9xx .csv).

The regulator publishes them semicolon-separated with a header row; the columns have varied
over the years, so they are found by name::

    АВС/ DEF;От;До;Емкость;Оператор;Регион[;Территория ГАР][;ИНН]

``От``/``До`` are the 7-digit subscriber part after the 3-digit code. Files come in UTF-8 (with or
without BOM) or CP1251. A bad line is reported with its number and reason; good lines are kept.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

_COLUMNS = {  # field -> accepted header spellings (compared lower-case, spaces removed)
    "code": ("abc/def", "авс/def", "абв/def", "def", "код"),
    "first": ("от",),
    "last": ("до",),
    "capacity": ("емкость", "ёмкость"),
    "operator": ("оператор",),
    "region": ("регион",),
    "territory": ("территориягар", "территория"),
    "inn": ("инн",),
}
_REQUIRED = ("code", "first", "last", "region")


class RegistryFormatError(ValueError):
    """The file cannot be read as a registry at all (encoding, header)."""


@dataclass(frozen=True)
class RangeRow:
    line: int
    code: int  # 3-digit ABC/DEF code
    first: int  # full number with country code 7, e.g. 79160000000
    last: int
    operator: str
    region: str  # Регион as written
    territory: str  # Территория ГАР (district|subject) where the file has it, else ""


@dataclass(frozen=True)
class RowError:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


def decode(raw: bytes, name: str) -> str:
    """UTF-8 (BOM stripped) when it decodes, else CP1251 (the regulator's older files)."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1251")
    except UnicodeDecodeError as exc:
        raise RegistryFormatError(f"{name}: neither UTF-8 nor CP1251 text") from exc


def _header_map(header: list[str], name: str) -> dict[str, int]:
    normalized = [cell.strip().lower().replace(" ", "").replace("ё", "е") for cell in header]
    found = {}
    for field, spellings in _COLUMNS.items():
        for index, cell in enumerate(normalized):
            if cell in spellings and field not in found:
                found[field] = index
    missing = [field for field in _REQUIRED if field not in found]
    if missing:
        raise RegistryFormatError(
            f"{name}: line 1: header {';'.join(header)!r} lacks column(s) for {missing}")
    return found


def read_registry(path: str | Path) -> tuple[list[RangeRow], list[RowError]]:
    """All good rows and every bad line's error; raises RegistryFormatError for unusable files."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise RegistryFormatError(f"{path}: {exc.strerror}") from exc
    rows: list[RangeRow] = []
    errors: list[RowError] = []
    for item in _parse(decode(raw, str(path)), str(path)):
        (rows if isinstance(item, RangeRow) else errors).append(item)
    return rows, errors


def _parse(text: str, name: str) -> Iterator[RangeRow | RowError]:
    reader = csv.reader(text.splitlines(), delimiter=";", quotechar='"')
    header = next(reader, None)
    if not header:
        raise RegistryFormatError(f"{name}: empty file")
    columns = _header_map(header, name)
    width = max(columns.values()) + 1
    for cells in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) < width:
            yield RowError(line, f"{len(cells)} fields, expected at least {width}")
            continue
        yield _row(line, cells, columns)


def _row(line: int, cells: list[str], columns: dict[str, int]) -> RangeRow | RowError:
    def cell(field: str) -> str:
        return cells[columns[field]].strip() if field in columns else ""

    values = {}
    for field, digits in (("code", 3), ("first", 7), ("last", 7)):
        text = cell(field)
        if not text.isdigit() or len(text) > digits:
            return RowError(line, f"{field} {text!r} is not a number of at most {digits} digits")
        values[field] = int(text)
    code, first, last = values["code"], values["first"], values["last"]
    if code < 300:
        return RowError(line, f"code {code} is not an ABC/DEF code (300-999)")
    if last < first:
        return RowError(line, f"range end {last} is below its start {first}")
    capacity = cell("capacity")
    if capacity.isdigit() and int(capacity) != last - first + 1:
        return RowError(line, f"capacity {capacity} does not match range {first}-{last}")
    base = (7_000 + code) * 10_000_000
    territory = "" if cell("territory") == "-" else cell("territory")
    return RangeRow(line, code, base + first, base + last, cell("operator"), cell("region"),
                    territory)
