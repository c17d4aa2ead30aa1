"""Progressive mode: reserve a ready agent, then dial one number for them; bridge on answer.

With per-call ringing (``Campaign.agent_ringing``) the agent has no nailed-up leg: on the
customer's answer the agent's softphone is called, and bridged when it answers. An agent
who lets it ring out is paused ("missed call") and the customer goes to the next ready
agent, or is abandoned when there is none.
"""

from __future__ import annotations

import logging
import uuid as uuidlib

import gevent
from gevent.event import AsyncResult

from engine.agents import AgentSession, AgentState
from engine.calls import Call, CallState
from engine.store.models import DialMode
from engine.switch.connection import SwitchError, SwitchUnavailable
from engine.switch.originate import (
    VAR_AGENT,
    VAR_CAMPAIGN,
    VAR_NODE,
    DialStringError,
    Originate,
)

from .attempts import Dialable
from .base import CampaignRunner

log = logging.getLogger(__name__)


class ProgressiveRunner(CampaignRunner):
    mode = DialMode.PROGRESSIVE

    def step(self) -> None:
        ready = self.core.agents.ready(self.campaign_id)
        if not ready or not self.can_dial():
            return
        pairs: list[tuple[Dialable, AgentSession | None]] = []
        for item in self.next_items(len(ready)):
            agent = self.pick_agent(item, ready)
            if agent is None:
                continue
            if not self.can_dial_more(len(pairs)):
                break
            ready.remove(agent)
            pairs.append((item, agent))
        if pairs:
            self.dial_many(pairs)

    def pick_agent(self, item: Dialable, ready: list[AgentSession]) -> AgentSession | None:
        """The agent a callback is reserved for when logged in (waiting if busy), else the
        longest-ready agent."""
        reserved_id = getattr(item, "agent_id", None)
        if reserved_id is not None:
            reserved = self.core.agents.get(reserved_id)
            if reserved is not None:
                return reserved if reserved in ready else None
        return ready[0] if ready else None

    def call_answered(self, call: Call) -> None:
        super().call_answered(call)
        agent = self.core.agents.get(call.agent_id) if call.agent_id else None
        if agent is None or agent.call_uuid != call.uuid or agent.state is not AgentState.RESERVED:
            agent = self._any_ready_agent(call)
        if agent is None or not (agent.leg_uuid or agent.per_call):
            gevent.spawn(self.abandon, call)
            return
        self.connect(call, agent)

    def connect(self, call: Call, agent: AgentSession) -> None:
        """Bridge to the agent's nailed-up leg at once (the customer waits in silence), or
        ring a per-call agent's phone first."""
        if agent.per_call and not agent.leg_uuid:
            gevent.spawn(self.ring_agent, call, agent)
        else:
            self.bridge(call, agent)

    def _any_ready_agent(self, call: Call) -> AgentSession | None:
        """For a call whose agent is gone: the longest-ready agent on its node (a per-call
        agent can be rung from any node)."""
        for agent in self.core.agents.ready(self.campaign_id):
            if agent.per_call or agent.node == call.node:
                agent.reserve(call.uuid)
                call.agent_id = agent.agent_id
                return agent
        return None

    # --- per-call ringing -----------------------------------------------------------------

    def ring_agent(self, call: Call, agent: AgentSession) -> None:
        """Call the agent's softphone on the customer's node; bridge when it answers."""
        leg = str(uuidlib.uuid4())
        agent.ring(leg, call.node, lambda answered: self._agent_answered(call, answered))
        self.core.agents.index_leg(leg, agent)
        originate = Originate(uuid=leg, endpoint=agent.dial_string, variables={
            VAR_AGENT: agent.agent_id, VAR_CAMPAIGN: self.campaign_id,
            VAR_NODE: self.core.node_id, "originate_timeout": self.settings.agent_ring_timeout_s,
            "hangup_after_bridge": True, "origination_caller_id_name": "Dialer"})
        try:
            job = self.core.pool[call.node].bgapi("originate " + originate.command())
        except (SwitchError, SwitchUnavailable, DialStringError) as exc:
            log.warning("agent %s: softphone could not be called: %s", agent.agent_id, exc)
            self._agent_missed(call, agent)
            return
        self._ring_result(call, agent, leg, job)

    def _agent_answered(self, call: Call, agent: AgentSession) -> None:
        if call.state is CallState.ANSWERED and agent.call_uuid == call.uuid:
            self.bridge(call, agent)
        # else the customer left meanwhile: call_finished hangs the agent's leg up

    def _ring_result(self, call: Call, agent: AgentSession, leg: str, job: AsyncResult) -> None:
        try:
            body = job.get()
        except SwitchUnavailable:
            return  # reconciliation decides
        if body.startswith("+OK") or agent.call_uuid != call.uuid \
                or agent.state is not AgentState.RESERVED or agent.leg_uuid not in (leg, None):
            return
        log.info("agent %s did not answer (%s): paused", agent.agent_id, body.strip())
        self._agent_missed(call, agent)

    def _agent_missed(self, call: Call, agent: AgentSession) -> None:
        """The agent is paused; the customer gets the next ready agent, else is abandoned."""
        if agent.leg_uuid:
            self.core.agents.forget_leg(agent.leg_uuid)
        agent.missed_call()
        call.agent_id = None
        if call.state is not CallState.ANSWERED:
            return
        other = self._any_ready_agent(call)
        if other is None:
            self.abandon(call)
        else:
            self.connect(call, other)
