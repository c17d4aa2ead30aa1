"""Preview campaigns: card first, then dial or skip; the time-out policy."""

from __future__ import annotations

from engine.agents import AgentState
from engine.runner.preview import PreviewRunner
from engine.store.models import AttemptState, DialMode, Outcome

from .conftest import attempts, make_campaign, wait_for


def test_dial_then_skip(core, factory, session, sessionmaker_) -> None:  # type: ignore[no-untyped-def]
    campaign, agents = make_campaign(factory, session, ["+79001000001", "+79001000002"],
                                     agents=1, mode=DialMode.PREVIEW)
    agent_id = agents[0].id
    cards: list[dict] = []  # type: ignore[type-arg]
    core.send_events_to(lambda kind, data: cards.append(data) if kind == "card" else None)
    core.login(agent_id, campaign.id)
    runner = PreviewRunner(core, campaign.id, tick_s=0.02)
    runner.start()
    try:
        wait_for(lambda: len(cards) == 1, 5, "the first card")
        assert core.agents.get(agent_id).state is AgentState.RESERVED
        assert attempts(sessionmaker_) == []  # nothing dialed before the agent decides
        runner.dial_card(agent_id)
        wait_for(lambda: len(cards) == 2, 10, "the second card after the first call")
        first = attempts(sessionmaker_)[0]
        assert first.number == cards[0]["number"] and first.outcome is Outcome.ANSWERED
        assert first.agent_id == agent_id and first.bridged_at is not None
        runner.skip_card(agent_id)
        wait_for(lambda: core.agents.get(agent_id).state is AgentState.READY, 2, "agent free")
        assert len(cards) == 2 and len(attempts(sessionmaker_)) == 1  # skipped: not dialed
    finally:
        runner.stop()
    assert cards[1]["number"] != cards[0]["number"]
    assert cards[0]["agent_id"] == agent_id and "name" in cards[0]


def test_card_left_alone_is_dialed_when_the_policy_says_so(core, factory, session, sessionmaker_) -> None:  # type: ignore[no-untyped-def]
    campaign, agents = make_campaign(
        factory, session, ["+79001000003"], agents=1, mode=DialMode.PREVIEW,
        pacing={"ring_timeout_s": 15, "wrap_up_s": 0, "preview_timeout_s": 0.3,
                "preview_timeout_action": "dial"})
    core.login(agents[0].id, campaign.id)
    runner = PreviewRunner(core, campaign.id, tick_s=0.02)
    runner.start()
    try:
        wait_for(lambda: [a.state for a in attempts(sessionmaker_)] == [AttemptState.ENDED], 10,
                 "the timed-out card to be dialed")
    finally:
        runner.stop()
    assert attempts(sessionmaker_)[0].outcome is Outcome.ANSWERED
