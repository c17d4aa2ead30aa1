"""Lead statuses: built-in set, tenant overrides, and history on every change."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from engine.leads import DEFAULT_STATUSES, UnknownStatus, ensure_default_statuses, set_status, statuses_for
from engine.store.models import LeadStatus, LeadStatusChange


def test_defaults_are_inserted_once(session) -> None:  # type: ignore[no-untyped-def]
    ensure_default_statuses(session)
    ensure_default_statuses(session)
    codes = session.scalars(select(LeadStatus.code).order_by(LeadStatus.position)).all()
    assert codes == [s.code for s in DEFAULT_STATUSES]


def test_tenant_status_overrides_builtin_and_adds_its_own(factory, session) -> None:  # type: ignore[no-untyped-def]
    ensure_default_statuses(session)
    tenant = factory.tenant()
    session.add_all([
        LeadStatus(tenant_id=tenant.id, code="refused", name="Отказался", position=7,
                   final=True, category="lost"),
        LeadStatus(tenant_id=tenant.id, code="meeting", name="Встреча", position=5,
                   category="in_progress"),
    ])
    session.flush()
    mine = statuses_for(session, tenant.id)
    assert [s.name for s in mine if s.code == "refused"] == ["Отказался"]
    assert "meeting" in [s.code for s in mine]
    other = factory.tenant()
    assert "meeting" not in [s.code for s in statuses_for(session, other.id)]


def test_set_status_keeps_full_history(factory, session, clock) -> None:  # type: ignore[no-untyped-def]
    ensure_default_statuses(session)
    contact = factory.contact(factory.contact_list(factory.campaign()))
    first = set_status(session, contact, "no_answer", at=clock.now())
    later = clock.now() + timedelta(hours=1)
    second = set_status(session, contact, "interested", at=later, comment="wants a quote")
    assert set_status(session, contact, "interested", at=later) is None
    history = session.scalars(
        select(LeadStatusChange).where(LeadStatusChange.contact_id == contact.id)
        .order_by(LeadStatusChange.id)).all()
    assert [(h.from_status, h.to_status) for h in history] == [
        ("new", "no_answer"), ("no_answer", "interested")]
    assert history == [first, second]
    assert contact.status == "interested" and contact.updated_at == later


def test_unknown_status_is_refused(factory, session, clock) -> None:  # type: ignore[no-untyped-def]
    ensure_default_statuses(session)
    contact = factory.contact(factory.contact_list(factory.campaign()))
    with pytest.raises(UnknownStatus, match="'sold'"):
        set_status(session, contact, "sold", at=clock.now())
    assert contact.status == "new"
