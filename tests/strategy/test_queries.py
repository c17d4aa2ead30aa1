"""next_dialable and record_reached against a real database (SQLite; PostgreSQL where set up)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from engine.numbering.loader import load_registry
from engine.store.db import make_engine, make_sessionmaker
from engine.store.models import (
    Base,
    CallAttempt,
    Callback,
    CallbackStatus,
    ContactBlock,
    DncEntry,
    LeadStatus,
    Outcome,
    Phone,
    PhoneType,
)
from engine.store.queries import next_dialable, record_reached
from tests.factories import Factory

from .conftest import utc

NOW = utc(2026, 11, 23, 10)  # Monday 13:00 Moscow
RU = {"preset": "ru_collection"}
DATA = Path(__file__).parent.parent / "numbering" / "data"


def attempt(session: Session, campaign, contact, number: str, at: datetime,  # type: ignore[no-untyped-def]
            outcome: Outcome | None = Outcome.NO_ANSWER, **kw) -> CallAttempt:
    row = CallAttempt(tenant_id=campaign.tenant_id, campaign_id=campaign.id, contact_id=contact.id,
                      number=number, mode="progressive", call_uuid=str(uuid.uuid4()),
                      outcome=outcome, created_at=at, **kw)
    session.add(row)
    session.flush()
    return row


def numbers(found) -> list[str]:  # type: ignore[no-untyped-def]
    return [c.number for c in found]


def test_selects_dialable_phones_and_skips_the_rest(factory: Factory, session: Session) -> None:
    campaign = factory.campaign(strategy=RU)
    lst = factory.contact_list(campaign)
    ok = factory.contact(lst, phones=["+74950000001"])
    factory.contact(lst, phones=["+74950000002"], status="paid")
    session.add(LeadStatus(tenant_id=None, code="paid", name="Paid", final=True))
    dnc = factory.contact(lst, phones=["+74950000003"])
    session.add(DncEntry(tenant_id=None, number="+74950000003", created_at=NOW))
    disabled = factory.contact(lst, phones=["+74950000004"])
    disabled.phones[0].disabled_reason = "invalid_number (no retry)"
    later = factory.contact(lst, phones=["+74950000005"])
    later.phones[0].next_attempt_at = NOW + timedelta(hours=1)
    far_east = factory.contact(lst, phones=["+74950000006"], timezone="Asia/Kamchatka")  # 22:00
    other_list = factory.contact_list(factory.campaign(tenant=campaign.tenant))
    factory.contact(other_list, phones=["+74950000007"])
    session.flush()
    found = next_dialable(session, campaign, NOW)
    assert numbers(found) == ["+74950000001"]
    assert found[0].contact_id == ok.id and found[0].phone_id == ok.phones[0].id
    assert not found[0].is_callback and found[0].zones == ("Europe/Moscow",)
    assert {dnc.id, disabled.id, later.id, far_east.id}.isdisjoint(c.contact_id for c in found)


def test_second_phone_when_first_is_on_tenant_dnc_only_for_that_tenant(
        factory: Factory, session: Session) -> None:
    campaign = factory.campaign(strategy=RU)
    factory.contact(factory.contact_list(campaign), phones=["+74950000001", "+74950000002"])
    session.add(DncEntry(tenant_id=campaign.tenant_id, number="+74950000001", created_at=NOW))
    other = factory.campaign(strategy=RU)
    factory.contact(factory.contact_list(other), phones=["+74950000001"])
    session.flush()
    assert numbers(next_dialable(session, campaign, NOW)) == ["+74950000002"]
    assert numbers(next_dialable(session, other, NOW)) == ["+74950000001"]


def test_caps_span_campaigns_of_the_tenant_but_not_other_tenants(
        factory: Factory, session: Session) -> None:
    first = factory.campaign(strategy=RU)
    second = factory.campaign(tenant=first.tenant, strategy=RU)
    stranger = factory.campaign(strategy=RU)
    number = "+74950000001"
    c1 = factory.contact(factory.contact_list(first), phones=[number])
    factory.contact(factory.contact_list(second), phones=[number])
    factory.contact(factory.contact_list(stranger), phones=[number])
    attempt(session, first, c1, number, NOW - timedelta(hours=2), Outcome.ANSWERED)
    assert next_dialable(session, second, NOW) == []  # 1 conversation a day, across campaigns
    assert numbers(next_dialable(session, stranger, NOW)) == [number]


def test_cross_tenant_block_after_reach(factory: Factory, session: Session) -> None:
    owner = factory.campaign(strategy=RU)
    other = factory.campaign(strategy=RU)
    number = "+74950000001"
    contact = factory.contact(factory.contact_list(owner), phones=[number])
    factory.contact(factory.contact_list(other), phones=[number])
    reached = attempt(session, owner, contact, number, NOW - timedelta(days=2), Outcome.ANSWERED,
                      answered_at=NOW - timedelta(days=2))
    block = record_reached(session, reached, block_days=90)
    assert block is not None and block.blocked_until == NOW + timedelta(days=88)
    assert record_reached(session, reached, block_days=90) is block  # idempotent
    assert session.query(ContactBlock).count() == 1
    assert next_dialable(session, other, NOW) == []
    assert numbers(next_dialable(session, owner, NOW)) == [number]  # the owner may go on
    assert numbers(next_dialable(session, other, NOW + timedelta(days=89))) == [number]
    missed = attempt(session, owner, contact, number, NOW, Outcome.NO_ANSWER)
    assert record_reached(session, missed, block_days=90) is None


def test_block_extended_by_a_later_reach(factory: Factory, session: Session) -> None:
    campaign = factory.campaign()
    contact = factory.contact(factory.contact_list(campaign), phones=["+74950000001"])
    first = attempt(session, campaign, contact, "+74950000001", NOW - timedelta(days=10),
                    Outcome.ANSWERED)
    second = attempt(session, campaign, contact, "+74950000001", NOW, Outcome.ANSWERED)
    block = record_reached(session, first, 90)
    assert record_reached(session, second, 90) is block
    assert block.blocked_until == NOW + timedelta(days=90) and block.attempt_id == second.id
    assert session.query(ContactBlock).count() == 1


def test_due_callbacks_come_first_with_their_agent(factory: Factory, session: Session) -> None:
    campaign = factory.campaign(strategy=RU)
    lst = factory.contact_list(campaign)
    plain = [factory.contact(lst, phones=[f"+7495000000{i}"]) for i in range(3)]
    later = factory.contact(lst, phones=["+74950000009"])
    later.phones.append(Phone(number="+74950000010", phone_type=PhoneType.HOME, priority=1))
    session.flush()
    agent = factory.agent(campaign.tenant)
    session.add_all([
        Callback(campaign_id=campaign.id, contact_id=later.id, phone_id=later.phones[1].id,
                 agent_id=agent.id, due_at=NOW - timedelta(minutes=5), created_at=NOW),
        Callback(campaign_id=campaign.id, contact_id=plain[2].id, due_at=NOW + timedelta(hours=1),
                 created_at=NOW),
        Callback(campaign_id=campaign.id, contact_id=plain[1].id, due_at=NOW - timedelta(hours=1),
                 status=CallbackStatus.DONE, created_at=NOW)])
    session.flush()
    found = next_dialable(session, campaign, NOW, limit=10)
    assert numbers(found) == ["+74950000010", "+74950000000", "+74950000001"]
    assert found[0].is_callback and found[0].agent_id == agent.id and found[0].callback_id
    assert not found[1].is_callback
    assert numbers(next_dialable(session, campaign, NOW, limit=2)) == ["+74950000010",
                                                                       "+74950000000"]


def test_in_progress_attempts_and_attempt_caps(factory: Factory, session: Session) -> None:
    campaign = factory.campaign(strategy={**RU, "max_attempts_per_phone": 2})
    lst = factory.contact_list(campaign)
    busy = factory.contact(lst, phones=["+74950000001"])
    spent = factory.contact(lst, phones=["+74950000002"])
    spent.phones[0].attempts = 2
    attempt(session, campaign, busy, "+74950000001", NOW - timedelta(seconds=20), outcome=None)
    assert next_dialable(session, campaign, NOW) == []


def test_numbering_plan_zones_are_used(factory: Factory, session: Session) -> None:
    load_registry(session, DATA / "DEF-9xx.csv")
    campaign = factory.campaign(strategy=RU)
    lst = factory.contact_list(campaign)
    factory.contact(lst, phones=["+79139123456"])  # Novosibirsk range
    factory.contact(lst, phones=["+79161234567"])  # Moscow range
    evening = utc(2026, 11, 23, 15, 30)  # 18:30 Moscow, 22:30 Novosibirsk
    assert numbers(next_dialable(session, campaign, evening)) == ["+79161234567"]
    found = next_dialable(session, campaign, utc(2026, 11, 23, 9))
    assert [c.zones for c in found] == [("Asia/Novosibirsk",), ("Europe/Moscow",)]


def test_pages_past_undialable_contacts(factory: Factory, session: Session) -> None:
    campaign = factory.campaign(strategy=RU)
    lst = factory.contact_list(campaign)
    for i in range(40):  # Kamchatka at 22:00: not dialable at NOW; more than one page
        factory.contact(lst, phones=[f"+741520000{i:02d}"], timezone="Asia/Kamchatka")
    factory.contact(lst, phones=["+74950000001"])
    assert numbers(next_dialable(session, campaign, NOW, limit=2)) == ["+74950000001"]


@pytest.mark.postgres
def test_same_queries_on_postgresql(pg_url: str, clock) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(pg_url)
    Base.metadata.create_all(engine)
    try:
        with make_sessionmaker(engine)() as session:
            factory = Factory(session, clock)
            load_registry(session, DATA / "DEF-9xx.csv")
            campaign = factory.campaign(strategy=RU)
            lst = factory.contact_list(campaign)
            contact = factory.contact(lst, phones=["+79139123456"])
            factory.contact(lst, phones=["+74950000001"])
            session.add(DncEntry(tenant_id=None, number="+74950000001", created_at=NOW))
            other = factory.campaign(strategy=RU)
            factory.contact(factory.contact_list(other), phones=["+79139123456"])
            reached = attempt(session, campaign, contact, "+79139123456", NOW - timedelta(hours=1),
                              Outcome.ANSWERED)
            record_reached(session, reached, 90)
            assert next_dialable(session, campaign, NOW) == []  # capped; DNC
            found = next_dialable(session, campaign, NOW + timedelta(days=1))
            assert [(c.number, c.zones) for c in found] == [("+79139123456", ("Asia/Novosibirsk",))]
            assert next_dialable(session, other, NOW + timedelta(days=1)) == []  # blocked
    finally:
        engine.dispose()


def test_after_contact_resumes_the_scan_like_a_hopper(factory: Factory, session: Session) -> None:
    campaign = factory.campaign(strategy=RU)
    lst = factory.contact_list(campaign)
    contacts = [factory.contact(lst, phones=[f"+7495000000{i}"]) for i in range(5)]
    first = next_dialable(session, campaign, NOW, limit=2)
    assert [c.contact_id for c in first] == [contacts[0].id, contacts[1].id]
    rest = next_dialable(session, campaign, NOW, limit=2, after_contact=first[-1].contact_id)
    assert [c.contact_id for c in rest] == [contacts[2].id, contacts[3].id]
    tail = next_dialable(session, campaign, NOW, limit=2, after_contact=rest[-1].contact_id)
    assert [c.contact_id for c in tail] == [contacts[4].id]  # short: the runner wraps to 0
