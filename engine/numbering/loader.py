"""Loading registry files into ``numbering_ranges``: each file replaces its own earlier rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import delete, insert
from sqlalchemy.orm import Session

from engine.store.models import NumberingRange

from .regions import resolve
from .registry import RangeRow, RowError, read_registry

_CHUNK = 5000


@dataclass
class LoadReport:
    file: str
    loaded: int = 0
    rejected: int = 0
    without_zone: int = 0  # loaded, but the region names no known subject (or all of Russia)
    errors: list[RowError] = field(default_factory=list)

    def summary(self) -> str:
        return (f"{self.file}: {self.loaded} ranges loaded, {self.rejected} rejected, "
                f"{self.without_zone} without a time zone")


def zones_text(row: RangeRow) -> str | None:
    """The row's zones as stored: the GAR territory's subject first, else the Регион column."""
    zones = resolve(row.territory) or resolve(row.region)
    return " ".join(zones) or None


def load_registry(session: Session, path: str | Path) -> LoadReport:
    """Replace the ranges loaded earlier from a file of this name with the file's good rows.

    Runs inside the caller's transaction: a file that cannot be read changes nothing.
    """
    path = Path(path)
    rows, errors = read_registry(path)
    report = LoadReport(path.name, rejected=len(errors), errors=errors)
    session.execute(delete(NumberingRange).where(NumberingRange.source == path.name))
    batch: list[dict[str, object]] = []
    for row in rows:
        zones = zones_text(row)
        report.without_zone += zones is None
        batch.append({"country": "RU", "first": row.first, "last": row.last,
                      "operator": row.operator[:255], "region": row.region[:255],
                      "timezone": zones, "source": path.name})
        if len(batch) >= _CHUNK:
            session.execute(insert(NumberingRange), batch)
            batch.clear()
    if batch:
        session.execute(insert(NumberingRange), batch)
    report.loaded = len(rows)
    return report
