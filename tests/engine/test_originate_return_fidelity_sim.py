"""The engine against a simulator whose originates return well after the answer, as FreeSWITCH's
do (~20 ms; here 0.3 s, so that a bridge sent on the answer would surely land in the window and
cancel the originate): every answered customer is still bridged, none is cancelled."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from engine.runner.predictive import PredictiveRunner
from engine.sim.channel import Channel
from engine.sim.scenario import scenario_from_dict
from engine.sim.server import SwitchSimulator
from engine.store.models import AttemptState, DialMode, Outcome

from .conftest import (
    RULES,
    attempts,
    login_ready,
    make_campaign,
    mixed_predictive,
    run_until,
    wait_for,
    world,
)

WINDOW_S = 0.3
HUMANS = [f"+7900100{n:04d}" for n in range(8)]  # answer after 0.3 s, talk 0.6-1 s
MIXED, PACING = mixed_predictive(ring_max_s=0.6, talk_s=(0.5, 1.0), wrap_s=0.1)


@pytest.fixture
def simulator() -> Iterator[SwitchSimulator]:
    sim = SwitchSimulator(scenario_from_dict(world(rules=[MIXED, *RULES])), seed=7, record_tick=0.05,
                          heartbeat_seconds=None, originate_return_s=WINDOW_S).start()
    yield sim
    sim.stop()


@pytest.fixture
def cancelled(monkeypatch) -> list[str]:
    """Legs whose originate a bridge cancelled."""
    legs: list[str] = []
    original = Channel.cancel_originate

    def spy(channel: Channel) -> None:
        if channel.pending_result is not None:
            legs.append(channel.uuid)
        original(channel)

    monkeypatch.setattr(Channel, "cancel_originate", spy)
    return legs


def ended(sessionmaker_, count: int):  # type: ignore[no-untyped-def]
    """A predicate: at least ``count`` answered calls have ended."""
    return lambda: sum(a.state is AttemptState.ENDED and a.answered_at is not None
                       for a in attempts(sessionmaker_)) >= count


def test_progressive_bridges_every_answer(core, factory, session, sessionmaker_, cancelled) -> None:  # type: ignore[no-untyped-def]
    campaign, agents = make_campaign(factory, session, HUMANS, agents=4)
    login_ready(core, agents, campaign.id)
    run_until(core, campaign.id, ended(sessionmaker_, len(HUMANS)), 30, "every call to end")
    rows = attempts(sessionmaker_)
    assert cancelled == []
    assert [a.outcome for a in rows] == [Outcome.ANSWERED] * len(HUMANS)
    assert all(a.bridged_at is not None and a.hangup_cause == "NORMAL_CLEARING" for a in rows)


def test_predictive_bridges_every_answer_it_does_not_abandon(core, factory, session, sessionmaker_,  # type: ignore[no-untyped-def]
                                                             cancelled) -> None:
    numbers = [f"+7901{n:07d}" for n in range(200)]
    campaign, agents = make_campaign(factory, session, numbers, agents=6, mode=DialMode.PREDICTIVE,
                                     pacing={**PACING, "answer_timeout_s": 3})
    login_ready(core, agents, campaign.id)
    run_until(core, campaign.id, ended(sessionmaker_, 12), 30, "12 answered calls to end",
              runner_class=PredictiveRunner)
    wait_for(lambda: all(a.state is AttemptState.ENDED for a in attempts(sessionmaker_)), 15,
             "calls in flight to end")
    answered = [a for a in attempts(sessionmaker_) if a.answered_at is not None]
    assert cancelled == []
    assert {a.outcome for a in answered} <= {Outcome.ANSWERED, Outcome.ABANDONED}
    bridged = [a for a in answered if a.outcome is Outcome.ANSWERED]
    assert len(bridged) >= 6 and all(a.bridged_at is not None for a in bridged)
    assert all(a.hangup_cause != "ORIGINATOR_CANCEL" for a in answered)
