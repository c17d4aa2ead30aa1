"""A campaign's dialing strategy, parsed and validated from ``Campaign.strategy`` (a JSON dict).

Shape (every key optional; a ``preset`` supplies defaults that explicit keys override)::

    {"preset": "ru_collection",
     "windows": {"weekdays": "08:00-22:00", "sat": "09:00-13:00,14:00-20:00",
                 "sun": null, "holiday": "09:00-20:00"},
     "holidays": "RU",
     "phone_order": ["mobile", "work", "home"],
     "max_attempts_per_phone": 5, "max_attempts_per_contact": 12,
     "retry_minutes": {"busy": 15, "no_answer": 120, "invalid_number": "disable"},
     "caps": {"day": 1, "week": 2, "month": 8, "count": "reached"},
     "default_timezone": "Europe/Moscow"}

Window keys are ``mon`` .. ``sun``, ``weekdays`` (mon-fri), ``weekends`` (sat, sun) and
``holiday`` (public holidays of the ``holidays`` country, which then replace the weekday's window).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import timedelta
from enum import StrEnum
from typing import Any, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from engine.store.models import Outcome, PhoneType

DAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_GROUPS = {"weekdays": DAY_KEYS[:5], "weekends": DAY_KEYS[5:]}
_INTERVAL = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
DISABLE = "disable"


class StrategyError(ValueError):
    """The strategy dict is malformed; the message names the field."""


class CapCount(StrEnum):
    """What a frequency cap counts: every dial, or only the calls that reached a person."""

    ATTEMPTS = "attempts"
    REACHED = "reached"


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


@dataclass(frozen=True, order=True)
class Interval:
    """Minutes after local midnight, ``start`` inclusive, ``end`` exclusive (1440 = midnight)."""

    start: int
    end: int

    def __str__(self) -> str:
        return f"{_hhmm(self.start)}-{_hhmm(self.end)}"


DayWindow = tuple[Interval, ...]  # empty: no calls that day


@dataclass(frozen=True)
class Caps:
    """Most calls to one contact per local calendar day, ISO week and month (None: no cap)."""

    day: int | None = None
    week: int | None = None
    month: int | None = None
    count: CapCount = CapCount.ATTEMPTS

    @property
    def any(self) -> bool:
        return any(limit is not None for limit in (self.day, self.week, self.month))


_DEFAULT_RETRY: dict[Outcome, timedelta | None] = {
    Outcome.ANSWERED: timedelta(days=1),
    Outcome.BUSY: timedelta(minutes=15),
    Outcome.NO_ANSWER: timedelta(hours=2),
    Outcome.MACHINE: timedelta(hours=4),
    Outcome.ABANDONED: timedelta(hours=1),
    Outcome.NETWORK_FAILURE: timedelta(minutes=10),
    Outcome.REJECTED: timedelta(hours=4),
    Outcome.INVALID_NUMBER: None,
    Outcome.CANCELLED: timedelta(0),
    Outcome.LOST: timedelta(minutes=10),
}


@dataclass(frozen=True)
class StrategyConfig:
    """Everything the pure strategy needs to know about a campaign's rules."""

    windows: tuple[DayWindow, ...] = tuple((Interval(9 * 60, 21 * 60),) for _ in DAY_KEYS)
    holiday_window: DayWindow | None = None  # None: holidays use their weekday's window
    holidays: str | None = None  # country code for the ``holidays`` library
    phone_order: tuple[PhoneType, ...] = (
        PhoneType.MOBILE, PhoneType.WORK, PhoneType.HOME, PhoneType.OTHER)
    max_attempts_per_phone: int = 5
    max_attempts_per_contact: int = 12
    retry: Mapping[Outcome, timedelta | None] = field(default_factory=lambda: dict(_DEFAULT_RETRY))
    caps: Caps = Caps()
    default_timezone: str = "Europe/Moscow"
    preset: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None,
                  default_timezone: str | None = None) -> StrategyConfig:
        """Validate ``data``; ``default_timezone`` (the campaign's) applies unless overridden."""
        if data is not None and not isinstance(data, Mapping):
            raise StrategyError(f"strategy: expected an object, got {type(data).__name__}")
        data = dict(data or {})
        unknown = set(data) - _PARSERS.keys() - {"preset"}
        if unknown:
            raise StrategyError(f"strategy: unknown field(s) {sorted(unknown)}")
        preset_name = data.pop("preset", None)
        if preset_name is None:
            config = cls()
        elif preset_name in PRESETS:
            config = PRESETS[preset_name]
        else:
            raise StrategyError(
                f"strategy.preset: unknown preset {preset_name!r} (known: {sorted(PRESETS)})")
        if default_timezone is not None:
            config = replace(config, default_timezone=_zone(default_timezone, "campaign.timezone"))
        changes: dict[str, Any] = {}
        for key, value in data.items():
            changes.update(_PARSERS[key](value, config))
        config = replace(config, preset=preset_name, **changes)
        config.check()
        return config

    def check(self) -> None:
        """Cross-field rules that no single field parser can see."""
        if self.holiday_window is not None and not self.holidays:
            raise StrategyError("strategy.windows.holiday needs strategy.holidays (a country code)")

    def retry_delay(self, outcome: Outcome) -> timedelta | None:
        """How long after ``outcome`` its phone may be dialed again (None: never)."""
        return self.retry.get(outcome, timedelta(0))

    def phone_rank(self, phone_type: PhoneType) -> int:
        """Position of a phone type in the campaign's order (types not listed go last)."""
        try:
            return self.phone_order.index(phone_type)
        except ValueError:
            return len(self.phone_order)


def _zone(name: Any, where: str) -> str:
    if not isinstance(name, str) or not name:
        raise StrategyError(f"{where}: expected an IANA time zone name, got {name!r}")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise StrategyError(f"{where}: unknown time zone {name!r}") from exc
    return name


def _positive_int(value: Any, where: str, allow_none: bool = False) -> int | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise StrategyError(f"{where}: expected a positive integer, got {value!r}")
    return value


def parse_day_window(value: Any, where: str) -> DayWindow:
    """``"08:00-22:00"``, ``"09:00-13:00,14:00-20:00"``, a list of those, or null/"" (closed)."""
    if value is None or value == "" or value == []:
        return ()
    parts = value.split(",") if isinstance(value, str) else value
    if not isinstance(parts, list | tuple):
        raise StrategyError(f"{where}: expected \"HH:MM-HH:MM\" or a list of them, got {value!r}")
    intervals = []
    for part in parts:
        match = _INTERVAL.match(part) if isinstance(part, str) else None
        if not match:
            raise StrategyError(f"{where}: {part!r} is not HH:MM-HH:MM")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if h1 > 23 or m1 > 59 or m2 > 59 or end > 24 * 60 or end <= start:
            raise StrategyError(f"{where}: {part.strip()!r} must run forward within one day")
        intervals.append(Interval(start, end))
    intervals.sort()
    for before, after in zip(intervals, intervals[1:]):
        if after.start < before.end:
            raise StrategyError(f"{where}: intervals {before} and {after} overlap")
    return tuple(intervals)


def _parse_windows(value: Any, config: StrategyConfig) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise StrategyError(f"strategy.windows: expected an object, got {value!r}")
    days = list(config.windows)
    holiday = config.holiday_window
    # Groups first so that a single day given beside its group wins.
    for key in sorted(value, key=lambda k: k not in _DAY_GROUPS):
        where = f"strategy.windows.{key}"
        if key in _DAY_GROUPS:
            for day in _DAY_GROUPS[key]:
                days[DAY_KEYS.index(day)] = parse_day_window(value[key], where)
        elif key in DAY_KEYS:
            days[DAY_KEYS.index(key)] = parse_day_window(value[key], where)
        elif key == "holiday":
            holiday = None if value[key] == "weekday" else parse_day_window(value[key], where)
        else:
            raise StrategyError(f"{where}: unknown day (use mon..sun, weekdays, weekends, holiday)")
    return {"windows": tuple(days), "holiday_window": holiday}


def _parse_holidays(value: Any, _config: StrategyConfig) -> dict[str, Any]:
    if value is None:
        return {"holidays": None}
    import holidays

    if not isinstance(value, str) or value.upper() not in holidays.list_supported_countries():
        raise StrategyError(f"strategy.holidays: unknown country code {value!r}")
    return {"holidays": value.upper()}


def _parse_phone_order(value: Any, _config: StrategyConfig) -> dict[str, Any]:
    if not isinstance(value, list) or not value:
        raise StrategyError(f"strategy.phone_order: expected a list of phone types, got {value!r}")
    try:
        order = tuple(PhoneType(item) for item in value)
    except ValueError as exc:
        raise StrategyError(
            f"strategy.phone_order: {exc} (known: {[t.value for t in PhoneType]})") from exc
    if len(set(order)) != len(order):
        raise StrategyError("strategy.phone_order: a phone type is listed twice")
    return {"phone_order": order}


def _parse_retry(value: Any, config: StrategyConfig) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise StrategyError(f"strategy.retry_minutes: expected an object, got {value!r}")
    retry = dict(config.retry)
    for key, minutes in value.items():
        where = f"strategy.retry_minutes.{key}"
        try:
            outcome = Outcome(key)
        except ValueError as exc:
            raise StrategyError(
                f"{where}: unknown outcome (known: {[o.value for o in Outcome]})") from exc
        if minutes == DISABLE:
            retry[outcome] = None
        elif isinstance(minutes, int | float) and not isinstance(minutes, bool) and minutes >= 0:
            retry[outcome] = timedelta(minutes=minutes)
        else:
            raise StrategyError(f"{where}: expected minutes >= 0 or \"disable\", got {minutes!r}")
    return {"retry": retry}


def _parse_caps(value: Any, _config: StrategyConfig) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise StrategyError(f"strategy.caps: expected an object, got {value!r}")
    unknown = set(value) - {"day", "week", "month", "count"}
    if unknown:
        raise StrategyError(f"strategy.caps: unknown field(s) {sorted(unknown)}")
    try:
        count = CapCount(value.get("count", CapCount.ATTEMPTS))
    except ValueError as exc:
        raise StrategyError(
            f"strategy.caps.count: expected 'attempts' or 'reached', got {value['count']!r}"
        ) from exc
    limits = {k: _positive_int(value.get(k), f"strategy.caps.{k}", allow_none=True)
              for k in ("day", "week", "month")}
    return {"caps": Caps(count=count, **limits)}


def _int_field(name: str):  # type: ignore[no-untyped-def]
    return lambda value, _config: {name: _positive_int(value, f"strategy.{name}")}


_PARSERS = {
    "windows": _parse_windows,
    "holidays": _parse_holidays,
    "phone_order": _parse_phone_order,
    "max_attempts_per_phone": _int_field("max_attempts_per_phone"),
    "max_attempts_per_contact": _int_field("max_attempts_per_contact"),
    "retry_minutes": _parse_retry,
    "caps": _parse_caps,
    "default_timezone": lambda value, _c: {
        "default_timezone": _zone(value, "strategy.default_timezone")},
}

_RU_WORKDAY = (Interval(8 * 60, 22 * 60),)
_RU_REST_DAY = (Interval(9 * 60, 20 * 60),)
_US_DAY = (Interval(8 * 60, 21 * 60),)

PRESETS: dict[str, StrategyConfig] = {
    # Russian debt collection (230-FZ art. 7): 8-22 on working days, 9-20 on weekends and public
    # holidays, at most 1 conversation a day, 2 a week, 8 a month with the debtor.
    "ru_collection": StrategyConfig(
        windows=(_RU_WORKDAY,) * 5 + (_RU_REST_DAY,) * 2,
        holiday_window=_RU_REST_DAY,
        holidays="RU",
        caps=Caps(day=1, week=2, month=8, count=CapCount.REACHED),
        preset="ru_collection",
    ),
    # US TCPA: no calls before 8:00 or after 21:00 at the called party's location.
    "us_tcpa": StrategyConfig(
        windows=(_US_DAY,) * 7, preset="us_tcpa"),
}
