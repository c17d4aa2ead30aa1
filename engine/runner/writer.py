"""Write-behind for the engine's row updates: one transaction every few milliseconds,
written by a database thread so that the event loop never waits for it.

A SQLite commit costs milliseconds, and a transaction that also runs the finish
hooks of many ended calls costs tens, during which a single-threaded event loop
would neither read the switch's events nor send a bridge. So the call and agent
updates of every event are coalesced (a dirty call is written once with its latest
state, agent state changes in order) and each batch is written in one transaction
on the writer's own native thread, while the event loop keeps running.

Crash safety: the attempt row itself is written and committed before the originate
(``attempts.create_pending``, not here); what a crash can lose here is at most the
batches not yet committed, which reconciliation recovers from the switch. A batch
that fails is kept and merged into the next one, never dropped. Finish hooks run on
the database thread, so they may use only the session they are given.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime

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


def _outcome(job: Callable[..., None], args: tuple[object, ...]) -> Exception | None:
    """Run a job, returning its exception instead of raising it (the pool would print it)."""
    try:
        job(*args)
    except Exception as exc:
        return exc
    return None


class WriteBehind:
    """Collects dirty calls and agent state changes; ``flush`` writes them in one transaction."""

    def __init__(self, sessions: sessionmaker[Session], finish_hooks: Sequence[FinishHook] = (),
                 interval_s: float = 0.02) -> None:
        self._sessions = sessions
        self._hooks = tuple(finish_hooks)
        self._interval = interval_s
        self._calls: dict[str, Call] = {}
        self._states: list[StateRecord] = []
        self._flushing = gevent.lock.Semaphore()  # one batch in flight: batches land in order
        self._stopping = gevent.event.Event()
        self._thread: ThreadPool | None = None
        self._greenlet: gevent.Greenlet | None = None

    @property
    def pending(self) -> int:
        """Calls and agent state changes waiting for the next batch."""
        return len(self._calls) + len(self._states)

    def call_changed(self, call: Call) -> None:
        self._calls[call.uuid] = call

    def record(self, agent_id: int, state: AgentState, reason: str | None,
               campaign_id: int | None, at: datetime) -> None:
        """The ``StateLog`` of every agent session."""
        self._states.append((agent_id, state, reason, campaign_id, at))

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

    def _on_thread(self, job: Callable[..., None], *args: object) -> None:
        """Run a database job on the writer's thread (inline when not started): the calling
        greenlet waits, the event loop does not. The job's exception is raised here."""
        if self._thread is None:
            job(*args)
            return
        error = self._thread.apply(_outcome, (job, args))
        if error is not None:
            raise error

    def flush(self) -> None:
        """Write everything queued so far; when this returns, it is committed."""
        with self._flushing:
            if not self._calls and not self._states:
                return
            calls, self._calls = self._calls, {}
            states, self._states = self._states, []
            # Copied here, between events: the thread never sees a call half-way through a step.
            snapshots = [call.snapshot() for call in calls.values()]
            try:
                self._on_thread(self._write, snapshots, states)
            except Exception:  # rolled back: kept for the next batch
                self._calls = {**calls, **self._calls}  # newer changes win; written afresh
                self._states = states + self._states
                raise
            # A greenlet killed while waiting leaves the batch to the thread, which still
            # writes it (before any later batch: the thread takes them in order).

    def _write(self, calls: list[Call], states: list[StateRecord]) -> None:
        with transaction(self._sessions) as session:
            save_calls(session, calls, self._hooks)
            write_states(session, states)
