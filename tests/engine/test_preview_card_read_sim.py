"""Preview cards are read on the writer's thread: the agent is reserved first and gets the card
when the read returns, unless they logged out (no card, nothing reserved) or the runner stopped
(released) meanwhile."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from engine.agents import AgentState
from engine.runner import preview
from engine.runner.preview import PreviewRunner
from engine.store.models import DialMode

from .conftest import attempts, make_campaign, wait_for


@dataclass
class HeldRead:
    """``_read_contacts`` held on the writer's thread until ``release``; ``offered`` once the
    runner has dealt with what it read."""

    started: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    offered: threading.Event = field(default_factory=threading.Event)


@pytest.fixture
def held_read(monkeypatch) -> Iterator[HeldRead]:
    held = HeldRead()
    real = preview._read_contacts

    real_offer = PreviewRunner._offer

    def slow(*args):  # type: ignore[no-untyped-def]
        held.started.set()
        held.release.wait(10)
        return real(*args)

    def offer(runner, offers):  # type: ignore[no-untyped-def]
        real_offer(runner, offers)
        held.offered.set()

    monkeypatch.setattr(preview, "_read_contacts", slow)
    monkeypatch.setattr(PreviewRunner, "_offer", offer)
    yield held
    held.release.set()


def start_preview(core, factory, session):  # type: ignore[no-untyped-def]
    campaign, agents = make_campaign(factory, session, ["+79001000001"], agents=1, mode=DialMode.PREVIEW)
    cards: list[dict] = []  # type: ignore[type-arg]
    core.send_events_to(lambda kind, data: cards.append(data) if kind == "card" else None)
    core.login(agents[0].id, campaign.id)
    runner = PreviewRunner(core, campaign.id, tick_s=0.02)
    runner.start()
    return runner, agents[0].id, cards


def test_logout_during_the_card_read_leaves_no_card_and_no_reserved_agent(  # type: ignore[no-untyped-def]
        core, factory, session, sessionmaker_, held_read) -> None:
    runner, agent_id, cards = start_preview(core, factory, session)
    try:
        wait_for(held_read.started.is_set, 5, "the card read")
        agent = core.agents.get(agent_id)
        assert agent.state is AgentState.RESERVED  # reserved before the read
        core.logout(agent_id)
        held_read.release.set()
        wait_for(held_read.offered.is_set, 5, "the read to return")
    finally:
        runner.stop()
    assert cards == [] and runner.cards == {}
    assert agent.state is AgentState.OFFLINE and agent.call_uuid is None
    assert core.agents.get(agent_id) is None
    assert attempts(sessionmaker_) == []


def test_runner_stopped_during_the_card_read_releases_the_agent(  # type: ignore[no-untyped-def]
        core, factory, session, held_read) -> None:
    runner, agent_id, cards = start_preview(core, factory, session)
    wait_for(held_read.started.is_set, 5, "the card read")
    runner.stop()
    held_read.release.set()
    wait_for(held_read.offered.is_set, 5, "the read to return")
    assert core.agents.get(agent_id).state is AgentState.READY
    assert cards == [] and runner.cards == {}


def test_card_shown_when_the_read_returns(core, factory, session, held_read) -> None:  # type: ignore[no-untyped-def]
    runner, agent_id, cards = start_preview(core, factory, session)
    try:
        wait_for(held_read.started.is_set, 5, "the card read")
        assert cards == [] and runner.cards == {}  # nothing shown before the read returns
        held_read.release.set()
        wait_for(held_read.offered.is_set, 5, "the read to return")
    finally:
        runner.stop()
    assert cards[0]["agent_id"] == agent_id and cards[0]["number"] == "+79001000001"
    assert core.agents.get(agent_id).state is AgentState.RESERVED
