"""What every campaign runner does: dial one number, follow its call, free the agent.

A mode subclass decides *when* to dial (``step``) and what an answer means
(``call_answered``). The attempt row is written and committed (pending) before
the originate is sent, so a crash can always be reconciled. The runner's database
work runs on the write-behind's thread (``WriteBehind.run``): the runner's greenlet
waits for it, the event loop (answers, bridges) does not.
"""

from __future__ import annotations

import logging
import uuid as uuidlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

import gevent
from gevent.event import AsyncResult
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.agents import AgentSession, AgentState
from engine.calls import Call, CallState
from engine.store.db import transaction
from engine.store.models import (
    AttemptState,
    CallAttempt,
    Campaign,
    CampaignStatus,
    DialMode,
    Outcome,
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
from .attempts import Dialable, NewAttempt, create_pending, disable_phones
from .core import DialerCore
from .limits import RateLimit, gateway_key
from .settings import CampaignConfigError, RunSettings
from .writer import capture

log = logging.getLogger(__name__)

BUFFER_TTL_S = 1.0  # dialable numbers fetched ahead are used within this time, or fetched again
MIN_BATCH = 20
# New calls wait while this many switch events are unhandled: answered customers come first.
MAX_BACKLOG = 20


@dataclass(frozen=True)
class _Dial:
    """One call of a ``dial_many``, with what was taken for it before its attempt is written."""

    new: NewAttempt
    agent: AgentSession | None
    connection: SwitchConnection
    endpoint: str
    reserved: bool  # the agent was ready and reserved here (released if nothing is dialed)


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
        self._withdrawn: set[int] = set()  # during the refill in flight
        self._after_contact = 0
        self._status_at = float("-inf")
        self._status_running = False
        # Originates not yet returned: a bridge waits for them (see ``bridge``).
        self._originating: dict[str, AsyncResult] = {}

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
            self._status_running = self.core.writer.run(self._read_running)
            self._status_at = now
        return self._status_running

    def _read_running(self) -> bool:
        with self.core.sessions() as session:
            campaign = session.get(Campaign, self.campaign_id)
            return campaign is not None and campaign.status is CampaignStatus.RUNNING

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
        """Ask the strategy, minus contacts with an attempt still open (in any run) and
        those withdrawn while it was asked.

        The strategy is walked like a hopper: each batch starts after the last contact of
        the previous one, and from the start again once a batch comes back short."""
        self._withdrawn = set()
        items, busy = self.core.writer.run(self._fetch, wanted, self.core.clock.now())
        short = len(items) < wanted
        self._after_contact = 0 if short else max(item.contact_id for item in items)
        busy |= self._withdrawn
        self._buffer = [item for item in items if item.contact_id not in busy]
        self._buffer_dry = short
        self._buffer_at = self.core.clock.monotonic()

    def _fetch(self, wanted: int, now: datetime) -> tuple[Sequence[Dialable], set[int]]:
        """The strategy's next numbers and the contacts with an open attempt."""
        with self.core.sessions() as session:
            campaign = session.get(Campaign, self.campaign_id)
            busy = set(session.scalars(select(CallAttempt.contact_id).where(
                CallAttempt.campaign_id == self.campaign_id,
                CallAttempt.state != AttemptState.ENDED)))
            return self.core.source(session, campaign, now, wanted,
                                    after_contact=self._after_contact), busy

    def withdraw(self, contact_id: int) -> None:
        """The contact is on a call that did not come from this runner's steps (one click,
        an inbound callback): never dial it from numbers fetched before that."""
        self._withdrawn.add(contact_id)
        self._buffer = [item for item in self._buffer if item.contact_id != contact_id]

    def dial(self, item: Dialable, agent: AgentSession | None) -> Call | None:
        """Dial one number (see ``dial_many``)."""
        return self.dial_many([(item, agent)])[0]

    def dial_many(self, pairs: list[tuple[Dialable, AgentSession | None]]) -> list[Call | None]:
        """Write the attempts (pending) in one transaction, then originate each.

        The write runs on the database thread; before it, each call takes what a concurrent
        step could take twice (its numbers are out of the buffer already): a ready agent is
        reserved (an agent already reserved for a preview card or a call of their own stays
        so) and the rate limits count it. A call whose attempt is not written gives them
        back; its number goes back to the buffer too when the write failed as a whole (not
        when its contact is gone). Each call goes out on its agent's node. A number the
        gateway template cannot take disables its phone, with the reason, instead of being
        dialed. The write and the originates run in a greenlet of their own, so that a runner
        stopped meanwhile (its greenlet killed) still dials every attempt it committed.
        Returns each call, or None where nothing was sent."""
        dials: list[_Dial | None] = []
        disabled: dict[int, str] = {}
        try:
            for item, agent in pairs:
                dials.append(self._take(item, agent, disabled))
        except Exception:
            self._give_back_all(dials)
            raise
        calls, error = gevent.spawn(capture, self._write_and_dial, (dials, disabled)).get()
        if error is not None:
            raise error
        return calls or []

    def _write_and_dial(self, dials: list[_Dial | None],
                        disabled: Mapping[int, str]) -> list[Call | None]:
        taken = [dial for dial in dials if dial is not None]
        try:
            ids = self.core.writer.run(self._write_pending, [dial.new for dial in taken],
                                       disabled, self.core.clock.now())
        except Exception:
            self._give_back_all(taken)
            raise
        attempt_ids = dict(zip((dial.new.call_uuid for dial in taken), ids))
        sent = []
        for dial in dials:
            attempt_id = attempt_ids.get(dial.new.call_uuid) if dial else None
            if dial is not None and attempt_id is None:
                log.warning("campaign %s: contact %s is gone, not dialed", self.campaign_id,
                            dial.new.item.contact_id)
                self._give_back(dial)
            sent.append(self._originate(attempt_id, dial) if dial and attempt_id else None)
        return [self._confirm(*pending) if pending else None for pending in sent]

    def _take(self, item: Dialable, agent: AgentSession | None,
              disabled: dict[int, str]) -> _Dial | None:
        """Choose the call's node and uuid, reserve its ready agent, count it in the limits;
        or note in ``disabled`` why its number cannot be dialed."""
        try:
            endpoint = endpoint_for(self.campaign.gateway, item.number)
        except DialStringError as exc:
            log.error("campaign %s: contact %s: %s", self.campaign_id, item.contact_id, exc)
            if item.phone_id is not None:
                disabled[item.phone_id] = str(exc)
            return None
        connection = (self.core.pool[agent.node] if agent and agent.node
                      else self.core.pool.choose())
        call_uuid = str(uuidlib.uuid4())
        reserved = agent is not None and agent.state is AgentState.READY
        if reserved:
            agent.reserve(call_uuid)
        for limit in self._limits():
            limit.take()
        new = NewAttempt(item, agent.agent_id if agent else None, connection.name, call_uuid)
        return _Dial(new, agent, connection, endpoint, reserved)

    def _give_back_all(self, dials: Sequence[_Dial | None]) -> None:
        """Undo ``_take`` for calls whose attempts were not written: their numbers go back
        to the buffer (unless withdrawn meanwhile)."""
        given_back = [dial for dial in dials if dial is not None]
        for dial in given_back:
            self._give_back(dial)
        self._buffer = [dial.new.item for dial in given_back
                        if dial.new.item.contact_id not in self._withdrawn] + self._buffer

    def _give_back(self, dial: _Dial) -> None:
        """Undo ``_take`` for a call that is not dialed."""
        for limit in self._limits():
            limit.release()
        agent = dial.agent
        if dial.reserved and agent is not None and agent.state is AgentState.RESERVED \
                and agent.call_uuid == dial.new.call_uuid:
            agent.release()

    def _write_pending(self, attempts: list[NewAttempt], disabled: Mapping[int, str],
                       now: datetime) -> list[int | None]:
        """On the database thread: the attempts' ids (None for a contact that is gone)."""
        if not attempts and not disabled:
            return []
        with transaction(self.core.sessions) as session:
            disable_phones(session, disabled)
            rows = create_pending(session, self.campaign, attempts, mode=self.mode.value,
                                  engine=self.core.node_id, now=now)
            return [row.id if row is not None else None for row in rows]

    def _originate(self, attempt_id: int,
                   dial: _Dial) -> tuple[Call, SwitchConnection, PendingJob | None]:
        """Follow the call and send its originate (confirmed by ``_confirm``)."""
        new, agent, connection = dial.new, dial.agent, dial.connection
        call = Call(attempt_id=attempt_id, uuid=new.call_uuid, node=connection.name,
                    campaign_id=self.campaign_id, clock=self.core.clock,
                    observer=self.amd or self, agent_id=new.agent_id,
                    contact_id=new.item.contact_id)
        if agent is not None and not dial.reserved:
            agent.call_uuid = new.call_uuid  # reserved earlier (a preview card, an own call)
        self.core.track(call)
        originate = customer_leg(
            uuid=new.call_uuid, endpoint=dial.endpoint, attempt_id=attempt_id,
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
                        self.campaign_id, connection.name, new.call_uuid)
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
        self._originating[call.uuid] = job
        gevent.spawn(self._await_job, call, job)
        return call

    def _await_job(self, call: Call, job: AsyncResult) -> None:
        try:
            call.job_result(job.get())
        except SwitchUnavailable:  # the connection died first: reconciliation decides
            pass
        finally:
            self._originating.pop(call.uuid, None)

    def bridge(self, call: Call, agent: AgentSession) -> None:
        """Connect an answered customer to an agent's parked leg, or abandon the call.

        The command goes out at once, unless the customer's ``originate`` has not returned
        yet: FreeSWITCH watches a new leg for about 20 ms after CHANNEL_ANSWER, and a
        ``uuid_bridge`` then makes the originate fail (``-ERR ORIGINATOR_CANCEL``) while the
        leg lives on; the bridge then goes out when the originate's result is in. Its reply
        is awaited in another greenlet."""
        job = self._originating.get(call.uuid)
        if job is not None and not job.ready():
            gevent.spawn(self._bridge_when_originated, call, agent, job)
            return
        command = f"uuid_bridge {call.uuid} {agent.leg_uuid}"
        try:
            connection = self.core.pool[call.node]
            sent = connection.api_send(command)
        except SwitchUnavailable as exc:
            log.warning("call %s: bridge to agent %s failed: %s", call.uuid, agent.agent_id, exc)
            return  # reconciliation after the reconnect decides
        gevent.spawn(self._bridge_result, call, agent, connection, command, sent)

    def _bridge_when_originated(self, call: Call, agent: AgentSession, job: AsyncResult) -> None:
        try:
            body = job.get()
        except SwitchUnavailable:
            return  # reconciliation after the reconnect decides
        if body.startswith("+OK") and call.state is CallState.ANSWERED:
            self.bridge(call, agent)

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
