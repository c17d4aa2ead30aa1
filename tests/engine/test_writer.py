"""The write-behind: batches on its own thread, keeps a failed batch, loses nothing on stop."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import gevent
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from engine.agents import AgentState
from engine.calls import Call, CallState
from engine.clock import ManualClock
from engine.runner.attempts import NewAttempt, create_pending, open_attempts
from engine.runner.writer import WriteBehind
from engine.store.db import transaction
from engine.store.models import (
    AgentStateLog,
    AttemptState,
    CallAttempt,
    Campaign,
    Outcome,
    Phone,
)

from ..factories import Factory


class Quiet:
    """A call observer that does nothing (the writer is fed by hand)."""

    def __getattr__(self, name: str) -> Any:
        return lambda *args: None


class Item:
    """A dialable number as the strategy hands it out."""

    def __init__(self, contact_id: int, phone_id: int | None) -> None:
        self.contact_id, self.phone_id, self.number = contact_id, phone_id, "+79161234567"
        self.is_callback, self.agent_id, self.callback_id = False, None, None


class Hooks:
    """A finish hook that counts its runs and can fail or stall on demand."""

    def __init__(self) -> None:
        self.ended: list[int] = []
        self.fail_next = False
        self.stall_s = 0.0

    def __call__(self, session: Session, attempt: CallAttempt) -> None:
        if self.stall_s:
            time.sleep(self.stall_s)  # a slow transaction, on the writer's thread
        if self.fail_next:
            self.fail_next = False
            raise RuntimeError("database is locked")
        self.ended.append(attempt.id)


@pytest.fixture
def world(factory: Factory, session: Session) -> tuple[Campaign, int, int]:
    campaign = factory.campaign(gateway="sofia/gateway/gw/{number}")
    contact = factory.contact(factory.contact_list(campaign))
    agent = factory.agent(factory.tenant())
    session.commit()
    return campaign, contact.id, agent.id


@pytest.fixture
def hooks() -> Hooks:
    return Hooks()


@pytest.fixture
def writer(sessionmaker_: sessionmaker[Session], hooks: Hooks) -> Iterator[WriteBehind]:
    writer = WriteBehind(sessionmaker_, [hooks], interval_s=60)  # flushed by hand
    writer.start()
    yield writer
    writer.stop()


def pending_call(sessions: sessionmaker[Session], world: tuple[Campaign, int, int],
                 clock: ManualClock, uuid: str) -> Call:
    """An attempt committed before its originate, as the runners do, and its call dialing."""
    campaign, contact_id, _ = world
    with transaction(sessions) as session:
        phone_id = session.scalar(select(Phone.id).where(Phone.contact_id == contact_id))
        (attempt,) = create_pending(session, session.get(Campaign, campaign.id),
                                    [NewAttempt(Item(contact_id, phone_id), None, "sim", uuid)],
                                    mode="progressive", engine="dialer-1", now=clock.now())
        assert attempt is not None
        attempt_id = attempt.id
    call = Call(attempt_id=attempt_id, uuid=uuid, node="sim", campaign_id=campaign.id,
                clock=clock, observer=Quiet())
    call.dialing()
    return call


def row(sessions: sessionmaker[Session], call: Call) -> CallAttempt:
    with sessions() as session:
        attempt = session.get(CallAttempt, call.attempt_id)
        assert attempt is not None
        return attempt


def state_rows(sessions: sessionmaker[Session], agent_id: int) -> list[tuple[str, bool]]:
    with sessions() as session:
        return [(r.state, r.ended_at is not None) for r in session.scalars(
            select(AgentStateLog).where(AgentStateLog.agent_id == agent_id)
            .order_by(AgentStateLog.id))]


def ticks_during(action: Callable[[], Any]) -> int:
    """How many times a greenlet sleeping 10 ms woke while ``action`` ran."""
    ticks = 0

    def tick() -> None:
        nonlocal ticks
        while True:
            gevent.sleep(0.01)
            ticks += 1

    ticker = gevent.spawn(tick)
    try:
        action()
    finally:
        ticker.kill()
    return ticks


def test_the_event_loop_runs_while_a_batch_is_written(writer, hooks, world, sessionmaker_, clock) -> None:  # type: ignore[no-untyped-def]
    call = pending_call(sessionmaker_, world, clock, "c-slow")
    call.answered()
    call.end("NORMAL_CLEARING")
    writer.call_changed(call)
    hooks.stall_s = 0.5
    assert ticks_during(writer.flush) >= 5  # greenlets ran through the half-second transaction
    assert row(sessionmaker_, call).state is AttemptState.ENDED
    assert hooks.ended == [call.attempt_id]


def test_a_failed_batch_is_kept_and_written_with_the_newest_state(writer, hooks, world, sessionmaker_, clock) -> None:  # type: ignore[no-untyped-def]
    _, _, agent_id = world
    call = pending_call(sessionmaker_, world, clock, "c-fail")
    call.end("USER_BUSY", 486)
    writer.call_changed(call)
    for state in (AgentState.PAUSED, AgentState.READY, AgentState.RESERVED):
        writer.record(agent_id, state, None, None, clock.now())
        clock.advance(1)
    hooks.fail_next = True
    with pytest.raises(RuntimeError, match="locked"):
        writer.flush()
    assert row(sessionmaker_, call).state is AttemptState.PENDING  # rolled back as a whole
    assert state_rows(sessionmaker_, agent_id) == []
    assert writer.pending == 4
    writer.record(agent_id, AgentState.TALKING, None, None, clock.now())
    writer.flush()
    attempt = row(sessionmaker_, call)
    assert (attempt.state, attempt.outcome, attempt.sip_code) == (
        AttemptState.ENDED, Outcome.BUSY, 486)
    assert hooks.ended == [call.attempt_id]  # once, in the batch that committed
    assert state_rows(sessionmaker_, agent_id) == [
        ("paused", True), ("ready", True), ("reserved", True), ("talking", False)]
    assert writer.pending == 0


def test_stop_lands_the_batch_in_flight_and_what_came_after(sessionmaker_, hooks, world, clock) -> None:  # type: ignore[no-untyped-def]
    writer = WriteBehind(sessionmaker_, [hooks], interval_s=0.01)
    writer.start()
    first = pending_call(sessionmaker_, world, clock, "c-first")
    first.end("NORMAL_CLEARING")
    hooks.stall_s = 0.3
    writer.call_changed(first)
    gevent.sleep(0.1)  # the loop has taken it and is writing
    assert writer.pending == 0
    second = pending_call(sessionmaker_, world, clock, "c-second")
    second.answered()
    writer.call_changed(second)
    writer.stop()
    assert row(sessionmaker_, first).state is AttemptState.ENDED
    assert row(sessionmaker_, second).state is AttemptState.ANSWERED
    assert writer.pending == 0


def test_a_crash_before_the_write_leaves_the_attempt_for_reconciliation(writer, world, sessionmaker_, clock) -> None:  # type: ignore[no-untyped-def]
    call = pending_call(sessionmaker_, world, clock, "c-crash")
    call.answered()
    writer.call_changed(call)  # never flushed: the process dies here
    with sessionmaker_() as session:
        survivors = open_attempts(session, "sim", "dialer-1")
    assert [a.call_uuid for a in survivors] == ["c-crash"]
    assert survivors[0].state is AttemptState.PENDING  # committed before the originate
    writer.flush()  # (the fixture's stop would write it anyway)


def test_a_snapshot_does_not_follow_the_call(clock) -> None:  # type: ignore[no-untyped-def]
    call = Call(attempt_id=1, uuid="u", node="sim", campaign_id=1, clock=clock, observer=Quiet())
    call.dialing()
    call.result["ivr"] = {"digits": ["1"]}
    frozen = call.snapshot()
    call.answered()
    call.result["ivr"]["digits"].append("9")
    assert frozen.state is CallState.DIALING and frozen.answered_at is None
    assert frozen.result == {"ivr": {"digits": ["1"]}}
    assert call.state is CallState.ANSWERED


def test_state_changes_of_many_agents_in_one_batch(writer, factory, session, sessionmaker_, clock) -> None:  # type: ignore[no-untyped-def]
    tenant = factory.tenant()
    first, second = factory.agent(tenant).id, factory.agent(tenant).id
    session.commit()
    writer.record(first, AgentState.PAUSED, "connecting", None, clock.now())
    writer.flush()  # an interval left open by an earlier batch
    script = [(first, AgentState.READY), (second, AgentState.PAUSED), (first, AgentState.OFFLINE),
              (second, AgentState.READY), (first, AgentState.PAUSED)]
    for agent_id, state in script:
        clock.advance(1)
        writer.record(agent_id, state, None, None, clock.now())
    writer.flush()
    assert state_rows(sessionmaker_, first) == [("paused", True), ("ready", True), ("paused", False)]
    assert state_rows(sessionmaker_, second) == [("paused", True), ("ready", False)]
    with sessionmaker_() as s:
        ready = s.scalar(select(AgentStateLog).where(AgentStateLog.agent_id == first,
                                                     AgentStateLog.state == "ready"))
        assert ready is not None and ready.ended_at is not None
        assert (ready.ended_at - ready.started_at).total_seconds() == 2  # ended by the logout
