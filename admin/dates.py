"""Calendar days typed in the UI (in the display time zone) as UTC instants."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo


class DateError(ValueError):
    """A date parameter is malformed; the message names it."""


def parse_day(name: str, raw: str) -> date | None:
    raw = raw.strip()
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        raise DateError(f"{name}: {raw!r} is not a date (YYYY-MM-DD)") from None


def day_start(day: date, zone: ZoneInfo) -> datetime:
    """The UTC instant at which ``day`` begins in ``zone``."""
    return datetime.combine(day, time(), zone).astimezone(timezone.utc)


def day_span(first: date, last: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """[start of ``first``, start of the day after ``last``) as UTC instants."""
    return day_start(first, zone), day_start(last + timedelta(days=1), zone)


def local_today(now: datetime, zone: ZoneInfo) -> date:
    return now.astimezone(zone).date()
