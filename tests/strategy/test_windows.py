"""Calling windows in local time: DST transitions, holidays, intersection, next opening."""

from __future__ import annotations

from datetime import timedelta

from engine.strategy.config import StrategyConfig
from engine.strategy.windows import day_window, is_open, next_open, open_until

from .conftest import utc

US = StrategyConfig.from_dict({"preset": "us_tcpa"})  # 08:00-21:00 every day
RU = StrategyConfig.from_dict({"preset": "ru_collection"})
NY = ("America/New_York",)


def test_window_edges_are_start_inclusive_end_exclusive() -> None:
    # Mon 2026-11-23: New York is UTC-5.
    assert not is_open(US, NY, utc(2026, 11, 23, 12, 59))
    assert is_open(US, NY, utc(2026, 11, 23, 13, 0))
    assert is_open(US, NY, utc(2026, 12, 1, 1, 59))  # 20:59 local
    assert not is_open(US, NY, utc(2026, 12, 1, 2, 0))  # 21:00 local


def test_dst_spring_forward_moves_the_utc_window() -> None:
    # 2026-03-08 New York springs forward at 02:00 local: UTC-5 before, UTC-4 after.
    assert not is_open(US, NY, utc(2026, 3, 7, 12, 30))  # Saturday 07:30 EST
    assert is_open(US, NY, utc(2026, 3, 7, 13, 0))
    assert not is_open(US, NY, utc(2026, 3, 8, 11, 59))  # Sunday 07:59 EDT
    assert is_open(US, NY, utc(2026, 3, 8, 12, 0))  # Sunday 08:00 EDT
    assert next_open(US, NY, utc(2026, 3, 8, 3, 0)) == utc(2026, 3, 8, 12, 0)
    assert next_open(US, NY, utc(2026, 3, 7, 3, 0)) == utc(2026, 3, 7, 13, 0)


def test_dst_fall_back_moves_the_utc_window() -> None:
    # 2026-11-01 New York falls back at 02:00 local: UTC-4 before, UTC-5 after.
    assert is_open(US, NY, utc(2026, 10, 31, 12, 0))  # Saturday 08:00 EDT
    assert not is_open(US, NY, utc(2026, 11, 1, 12, 59))  # Sunday 07:59 EST
    assert next_open(US, NY, utc(2026, 11, 1, 2, 0)) == utc(2026, 11, 1, 13, 0)
    assert open_until(US, NY, utc(2026, 11, 1, 13, 0)) == utc(2026, 11, 2, 2, 0)


def test_window_starting_inside_the_spring_gap_opens_after_it() -> None:
    config = StrategyConfig.from_dict({"windows": {"weekends": "02:30-05:00", "weekdays": None}})
    opens = next_open(config, NY, utc(2026, 3, 8, 0, 0))
    # 02:30 does not exist that night; the answer must lie inside the real window (03:00-05:00 EDT).
    assert opens is not None and utc(2026, 3, 8, 7, 0) <= opens < utc(2026, 3, 8, 9, 0)
    assert is_open(config, NY, opens)


def test_intersection_over_zones_is_the_common_part() -> None:
    zones = ("Europe/Moscow", "Asia/Novosibirsk")  # UTC+3 and UTC+7
    # Mon 2026-11-23: Moscow open 05:00-19:00 UTC, Novosibirsk 01:00-15:00 UTC: common 05-15.
    assert not is_open(RU, zones, utc(2026, 11, 23, 4, 59))
    assert is_open(RU, zones, utc(2026, 11, 23, 5, 0))
    assert is_open(RU, zones, utc(2026, 11, 23, 14, 59))
    assert not is_open(RU, zones, utc(2026, 11, 23, 15, 0))
    assert next_open(RU, zones, utc(2026, 11, 23, 15, 0)) == utc(2026, 11, 24, 5, 0)
    assert open_until(RU, zones, utc(2026, 11, 23, 10, 0)) == utc(2026, 11, 23, 15, 0)


def test_disjoint_windows_never_open() -> None:
    zones = ("Europe/Kaliningrad", "Asia/Kamchatka")  # 10 hours apart
    narrow = StrategyConfig.from_dict({"windows": {"weekdays": "09:00-12:00", "weekends": None}})
    assert next_open(narrow, zones, utc(2026, 11, 23, 0, 0)) is None


def test_weekend_and_public_holiday_windows() -> None:
    moscow = ("Europe/Moscow",)
    # Sat 2026-11-28: 09:00-20:00 Moscow = 06:00-17:00 UTC.
    assert not is_open(RU, moscow, utc(2026, 11, 28, 5, 30))
    assert next_open(RU, moscow, utc(2026, 11, 28, 5, 30)) == utc(2026, 11, 28, 6, 0)
    # Wed 2026-11-04 (Unity Day) is a holiday: rest-day window although it is a weekday.
    assert day_window(RU, utc(2026, 11, 4).date()) == RU.windows[6]
    assert not is_open(RU, moscow, utc(2026, 11, 4, 5, 30))  # 08:30 local
    assert day_window(RU, utc(2026, 11, 5).date()) == RU.windows[0]
    # From Thu 2026-12-31 21:00 local (a decreed day off) the next opening is 1 Jan 09:00.
    assert next_open(RU, moscow, utc(2026, 12, 31, 18, 0)) == utc(2027, 1, 1, 6, 0)


def test_next_open_within_horizon_only() -> None:
    closed = StrategyConfig.from_dict({"windows": {"weekdays": None, "weekends": None}})
    assert next_open(closed, NY, utc(2026, 11, 23)) is None
    assert next_open(US, NY, utc(2026, 11, 23, 2, 0), horizon=timedelta(hours=1)) is None
