"""The decision gate: order of phones, every blocker, callbacks, next possible time."""

from __future__ import annotations

from datetime import timedelta

from engine.store.models import Outcome, PhoneType
from engine.strategy.config import StrategyConfig
from engine.strategy.decide import Reason, decide
from engine.strategy.facts import (
    AttemptFact,
    CallbackFact,
    Circumstances,
    ContactFacts,
    PhoneFacts,
)

from .conftest import contact, utc

RU = StrategyConfig.from_dict({"preset": "ru_collection"})
NOW = utc(2026, 11, 23, 10)  # Monday 13:00 in Moscow
MOSCOW = "+74951234567"
MOBILE = "+79161234567"


def reasons(decision, number):  # type: ignore[no-untyped-def]
    phone = next(p for p in decision.phones if p.phone.number == number)
    return [b.reason for b in phone.blockers]


def test_plain_contact_is_dialable_on_first_phone() -> None:
    decision = decide(contact(MOSCOW), RU, NOW)
    assert decision.dialable and decision.chosen.phone.number == MOSCOW
    assert decision.chosen.zones.names == ("Europe/Moscow",)
    assert decision.next_time == NOW and not decision.chosen.is_callback


def test_phone_order_by_type_then_priority() -> None:
    phones = (PhoneFacts(1, "+74951111111", PhoneType.HOME, priority=0),
              PhoneFacts(2, "+74952222222", PhoneType.WORK, priority=1),
              PhoneFacts(3, "+74953333333", PhoneType.WORK, priority=0),
              PhoneFacts(4, "+74954444444", PhoneType.MOBILE, priority=5))
    facts = ContactFacts(1, 1, phones)
    assert [p.phone.id for p in decide(facts, RU, NOW).phones] == [4, 3, 2, 1]
    work_first = StrategyConfig.from_dict({"phone_order": ["work", "home"]})
    assert [p.phone.id for p in decide(facts, work_first, NOW).phones] == [3, 2, 1, 4]


def test_dnc_skips_to_the_next_phone() -> None:
    facts = contact(MOSCOW, "+74957654321")
    decision = decide(facts, RU, NOW, Circumstances(dnc=frozenset({MOSCOW})))
    assert reasons(decision, MOSCOW) == [Reason.DNC]
    assert decision.chosen.phone.number == "+74957654321"
    assert decision.phones[0].next_time is None  # DNC does not lift by itself


def test_block_by_other_tenant_until_it_expires() -> None:
    until = NOW + timedelta(days=30)
    decision = decide(contact(MOSCOW), RU, NOW, Circumstances(blocks={MOSCOW: until}))
    assert reasons(decision, MOSCOW) == [Reason.BLOCKED] and not decision.dialable
    assert decision.next_time == until  # 13:00 MSK, inside the window
    expired = decide(contact(MOSCOW), RU, NOW, Circumstances(blocks={MOSCOW: NOW}))
    assert expired.dialable


def test_outside_window_reports_next_opening() -> None:
    decision = decide(contact(MOSCOW), RU, utc(2026, 11, 23, 19, 30))  # 22:30 MSK
    assert reasons(decision, MOSCOW) == [Reason.OUTSIDE_WINDOW]
    assert decision.next_time == utc(2026, 11, 24, 5, 0)


def test_retry_delay_and_its_end_inside_the_window() -> None:
    history = (AttemptFact(MOSCOW, utc(2026, 11, 23, 9, 50), Outcome.BUSY,
                           ended_at=utc(2026, 11, 23, 9, 51)),)
    decision = decide(contact(MOSCOW), RU, NOW, Circumstances(history=history))
    assert reasons(decision, MOSCOW) == [Reason.RETRY_DELAY]
    assert decision.next_time == utc(2026, 11, 23, 10, 6)
    late = (AttemptFact(MOSCOW, utc(2026, 11, 23, 18, 0), Outcome.NO_ANSWER),)
    decision = decide(contact(MOSCOW), RU, utc(2026, 11, 23, 18, 30), Circumstances(history=late))
    assert decision.next_time == utc(2026, 11, 24, 5, 0)  # 20:00 UTC is after 22:00 MSK


def test_cap_counts_the_contact_across_numbers_and_campaigns() -> None:
    other = "+74957654321"
    history = (AttemptFact(other, utc(2026, 11, 23, 6), Outcome.ANSWERED, campaign_id=7),)
    decision = decide(contact(MOSCOW, other), RU, NOW, Circumstances(history=history))
    assert reasons(decision, MOSCOW) == [Reason.CAP]
    assert reasons(decision, other) == [Reason.RETRY_DELAY, Reason.CAP]
    assert decision.next_time == utc(2026, 11, 24, 5, 0)  # next day's window, 08:00 MSK


def test_contact_level_blockers() -> None:
    final = decide(contact(MOSCOW, status="paid", final=True), RU, NOW)
    assert reasons(final, MOSCOW) == [Reason.FINAL_STATUS] and final.next_time is None
    spent = decide(contact(MOSCOW, attempts=12), RU, NOW)
    assert reasons(spent, MOSCOW) == [Reason.CONTACT_ATTEMPTS]
    running = decide(contact(MOSCOW, "+74957654321"), RU, NOW, Circumstances(
        history=(AttemptFact("+74957654321", NOW - timedelta(minutes=1)),)))
    assert not running.dialable
    assert all(Reason.IN_PROGRESS in [b.reason for b in p.blockers] for p in running.phones)


def test_phone_level_blockers() -> None:
    phones = (PhoneFacts(1, MOSCOW, disabled_reason="invalid_number (no retry)"),
              PhoneFacts(2, "+74957654321", attempts=5),
              PhoneFacts(3, "+74950000000", next_attempt_at=NOW + timedelta(hours=1)))
    decision = decide(ContactFacts(1, 1, phones), RU, NOW)
    assert [[b.reason for b in p.blockers] for p in decision.phones] == [
        [Reason.DISABLED], [Reason.PHONE_ATTEMPTS], [Reason.RETRY_DELAY]]
    assert decision.next_time == NOW + timedelta(hours=1)


def test_due_callback_goes_first_on_its_phone_and_bypasses_retry_and_attempts() -> None:
    phones = (PhoneFacts(1, MOSCOW), PhoneFacts(2, "+74957654321", PhoneType.HOME, attempts=5))
    callback = CallbackFact(9, due_at=NOW - timedelta(minutes=5), phone_id=2, agent_id=42)
    history = (AttemptFact("+74957654321", NOW - timedelta(minutes=30), Outcome.ANSWERED),)
    no_caps = StrategyConfig.from_dict({"windows": {"weekdays": "08:00-22:00"}})
    decision = decide(ContactFacts(1, 1, phones, attempts=12), no_caps, NOW,
                      Circumstances(history=history, callbacks=(callback,)))
    chosen = decision.chosen
    assert chosen.phone.id == 2 and chosen.is_callback and chosen.callback.agent_id == 42


def test_due_callback_still_respects_window_dnc_and_caps() -> None:
    callback = CallbackFact(9, due_at=utc(2026, 11, 23, 19, 0))  # 22:00 MSK: window closed
    decision = decide(contact(MOSCOW), RU, utc(2026, 11, 23, 19, 30),
                      Circumstances(callbacks=(callback,)))
    assert reasons(decision, MOSCOW) == [Reason.OUTSIDE_WINDOW]
    decision = decide(contact(MOSCOW), RU, NOW, Circumstances(
        callbacks=(CallbackFact(9, NOW),), dnc=frozenset({MOSCOW})))
    assert reasons(decision, MOSCOW) == [Reason.DNC]


def test_future_callback_holds_regular_dialing_until_due() -> None:
    due = NOW + timedelta(hours=3)
    decision = decide(contact(MOSCOW), RU, NOW, Circumstances(callbacks=(CallbackFact(9, due),)))
    assert reasons(decision, MOSCOW) == [Reason.CALLBACK_PENDING]
    assert decision.next_time == due


def test_contact_region_and_phone_disagree_uses_intersection() -> None:
    facts = contact(MOSCOW, region="Новосибирская область")
    late_for_novosibirsk = utc(2026, 11, 23, 15, 30)  # 18:30 MSK, 22:30 in Novosibirsk
    decision = decide(facts, RU, late_for_novosibirsk)
    assert reasons(decision, MOSCOW) == [Reason.OUTSIDE_WINDOW]
    assert decision.chosen is None
    assert decide(contact(MOSCOW), RU, late_for_novosibirsk).dialable


def test_history_after_now_is_ignored() -> None:
    future = (AttemptFact(MOSCOW, NOW + timedelta(hours=1), Outcome.ANSWERED),)
    assert decide(contact(MOSCOW), RU, NOW, Circumstances(history=future)).dialable


def test_no_call_starts_in_the_windows_last_minute() -> None:
    # ru_collection: 8:00-22:00 on working days; 18:59:00 UTC is 21:59 in Moscow.
    before_last_minute = utc(2026, 11, 23, 18, 58, 59)
    assert decide(contact(MOSCOW), RU, before_last_minute).dialable
    last_minute = utc(2026, 11, 23, 18, 59, 30)
    decision = decide(contact(MOSCOW), RU, last_minute)
    assert reasons(decision, MOSCOW) == [Reason.OUTSIDE_WINDOW]
    assert "closing within a minute" in decision.phones[0].blockers[0].detail
    assert decision.next_time == utc(2026, 11, 24, 5)  # Tuesday 08:00 in Moscow
