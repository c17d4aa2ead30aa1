"""Inbound callbacks: a customer calls a campaign's number back and reaches an agent.

freeswitch_conf's ``inbound_callbacks`` context answers the call into silence, parks it
and tags it (``dialer_inbound=true``, ``dialer_campaign_number``, ``dialer_caller_number``).
On its CHANNEL_PARK the router looks the caller up (``inbound_lookup``), writes an
attempt marked inbound (a known contact), and bridges the call to the contact's last
agent when that agent is ready, else to the campaign's longest-ready agent on the
call's node, popping the contact card on the agent's screen. A caller nobody takes
within ``pacing.inbound_wait_s`` hears ``pacing.inbound_message`` (if set), is hung up
(outcome ``abandoned``) and gets a callback, with the last agent reserved.

An unknown caller (no contact) is bridged the same way without a card and without an
attempt row (an attempt needs a contact); the call is followed in memory only.

A per-call agent (``agent_ringing``) is rung with the card already shown; a missed ring
passes the caller to the next agent within the wait. Known callers are recorded from the
answer or the bridge (``recording.from``). With several engines on one switch, only the
engine that claims the leg (``inbound_claim``) routes it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import gevent

from engine.agents import AgentSession, AgentState
from engine.calls import Call, CallState
from engine.exchange.phones import PhoneNormalizer
from engine.store.db import transaction
from engine.store.models import CallAttempt, Callback, Campaign, Contact, Outcome
from engine.switch.connection import SwitchError, SwitchUnavailable
from engine.switch.event import Event
from engine.switch.reconcile import INBOUND_VAR

from .agent_ringing import AgentRinger, reachable
from .attempts import create_inbound
from .inbound_claim import check_node_id, claim, release
from .inbound_lookup import Caller, find_caller
from .settings import CampaignConfigError, RunSettings

if TYPE_CHECKING:
    from .core import DialerCore

log = logging.getLogger(__name__)

NO_ATTEMPT = 0  # Call.attempt_id of an unknown caller's call: nothing is written
MESSAGE_LIMIT_S = 30.0  # a message still playing after this is cut off


@dataclass
class InboundCall:
    """What the router keeps per inbound call while it lives."""

    caller: Caller
    settings: RunSettings
    card: dict[str, Any] | None = None


def is_inbound_park(event: Event) -> bool:
    return event.name == "CHANNEL_PARK" and event.var(INBOUND_VAR) == "true"


class InboundRouter:
    """Takes parked inbound calls to agents; the calls' observer afterwards."""

    def __init__(self, core: DialerCore, region: str = "RU") -> None:
        self.core = core
        self.normalizer = PhoneNormalizer(region)
        self.calls: dict[str, InboundCall] = {}
        self._seen: set[str] = set()  # legs taken (or being looked up), by uuid
        self._waiters: dict[str, gevent.Greenlet] = {}  # callers waiting for an agent
        self._message_timers: dict[str, gevent.Greenlet] = {}  # cut-off of a message/voicemail
        self.node_id = check_node_id(core.node_id)
        self.ringer = AgentRinger(core, ring_timeout_s=self._ring_timeout_s,
                                  bridge=self._ring_answered, missed=self._ring_missed)

    def stop(self) -> None:
        """Stop serving waiting callers (the engine stops; the next one adopts them)."""
        gevent.killall([*self._waiters.values(), *self._message_timers.values()], block=False)
        self._waiters.clear()
        self._message_timers.clear()

    # --- arrival --------------------------------------------------------------------------

    def offer(self, node: str, event: Event) -> None:
        """A CHANNEL_PARK of a leg the engine does not follow (see ``is_inbound_park``)."""
        self.take(node, event.unique_id or "",
                  event.var("dialer_campaign_number") or event.get("Caller-Destination-Number", ""),
                  event.var("dialer_caller_number") or event.get("Caller-Caller-ID-Number", ""))

    def take(self, node: str, uuid: str, dialled: str, caller_number: str) -> None:
        """Follow one parked inbound leg (once); the lookup runs in its own greenlet."""
        if not uuid or uuid in self._seen or uuid in self.core.calls:
            return
        self._seen.add(uuid)
        gevent.spawn(self._arrive, node, uuid, dialled or "", caller_number or "")

    def _arrive(self, node: str, uuid: str, dialled: str, caller_number: str) -> None:
        try:
            ours = claim(self.core.pool[node], uuid, self.node_id)
        except SwitchUnavailable:  # the reconnect's reconciliation offers it again
            ours = False
        if not ours:
            log.debug("inbound call %s: routed by another engine (or switch down)", uuid)
            self._seen.discard(uuid)
            return
        try:
            with self.core.sessions() as session:
                caller = find_caller(session, self.normalizer, dialled, caller_number)
                campaign = session.get(Campaign, caller.campaign_id) if caller else None
                settings = self._settings(campaign) if campaign else None
        except Exception:
            self._seen.discard(uuid)
            raise
        if caller is None or campaign is None or settings is None:
            log.warning("inbound call %s from %s to %s: no campaign has that number",
                        uuid, caller_number, dialled)
            self._seen.discard(uuid)
            self._hang_up(node, uuid, "UNALLOCATED_NUMBER")
            release(self.core.pool[node], uuid, self.node_id)
            return
        attempt_id = NO_ATTEMPT
        if caller.contact_id is not None:
            for runner in self.core.runners.values():
                runner.withdraw(caller.contact_id)
            with transaction(self.core.sessions) as session:
                attempt_id = create_inbound(
                    session, campaign, contact_id=caller.contact_id, phone_id=caller.phone_id,
                    number=caller.number, node=node, engine=self.node_id, call_uuid=uuid,
                    now=self.core.clock.now()).id
        call = Call(attempt_id=attempt_id, uuid=uuid, node=node, campaign_id=campaign.id,
                    clock=self.core.clock, observer=self, contact_id=caller.contact_id,
                    state=CallState.DIALING)
        self.calls[uuid] = InboundCall(caller, settings)
        self.core.track(call)
        log.info("inbound call %s from %s: campaign %s, contact %s", uuid, caller.number,
                 campaign.id, caller.contact_id)
        call.answered()

    def _settings(self, campaign: Campaign) -> RunSettings:
        try:
            return RunSettings.from_campaign(campaign)
        except CampaignConfigError as exc:
            log.error("inbound calls of %s use the default settings: %s", campaign.name, exc)
            return RunSettings()

    def adopted(self, call: Call, row: CallAttempt) -> None:
        """An inbound call from before a restart (its attempt row is open)."""
        self._seen.add(call.uuid)
        with self.core.sessions() as session:
            campaign = session.get_one(Campaign, row.campaign_id)
            settings = self._settings(campaign)
        self.calls[call.uuid] = InboundCall(
            Caller(row.number, row.campaign_id, row.tenant_id, row.contact_id, row.phone_id),
            settings)

    # --- serving --------------------------------------------------------------------------

    def _serve(self, call: Call) -> None:
        """Connect to an agent as soon as one is ready, within the campaign's wait (a
        per-call agent's phone rings meanwhile; one who misses it is passed over)."""
        entry = self.calls.get(call.uuid)
        if entry is None:
            return
        deadline = self.core.clock.monotonic() + entry.settings.inbound_wait_s
        while call.state is CallState.ANSWERED:
            if call.agent_id is None:
                agent = self._agent_for(call, entry.caller)
                if agent is not None and self._connect(call, agent, entry) \
                        and not self.ringer.ringing(call):
                    return  # bridged to a nailed-up leg
            if self.core.clock.monotonic() >= deadline:
                rung = self.ringer.cancel(call)
                if rung is not None:
                    self._drop_card(rung.agent_id, entry)
                self._missed(call, entry)
                return
            gevent.sleep(self.core.tick_s)

    def _agent_for(self, call: Call, caller: Caller) -> AgentSession | None:
        """The contact's last agent when ready, else the campaign's longest-ready agent
        (a nailed-up leg on the call's node, or a per-call agent: see ``reachable``)."""
        last = self.core.agents.get(caller.last_agent_id) if caller.last_agent_id else None
        if last is not None and last.state is AgentState.READY and reachable(last, call) \
                and last.tenant_id == caller.tenant_id:
            return last
        return next((a for a in self.core.agents.ready(call.campaign_id)
                     if reachable(a, call)), None)

    def _connect(self, call: Call, agent: AgentSession, entry: InboundCall) -> bool:
        """Reserve the agent and pop the card, then bridge (or ring a per-call agent)."""
        agent.reserve(call.uuid)
        call.agent_id = agent.agent_id
        self._save(call)
        entry.card = self._card(call, entry.caller, agent)
        if entry.card is not None:
            self.core.cards[agent.agent_id] = entry.card
            self.core.notify("card", entry.card)
        if agent.per_call and agent.leg_uuid is None:
            self.ringer.connect(call, agent)
            return True
        return self._bridge(call, agent)

    def _bridge(self, call: Call, agent: AgentSession) -> bool:
        try:
            self.core.pool[call.node].api(f"uuid_bridge {call.uuid} {agent.leg_uuid}")
            return True
        except (SwitchError, SwitchUnavailable) as exc:
            log.warning("inbound call %s: bridge to agent %s failed: %s", call.uuid,
                        agent.agent_id, exc)
        self._unassign(call, agent)
        if agent.state is AgentState.RESERVED and agent.call_uuid == call.uuid:
            agent.release()
        return False

    def _unassign(self, call: Call, agent: AgentSession) -> None:
        """The call has no agent any more (its card goes from that agent's screen)."""
        entry = self.calls.get(call.uuid)
        if entry is not None:
            self._drop_card(agent.agent_id, entry)
        call.agent_id = None
        self._save(call)

    # --- per-call agents (``AgentRinger``) ------------------------------------------------

    def _ring_timeout_s(self, call: Call) -> float:
        entry = self.calls.get(call.uuid)
        return entry.settings.agent_ring_timeout_s if entry else RunSettings().agent_ring_timeout_s

    def _ring_answered(self, call: Call, agent: AgentSession) -> None:
        self._bridge(call, agent)  # a failure frees the agent; ``_serve`` looks on

    def _ring_missed(self, call: Call, agent: AgentSession) -> None:
        self._unassign(call, agent)  # the agent is paused; ``_serve`` looks on

    def _card(self, call: Call, caller: Caller, agent: AgentSession) -> dict[str, Any] | None:
        """The contact card, as a preview card looks, marked inbound; None when unknown."""
        if caller.contact_id is None:
            return None
        with self.core.sessions() as session:
            contact = session.get(Contact, caller.contact_id)
            if contact is None:
                return None
            return card_of(contact, caller, agent.agent_id, call)

    def _drop_card(self, agent_id: int, entry: InboundCall) -> None:
        if entry.card is not None and self.core.cards.get(agent_id) is entry.card:
            del self.core.cards[agent_id]

    def _missed(self, call: Call, entry: InboundCall) -> None:
        """Nobody came: promise a callback, play the message (if any), then take a
        voicemail (if the campaign wants one) or hang up."""
        log.info("inbound call %s: no agent within %.0f s", call.uuid,
                 entry.settings.inbound_wait_s)
        call.outcome_override = Outcome.ABANDONED
        self._schedule_callback(call, entry)
        message = entry.settings.inbound_message
        if message is None:
            self._after_message(call)
            return
        try:
            self.core.pool[call.node].api(f"uuid_broadcast {call.uuid} playback::{message} aleg")
        except (SwitchError, SwitchUnavailable):
            self._after_message(call)
            return
        self._message_timers[call.uuid] = gevent.spawn_later(
            MESSAGE_LIMIT_S, self._after_message, call)

    def _after_message(self, call: Call) -> None:
        entry = self.calls.get(call.uuid)
        timer = self._message_timers.pop(call.uuid, None)
        if timer is not None and timer is not gevent.getcurrent():
            timer.kill()
        if not call.is_live or entry is None or call.result.get("voicemail"):
            return
        if entry.settings.inbound_voicemail_s <= 0 or call.attempt_id == NO_ATTEMPT:
            self.core.kill(call)
            return
        call.result["voicemail"] = True  # the recording of the attempt is the message
        if call.recording_path is None:  # else recording since the answer already
            self._record(call, entry.caller.tenant_id)
        self._message_timers[call.uuid] = gevent.spawn_later(
            entry.settings.inbound_voicemail_s, self._kill_if_live, call)

    def _kill_if_live(self, call: Call) -> None:
        if call.is_live:
            self.core.kill(call)

    def _schedule_callback(self, call: Call, entry: InboundCall) -> None:
        caller = entry.caller
        if caller.contact_id is None:
            return
        now = self.core.clock.now()
        with transaction(self.core.sessions) as session:
            session.add(Callback(
                campaign_id=caller.campaign_id, contact_id=caller.contact_id,
                phone_id=caller.phone_id, agent_id=caller.last_agent_id,
                due_at=now + timedelta(seconds=entry.settings.inbound_callback_after_s),
                reason="inbound_missed", created_at=now))

    def _hang_up(self, node: str, uuid: str, cause: str) -> None:
        try:
            self.core.pool[node].api(f"uuid_kill {uuid} {cause}")
        except (SwitchError, SwitchUnavailable) as exc:
            log.warning("inbound call %s: hangup failed: %s", uuid, exc)

    # --- call observer --------------------------------------------------------------------

    def _save(self, call: Call) -> None:
        if call.attempt_id != NO_ATTEMPT:
            self.core.save(call)

    def call_changed(self, call: Call) -> None:
        self._save(call)
        self.core.announce(call)

    def call_answered(self, call: Call) -> None:
        self._waiters[call.uuid] = gevent.spawn(self._serve, call)
        self._record_from(call, "answer")

    def call_bridged(self, call: Call) -> None:
        agent = self.core.agents.get(call.agent_id) if call.agent_id else None
        if agent is not None and agent.state is AgentState.RESERVED:
            agent.talking()
        self._record_from(call, "bridge")

    def _record_from(self, call: Call, moment: str) -> None:
        """Start the recording at the campaign's ``recording.from`` moment (known callers)."""
        entry = self.calls.get(call.uuid)
        if entry is not None and entry.settings.record and call.attempt_id != NO_ATTEMPT \
                and entry.settings.record_from == moment and call.recording_path is None:
            gevent.spawn(self._record, call, entry.caller.tenant_id)

    def _record(self, call: Call, tenant_id: int) -> None:
        """Stereo like outbound calls (there ``RECORD_STEREO`` comes with the originate)."""
        try:
            self.core.pool[call.node].api(f"uuid_setvar {call.uuid} RECORD_STEREO true")
        except (SwitchError, SwitchUnavailable) as exc:
            log.warning("inbound call %s: not recorded: %s", call.uuid, exc)
            return
        self.core.start_recording(call, tenant_id)

    def call_ended(self, call: Call) -> None:
        entry = self.calls.pop(call.uuid, None)
        self._seen.discard(call.uuid)
        self._waiters.pop(call.uuid, None)
        timer = self._message_timers.pop(call.uuid, None)
        if timer is not None:
            timer.kill(block=False)
        if call.agent_id is not None and entry is not None:
            self._drop_card(call.agent_id, entry)
        wrap_up = entry.settings.wrap_up_s if entry else 0.0
        self.core.call_finished(call, wrap_up)
        gevent.spawn(release, self.core.pool[call.node], call.uuid, self.node_id)

    def call_dtmf(self, call: Call, digit: str) -> None:
        """Digits of an inbound call are not acted on."""

    def call_early_media(self, call: Call) -> None:
        """An inbound call is answered by the dialplan: it has no early media."""

    def call_app_done(self, call: Call, application: str) -> None:
        if application == "playback" and call.outcome_override is Outcome.ABANDONED:
            gevent.spawn(self._after_message, call)


def card_of(contact: Contact, caller: Caller, agent_id: int, call: Call) -> dict[str, Any]:
    """The card an agent's screen gets for an inbound call (a preview card's fields, plus
    ``inbound``, ``attempt_id`` and ``call_uuid``)."""
    return {"agent_id": agent_id, "contact_id": contact.id, "number": caller.number,
            "name": contact.name, "status": contact.status, "fields": dict(contact.fields or {}),
            "is_callback": False, "inbound": True, "attempt_id": call.attempt_id,
            "call_uuid": call.uuid}
