"""Calling windows in the callee's local time, DST-correct, intersected over several zones.

A phone whose location is uncertain has several candidate zones; it may be called only while the
window is open in every one of them (the intersection), so no candidate location is disturbed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

from .config import DayWindow, Interval, StrategyConfig

HORIZON = timedelta(days=16)  # how far next_open looks ahead before giving up
# No call starts in a window's last minute: numbers the engine fetched a moment ago and the
# originate in flight never reach a callee after the window has closed.
LAST_CALL_GUARD = timedelta(seconds=60)


@lru_cache(maxsize=512)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@lru_cache(maxsize=64)
def _holiday_calendar(country: str, year: int):  # type: ignore[no-untyped-def]
    import holidays

    return holidays.country_holidays(country, years=year)


def is_holiday(config: StrategyConfig, day: date) -> bool:
    return bool(config.holidays) and day in _holiday_calendar(config.holidays, day.year)


def day_window(config: StrategyConfig, day: date) -> DayWindow:
    """The intervals of a local calendar day: the holiday window on public holidays if set."""
    if config.holiday_window is not None and is_holiday(config, day):
        return config.holiday_window
    return config.windows[day.weekday()]


def local_time(at: datetime, zone_name: str) -> datetime:
    return at.astimezone(zone(zone_name))


def interval_at(config: StrategyConfig, zone_name: str, at: datetime) -> Interval | None:
    """The window interval open at ``at`` in ``zone_name``, or None when it is closed there."""
    local = local_time(at, zone_name)
    minute = local.hour * 60 + local.minute
    for interval in day_window(config, local.date()):
        if interval.start <= minute < interval.end:
            return interval
    return None


def is_open(config: StrategyConfig, zones: Iterable[str], at: datetime) -> bool:
    """True when the window is open at ``at`` in every one of ``zones``."""
    return all(interval_at(config, name, at) is not None for name in zones)


_MemoKey = tuple[int, tuple[str, ...], datetime]
_CLOSED_MEMO: dict[_MemoKey, tuple[StrategyConfig, tuple[str, ...]]] = {}
_MEMO_SIZE = 4096


def closed_zones(config: StrategyConfig, zones: tuple[str, ...], at: datetime) -> tuple[str, ...]:
    """The zones whose window is closed at ``at``, memoized per config object, zones and instant
    (a batch decides many contacts of the same zones at the same instant)."""
    key = (id(config), zones, at)
    hit = _CLOSED_MEMO.get(key)
    if hit is not None and hit[0] is config:
        return hit[1]
    closed = tuple(name for name in zones if interval_at(config, name, at) is None)
    if len(_CLOSED_MEMO) >= _MEMO_SIZE:
        _CLOSED_MEMO.clear()
    _CLOSED_MEMO[key] = (config, closed)
    return closed


def _instant(day: date, minute: int, zone_name: str, fold: int = 0) -> datetime:
    """The UTC instant of a local wall time (minute 1440 is the next midnight).

    For a wall time in a spring-forward gap ``fold=0`` gives the later instant and ``fold=1``
    the earlier one, so starts use 0 and ends use 1 to stay on the safe side.
    """
    day += timedelta(days=minute // 1440)
    wall = datetime.combine(day, time(minute % 1440 // 60, minute % 60), tzinfo=zone(zone_name))
    return wall.replace(fold=fold).astimezone(timezone.utc)


def open_until(config: StrategyConfig, zones: Sequence[str], at: datetime) -> datetime | None:
    """When the intersection open at ``at`` closes (None if it is not open now)."""
    ends = []
    for name in zones:
        interval = interval_at(config, name, at)
        if interval is None:
            return None
        ends.append(_instant(local_time(at, name).date(), interval.end, name, fold=1))
    return min(ends)


Span = tuple[datetime, datetime]


def _spans(config: StrategyConfig, zone_name: str, at: datetime, until: datetime) -> list[Span]:
    """The zone's open intervals in UTC between ``at`` and ``until``, in order."""
    first = local_time(at, zone_name).date() - timedelta(days=1)
    spans = []
    for offset in range((until - at).days + 3):
        day = first + timedelta(days=offset)
        for interval in day_window(config, day):
            start = _instant(day, interval.start, zone_name)
            stop = _instant(day, interval.end, zone_name, fold=1)
            if start < stop and stop > at and start <= until:
                spans.append((start, stop))
    return spans


def _intersect(left: list[Span], right: list[Span]) -> list[Span]:
    out, i, j = [], 0, 0
    while i < len(left) and j < len(right):
        start, stop = max(left[i][0], right[j][0]), min(left[i][1], right[j][1])
        if start < stop:
            out.append((start, stop))
        if left[i][1] < right[j][1]:
            i += 1
        else:
            j += 1
    return out


def next_open(config: StrategyConfig, zones: Sequence[str], at: datetime,
              horizon: timedelta = HORIZON) -> datetime | None:
    """The earliest instant >= ``at`` when the window is open in all ``zones`` (None: not soon).

    Each zone's open intervals are laid out in UTC and intersected; the start of each common
    interval is then confirmed with ``is_open`` (wall-clock rules, the ones ``decide`` enforces),
    so a DST corner can only make the answer later, never earlier.
    """
    if is_open(config, zones, at):
        return at
    until = at + horizon
    common: list[Span] | None = None
    for name in zones:
        spans = _spans(config, name, at, until)
        common = spans if common is None else _intersect(common, spans)
        if not common:
            return None
    for start, _stop in common or ():
        candidate = max(start, at)
        if candidate <= until and is_open(config, zones, candidate):
            return candidate
    return None


def describe_window(config: StrategyConfig, zone_name: str, at: datetime) -> str:
    """``"Asia/Omsk 14:05 Mon, window 08:00-22:00"`` for explanations."""
    local = local_time(at, zone_name)
    intervals = day_window(config, local.date())
    text = ",".join(str(i) for i in intervals) or "closed"
    holiday = " (holiday)" if config.holiday_window is not None and is_holiday(
        config, local.date()) else ""
    return f"{zone_name} {local:%a %Y-%m-%d %H:%M %Z}, window {text}{holiday}"
