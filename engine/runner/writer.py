"""Write-behind for the engine's row updates: one transaction every few milliseconds,
written by a database thread so that the event loop never waits for it.

A SQLite commit costs milliseconds, and a transaction that also runs the finish
hooks of many ended calls costs tens, during which a single-threaded event loop
would neither read the switch's events nor send a bridge. So the call and agent
updates of every event are coalesced (a dirty call is written once with its latest
state, agent state changes in order) and each batch is written in one transaction
on the writer's own native thread, while the event loop keeps running.

Crash safety: the attempt row itself is written and committed before the originate
(``attempts.create_pending``, run on this same thread through ``run``); what a crash can
lose here is at most the batches not yet committed, which reconciliation recovers from
the switch. A batch that fails is kept and merged into the next one, never dropped.
Finish hooks run on the database thread, so they may use only the session they are given.

Announcements (``announce``) wait for the batch holding the changes queued before them:
they are published, in order, once it commits, so a listener that reads the database on
an event finds at least the state the event tells. Events about nothing stored here
(``tell``) go at once, unless announcements are waiting: then after them, in order.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

import gevent
import gevent.event
import gevent.lock
from gevent.threadpool import ThreadPool
from sqlalchemy import bindparam, insert, update
from sqlalchemy.orm import Session, sessionmaker

from engine.agents import AgentState
from engine.calls import Call
from engine.store.db import transaction
from engine.store.models import AgentStateLog

from .attempts import FinishHook, save_calls

log = logging.getLogger(__name__)

StateRecord = tuple[int, AgentState, str | None, int | None, datetime]
Announcement = tuple[str, dict[str, Any]]
Publish = Callable[[str, dict[str, Any]], None]
T = TypeVar("T")

# Close an agent's open interval: one statement, executed for many agents at once.
_CLOSE_INTERVAL = (update(AgentStateLog)
                   .where(AgentStateLog.agent_id == bindparam("agent"),
                          AgentStateLog.ended_at.is_(None))
                   .values(ended_at=bindparam("at")))


def write_states(session: Session, records: Sequence[StateRecord]) -> None:
    """Agent state changes, in order: each agent's open ``AgentStateLog`` interval is closed
    at its first change, and each change opens one (offline opens none). Two executemany
    statements for the whole batch, however many agents it holds."""
    if not records:
        return
    firsts: dict[int, datetime] = {}
    rows: list[dict[str, object]] = []
    last_row: dict[int, dict[str, object]] = {}
    for agent_id, state, reason, campaign_id, at in records:
        firsts.setdefault(agent_id, at)
        previous = last_row.pop(agent_id, None)
        if previous is not None:
            previous["ended_at"] = at
        if state is not AgentState.OFFLINE:
            last_row[agent_id] = {"agent_id": agent_id, "state": state.value, "reason": reason,
                                  "campaign_id": campaign_id, "started_at": at, "ended_at": None}
            rows.append(last_row[agent_id])
    connection = session.connection()
    connection.execute(_CLOSE_INTERVAL, [{"agent": a, "at": at} for a, at in firsts.items()])
    if rows:
        connection.execute(insert(AgentStateLog), rows)


def capture(job: Callable[..., T], args: tuple[object, ...]) -> tuple[T | None, Exception | None]:
    """Run a job, returning its result or its exception instead of raising it (a thread pool
    or a greenlet would print it)."""
    try:
        return job(*args), None
    except Exception as exc:  # noqa: BLE001 (the caller raises it again)
        return None, exc


class WriteBehind:
    """Collects dirty calls, agent state changes and announcements; ``flush`` writes the
    changes in one transaction, then publishes the announcements."""

    def __init__(self, sessions: sessionmaker[Session], finish_hooks: Sequence[FinishHook] = (),
                 interval_s: float = 0.02, publish: Publish | None = None) -> None:
        self._sessions = sessions
        self._hooks = tuple(finish_hooks)
        self._interval = interval_s
        self._publish: Publish = publish or (lambda kind, data: None)
        self._calls: dict[str, Call] = {}
        self._states: list[StateRecord] = []
        self._announcements: list[Announcement] = []
        self._told_in_flight = False  # announcements of the batch in flight are not out yet
        self._flushing = gevent.lock.Semaphore()  # one batch in flight: batches land in order
        self._stopping = gevent.event.Event()
        self._thread: ThreadPool | None = None
        self._greenlet: gevent.Greenlet | None = None

    @property
    def pending(self) -> int:
        """Calls, agent state changes and announcements waiting for the next batch."""
        return len(self._calls) + len(self._states) + len(self._announcements)

    def call_changed(self, call: Call) -> None:
        self._calls[call.uuid] = call

    def record(self, agent_id: int, state: AgentState, reason: str | None,
               campaign_id: int | None, at: datetime) -> None:
        """The ``StateLog`` of every agent session."""
        self._states.append((agent_id, state, reason, campaign_id, at))

    def announce(self, kind: str, data: dict[str, Any]) -> None:
        """Publish an event once everything queued before it is committed."""
        self._announcements.append((kind, data))

    def tell(self, kind: str, data: dict[str, Any]) -> None:
        """Publish an event about nothing this writer stores: at once, or after the
        announcements still waiting for their batch (order is kept)."""
        if self._announcements or self._told_in_flight:
            self._announcements.append((kind, data))
        else:
            self._publish(kind, data)

    def start(self) -> None:
        self._stopping.clear()
        self._thread = ThreadPool(1)
        self._greenlet = gevent.spawn(self._loop)

    def stop(self) -> None:
        """Let the batch in flight land, write what is left, end the thread."""
        self._stopping.set()
        if self._greenlet is not None:
            self._greenlet.join()
            self._greenlet = None
        try:
            self.flush()
        finally:
            if self._thread is not None:
                self._thread.kill()
                self._thread = None

    def _loop(self) -> None:
        while not self._stopping.wait(self._interval):
            try:
                self.flush()
            except Exception:  # kept for the next try (a locked database, say)
                log.exception("writing call and agent updates failed")

    def run(self, job: Callable[..., T], *args: object) -> T:
        """Run a database job on the writer's thread (inline when not started) and return
        its result: the calling greenlet waits, the event loop does not. Jobs and batches
        run one at a time, in the order they were asked for. The job's exception is raised
        here."""
        if self._thread is None:
            return job(*args)
        result, error = self._thread.apply(capture, (job, args))
        if error is not None:
            raise error
        return result  # type: ignore[return-value]

    def flush(self) -> None:
        """Write everything queued so far, then publish the announcements queued with it;
        when this returns, it is committed."""
        with self._flushing:
            calls, self._calls = self._calls, {}
            states, self._states = self._states, []
            announcements, self._announcements = self._announcements, []
            # Copied here, between events: the thread never sees a call half-way through a step.
            snapshots = [call.snapshot() for call in calls.values()]
            self._told_in_flight = bool(announcements)
            try:
                if snapshots or states:
                    self.run(self._write, snapshots, states)
            except Exception:  # rolled back: kept for the next batch
                self._calls = {**calls, **self._calls}  # newer changes win; written afresh
                self._states = states + self._states
                self._announcements = announcements + self._announcements
                raise
            finally:
                self._told_in_flight = False
            # A greenlet killed while waiting leaves the batch to the thread, which still
            # writes it (before any later batch: the thread takes them in order); its
            # announcements are lost with the greenlet, never published early.
            for kind, data in announcements:
                self._publish(kind, data)

    def _write(self, calls: list[Call], states: list[StateRecord]) -> None:
        with transaction(self._sessions) as session:
            save_calls(session, calls, self._hooks)
            write_states(session, states)
