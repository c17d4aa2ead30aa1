"""Parsing and validating Campaign.strategy, presets and overrides."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine.store.models import Outcome, PhoneType
from engine.strategy.config import CapCount, Interval, StrategyConfig, StrategyError


def test_defaults_from_empty_dict() -> None:
    config = StrategyConfig.from_dict({}, default_timezone="Asia/Omsk")
    assert config.default_timezone == "Asia/Omsk"
    assert config.windows[0] == (Interval(540, 1260),)
    assert config.retry_delay(Outcome.BUSY) == timedelta(minutes=15)
    assert config.retry_delay(Outcome.INVALID_NUMBER) is None
    assert not config.caps.any


def test_ru_collection_preset() -> None:
    config = StrategyConfig.from_dict({"preset": "ru_collection"})
    assert config.windows[0] == (Interval(480, 1320),) and config.windows[4] == (Interval(480, 1320),)
    assert config.windows[5] == config.windows[6] == (Interval(540, 1200),)
    assert config.holiday_window == (Interval(540, 1200),) and config.holidays == "RU"
    assert (config.caps.day, config.caps.week, config.caps.month) == (1, 2, 8)
    assert config.caps.count is CapCount.REACHED


def test_us_tcpa_preset() -> None:
    config = StrategyConfig.from_dict({"preset": "us_tcpa"}, default_timezone="America/Chicago")
    assert set(config.windows) == {(Interval(480, 1260),)}
    assert config.default_timezone == "America/Chicago"


def test_explicit_keys_override_preset() -> None:
    config = StrategyConfig.from_dict({
        "preset": "ru_collection",
        "windows": {"weekdays": "09:00-13:00, 14:00-18:00", "fri": "10:00-12:00", "sun": None},
        "phone_order": ["work", "mobile"],
        "retry_minutes": {"busy": 5, "machine": "disable"},
        "caps": {"day": 2},
        "max_attempts_per_phone": 3,
    })
    assert config.windows[0] == (Interval(540, 780), Interval(840, 1080))
    assert config.windows[4] == (Interval(600, 720),)  # the single day wins over its group
    assert config.windows[5] == (Interval(540, 1200),) and config.windows[6] == ()
    assert config.phone_rank(PhoneType.WORK) == 0 and config.phone_rank(PhoneType.HOME) == 2
    assert config.retry_delay(Outcome.BUSY) == timedelta(minutes=5)
    assert config.retry_delay(Outcome.MACHINE) is None
    assert config.retry_delay(Outcome.NO_ANSWER) == timedelta(hours=2)  # untouched default
    assert (config.caps.day, config.caps.week, config.caps.count) == (2, None, CapCount.ATTEMPTS)
    assert config.max_attempts_per_phone == 3 and config.preset == "ru_collection"


def test_window_until_midnight() -> None:
    config = StrategyConfig.from_dict({"windows": {"mon": "20:00-24:00"}})
    assert config.windows[0] == (Interval(1200, 1440),)


@pytest.mark.parametrize(("data", "message"), [
    ({"preset": "eu"}, "strategy.preset: unknown preset 'eu'"),
    ({"colour": 1}, r"unknown field\(s\) \['colour'\]"),
    ({"windows": {"mon": "22:00-08:00"}}, "strategy.windows.mon: '22:00-08:00' must run forward"),
    ({"windows": {"mon": "8-22"}}, "strategy.windows.mon: '8-22' is not HH:MM-HH:MM"),
    ({"windows": {"mon": "08:00-12:00,11:00-13:00"}}, "strategy.windows.mon: intervals .* overlap"),
    ({"windows": {"monday": "08:00-12:00"}}, "strategy.windows.monday: unknown day"),
    ({"windows": {"mon": 8}}, "strategy.windows.mon: expected"),
    ({"windows": {"holiday": "10:00-12:00"}}, "holiday needs strategy.holidays"),
    ({"holidays": "XX"}, "strategy.holidays: unknown country code 'XX'"),
    ({"phone_order": ["fax"]}, "strategy.phone_order: 'fax' is not a valid PhoneType"),
    ({"phone_order": ["work", "work"]}, "listed twice"),
    ({"retry_minutes": {"busy": -1}}, "strategy.retry_minutes.busy: expected minutes"),
    ({"retry_minutes": {"bored": 1}}, "strategy.retry_minutes.bored: unknown outcome"),
    ({"caps": {"day": 0}}, "strategy.caps.day: expected a positive integer"),
    ({"caps": {"count": "rings"}}, "strategy.caps.count: expected 'attempts' or 'reached'"),
    ({"caps": {"year": 3}}, r"strategy.caps: unknown field\(s\) \['year'\]"),
    ({"max_attempts_per_contact": True}, "strategy.max_attempts_per_contact: expected a positive"),
    ({"default_timezone": "Mars/Olympus"}, "strategy.default_timezone: unknown time zone"),
])
def test_errors_name_the_field(data: dict, message: str) -> None:
    with pytest.raises(StrategyError, match=message):
        StrategyConfig.from_dict(data)


def test_strategy_must_be_an_object() -> None:
    with pytest.raises(StrategyError, match="strategy: expected an object, got list"):
        StrategyConfig.from_dict([("preset", "us_tcpa")])  # type: ignore[arg-type]


def test_bad_campaign_timezone_is_named() -> None:
    with pytest.raises(StrategyError, match="campaign.timezone: unknown time zone 'Moscow'"):
        StrategyConfig.from_dict({}, default_timezone="Moscow")
