"""Agent state machine: offline / ready / reserved / talking / wrap_up / paused.

Each change is written to ``AgentStateLog`` through a ``StateLog`` (one open
interval per agent), the base of time-in-state and occupancy statistics. By
default an agent works over a nailed-up leg: the engine calls the softphone once
at login and keeps it parked; customers are bridged to it and it returns to park
when they leave. Leg events arrive through ``on_<event_name>`` methods.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from engine.clock import Clock
from engine.store.db import transaction
from engine.store.models import AgentStateLog
from engine.switch.event import Event

log = logging.getLogger(__name__)


class AgentState(enum.StrEnum):
    OFFLINE = "offline"
    READY = "ready"
    RESERVED = "reserved"
    TALKING = "talking"
    WRAP_UP = "wrap_up"
    PAUSED = "paused"


TRANSITIONS: dict[AgentState, frozenset[AgentState]] = {
    # offline -> ready: a per-call agent has no leg to wait for.
    AgentState.OFFLINE: frozenset({AgentState.PAUSED, AgentState.READY}),
    # paused -> reserved: a call the agent asked for (one click from a lead card).
    AgentState.PAUSED: frozenset({AgentState.READY, AgentState.RESERVED, AgentState.OFFLINE}),
    AgentState.READY: frozenset({AgentState.RESERVED, AgentState.PAUSED, AgentState.OFFLINE}),
    # reserved -> paused: a per-call agent whose phone was not answered.
    AgentState.RESERVED: frozenset({AgentState.TALKING, AgentState.READY, AgentState.WRAP_UP,
                                    AgentState.PAUSED, AgentState.OFFLINE}),
    AgentState.TALKING: frozenset({AgentState.WRAP_UP, AgentState.OFFLINE}),
    AgentState.WRAP_UP: frozenset({AgentState.READY, AgentState.PAUSED, AgentState.OFFLINE}),
}

CONNECTING = "connecting"  # the pause reason while the nailed-up leg is being set up
MISSED_CALL = "missed call"  # the pause reason after a per-call agent left their phone ringing


class AgentStateError(RuntimeError):
    """An action the agent's current state does not allow; the message names both."""


class StateLog(Protocol):
    def record(self, agent_id: int, state: AgentState, reason: str | None,
               campaign_id: int | None, at: datetime) -> None: ...


def log_state(session: Session, agent_id: int, state: AgentState, reason: str | None,
              campaign_id: int | None, at: datetime) -> None:
    """Close the agent's open AgentStateLog interval and open the next (none when offline)."""
    session.execute(
        update(AgentStateLog)
        .where(AgentStateLog.agent_id == agent_id, AgentStateLog.ended_at.is_(None))
        .values(ended_at=at)
    )
    if state is not AgentState.OFFLINE:
        session.add(AgentStateLog(agent_id=agent_id, state=state.value, reason=reason,
                                  campaign_id=campaign_id, started_at=at))


class DbStateLog:
    """Writes each state change at once, in its own transaction."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def record(self, agent_id: int, state: AgentState, reason: str | None,
               campaign_id: int | None, at: datetime) -> None:
        with transaction(self._sessions) as session:
            log_state(session, agent_id, state, reason, campaign_id, at)

    @staticmethod
    def open_intervals(session: Session) -> list[AgentStateLog]:
        """Intervals left open by a crash (closed at the next start)."""
        return list(session.scalars(select(AgentStateLog).where(AgentStateLog.ended_at.is_(None))))


@dataclass(eq=False)
class AgentSession:
    """One logged-in (or logging-in) agent."""

    agent_id: int
    tenant_id: int
    dial_string: str
    clock: Clock
    state_log: StateLog
    campaign_id: int | None = None
    state: AgentState = AgentState.OFFLINE
    reason: str | None = None
    since_mono: float = 0.0
    leg_uuid: str | None = None
    node: str | None = None
    call_uuid: str | None = None  # the customer call reserved for / talking to this agent
    wrap_up_s: float = 0.0
    pause_after_call: str | None = None  # a pause asked for while busy, applied after wrap-up
    # Per-call ringing: no nailed-up leg; the softphone rings for each customer.
    per_call: bool = False

    def _move(self, new: AgentState, reason: str | None = None) -> None:
        if new not in TRANSITIONS[self.state]:
            raise AgentStateError(f"agent {self.agent_id}: cannot go {self.state} -> {new}")
        self.state, self.reason = new, reason
        self.since_mono = self.clock.monotonic()
        self.state_log.record(self.agent_id, new, reason, self.campaign_id, self.clock.now())

    # --- actions ----------------------------------------------------------------------------

    def login(self, leg_uuid: str, node: str, campaign_id: int | None) -> None:
        """The nailed-up leg is being originated; the agent is paused until it answers."""
        self.leg_uuid, self.node, self.campaign_id = leg_uuid, node, campaign_id
        self._move(AgentState.PAUSED, CONNECTING)

    def login_per_call(self, campaign_id: int | None) -> None:
        """Per-call ringing: nothing to set up, the agent is ready at once."""
        self.per_call, self.campaign_id = True, campaign_id
        self._move(AgentState.READY)

    def ring(self, leg_uuid: str, node: str) -> None:
        """Per-call ringing: the softphone is called for the reserved customer."""
        self.leg_uuid, self.node = leg_uuid, node

    def ring_cancelled(self) -> None:
        """Per-call ringing: the customer stopped waiting; the ringing leg is dropped and
        the agent is free again (not their fault: no pause)."""
        self._leg_gone()
        self.release()

    def missed_call(self) -> None:
        """Per-call ringing: the phone was not answered; paused until the agent is back."""
        self.call_uuid = None
        self._leg_gone()
        self.pause_after_call = None
        self._move(AgentState.PAUSED, MISSED_CALL)

    def _leg_gone(self) -> None:
        self.leg_uuid = None
        if self.per_call:
            self.node = None  # the next customer may be on any node

    def adopt(self, leg_uuid: str, node: str, campaign_id: int | None) -> None:
        """A leg made before a restart is still up: the agent is back, ready on it."""
        self.login(leg_uuid, node, campaign_id)
        self._move(AgentState.READY)

    def ready(self) -> None:
        if self.state is AgentState.PAUSED and self.reason == CONNECTING:
            raise AgentStateError(f"agent {self.agent_id}: the softphone has not answered yet")
        self.pause_after_call = None
        self._move(AgentState.READY)

    def pause(self, reason: str) -> None:
        """Pause now when idle; when busy, pause after the call and its wrap-up."""
        if self.state in (AgentState.RESERVED, AgentState.TALKING):
            self.pause_after_call = reason
        else:
            self._move(AgentState.PAUSED, reason)

    def reserve(self, call_uuid: str) -> None:
        self._move(AgentState.RESERVED)
        self.call_uuid = call_uuid

    def own_call_refusal(self) -> str | None:
        """Why the agent cannot start a call of their own now (None: they can)."""
        if self.state is AgentState.PAUSED and self.reason == CONNECTING:
            return f"agent {self.agent_id}: the softphone has not answered yet"
        if self.state not in (AgentState.READY, AgentState.PAUSED):
            return (f"agent {self.agent_id} is {self.state}: only a ready or paused agent "
                    "can start a call")
        return None

    def reserve_for_own_call(self, call_uuid: str) -> None:
        """The agent asked to call someone: reserved now, ready or paused; a paused agent
        goes back to that pause after the call (and its wrap-up)."""
        refusal = self.own_call_refusal()
        if refusal:
            raise AgentStateError(refusal)
        if self.state is AgentState.PAUSED:
            self.pause_after_call = self.pause_after_call or self.reason
        self.reserve(call_uuid)

    def release(self) -> None:
        """The reserved call ended before it reached the agent: back to ready (or paused)."""
        self.call_uuid = None
        if self.pause_after_call:
            self._move(AgentState.READY)
            self._move(AgentState.PAUSED, self.pause_after_call)
            self.pause_after_call = None
        else:
            self._move(AgentState.READY)

    def talking(self) -> None:
        self._move(AgentState.TALKING)

    def call_done(self) -> None:
        """The customer left: wrap-up starts (its end is checked by ``tick``)."""
        self.call_uuid = None
        self._move(AgentState.WRAP_UP)

    def tick(self) -> None:
        """End wrap-up when its time is up."""
        if self.state is AgentState.WRAP_UP and \
                self.clock.monotonic() - self.since_mono >= self.wrap_up_s:
            if self.pause_after_call:
                reason, self.pause_after_call = self.pause_after_call, None
                self._move(AgentState.PAUSED, reason)
            else:
                self._move(AgentState.READY)

    def logout(self, reason: str | None = None) -> None:
        if self.state is not AgentState.OFFLINE:
            self._move(AgentState.OFFLINE, reason)
        self.call_uuid = None

    # --- leg events -------------------------------------------------------------------------

    def handle(self, event: Event) -> None:
        handler = getattr(self, "on_" + event.name.lower(), None)
        if handler is not None:
            handler(event)

    def on_channel_answer(self, event: Event) -> None:
        if self.state is AgentState.PAUSED and self.reason == CONNECTING:
            self._move(AgentState.READY)

    def on_channel_hangup(self, event: Event) -> None:
        log.info("agent %s: softphone leg ended (%s)", self.agent_id, event.hangup_cause)
        if self.per_call:  # one call's leg: the agent stays logged in
            if event.unique_id == self.leg_uuid:  # not an earlier call's late hangup
                self._leg_gone()
            return
        self.leg_uuid = None
        self.logout(f"leg ended: {event.hangup_cause}")


class AgentPool:
    """The logged-in agents, found by id or by their leg, and chosen longest-ready first."""

    def __init__(self) -> None:
        self._by_id: dict[int, AgentSession] = {}
        self._by_leg: dict[str, AgentSession] = {}

    def add(self, agent: AgentSession) -> None:
        self._by_id[agent.agent_id] = agent
        if agent.leg_uuid:
            self._by_leg[agent.leg_uuid] = agent

    def remove(self, agent_id: int) -> None:
        agent = self._by_id.pop(agent_id, None)
        if agent is not None:
            self._by_leg = {leg: a for leg, a in self._by_leg.items() if a is not agent}

    def get(self, agent_id: int) -> AgentSession | None:
        return self._by_id.get(agent_id)

    def by_leg(self, leg_uuid: str) -> AgentSession | None:
        return self._by_leg.get(leg_uuid)

    def index_leg(self, leg_uuid: str, agent: AgentSession) -> None:
        """A per-call leg of a logged-in agent: its events go to that agent."""
        self._by_leg[leg_uuid] = agent

    def forget_leg(self, leg_uuid: str) -> None:
        self._by_leg.pop(leg_uuid, None)

    def __iter__(self) -> Iterator[AgentSession]:
        return iter(list(self._by_id.values()))

    def ready(self, campaign_id: int) -> list[AgentSession]:
        """Ready agents of a campaign, longest ready first."""
        ready = [a for a in self._by_id.values()
                 if a.campaign_id == campaign_id and a.state is AgentState.READY]
        return sorted(ready, key=lambda a: a.since_mono)

    def tick(self) -> None:
        for agent in list(self._by_id.values()):
            agent.tick()
