"""Model behaviour that the rest relies on: UTC datetimes, enums, uniqueness, cascades."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, StatementError

from engine.store.models import CallAttempt, Contact, Outcome, Phone, PhoneType


def test_datetimes_come_back_aware_utc(factory, session) -> None:  # type: ignore[no-untyped-def]
    moscow = timezone(timedelta(hours=3))
    tenant = factory.tenant(created_at=datetime(2026, 1, 1, 12, 0, tzinfo=moscow))
    session.commit()
    session.expire_all()
    loaded = session.get(type(tenant), tenant.id)
    assert loaded.created_at == datetime(2026, 1, 1, 9, 0, tzinfo=timezone.utc)
    assert loaded.created_at.tzinfo is timezone.utc


def test_naive_datetime_is_refused(factory, session) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(StatementError, match="naive datetime"):
        factory.tenant(created_at=datetime(2026, 1, 1, 12, 0))


def test_enums_are_stored_as_their_values(factory, session) -> None:  # type: ignore[no-untyped-def]
    campaign = factory.campaign()
    contact = factory.contact(factory.contact_list(campaign), phones=["+79161234567"])
    attempt = CallAttempt(
        tenant_id=campaign.tenant_id, campaign_id=campaign.id, contact_id=contact.id,
        phone_id=contact.phones[0].id, number="+79161234567", mode="progressive",
        call_uuid="8e2a5bbb-0d03-44d5-a1a5-1e65a0df2952", outcome=Outcome.NO_ANSWER,
        created_at=factory.clock.now(),
    )
    session.add(attempt)
    session.flush()
    raw = session.execute(
        select(CallAttempt.__table__.c.outcome, Phone.__table__.c.phone_type)
        .join(Phone.__table__, Phone.__table__.c.id == CallAttempt.__table__.c.phone_id)
    ).one()
    assert tuple(raw) == (Outcome.NO_ANSWER, PhoneType.MOBILE)
    assert session.connection().exec_driver_sql(
        "SELECT outcome FROM call_attempts").scalar_one() == "no_answer"


def test_external_id_is_unique_per_list(factory, session) -> None:  # type: ignore[no-untyped-def]
    contact_list = factory.contact_list(factory.campaign())
    factory.contact(contact_list, external_id="42")
    with pytest.raises(IntegrityError):
        factory.contact(contact_list, external_id="42")


def test_phones_follow_their_contact(factory, session) -> None:  # type: ignore[no-untyped-def]
    contact = factory.contact(factory.contact_list(factory.campaign()),
                              phones=["+79161234567", "+74951234567"])
    assert [p.number for p in contact.phones] == ["+79161234567", "+74951234567"]
    session.delete(contact)
    session.flush()
    assert session.scalars(select(Phone)).all() == []
    assert session.scalars(select(Contact)).all() == []
