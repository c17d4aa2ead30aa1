"""Progressive mode: reserve a ready agent, then dial one number for them; bridge on answer."""

from __future__ import annotations

import gevent

from engine.agents import AgentSession, AgentState
from engine.calls import Call
from engine.store.models import DialMode

from .attempts import Dialable
from .base import CampaignRunner


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
        if agent is None or not agent.leg_uuid:
            gevent.spawn(self.abandon, call)
            return
        self.bridge(call, agent)  # sent at once: the customer is waiting in silence

    def _any_ready_agent(self, call: Call) -> AgentSession | None:
        """For an adopted call whose agent is gone: the longest-ready agent on its node."""
        for agent in self.core.agents.ready(self.campaign_id):
            if agent.node == call.node:
                agent.reserve(call.uuid)
                call.agent_id = agent.agent_id
                return agent
        return None
