"""Per-call agent ringing, shared by every mode with agents and by inbound callbacks.

An agent of a campaign with ``Campaign.agent_ringing`` has no nailed-up leg: when a customer
is waiting for them their softphone is originated on the customer's node, and the customer
is bridged to it once that originate has returned ``+OK``. Not on the leg's CHANNEL_ANSWER:
FreeSWITCH's ``originate`` keeps watching the leg for about 20 ms after the answer, and a
``uuid_bridge`` in that window (it flags the leg for transfer) makes the originate give up
with ``-ERR ORIGINATOR_CANCEL`` while the leg lives on, unbridged. The ``+OK`` is written only
after the leg was handed its ``&park()``, so a bridge sent then always lands.

An agent who lets the phone ring out is paused (``missed call``) and the mode decides what
the customer gets next (``missed``): by default the campaign's next ready agent, else the
call is abandoned.
"""

from __future__ import annotations

import logging
import uuid as uuidlib
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

import gevent

from engine.agents import AgentSession, AgentState
from engine.calls import Call, CallState
from engine.switch.connection import SwitchError, SwitchUnavailable
from engine.switch.originate import (
    VAR_AGENT,
    VAR_CAMPAIGN,
    VAR_NODE,
    DialStringError,
    Originate,
)

if TYPE_CHECKING:
    from .base import CampaignRunner
    from .core import DialerCore

log = logging.getLogger(__name__)

Connect = Callable[[Call, AgentSession], None]


def reachable(agent: AgentSession, call: Call) -> bool:
    """Whether the agent can take this customer: a per-call agent is rung on any node, a
    nailed-up leg must be on the customer's node (a bridge needs both on one switch)."""
    return agent.per_call or (agent.leg_uuid is not None and agent.node == call.node)


def first_reachable(agents: Iterable[AgentSession], call: Call) -> AgentSession | None:
    return next((agent for agent in agents if reachable(agent, call)), None)


def agent_call_leg(*, uuid: str, agent: AgentSession, campaign_id: int, node: str,
                   ring_timeout_s: float) -> Originate:
    """The agent's softphone called for one customer: ends with that customer's bridge."""
    return Originate(uuid=uuid, endpoint=agent.dial_string, variables={
        VAR_AGENT: agent.agent_id, VAR_CAMPAIGN: campaign_id, VAR_NODE: node,
        "originate_timeout": ring_timeout_s, "hangup_after_bridge": True,
        "origination_caller_id_name": "Dialer"})


class AgentRinger:
    """Connects answered customers to reserved agents: at once to a nailed-up leg, after a
    ring to a per-call agent. ``bridge`` sends the mode's ``uuid_bridge``; ``abandon`` ends a
    customer nobody takes; ``ring_timeout_s`` says how long a call's agent may ring;
    ``missed`` (optional) replaces the default next-agent-or-abandon
    after a missed ring (the call's agent is cleared and the agent paused by then)."""

    def __init__(self, core: DialerCore, *, ring_timeout_s: Callable[[Call], float],
                 bridge: Connect, abandon: Callable[[Call], None] | None = None,
                 missed: Connect | None = None) -> None:
        if abandon is None and missed is None:
            raise TypeError("AgentRinger needs ``abandon`` for the default ``missed``")
        self.core = core
        self._ring_timeout_s = ring_timeout_s
        self._bridge = bridge
        self._abandon = abandon
        self.missed: Connect = missed or self.next_or_abandon
        self._ringing: dict[str, AgentSession] = {}  # by customer uuid

    def take_ready(self, call: Call) -> AgentSession | None:
        """Reserve the campaign's longest-ready agent who can take the call (None: nobody)."""
        agent = first_reachable(self.core.agents.ready(call.campaign_id), call)
        if agent is not None:
            agent.reserve(call.uuid)
            call.agent_id = agent.agent_id
        return agent

    def connect(self, call: Call, agent: AgentSession) -> None:
        """Bridge to the agent's nailed-up leg, or ring a per-call agent first."""
        if agent.per_call and agent.leg_uuid is None:
            self._ringing[call.uuid] = agent
            gevent.spawn(self._ring, call, agent)
        else:
            self._bridge(call, agent)

    def ringing(self, call: Call) -> bool:
        return call.uuid in self._ringing

    def cancel(self, call: Call) -> AgentSession | None:
        """The customer no longer waits for the ring (abandoned, given up): the agent's leg
        is hung up and the agent is free again. Returns that agent, if any rang."""
        agent = self._ringing.pop(call.uuid, None)
        if agent is None:
            return None
        leg = agent.leg_uuid
        if leg is not None:
            self.core.agents.forget_leg(leg)
        call.agent_id = None
        if agent.call_uuid == call.uuid and agent.state is AgentState.RESERVED:
            agent.ring_cancelled()
        if leg is not None:
            gevent.spawn(self.core.hang_up_leg, call.node, leg)
        return agent

    def _ring(self, call: Call, agent: AgentSession) -> None:
        leg = str(uuidlib.uuid4())
        agent.ring(leg, call.node)
        self.core.agents.index_leg(leg, agent)
        originate = agent_call_leg(uuid=leg, agent=agent, campaign_id=call.campaign_id,
                                   node=self.core.node_id,
                                   ring_timeout_s=self._ring_timeout_s(call))
        try:
            body = self.core.pool[call.node].bgapi("originate " + originate.command()).get()
        except SwitchUnavailable:
            return  # reconciliation after the reconnect decides
        except (SwitchError, DialStringError) as exc:
            body = f"-ERR {exc}"
        if self._ringing.get(call.uuid) is not agent:
            return  # cancelled meanwhile
        del self._ringing[call.uuid]
        if agent.call_uuid != call.uuid or agent.state is not AgentState.RESERVED \
                or agent.leg_uuid not in (leg, None):  # None: its hangup came first
            return  # the customer left: ``DialerCore.call_finished`` freed the agent
        if body.startswith("+OK"):
            if call.state is CallState.ANSWERED:
                self._bridge(call, agent)
            return
        log.info("agent %s did not answer (%s): paused", agent.agent_id, body.strip())
        self.core.agents.forget_leg(leg)
        agent.missed_call()
        call.agent_id = None
        if call.state is CallState.ANSWERED:
            self.missed(call, agent)

    def next_or_abandon(self, call: Call, missed: AgentSession) -> None:
        """After a missed ring: the campaign's next ready agent, else abandon the call."""
        other = self.take_ready(call)
        if other is None:
            assert self._abandon is not None  # checked in __init__ for the default
            self._abandon(call)
        else:
            self.connect(call, other)


def runner_ringer(runner: CampaignRunner) -> AgentRinger:
    """A campaign runner's ringer: the campaign's ring time-out, the runner's bridge and
    abandon, the default next-agent-or-abandon after a missed ring."""
    return AgentRinger(runner.core, bridge=runner.bridge, abandon=runner.abandon,
                       ring_timeout_s=lambda call: runner.settings.agent_ring_timeout_s)
