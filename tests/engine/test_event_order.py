"""Events about stored state go out only once it is committed: a listener that reads the
database on each event always finds at least the state the event tells."""

from __future__ import annotations

from typing import Any

import gevent
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from engine.api.hub import EventHub, PublishingStateLog
from engine.calls import Call, CallState
from engine.runner.writer import WriteBehind
from engine.store.models import AgentStateLog, AttemptState, CallAttempt

from .conftest import attempts, login_ready, make_campaign, run_until

ORDER = [AttemptState.PENDING, AttemptState.DIALING, AttemptState.ANSWERED,
         AttemptState.BRIDGED, AttemptState.ENDED]


def stale(session: Session, kind: str, data: dict[str, Any]) -> str | None:
    """What the database lacks of the event's news (None: it has it all)."""
    if kind == "call":
        row = session.get(CallAttempt, data["attempt_id"])
        told = CallState(data["state"]).attempt_state
        if row is None or ORDER.index(row.state) < ORDER.index(told):
            return f"attempt {data['attempt_id']} is {row and row.state}, event says {told}"
        if told is AttemptState.ENDED and (row.outcome and row.outcome.value) != data["outcome"]:
            return f"attempt {data['attempt_id']} outcome {row.outcome}, event {data['outcome']}"
        return None
    if kind == "agent_state":
        stored = session.scalar(select(AgentStateLog.id).where(
            AgentStateLog.agent_id == data["agent_id"], AgentStateLog.state == data["state"]))
        if data["state"] != "offline" and stored is None:
            return f"agent {data['agent_id']}: no {data['state']} interval stored"
        if data["state"] == "talking":
            last = session.scalar(select(CallAttempt).where(
                CallAttempt.agent_id == data["agent_id"]).order_by(CallAttempt.id.desc()))
            if last is None or last.bridged_at is None:
                return f"agent {data['agent_id']} talks but its last attempt is not bridged"
    return None


def test_a_reader_of_each_event_finds_its_state_stored(core, factory, session, sessionmaker_) -> None:  # type: ignore[no-untyped-def]
    hub = EventHub()
    core.send_events_to(hub.publish)
    core.state_log = PublishingStateLog(core.writer, core.writer.announce)
    queue = hub.subscribe()
    seen: list[tuple[str, str | None]] = []
    problems: list[str] = []

    def reader() -> None:
        while True:
            kind, data = queue.get()
            with sessionmaker_() as fresh:  # read at once, as a desktop refreshing on it
                problem = stale(fresh, kind, data)
            seen.append((kind, data.get("state")))
            if problem:
                problems.append(problem)

    listener = gevent.spawn(reader)
    numbers = ["+79001000001", "+79001000002", "+79001000003", "+79002000001", "+79004000001"]
    campaign, agents = make_campaign(factory, session, numbers, agents=2)
    login_ready(core, agents, campaign.id)
    try:
        run_until(core, campaign.id, lambda: len(attempts(sessionmaker_)) == len(numbers) and all(
            a.state is AttemptState.ENDED for a in attempts(sessionmaker_)), 20, "all calls to end")
        core.writer.flush()
        gevent.sleep(0.05)  # the listener reads the last ones
    finally:
        listener.kill()
    assert problems == []
    assert {("call", "bridged"), ("call", "ended"), ("agent_state", "talking")} <= set(seen)
    assert sum(1 for kind, state in seen if (kind, state) == ("call", "ended")) == len(numbers)


class Recorder:
    """A publish sink that notes, for each event, whether the row was committed by then."""

    def __init__(self, sessions: sessionmaker[Session], attempt_id: int) -> None:
        self.sessions, self.attempt_id = sessions, attempt_id
        self.events: list[tuple[str, AttemptState | None]] = []

    def __call__(self, kind: str, data: dict[str, Any]) -> None:
        with self.sessions() as session:
            row = session.get(CallAttempt, self.attempt_id)
            self.events.append((data["n"], row.state if row else None))


class Quiet:
    """A call observer that does nothing (the writer is fed by hand)."""

    def __getattr__(self, name: str) -> Any:
        return lambda *args: None


@pytest.fixture
def attempt_id(factory, session, clock) -> int:  # type: ignore[no-untyped-def]
    campaign = factory.campaign()
    contact = factory.contact(factory.contact_list(campaign))
    row = CallAttempt(tenant_id=campaign.tenant_id, campaign_id=campaign.id,
                      contact_id=contact.id, number="+79161234567", mode="progressive",
                      node="sim", call_uuid="u-1", state=AttemptState.PENDING,
                      created_at=clock.now(), result={})
    session.add(row)
    session.commit()
    return row.id


def test_announcements_wait_for_their_batch_keep_their_order_and_survive_a_failed_one(sessionmaker_, attempt_id, clock) -> None:  # type: ignore[no-untyped-def]
    failing = {"next": False}

    def hook(session: Session, attempt: CallAttempt) -> None:
        if failing["next"]:
            failing["next"] = False
            raise RuntimeError("database is locked")

    recorder = Recorder(sessionmaker_, attempt_id)
    writer = WriteBehind(sessionmaker_, [hook], interval_s=60, publish=recorder)
    writer.start()
    try:
        call = Call(attempt_id=attempt_id, uuid="u-1", node="sim", campaign_id=1, clock=clock,
                    observer=Quiet())
        writer.announce("note", {"n": "before anything"})  # goes with the next batch
        call.dialing()
        writer.call_changed(call)
        writer.announce("call", {"n": "dialing"})
        writer.tell("card", {"n": "card"})  # about nothing stored, but after those
        assert recorder.events == []  # nothing before the flush
        writer.flush()
        assert recorder.events == [("before anything", AttemptState.DIALING),
                                   ("dialing", AttemptState.DIALING),
                                   ("card", AttemptState.DIALING)]
        writer.tell("card", {"n": "at once"})  # nothing waits: out now
        assert recorder.events[-1] == ("at once", AttemptState.DIALING)
        del recorder.events[:]
        call.answered()
        call.end("NORMAL_CLEARING")
        writer.call_changed(call)
        writer.announce("call", {"n": "ended"})
        failing["next"] = True
        with pytest.raises(RuntimeError, match="locked"):
            writer.flush()
        assert recorder.events == []  # rolled back: not told
        writer.announce("call", {"n": "after"})
        writer.flush()
        assert recorder.events == [("ended", AttemptState.ENDED), ("after", AttemptState.ENDED)]
        assert writer.pending == 0
    finally:
        writer.stop()
