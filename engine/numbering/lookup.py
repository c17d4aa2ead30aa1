"""Which registry range (and so which zones) a Russian number belongs to."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import text
from sqlalchemy.orm import Session

CHUNK = 128  # numbers per statement; short chunks are padded so the SQL text never changes

# For each wanted number: the range with the greatest start not above it (an index seek on
# country, first), kept when its end covers the number and it has zones.
_SQL = text(
    "WITH wanted(n) AS (VALUES " + ", ".join(f"(:n{i})" for i in range(CHUNK)) + ") "
    "SELECT wanted.n, r.timezone FROM wanted JOIN numbering_ranges r ON r.id = ("
    " SELECT c.id FROM numbering_ranges c WHERE c.country = 'RU' AND c.first <= wanted.n"
    " ORDER BY c.first DESC LIMIT 1) "
    "WHERE r.last >= wanted.n AND r.timezone IS NOT NULL")


def national_key(number: str) -> int | None:
    """``+79161234567`` -> 79161234567 for Russian E.164 numbers, else None."""
    if len(number) == 12 and number.startswith("+7") and number[1:].isdigit():
        return int(number[1:])
    return None


def plan_zones(session: Session, numbers: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """Zones of each number found in a range that has zones; others are left out."""
    keys = {key: number for number in set(numbers) if (key := national_key(number)) is not None}
    ordered = sorted(keys)
    found: dict[str, tuple[str, ...]] = {}
    for start in range(0, len(ordered), CHUNK):
        chunk = ordered[start:start + CHUNK]
        params = {f"n{i}": chunk[i] if i < len(chunk) else 0 for i in range(CHUNK)}
        for n, zones in session.execute(_SQL, params):
            found[keys[n]] = tuple(zones.split())
    return found
