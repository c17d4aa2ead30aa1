"""What every campaign runner does: dial one number, follow its call, free the agent.

A mode subclass decides *when* to dial (``step``) and what an answer means
(``call_answered``). The attempt row is written and committed (pending) before
the originate is sent, so a crash can always be reconciled.
"""

from __future__ import annotations

import logging
import uuid as uuidlib
from typing import ClassVar

import gevent
from gevent.event import AsyncResult
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.agents import AgentSession, AgentState
from engine.calls import Call
from engine.store.db import transaction
from engine.store.models import (
    AttemptState,
    CallAttempt,
    Campaign,
    CampaignStatus,
    DialMode,
    Outcome,
    Phone,
)
from engine.switch.connection import (
    PendingJob,
    SwitchConnection,
    SwitchError,
    SwitchUnavailable,
)
from engine.switch.originate import DialStringError, customer_leg, endpoint_for

from .amd import ORIGINATE_VARIABLES as AMD_VARIABLES
from .amd import AmdGate
from .attempts import Dialable, create_pending
from .core import DialerCore
from .limits import RateLimit, gateway_key
from .settings import CampaignConfigError, RunSettings

log = logging.getLogger(__name__)

BUFFER_TTL_S = 1.0  # dialable numbers fetched ahead are used within this time, or fetched again
MIN_BATCH = 20
# New calls wait while this many switch events are unhandled: answered customers come first.
MAX_BACKLOG = 20


class CampaignRunner:
    """One running campaign: a greenlet calling ``step`` every ``tick_s`` seconds."""

    mode: ClassVar[DialMode]

    def __init__(self, core: DialerCore, campaign_id: int, *, tick_s: float = 0.05) -> None:
        self.core = core
        self.campaign_id = campaign_id
        self.tick_s = tick_s
        with core.sessions() as session:
            campaign = session.get(Campaign, campaign_id)
            if campaign is None:
                raise LookupError(f"campaign {campaign_id} does not exist")
            self.check(session, campaign)
            session.expunge(campaign)
        self.campaign = campaign
        self.settings = RunSettings.from_campaign(campaign)
        if not campaign.gateway:
            raise CampaignConfigError(f"campaign {campaign_id} ({campaign.name}) has no gateway")
        self.limit = RateLimit(self.settings.max_cps, self.settings.max_channels,
                               core.clock.monotonic)
        self.gateway_limit = core.gateway_limits.get(gateway_key(campaign.gateway))
        # With AMD on, calls report to the gate, which passes an answer on once it is human.
        self.amd = AmdGate.for_runner(self)
        self._greenlet: gevent.Greenlet | None = None
        self.running = False
        self._buffer: list[Dialable] = []
        self._buffer_at = float("-inf")
        self._buffer_dry = False
        self._after_contact = 0
        self._status_at = float("-inf")
        self._status_running = False

    def check(self, session: Session, campaign: Campaign) -> None:
        """Refuse to start a campaign that must not run (a mode adds its own rules)."""
        if campaign.mode is not self.mode:
            raise CampaignConfigError(
                f"campaign {campaign.id} is {campaign.mode}, not {self.mode}")

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        self.core.runners[self.campaign_id] = self
        self.running = True
        self._greenlet = gevent.spawn(self._loop)

    def stop(self) -> None:
        self.running = False
        if self._greenlet is not None:
            self._greenlet.kill()
        self.core.runners.pop(self.campaign_id, None)

    def _loop(self) -> None:
        while self.running:
            try:
                if self._campaign_running() and any(c.is_up for c in self.core.pool) \
                        and self.core.pool.backlog() < MAX_BACKLOG:
                    self.step()
            except Exception:
                log.exception("campaign %s: step failed", self.campaign_id)
            gevent.sleep(self.tick_s)

    def _campaign_running(self) -> bool:
        """The campaign's status, read again at most once a second."""
        now = self.core.clock.monotonic()
        if now - self._status_at >= 1.0:
            with self.core.sessions() as session:
                campaign = session.get(Campaign, self.campaign_id)
                self._status_running = (campaign is not None
                                        and campaign.status is CampaignStatus.RUNNING)
            self._status_at = now
        return self._status_running

    def step(self) -> None:
        raise NotImplementedError

    # --- dialing --------------------------------------------------------------------------

    def _limits(self) -> list[RateLimit]:
        return [limit for limit in (self.limit, self.gateway_limit) if limit is not None]

    def can_dial(self) -> bool:
        return all(limit.available() for limit in self._limits())

    def can_dial_more(self, planned: int) -> bool:
        """Whether one more call fits the limits after ``planned`` calls not yet counted."""
        return all(limit.available(extra=planned) for limit in self._limits())

    def next_items(self, limit: int) -> list[Dialable]:
        """Up to ``limit`` dialable numbers, from a buffer refilled at most every
        ``BUFFER_TTL_S`` when the strategy has run dry, and never older than that."""
        now = self.core.clock.monotonic()
        age = now - self._buffer_at
        if age > BUFFER_TTL_S or (len(self._buffer) < limit and not self._buffer_dry):
            self._refill(max(2 * limit, MIN_BATCH))
        taken, self._buffer = self._buffer[:limit], self._buffer[limit:]
        return taken

    def _refill(self, wanted: int) -> None:
        """Ask the strategy, minus contacts with an attempt still open (in any run).

        The strategy is walked like a hopper: each batch starts after the last contact of
        the previous one, and from the start again once a batch comes back short."""
        with self.core.sessions() as session:
            campaign = session.get(Campaign, self.campaign_id)
            busy = set(session.scalars(select(CallAttempt.contact_id).where(
                CallAttempt.campaign_id == self.campaign_id,
                CallAttempt.state != AttemptState.ENDED)))
            items = self.core.source(session, campaign, self.core.clock.now(), wanted,
                                     after_contact=self._after_contact)
        short = len(items) < wanted
        self._after_contact = 0 if short else max(item.contact_id for item in items)
        self._buffer = [item for item in items if item.contact_id not in busy]
        self._buffer_dry = short
        self._buffer_at = self.core.clock.monotonic()

    def withdraw(self, contact_id: int) -> None:
        """The contact is on a call that did not come from this runner's steps (one click,
        an inbound callback): never dial it from numbers fetched before that."""
        self._buffer = [item for item in self._buffer if item.contact_id != contact_id]

    def dial(self, item: Dialable, agent: AgentSession | None) -> Call | None:
        """Dial one number (see ``dial_many``)."""
        return self.dial_many([(item, agent)])[0]

    def dial_many(self, pairs: list[tuple[Dialable, AgentSession | None]]) -> list[Call | None]:
        """Write the attempts (pending) in one transaction, then originate each.

        A ready agent is reserved for its call (an agent already reserved for a preview
        card stays so) and the call goes out on that agent's node. A number the gateway
        template cannot take disables its phone, with the reason, instead of being dialed.
        Returns each call, or None where nothing was sent."""
        planned = []
        for item, agent in pairs:
            connection = (self.core.pool[agent.node] if agent and agent.node
                          else self.core.pool.choose())
            call_uuid = str(uuidlib.uuid4())
            try:
                endpoint = endpoint_for(self.campaign.gateway, item.number)
            except DialStringError as exc:
                self._disable_phone(item, str(exc))
                planned.append(None)
                continue
            planned.append((item, agent, connection, call_uuid, endpoint))
        now = self.core.clock.now()
        with transaction(self.core.sessions) as session:
            campaign = session.get(Campaign, self.campaign_id)
            ids = [create_pending(session, campaign, plan[0], mode=self.mode.value,
                                  agent_id=plan[1].agent_id if plan[1] else None,
                                  node=plan[2].name, call_uuid=plan[3], now=now).id
                   if plan else None for plan in planned]
        sent = [self._originate(attempt_id, *plan) if plan and attempt_id else None
                for attempt_id, plan in zip(ids, planned)]
        return [self._confirm(*pending) if pending else None for pending in sent]

    def _disable_phone(self, item: Dialable, reason: str) -> None:
        log.error("campaign %s: contact %s: %s", self.campaign_id, item.contact_id, reason)
        if item.phone_id is None:
            return
        with transaction(self.core.sessions) as session:
            phone = session.get(Phone, item.phone_id)
            if phone is not None:
                phone.disabled_reason = reason[:120]

    def _originate(self, attempt_id: int, item: Dialable, agent: AgentSession | None,
                   connection: SwitchConnection, call_uuid: str,
                   endpoint: str) -> tuple[Call, SwitchConnection, PendingJob | None] | None:
        """Follow the call and send its originate (confirmed by ``_confirm``)."""
        call = Call(attempt_id=attempt_id, uuid=call_uuid, node=connection.name,
                    campaign_id=self.campaign_id, clock=self.core.clock,
                    observer=self.amd or self,
                    agent_id=agent.agent_id if agent else None, contact_id=item.contact_id)
        if agent is not None and agent.state is AgentState.READY:
            agent.reserve(call_uuid)
        elif agent is not None:
            agent.call_uuid = call_uuid  # reserved earlier (a preview card)
        for limit in self._limits():
            limit.take()
        self.core.track(call)
        originate = customer_leg(
            uuid=call_uuid, endpoint=endpoint, attempt_id=attempt_id,
            campaign_id=self.campaign_id, node=self.core.node_id,
            ring_timeout_s=self.settings.ring_timeout_s,
            caller_id_number=self.campaign.caller_id_number,
            caller_id_name=self.campaign.caller_id_name,
            extra={**({"RECORD_STEREO": True} if self.settings.record else {}),
                   **(AMD_VARIABLES if self.amd else {})})
        call.dialing()
        try:
            return call, connection, connection.bgapi_send("originate " + originate.command())
        except SwitchUnavailable:  # not sent: reconciliation after the reconnect closes it
            log.warning("campaign %s: switch %s down, originate of %s not sent",
                        self.campaign_id, connection.name, call_uuid)
            return call, connection, None

    def _confirm(self, call: Call, connection: SwitchConnection,
                 pending: PendingJob | None) -> Call | None:
        if pending is None:
            return call
        try:
            job = connection.bgapi_confirm(pending)
        except SwitchError as exc:  # refused before anything was dialed
            log.warning("campaign %s: originate refused: %s", self.campaign_id, exc)
            call.end("ORIGINATE_REFUSED", outcome=Outcome.CANCELLED)
            return None
        except SwitchUnavailable:  # maybe sent: the reconnect's reconciliation decides
            log.warning("campaign %s: switch %s lost during originate of %s",
                        self.campaign_id, connection.name, call.uuid)
            return call
        gevent.spawn(self._await_job, call, job)
        return call

    @staticmethod
    def _await_job(call: Call, job: AsyncResult) -> None:
        try:
            call.job_result(job.get())
        except SwitchUnavailable:  # the connection died first: reconciliation decides
            pass

    def bridge(self, call: Call, agent: AgentSession) -> None:
        """Connect an answered customer to an agent's parked leg, or abandon the call.

        The command goes out at once; its reply is awaited in another greenlet."""
        command = f"uuid_bridge {call.uuid} {agent.leg_uuid}"
        try:
            connection = self.core.pool[call.node]
            sent = connection.api_send(command)
        except SwitchUnavailable as exc:
            log.warning("call %s: bridge to agent %s failed: %s", call.uuid, agent.agent_id, exc)
            return  # reconciliation after the reconnect decides
        gevent.spawn(self._bridge_result, call, agent, connection, command, sent)

    def _bridge_result(self, call: Call, agent: AgentSession, connection: SwitchConnection,
                       command: str, sent: AsyncResult) -> None:
        try:
            connection.api_result(command, sent)
        except (SwitchError, SwitchUnavailable) as exc:
            log.warning("call %s: bridge to agent %s failed: %s", call.uuid, agent.agent_id, exc)
            self.abandon(call)

    def abandon(self, call: Call) -> None:
        call.outcome_override = Outcome.ABANDONED
        self.core.kill(call)

    def start_recording(self, call: Call) -> None:
        self.core.start_recording(call, self.campaign.tenant_id)

    # --- call observer --------------------------------------------------------------------

    def call_changed(self, call: Call) -> None:
        self.core.save(call)
        self.core.announce(call)

    def call_answered(self, call: Call) -> None:
        if self.settings.record and self.settings.record_from == "answer":
            gevent.spawn(self.start_recording, call)

    def call_bridged(self, call: Call) -> None:
        agent = self.core.agents.get(call.agent_id) if call.agent_id else None
        if agent is not None and agent.state is AgentState.RESERVED:
            agent.talking()
        if self.settings.record and self.settings.record_from == "bridge" \
                and call.recording_path is None:  # an adopted call may be recording already
            gevent.spawn(self.start_recording, call)

    def adopted(self, call: Call) -> None:
        """A live call of this campaign from before a restart now counts against the limits
        and, when it is not yet decided, goes back through AMD."""
        for limit in self._limits():
            limit.take()
        if self.amd is not None:
            self.amd.adopt(call)

    def call_early_media(self, call: Call) -> None:
        """Early media matters only to AMD (``AmdGate`` watches it)."""

    def call_ended(self, call: Call) -> None:
        for limit in self._limits():
            limit.release()
        self.core.call_finished(call, self.settings.wrap_up_s)

    def call_dtmf(self, call: Call, digit: str) -> None:
        """Digits mean nothing outside an IVR."""

    def call_app_done(self, call: Call, application: str) -> None:
        """Applications end unnoticed outside an IVR."""
