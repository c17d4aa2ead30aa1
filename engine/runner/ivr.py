"""IVR-only mode (voice broadcast): on answer play the campaign's messages, then a DTMF menu.

Menu actions: ``agent`` connects the caller to a ready agent of the campaign (rung first
with per-call ringing; abandoned when none is free or none answers), ``dnc`` puts the
number on the tenant's DNC list and hangs up. The choice is stored in the attempt's ``result`` (``ivr_choice``,
``ivr_digits``). An advertising campaign whose contacts lack consent is refused at
start (automated advertising calls need prior consent).
"""

from __future__ import annotations

import gevent
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.agents import AgentSession
from engine.calls import Call, CallState
from engine.store.db import transaction
from engine.store.models import (
    CallAttempt,
    Campaign,
    Contact,
    ContactList,
    DialMode,
    DncEntry,
    Outcome,
)
from engine.switch.connection import SwitchError, SwitchUnavailable

from .agent_ringing import runner_ringer
from .attempts import Dialable
from .base import CampaignRunner
from .core import DialerCore
from .settings import CampaignConfigError

DEFAULT_MAX_CHANNELS = 10  # an IVR campaign with no limit set never floods the trunk


class IvrRunner(CampaignRunner):
    mode = DialMode.IVR

    def __init__(self, core: DialerCore, campaign_id: int, *, tick_s: float = 0.05) -> None:
        super().__init__(core, campaign_id, tick_s=tick_s)
        if not self.settings.ivr_messages:
            raise CampaignConfigError(
                f"campaign {self.campaign_id} ({self.campaign.name}) has no ivr.messages to play")
        if self.limit.max_channels is None:
            self.limit.max_channels = DEFAULT_MAX_CHANNELS
        self._next_message: dict[str, int] = {}
        self._timers: dict[str, gevent.Greenlet] = {}
        self.ringer = runner_ringer(self)

    def check(self, session: Session, campaign: Campaign) -> None:
        super().check(session, campaign)
        if not campaign.advertising:
            return
        lacking = session.scalar(
            select(func.count(Contact.id)).join(ContactList, Contact.list_id == ContactList.id)
            .where(ContactList.campaign_id == campaign.id, Contact.consent.is_(False)))
        if lacking:
            raise CampaignConfigError(
                f"campaign {campaign.id} ({campaign.name}) is advertising and {lacking} of its "
                f"contacts have no recorded consent: automated advertising calls need consent")

    def step(self) -> None:
        room = (self.limit.max_channels or 0) - self.limit.live
        if room <= 0 or not self.can_dial():
            return
        pairs: list[tuple[Dialable, AgentSession | None]] = []
        for item in self.next_items(room):
            if not self.can_dial_more(len(pairs)):
                break
            pairs.append((item, None))
        if pairs:
            self.dial_many(pairs)

    # --- the call -------------------------------------------------------------------------

    def call_answered(self, call: Call) -> None:
        super().call_answered(call)
        self._next_message[call.uuid] = 0
        gevent.spawn(self._play_next, call)

    def _play_next(self, call: Call) -> None:
        index = self._next_message.get(call.uuid)
        if index is None or call.state is not CallState.ANSWERED:
            return
        if index >= len(self.settings.ivr_messages):
            self._await_choice(call)
            return
        self._next_message[call.uuid] = index + 1
        message = self.settings.ivr_messages[index]
        self._api(call, f"uuid_broadcast {call.uuid} playback::{message} aleg")

    def _await_choice(self, call: Call) -> None:
        self._next_message.pop(call.uuid, None)
        if not self.settings.ivr_menu:
            self.core.kill(call)
            return
        self._timers[call.uuid] = gevent.spawn_later(
            self.settings.ivr_digit_timeout_s, self._no_choice, call)

    def _no_choice(self, call: Call) -> None:
        call.result["ivr_choice"] = "none"
        self.core.kill(call)

    def call_app_done(self, call: Call, application: str) -> None:
        if application == "playback" and call.uuid in self._next_message:
            gevent.spawn(self._play_next, call)

    def call_dtmf(self, call: Call, digit: str) -> None:
        call.result["ivr_digits"] = "".join(call.digits)
        action = (self.settings.ivr_menu or {}).get(digit)
        if action is None or call.state is not CallState.ANSWERED or "ivr_choice" in call.result:
            return
        call.result["ivr_choice"] = action
        self._next_message.pop(call.uuid, None)
        timer = self._timers.pop(call.uuid, None)
        if timer is not None:
            timer.kill()
        gevent.spawn(self._connect if action == "agent" else self._opt_out, call)

    def _connect(self, call: Call) -> None:
        """The caller asked for an agent: the longest-ready one who can take the call
        (a per-call agent is rung first), else the call is abandoned."""
        self._api(call, f"uuid_break {call.uuid} all")
        agent = self.ringer.take_ready(call)
        if agent is None:
            self.abandon(call)
        else:
            self.ringer.connect(call, agent)

    def _opt_out(self, call: Call) -> None:
        with transaction(self.core.sessions) as session:
            number = session.scalar(
                select(CallAttempt.number).where(CallAttempt.id == call.attempt_id))
            listed = session.scalar(select(DncEntry.id).where(
                DncEntry.tenant_id == self.campaign.tenant_id, DncEntry.number == number))
            if number and listed is None:
                session.add(DncEntry(tenant_id=self.campaign.tenant_id, number=number,
                                     reason=f"IVR opt-out, campaign {self.campaign_id}",
                                     source="ivr", created_at=self.core.clock.now()))
        self.core.kill(call)

    def _api(self, call: Call, command: str) -> None:
        try:
            self.core.pool[call.node].api(command)
        except (SwitchError, SwitchUnavailable):  # the call is gone: its hangup ends it
            return

    def call_ended(self, call: Call) -> None:
        self._next_message.pop(call.uuid, None)
        timer = self._timers.pop(call.uuid, None)
        if timer is not None:
            timer.kill()
        if call.outcome is Outcome.ANSWERED and "ivr_choice" not in call.result:
            call.result["ivr_choice"] = "none"  # hung up during the messages
            self.core.save(call)
        super().call_ended(call)
