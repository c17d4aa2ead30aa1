"""Progressive campaigns end to end against the switch simulator."""

from __future__ import annotations

import wave
from collections import Counter
from datetime import timedelta
from pathlib import Path

import gevent

import pytest
from sqlalchemy import select

from engine.agents import AgentState
from engine.store.models import (
    AgentStateLog,
    AttemptState,
    CallAttempt,
    Callback,
    CallbackStatus,
    Contact,
    ContactBlock,
    ContactList,
    DncEntry,
    Outcome,
    Phone,
)
from engine.runner.progressive import ProgressiveRunner

from .conftest import attempts, login_ready, make_campaign, wait_for

EXPECTED = {
    "+79001000001": Outcome.ANSWERED, "+79001000002": Outcome.ANSWERED,
    "+79002000001": Outcome.BUSY, "+79003000001": Outcome.NO_ANSWER,
    "+79004000001": Outcome.REJECTED, "+79005000001": Outcome.INVALID_NUMBER,
    "+79006000001": Outcome.NETWORK_FAILURE,
}


@pytest.mark.slow  # the no-answer case rings the full 15 s minimum
def test_every_outcome_once_with_agents_bridged(core, factory, session, sessionmaker_) -> None:  # type: ignore[no-untyped-def]
    campaign, agents = make_campaign(factory, session, list(EXPECTED), agents=3)
    login_ready(core, agents, campaign.id)
    runner = ProgressiveRunner(core, campaign.id, tick_s=0.02)
    runner.start()
    try:
        wait_for(lambda: len(attempts(sessionmaker_)) == len(EXPECTED)
                 and all(a.state is AttemptState.ENDED for a in attempts(sessionmaker_)),
                 40, "all attempts to end")
    finally:
        runner.stop()
    rows = attempts(sessionmaker_)
    assert {a.number: a.outcome for a in rows} == EXPECTED
    assert Counter(a.number for a in rows) == Counter(set(EXPECTED))  # each number dialed once
    assert sorted(a.final_seq for a in rows) == list(range(1, len(EXPECTED) + 1))  # export order
    with sessionmaker_() as s:
        phones = {p.number: p for p in s.scalars(select(Phone))}
        blocks = {b.number for b in s.scalars(select(ContactBlock))}
    assert all(phones[n].attempts == 1 and phones[n].last_outcome == o.value
               for n, o in EXPECTED.items())
    assert phones["+79005000001"].disabled_reason or phones["+79005000001"].next_attempt_at
    assert blocks == {n for n, o in EXPECTED.items() if o is Outcome.ANSWERED}
    for row in rows:
        assert row.originated_at is not None and row.ended_at is not None
        assert row.agent_id in {a.id for a in agents}
        if row.outcome is Outcome.ANSWERED:
            assert row.answered_at <= row.bridged_at <= row.ended_at
            assert row.dead_air_ms is not None and row.dead_air_ms >= 0
            assert row.recording_path and Path(row.recording_path).exists()
            with wave.open(row.recording_path) as recording:
                assert recording.getnchannels() == 2
            assert f"/{campaign.tenant_id}/2026/11/23/{row.id}-{row.call_uuid}.wav" in row.recording_path
        else:
            assert row.answered_at is None and row.bridged_at is None
    with sessionmaker_() as s:
        states = {r.state for r in s.scalars(select(AgentStateLog))}
    assert {"paused", "ready", "reserved", "talking", "wrap_up"} <= states
    wait_for(lambda: all(core.agents.get(a.id).state is AgentState.READY for a in agents), 5,
             "agents back to ready after wrap-up")


def run_until_quiet(core, campaign, sessionmaker_, expected: int) -> list[CallAttempt]:  # type: ignore[no-untyped-def]
    runner = ProgressiveRunner(core, campaign.id, tick_s=0.02)
    runner.start()
    try:
        wait_for(lambda: len(attempts(sessionmaker_)) >= expected
                 and all(a.state is AttemptState.ENDED for a in attempts(sessionmaker_)),
                 15, "the dialable contacts to be called")
        gevent.sleep(0.5)  # time enough to dial anything else it wrongly would
    finally:
        runner.stop()
    return attempts(sessionmaker_)


def test_no_dial_outside_hours_or_on_dnc(core, factory, session, sessionmaker_, clock) -> None:  # type: ignore[no-untyped-def]
    campaign, agents = make_campaign(factory, session, ["+79001000001", "+79001000002"], agents=2)
    contact_list = session.scalars(select(ContactList)).one()
    factory.contact(contact_list, phones=["+79001000003"], timezone="Asia/Kamchatka")  # 22:00
    factory.contact(contact_list, phones=["+7900-100"], timezone="Europe/Moscow")  # bad number
    session.add(DncEntry(tenant_id=campaign.tenant_id, number="+79001000002", created_at=clock.now()))
    session.commit()
    login_ready(core, agents, campaign.id)
    rows = run_until_quiet(core, campaign, sessionmaker_, expected=1)
    assert [r.number for r in rows] == ["+79001000001"]
    with sessionmaker_() as s:
        bad = s.scalars(select(Phone).where(Phone.number == "+7900-100")).one()
    assert "is not digits" in bad.disabled_reason  # refused with the reason, never dialed


def test_callback_goes_to_its_reserved_agent(core, factory, session, sessionmaker_, running_clock) -> None:  # type: ignore[no-untyped-def]
    campaign, agents = make_campaign(factory, session, ["+79001000001", "+79001000002"], agents=2)
    contact = session.scalars(select(Contact).order_by(Contact.id.desc())).first()
    callback = Callback(campaign_id=campaign.id, contact_id=contact.id, phone_id=contact.phones[0].id,
                        agent_id=agents[1].id, due_at=running_clock.now() - timedelta(minutes=1),
                        created_at=running_clock.now() - timedelta(hours=1))
    session.add(callback)
    session.commit()
    login_ready(core, agents, campaign.id)
    rows = run_until_quiet(core, campaign, sessionmaker_, expected=2)
    served = [r for r in rows if r.callback_id == callback.id]
    assert len(served) == 1 and served[0].agent_id == agents[1].id
    assert served[0].number == "+79001000002"
    with sessionmaker_() as s:
        assert s.get(Callback, callback.id).status is CallbackStatus.DONE
    assert len(rows) == 2


def test_concurrent_channel_limit_holds(core, factory, session, sessionmaker_) -> None:  # type: ignore[no-untyped-def]
    numbers = ["+79001000001", "+79001000002", "+79001000003"]
    campaign, agents = make_campaign(factory, session, numbers, agents=3,
                                     pacing={"ring_timeout_s": 15, "wrap_up_s": 0, "max_channels": 1})
    login_ready(core, agents, campaign.id)
    rows = run_until_quiet(core, campaign, sessionmaker_, expected=3)
    spans = sorted((r.originated_at, r.ended_at) for r in rows)
    assert len(spans) == 3
    assert all(spans[i][1] <= spans[i + 1][0] for i in range(2))  # one call at a time
