"""The text support reads: verdict, caps, zones with local time, each reason with its end."""

from __future__ import annotations

from datetime import timedelta

from engine.store.models import Outcome, PhoneType
from engine.strategy.config import StrategyConfig
from engine.strategy.decide import decide
from engine.strategy.explain import explain
from engine.strategy.facts import AttemptFact, CallbackFact, Circumstances, ContactFacts, PhoneFacts

from .conftest import contact, utc

RU = StrategyConfig.from_dict({"preset": "ru_collection"})
NOW = utc(2026, 11, 23, 10)


def test_explains_a_blocked_contact_line_by_line() -> None:
    phones = (PhoneFacts(1, "+74951234567", PhoneType.WORK, attempts=1),
              PhoneFacts(2, "+73832123456", PhoneType.HOME))
    history = (AttemptFact("+74951234567", utc(2026, 11, 23, 7), Outcome.ANSWERED),)
    decision = decide(ContactFacts(5, 1, phones, attempts=1), RU, NOW,
                      Circumstances(history=history, dnc=frozenset({"+73832123456"})))
    assert explain(decision, RU).splitlines() == [
        "contact #5: status 'new', attempts 1/12, at 2026-11-23 10:00 UTC",
        "NOT dialable now",
        "caps: day 1/1, week 1/2, month 1/8 (counting reached)",
        "  +74951234567 (work, priority 0, attempts 1/5): not dialable, next possible "
        "2026-11-24 07:00 UTC (Tue 14:00 Asia/Novosibirsk)",
        "    zones: Asia/Novosibirsk, Europe/Moscow (from number geography)",
        "    local: Asia/Novosibirsk Mon 2026-11-23 17:00 +07, window 08:00-22:00",
        "    local: Europe/Moscow Mon 2026-11-23 13:00 MSK, window 08:00-22:00",
        "    - retry delay after answered until 2026-11-24 07:00 UTC (Tue 14:00 Asia/Novosibirsk)",
        "    - 1 of 1 calls this day until 2026-11-23 21:00 UTC (Tue 04:00 Asia/Novosibirsk)",
        "  +73832123456 (home, priority 0, attempts 0/5): not dialable, no time in sight",
        "    zones: Asia/Novosibirsk, Europe/Moscow (from number geography)",
        "    local: Asia/Novosibirsk Mon 2026-11-23 17:00 +07, window 08:00-22:00",
        "    local: Europe/Moscow Mon 2026-11-23 13:00 MSK, window 08:00-22:00",
        "    - number is on a do-not-call list",
        "    - 1 of 1 calls this day until 2026-11-23 21:00 UTC (Tue 04:00 Asia/Novosibirsk)",
    ]


def test_explains_a_due_callback_and_many_zones_briefly() -> None:
    at = utc(2026, 11, 23, 9, 30)  # all of Russia is inside 08:00-22:00 from 06:00 to 10:00 UTC
    callback = CallbackFact(3, at - timedelta(minutes=1), agent_id=8)
    decision = decide(contact("+79161234567"), RU, at,
                      Circumstances(callbacks=(callback,)))
    text = explain(decision, RU)
    assert "DIALABLE now on +79161234567 (callback)" in text
    assert "DIALABLE now, window open until 2026-11-23 10:00 UTC (Mon 22:00 Asia/Anadyr)" in text
    assert "callback #3 due 2026-11-23 09:29 UTC" in text and "reserved for agent #8" in text
    assert "27 zones (from whole country (number not located)), window must be open in all" in text
    local_lines = [line for line in text.splitlines() if "local:" in line]
    assert [line.split()[1] for line in local_lines] == ["Europe/Kaliningrad", "Asia/Kamchatka"]


def test_explains_holiday_and_contact_without_phones() -> None:
    decision = decide(contact("+74951234567"), RU, utc(2026, 11, 4, 5, 30))
    assert "window 09:00-20:00 (holiday)" in explain(decision, RU)
    assert "calling window closed in Europe/Moscow until 2026-11-04 06:00 UTC" in explain(decision, RU)
    empty = decide(ContactFacts(1, 1, ()), RU, NOW)
    assert explain(empty, RU).splitlines()[-1] == "  no phones"


def test_explains_a_window_that_never_opens() -> None:
    closed = StrategyConfig.from_dict({"windows": {"weekdays": None, "weekends": None}})
    text = explain(decide(contact("+74951234567"), closed, NOW), closed)
    assert "not dialable, no time in sight" in text
    assert "calling window closed in Europe/Moscow (no opening within 16 days)" in text
