"""Retry delays per outcome and frequency caps in the callee's calendar."""

from __future__ import annotations

from datetime import timedelta

from engine.store.models import Outcome
from engine.strategy.caps import cap_use
from engine.strategy.config import StrategyConfig
from engine.strategy.facts import AttemptFact
from engine.strategy.retry import after_attempt, last_attempt, ready_at

from .conftest import utc

CONFIG = StrategyConfig.from_dict({"preset": "ru_collection"})
N = "+79161234567"


def test_after_attempt_delays_and_disables() -> None:
    ended = utc(2026, 11, 23, 10)
    assert after_attempt(CONFIG, Outcome.BUSY, ended).next_attempt_at == ended + timedelta(minutes=15)
    assert after_attempt(CONFIG, Outcome.NO_ANSWER, ended).next_attempt_at == ended + timedelta(hours=2)
    invalid = after_attempt(CONFIG, Outcome.INVALID_NUMBER, ended)
    assert invalid.next_attempt_at is None and invalid.disabled_reason == "invalid_number (no retry)"


def test_ready_at_takes_the_later_of_stored_time_and_outcome_delay() -> None:
    last = AttemptFact(N, utc(2026, 11, 23, 9), Outcome.MACHINE, ended_at=utc(2026, 11, 23, 9, 1))
    assert ready_at(CONFIG, last, None) == utc(2026, 11, 23, 13, 1)
    assert ready_at(CONFIG, last, utc(2026, 11, 23, 20)) == utc(2026, 11, 23, 20)
    assert ready_at(CONFIG, None, None) is None
    running = AttemptFact(N, utc(2026, 11, 23, 9), None)
    assert ready_at(CONFIG, running, None) is None


def test_last_attempt_is_the_newest_of_that_number() -> None:
    history = [AttemptFact(N, utc(2026, 11, 20)), AttemptFact(N, utc(2026, 11, 22)),
               AttemptFact("+70000000000", utc(2026, 11, 23))]
    assert last_attempt(history, N).created_at == utc(2026, 11, 22)
    assert last_attempt(history, "+71111111111") is None


def test_caps_count_reached_calls_in_local_periods() -> None:
    # Wed 2026-11-25 10:00 UTC; Moscow local calendar. Week starts Mon 23 00:00 MSK = 22 21:00 UTC.
    now = utc(2026, 11, 25, 10)
    history = [
        AttemptFact(N, utc(2026, 11, 22, 20, 59), Outcome.ANSWERED),  # Sun 23:59 MSK: last week
        AttemptFact(N, utc(2026, 11, 23, 8), Outcome.ANSWERED),  # Mon
        AttemptFact(N, utc(2026, 11, 25, 7), Outcome.NO_ANSWER),  # today, not a conversation
        AttemptFact(N, utc(2026, 11, 25, 9), Outcome.ABANDONED),  # today, reached
    ]
    uses = {u.period: u for u in cap_use(CONFIG.caps, ["Europe/Moscow"], history, now)}
    assert (uses["day"].used, uses["week"].used, uses["month"].used) == (1, 2, 3)
    assert uses["day"].exhausted and uses["day"].resets_at == utc(2026, 11, 25, 21)
    assert uses["week"].exhausted and uses["week"].resets_at == utc(2026, 11, 29, 21)
    assert not uses["month"].exhausted and uses["month"].resets_at == utc(2026, 11, 30, 21)


def test_caps_counting_attempts_and_running_calls() -> None:
    config = StrategyConfig.from_dict({"caps": {"day": 2}})
    now = utc(2026, 11, 23, 12)
    history = [AttemptFact(N, utc(2026, 11, 23, 8), Outcome.NO_ANSWER),
               AttemptFact(N, utc(2026, 11, 23, 11), None)]
    (use,) = cap_use(config.caps, ["Europe/Moscow"], history, now)
    assert use.used == 2 and use.exhausted


def test_caps_with_several_zones_take_the_strictest_calendar() -> None:
    # 2026-11-23 18:00 UTC: already Tuesday in Vladivostok (UTC+10), still Monday in Moscow.
    now = utc(2026, 11, 23, 18)
    history = [AttemptFact(N, utc(2026, 11, 23, 12), Outcome.ANSWERED)]  # Monday everywhere
    (day,) = [u for u in cap_use(CONFIG.caps, ["Asia/Vladivostok"], history, now) if u.period == "day"]
    assert day.used == 0
    (day,) = [u for u in cap_use(CONFIG.caps, ["Asia/Vladivostok", "Europe/Moscow"], history, now)
              if u.period == "day"]
    assert day.used == 1 and day.resets_at == utc(2026, 11, 23, 21)
