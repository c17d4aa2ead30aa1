"""The engine core: switch pool, live calls and agents, campaign runners, reconciliation.

Events from every node arrive in ``_on_event`` and go to the call or the agent leg
they concern. After every (re)connect ``_on_connected`` reconciles the node's
open attempts with what the switch still has.
"""

from __future__ import annotations

import logging
import uuid as uuidlib
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import gevent
from gevent.event import AsyncResult
from sqlalchemy.orm import Session, sessionmaker

from engine.agents import AgentPool, AgentSession, AgentState, DbStateLog, StateLog
from engine.calls import Call, CallObserver, CallState
from engine.clock import Clock
from engine.config import SwitchNode
from engine.recording import recording_path, start_command
from engine.store.db import transaction
from engine.store.models import Agent, AttemptState, CallAttempt, Campaign, Outcome
from engine.switch import reconcile
from engine.switch.connection import SwitchConnection, SwitchError, SwitchUnavailable
from engine.switch.event import Event
from engine.switch.originate import agent_leg
from engine.switch.pool import SwitchPool

from .attempts import INBOUND, Dialable, FinishHook, open_attempts, open_elsewhere
from .inbound import InboundRouter, is_inbound_park
from .leases import CampaignElsewhere, holder
from .limits import RateLimit
from .writer import WriteBehind

if TYPE_CHECKING:
    from .base import CampaignRunner

log = logging.getLogger(__name__)


class DialableSource(Protocol):
    """The strategy's ``engine.store.queries.next_dialable``."""

    def __call__(self, session: Session, campaign: Campaign, now: datetime, limit: int, *,
                 after_contact: int = 0) -> Sequence[Dialable]: ...


_CALL_STATE_FOR = {
    AttemptState.PENDING: CallState.PENDING,
    AttemptState.DIALING: CallState.DIALING,
    AttemptState.ANSWERED: CallState.ANSWERED,
    AttemptState.BRIDGED: CallState.BRIDGED,
}


class DialerCore:
    """Everything the runners share. Runners register themselves by campaign id."""

    def __init__(self, *, nodes: Sequence[SwitchNode], sessions: sessionmaker[Session],
                 clock: Clock, source: DialableSource, recordings_dir: Path,
                 node_id: str = "dialer-1", finish_hooks: Sequence[FinishHook] = (),
                 gateway_limits: Mapping[str, RateLimit] | None = None,
                 timeout_s: float = 5.0, tick_s: float = 0.05, region: str = "RU") -> None:
        self.sessions = sessions
        self.clock = clock
        self.source = source
        self.recordings_dir = Path(recordings_dir)
        self.node_id = node_id
        self.tick_s = tick_s
        self.gateway_limits = dict(gateway_limits or {})  # shared by the campaigns
        self.pool = SwitchPool(nodes, self._on_event, on_connected=self._on_connected,
                               timeout_s=timeout_s)
        self.calls: dict[str, Call] = {}
        self.agents = AgentPool()
        # Where events for agents' screens go (see ``send_events_to``).
        self._events: Callable[[str, dict[str, Any]], None] = lambda kind, data: None
        self.writer = WriteBehind(sessions, finish_hooks,
                                  publish=lambda kind, data: self._events(kind, data))
        self.state_log: StateLog = self.writer
        self._announced: dict[str, CallState] = {}  # the last state told, per live call
        # Contact cards of agents' live non-preview calls (inbound callbacks), by agent id.
        self.cards: dict[int, dict[str, Any]] = {}
        self.runners: dict[int, CampaignRunner] = {}
        self.inbound = InboundRouter(self, region)  # customers calling campaigns back
        self._ticker: gevent.Greenlet | None = None
        self._first_connect: set[str] = set()

    def send_events_to(self, events: Callable[[str, dict[str, Any]], None]) -> None:
        """Where events for agents' screens go (the control API's stream)."""
        self._events = events

    def notify(self, kind: str, data: dict[str, Any]) -> None:
        """Tell agents' screens an event about nothing stored (a preview or inbound card): at
        once, or after the call and agent events still waiting for their write, so that
        events keep their order."""
        self.writer.tell(kind, data)

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        self._close_stale_agent_intervals()
        self.writer.start()
        self.pool.start()
        self._ticker = gevent.spawn(self._tick_forever)

    def stop(self) -> None:
        for runner in list(self.runners.values()):
            runner.stop()
        if self._ticker is not None:
            self._ticker.kill()
        self.inbound.stop()
        self.pool.stop()
        self.writer.stop()

    def _tick_forever(self) -> None:
        while True:
            try:
                self.agents.tick()
            except Exception:
                log.exception("agent tick failed")
            gevent.sleep(self.tick_s)

    def _close_stale_agent_intervals(self) -> None:
        """A previous run that died left agents 'in' states: they are offline now."""
        now = self.clock.now()
        with transaction(self.sessions) as session:
            for row in DbStateLog.open_intervals(session):
                row.ended_at = now

    # --- events ---------------------------------------------------------------------------

    def _on_event(self, connection: SwitchConnection, event: Event) -> None:
        uid = event.unique_id
        if uid is None:
            return
        call = self.calls.get(uid)
        if call is not None:
            call.handle(event)
            return
        agent = self.agents.by_leg(uid)
        if agent is not None:
            agent.handle(event)
            if agent.state is AgentState.OFFLINE:
                self.agents.remove(agent.agent_id)
            elif agent.leg_uuid != uid:  # a per-call leg ended
                self.agents.forget_leg(uid)
        elif is_inbound_park(event):
            self.inbound.offer(connection.name, event)

    # --- calls ----------------------------------------------------------------------------

    def track(self, call: Call) -> None:
        self.calls[call.uuid] = call
        self.pool.opened(call.node)

    def forget(self, call: Call) -> None:
        if self.calls.pop(call.uuid, None) is not None:
            self.pool.closed(call.node)
        self._announced.pop(call.uuid, None)

    def announce(self, call: Call) -> None:
        """Tell agents' screens (``call`` events) each new state of a call, once, after the
        write that stores it."""
        if self._announced.get(call.uuid) is call.state:
            return
        self._announced[call.uuid] = call.state
        self.writer.announce("call", {
            "attempt_id": call.attempt_id or None, "call_uuid": call.uuid,
            "campaign_id": call.campaign_id, "contact_id": call.contact_id,
            "agent_id": call.agent_id, "state": call.state.value,
            "outcome": call.outcome.value if call.outcome else None})

    def save(self, call: Call) -> None:
        """Queue the call's state for the next write (see ``WriteBehind``)."""
        self.writer.call_changed(call)

    def start_recording(self, call: Call, tenant_id: int) -> None:
        """Record the call in stereo to its path (tenant and date), stored on the attempt."""
        path = recording_path(self.recordings_dir, tenant_id, self.clock.now(),
                              call.attempt_id, call.uuid)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.pool[call.node].api(start_command(call.uuid, path))
        except (SwitchError, SwitchUnavailable) as exc:
            log.warning("call %s: recording did not start: %s", call.uuid, exc)
            return
        call.recording_path = str(path)
        self.save(call)

    def kill(self, call: Call, cause: str = "NORMAL_CLEARING") -> None:
        """Hang a call up; if the switch no longer knows it, end it here."""
        try:
            self.pool[call.node].api(f"uuid_kill {call.uuid} {cause}")
        except SwitchError:
            call.end(cause)
        except SwitchUnavailable:
            log.warning("call %s: switch %s down, hangup left to reconciliation",
                        call.uuid, call.node)

    # --- agents ---------------------------------------------------------------------------

    def login(self, agent_id: int, campaign_id: int | None,
              node: str | None = None) -> AgentSession:
        """Call the agent's softphone (nailed up); the agent is ready when it answers.
        In a campaign with per-call ringing (``Campaign.agent_ringing``) nothing is called
        now and the agent is ready at once: the phone rings for each customer.
        ``CampaignElsewhere``: another engine runs the campaign (its agents log in there)."""
        if campaign_id is not None:
            with self.sessions() as session:
                running_on = holder(session, campaign_id, self.clock.now())
            if running_on is not None and running_on != self.node_id:
                raise CampaignElsewhere(f"campaign {campaign_id} runs on engine {running_on}: "
                                        f"log agent {agent_id} in there")
        existing = self.agents.get(agent_id)
        if existing is not None and existing.state is not AgentState.OFFLINE:
            existing.campaign_id = campaign_id
            return existing
        with self.sessions() as session:
            row = session.get(Agent, agent_id)
            if row is None or not row.active:
                raise LookupError(f"agent {agent_id} does not exist or is not active")
            tenant_id, dial_string = row.tenant_id, row.dial_string
            campaign = session.get(Campaign, campaign_id) if campaign_id is not None else None
            per_call = campaign is not None and campaign.agent_ringing
        agent = AgentSession(agent_id=agent_id, tenant_id=tenant_id, dial_string=dial_string,
                             clock=self.clock, state_log=self.state_log)
        if per_call:
            agent.login_per_call(campaign_id)
            self.agents.add(agent)
            return agent
        connection = self.pool[node] if node else self.pool.choose()
        leg = str(uuidlib.uuid4())
        agent.login(leg, connection.name, campaign_id)
        self.agents.add(agent)
        originate = agent_leg(uuid=leg, endpoint=dial_string, agent_id=agent_id,
                              campaign_id=campaign_id, node=self.node_id)
        try:
            job = connection.bgapi("originate " + originate.command())
        except (SwitchError, SwitchUnavailable):
            agent.logout("softphone could not be called")
            self.agents.remove(agent_id)
            raise
        gevent.spawn(self._agent_job_done, agent, job)
        return agent

    def _agent_job_done(self, agent: AgentSession, job: AsyncResult) -> None:
        try:
            body = job.get()
        except SwitchUnavailable:
            return
        if body.startswith("+OK"):
            return
        if agent.state is AgentState.PAUSED:  # still connecting: the softphone never answered
            log.warning("agent %s: softphone not reached: %s", agent.agent_id, body.strip())
            agent.logout(f"softphone not reached: {body.strip()}")
            self.agents.remove(agent.agent_id)

    def hang_up_leg(self, node: str, leg: str) -> None:
        try:
            self.pool[node].api(f"uuid_kill {leg}")
        except (SwitchError, SwitchUnavailable):
            pass  # gone already

    def logout(self, agent_id: int) -> None:
        agent = self.agents.get(agent_id)
        if agent is None:
            return
        leg, node = agent.leg_uuid, agent.node
        agent.logout("logout")
        self.agents.remove(agent_id)
        if leg and node:
            self.hang_up_leg(node, leg)

    # --- reconciliation -------------------------------------------------------------------

    def _on_connected(self, connection: SwitchConnection) -> None:
        if connection.name not in self._first_connect:
            self._first_connect.add(connection.name)
            self._adopt_agent_legs(connection)
        with self.sessions() as session:
            rows = {a.call_uuid: a
                    for a in open_attempts(session, connection.name, self.node_id)}
            others = open_elsewhere(session, connection.name, self.node_id)
        if others:
            log.info("switch %s: open attempts of other engines left to them: %s",
                     connection.name, ", ".join(f"{engine or '(unnamed)'} {count}"
                                                for engine, count in sorted(others.items())))
        known = {uuid: row.state for uuid, row in rows.items()}
        for action in reconcile.survey(connection, known):
            call = self.calls.get(action.uuid)
            adopted = call is None
            if call is None:
                call = self._adopt(rows[action.uuid])
            if isinstance(action, reconcile.Close):
                call.result["reconciled"] = "channel gone"
                call.end(call.hangup_cause, call.sip_code, outcome=action.outcome)
            else:
                self._catch_up(connection, call, action.state, adopted)
        followed = set(self.calls) | {a.leg_uuid for a in self.agents if a.leg_uuid}
        for leg in reconcile.inbound_legs(connection, followed):
            self.inbound.take(connection.name, leg.uuid, leg.dialled, leg.caller)
        log.info("switch %s reconciled: %d open attempt(s)", connection.name, len(rows))

    def _adopt(self, row: CallAttempt) -> Call:
        """A call this process does not know (it was started by a previous run)."""
        inbound = row.direction == INBOUND
        runner = None if inbound else self.runners.get(row.campaign_id)
        observer: CallObserver = self.inbound if inbound else runner or OrphanObserver(self)
        call = Call(attempt_id=row.id, uuid=row.call_uuid, node=row.node,
                    campaign_id=row.campaign_id, clock=self.clock, observer=observer,
                    agent_id=row.agent_id, contact_id=row.contact_id,
                    state=_CALL_STATE_FOR[row.state],
                    originated_at=row.originated_at, answered_at=row.answered_at,
                    bridged_at=row.bridged_at, recording_path=row.recording_path,
                    result=dict(row.result or {}))
        self.track(call)
        if inbound:
            self.inbound.adopted(call, row)
        elif runner is not None:
            runner.adopted(call)
        log.info("adopted call %s (attempt %s, %s)", call.uuid, row.id, row.state)
        return call

    def _catch_up(self, connection: SwitchConnection, call: Call, state: AttemptState,
                  adopted: bool) -> None:
        """Replay what the engine missed while away, so the owner acts on it now.

        An answered customer leg that has a ``bridge_uuid`` is (customer legs end with
        their bridge) talking to an agent already: the bridge is recorded, not redone.
        """
        answered = state in (AttemptState.ANSWERED, AttemptState.BRIDGED)
        missed_answer = answered and call.state in (
            CallState.PENDING, CallState.DIALING, CallState.RINGING)
        if not (missed_answer or (adopted and call.state is CallState.ANSWERED)):
            if adopted and call.state is CallState.BRIDGED:
                self._agent_talking(call)
            return
        if call.state is CallState.PENDING:
            call.dialing()
        bridged_to = reconcile.bridged_to(connection, call.uuid)
        if bridged_to:
            call.found_bridged(bridged_to)
            self._agent_talking(call)
        elif missed_answer:
            call.answered()  # tells the owner: it bridges or abandons
        else:
            call.observer.call_answered(call)  # a customer left waiting by the last run

    def _agent_talking(self, call: Call) -> None:
        """The agent of an adopted bridged call is talking (not free for another)."""
        agent = self.agents.get(call.agent_id) if call.agent_id else None
        if agent is not None and agent.state is AgentState.READY:
            agent.reserve(call.uuid)
            agent.talking()

    def _adopt_agent_legs(self, connection: SwitchConnection) -> None:
        """Agents whose softphone legs outlived a restart are back, without ringing again.

        A nailed-up leg makes its agent ready on it. A per-call leg (``agent_ringing``
        campaign) serves one customer: bridged, its agent is talking to that customer and
        the leg goes when the call ends; still ringing or unbridged, the leg is hung up and
        the agent is ready for the next call."""
        known = [a.leg_uuid for a in self.agents if a.leg_uuid]
        for leg in reconcile.agent_legs(connection, self.node_id, known):
            if self.agents.get(leg.agent_id) is not None:
                continue
            with self.sessions() as session:
                row = session.get(Agent, leg.agent_id)
                campaign = (session.get(Campaign, leg.campaign_id)
                            if leg.campaign_id is not None else None)
                per_call = campaign is not None and campaign.agent_ringing
            if row is None:
                continue
            agent = AgentSession(agent_id=row.id, tenant_id=row.tenant_id,
                                 dial_string=row.dial_string, clock=self.clock,
                                 state_log=self.state_log)
            if per_call:
                self._adopt_per_call_leg(connection, agent, leg)
            else:
                agent.adopt(leg.uuid, connection.name, leg.campaign_id)
            self.agents.add(agent)
            log.info("agent %s adopted on leg %s", leg.agent_id, leg.uuid)

    def _adopt_per_call_leg(self, connection: SwitchConnection, agent: AgentSession,
                            leg: reconcile.AgentLeg) -> None:
        agent.login_per_call(leg.campaign_id)
        customer = reconcile.bridged_to(connection, leg.uuid)
        if customer is None:
            gevent.spawn(self.hang_up_leg, connection.name, leg.uuid)
            return
        agent.ring(leg.uuid, connection.name)
        agent.reserve(customer)
        agent.talking()

    def call_finished(self, call: Call, wrap_up_s: float) -> None:
        """A call ended: stop following it and free its agent (wrap-up, or ready at once)."""
        self.forget(call)
        agent = self.agents.get(call.agent_id) if call.agent_id else None
        if agent is None or agent.call_uuid != call.uuid:
            return
        if agent.per_call and agent.leg_uuid and agent.node:  # ringing, or left after the bridge
            gevent.spawn(self.hang_up_leg, agent.node, agent.leg_uuid)
        if agent.state is AgentState.TALKING:
            agent.wrap_up_s = wrap_up_s
            agent.call_done()
        elif agent.state is AgentState.RESERVED:
            agent.release()


class OrphanObserver:
    """Owns adopted calls whose campaign is not running: record them, abandon answers."""

    def __init__(self, core: DialerCore) -> None:
        self.core = core

    def call_changed(self, call: Call) -> None:
        self.core.save(call)
        self.core.announce(call)

    def call_early_media(self, call: Call) -> None:
        """Early media of an orphan call is not analysed."""

    def call_answered(self, call: Call) -> None:
        call.outcome_override = Outcome.ABANDONED
        gevent.spawn(self.core.kill, call)

    def call_bridged(self, call: Call) -> None:
        """A bridged call keeps going until it hangs up."""

    def call_ended(self, call: Call) -> None:
        self.core.call_finished(call, wrap_up_s=0)

    def call_dtmf(self, call: Call, digit: str) -> None:
        """Digits of an orphan call are not acted on."""

    def call_app_done(self, call: Call, application: str) -> None:
        """Applications of an orphan call are not followed."""
