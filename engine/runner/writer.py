"""Write-behind for the engine's row updates: one transaction every few milliseconds.

A SQLite commit costs milliseconds and the event loop waits for it, so the call and
agent updates of every event are coalesced: a dirty call is written once with its
latest state, agent state changes are written in order, all in one transaction per
``interval_s``. The attempt row itself is still written and committed before the
originate (``attempts.create_pending``); what a crash can lose here is at most the
last interval of updates, which reconciliation recovers from the switch.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

import gevent
from sqlalchemy.orm import Session, sessionmaker

from engine.agents import AgentState, log_states
from engine.calls import Call
from engine.store.db import transaction

from .attempts import FinishHook, save_calls

log = logging.getLogger(__name__)


class WriteBehind:
    """Collects dirty calls and agent state changes; ``flush`` writes them in one transaction."""

    def __init__(self, sessions: sessionmaker[Session], finish_hooks: Sequence[FinishHook] = (),
                 interval_s: float = 0.02) -> None:
        self._sessions = sessions
        self._hooks = tuple(finish_hooks)
        self._interval = interval_s
        self._calls: dict[str, Call] = {}
        self._states: list[tuple[int, AgentState, str | None, int | None, datetime]] = []
        self._greenlet: gevent.Greenlet | None = None

    def call_changed(self, call: Call) -> None:
        self._calls[call.uuid] = call

    def record(self, agent_id: int, state: AgentState, reason: str | None,
               campaign_id: int | None, at: datetime) -> None:
        """The ``StateLog`` of every agent session."""
        self._states.append((agent_id, state, reason, campaign_id, at))

    def start(self) -> None:
        self._greenlet = gevent.spawn(self._run)

    def stop(self) -> None:
        if self._greenlet is not None:
            self._greenlet.kill()
        self.flush()

    def _run(self) -> None:
        while True:
            gevent.sleep(self._interval)
            try:
                self.flush()
            except Exception:  # kept for the next try (a locked database, say)
                log.exception("writing call and agent updates failed")

    def flush(self) -> None:
        if not self._calls and not self._states:
            return
        calls, self._calls = self._calls, {}
        states, self._states = self._states, []
        try:
            with transaction(self._sessions) as session:
                save_calls(session, list(calls.values()), self._hooks)
                log_states(session, states)
        except Exception:
            self._calls = {**calls, **self._calls}
            self._states = states + self._states
            raise
