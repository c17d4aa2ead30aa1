"""Preview mode: the agent sees the contact card first, then dials or skips it.

A ready agent is offered the next dialable contact as a ``Card`` and is reserved
for it. ``dial`` calls the number (bridged to that agent on answer, as in
progressive mode); ``skip`` frees the agent and the contact is not offered again
in this run. A card left alone for ``pacing.preview_timeout_s`` is dialed or
skipped as ``pacing.preview_timeout_action`` says.
"""

from __future__ import annotations

import uuid as uuidlib
from dataclasses import dataclass, field
from typing import Any

from engine.agents import AgentSession, AgentStateError
from engine.store.models import Contact, DialMode

from .attempts import Dialable
from .core import DialerCore
from .progressive import ProgressiveRunner


@dataclass(frozen=True)
class Card:
    """What the agent sees before deciding."""

    agent_id: int
    contact_id: int
    number: str
    name: str
    status: str
    fields: dict[str, Any]
    is_callback: bool
    offered_mono: float
    item: Dialable = field(repr=False)

    def public(self) -> dict[str, Any]:
        """What the agent's screen gets."""
        return {"agent_id": self.agent_id, "contact_id": self.contact_id, "number": self.number,
                "name": self.name, "status": self.status, "fields": self.fields,
                "is_callback": self.is_callback}


class PreviewRunner(ProgressiveRunner):
    mode = DialMode.PREVIEW

    def __init__(self, core: DialerCore, campaign_id: int, *, tick_s: float = 0.05) -> None:
        super().__init__(core, campaign_id, tick_s=tick_s)
        self.cards: dict[int, Card] = {}
        self.skipped: set[int] = set()

    def step(self) -> None:
        self._expire_cards()
        ready = self.core.agents.ready(self.campaign_id)
        if not ready:
            return
        offered = {card.contact_id for card in self.cards.values()} | self.skipped
        items = [item for item in self.next_items(len(ready) + len(offered))
                 if item.contact_id not in offered]
        for item in items:
            agent = self.pick_agent(item, ready)
            if agent is None:
                continue
            ready.remove(agent)
            self._offer(agent, item)

    def _offer(self, agent: AgentSession, item: Dialable) -> None:
        with self.core.sessions() as session:
            contact = session.get(Contact, item.contact_id)
            name, status, fields = contact.name, contact.status, dict(contact.fields or {})
        agent.reserve(f"preview-{uuidlib.uuid4()}")
        card = Card(agent.agent_id, item.contact_id, item.number, name, status, fields,
                    item.is_callback, self.core.clock.monotonic(), item)
        self.cards[agent.agent_id] = card
        self.core.notify("card", card.public())

    def _expire_cards(self) -> None:
        now = self.core.clock.monotonic()
        for agent_id, card in list(self.cards.items()):
            if now - card.offered_mono >= self.settings.preview_timeout_s:
                if self.settings.preview_timeout_action == "dial":
                    self.dial_card(agent_id)
                else:
                    self.skip_card(agent_id)

    def _take_card(self, agent_id: int) -> Card:
        card = self.cards.pop(agent_id, None)
        if card is None:
            raise AgentStateError(f"agent {agent_id} has no preview card")
        return card

    def dial_card(self, agent_id: int) -> None:
        """The agent chose to call the card's number."""
        card = self._take_card(agent_id)
        agent = self.core.agents.get(agent_id)
        if agent is None:
            return
        self.dial(card.item, agent)

    def skip_card(self, agent_id: int) -> None:
        """The agent passed on the card: not offered again in this run."""
        card = self._take_card(agent_id)
        self.skipped.add(card.contact_id)
        agent = self.core.agents.get(agent_id)
        if agent is not None:
            agent.release()
