"""Builders for strategy facts."""

from __future__ import annotations

from datetime import datetime, timezone

from engine.store.models import PhoneType
from engine.strategy.facts import ContactFacts, PhoneFacts


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def contact(*numbers: str, timezone_name: str | None = None, **kw) -> ContactFacts:  # type: ignore[no-untyped-def]
    phones = tuple(PhoneFacts(id=i + 1, number=n, phone_type=PhoneType.MOBILE)
                   for i, n in enumerate(numbers))
    return ContactFacts(id=kw.pop("id", 1), tenant_id=kw.pop("tenant_id", 1), phones=phones,
                        timezone=timezone_name, **kw)
