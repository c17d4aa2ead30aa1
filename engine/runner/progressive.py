"""Progressive mode: reserve a ready agent, then dial one number for them; bridge on answer.

With per-call ringing (``Campaign.agent_ringing``) the agent's softphone is rung on the
customer's answer (``agent_ringing``); an agent who lets it ring out is paused and the
customer goes to the next ready agent, or is abandoned when there is none.
"""

from __future__ import annotations

import gevent

from engine.agents import AgentSession, AgentState
from engine.calls import Call
from engine.store.models import DialMode

from .agent_ringing import reachable, runner_ringer
from .attempts import Dialable
from .base import CampaignRunner
from .core import DialerCore


class ProgressiveRunner(CampaignRunner):
    mode = DialMode.PROGRESSIVE

    def __init__(self, core: DialerCore, campaign_id: int, *, tick_s: float = 0.05) -> None:
        super().__init__(core, campaign_id, tick_s=tick_s)
        self.ringer = runner_ringer(self)

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
            agent = self.ringer.take_ready(call)  # the call's agent is gone
        if agent is None or not reachable(agent, call):
            gevent.spawn(self.abandon, call)
            return
        self.ringer.connect(call, agent)
