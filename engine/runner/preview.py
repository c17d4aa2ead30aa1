"""Preview mode: the agent sees the contact card first, then dials or skips it.

A ready agent is reserved for the next dialable contact and offered it as a ``Card``
once the contact is read (on the writer's thread, off the event loop). ``dial``
calls the number (bridged to that agent on answer, as in progressive mode); ``skip``
frees the agent and the contact is not offered again in this run. A card left alone
for ``pacing.preview_timeout_s`` is dialed or skipped as ``pacing.preview_timeout_action``
says.
"""

from __future__ import annotations

import logging
import uuid as uuidlib
from dataclasses import dataclass, field
from typing import Any

import gevent
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from engine.agents import AgentSession, AgentState, AgentStateError
from engine.store.models import Contact, DialMode

from .attempts import Dialable
from .core import DialerCore
from .progressive import ProgressiveRunner

log = logging.getLogger(__name__)


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


@dataclass(frozen=True)
class _Offer:
    """An agent reserved for a card whose contact is being read."""

    agent: AgentSession
    token: str  # the reservation's call_uuid
    item: Dialable


def _read_contacts(sessions: sessionmaker[Session],
                   contact_ids: list[int]) -> dict[int, tuple[str, str, dict[str, Any]]]:
    """On the database thread: name, status and fields of each contact that still exists."""
    with sessions() as session:
        rows = session.scalars(select(Contact).where(Contact.id.in_(contact_ids)))
        return {c.id: (c.name, c.status, dict(c.fields or {})) for c in rows}


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
        offers: list[_Offer] = []
        for item in items:
            agent = self.pick_agent(item, ready)
            if agent is None:
                continue
            ready.remove(agent)
            token = f"preview-{uuidlib.uuid4()}"
            agent.reserve(token)
            offers.append(_Offer(agent, token, item))
        if offers:  # in a greenlet of its own: a runner stopped meanwhile still frees the agents
            gevent.spawn(self._offer, offers).join()

    def _offer(self, offers: list[_Offer]) -> None:
        """Read the contacts on the writer's thread (the event loop goes on), then show each
        card to its agent if still reserved for it; an agent whose card cannot be shown (the
        runner stopped, the contact is gone, the read failed) is released, one who logged
        out meanwhile gets nothing."""
        try:
            contacts = self.core.writer.run(_read_contacts, self.core.sessions,
                                            [offer.item.contact_id for offer in offers])
        except Exception:
            log.exception("campaign %s: reading preview contacts failed", self.campaign_id)
            contacts = {}
        for offer in offers:
            agent, item = offer.agent, offer.item
            if self.core.agents.get(agent.agent_id) is not agent \
                    or agent.state is not AgentState.RESERVED or agent.call_uuid != offer.token:
                continue  # logged out (or taken elsewhere) during the read
            if not self.running or item.contact_id not in contacts:
                agent.release()
                continue
            name, status, fields = contacts[item.contact_id]
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
