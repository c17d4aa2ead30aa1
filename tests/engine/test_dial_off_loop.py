"""A runner's database work runs on the write-behind's thread: the event loop keeps running,
the attempt is still committed before its originate, and what a call took (its agent, its
place in the rate limits, its number) is given back when its attempt is not written."""

from __future__ import annotations

import time
from typing import Any

import gevent
import pytest
from sqlalchemy import delete, select

from engine.agents import AgentState
from engine.runner import base
from engine.runner.progressive import ProgressiveRunner
from engine.store.models import AttemptState, CallAttempt, Contact, Phone
from engine.switch.connection import SwitchConnection

from .conftest import attempts, login_ready, make_campaign, wait_for
from .test_writer import ticks_during

NUMBERS = ["+79007000001", "+79007000002", "+79007000003"]  # callees who talk 30 s


@pytest.fixture
def ready(core, factory, session):  # type: ignore[no-untyped-def]
    """A progressive runner (not started: dialed by hand) with two ready agents."""
    campaign, agents = make_campaign(factory, session, NUMBERS, agents=2)
    login_ready(core, agents, campaign.id)
    runner = ProgressiveRunner(core, campaign.id)
    yield runner, [core.agents.get(agent.id) for agent in agents]
    for call in list(core.calls.values()):
        core.kill(call)


def stalled(seconds: float, then: Any = None) -> Any:
    """A stand-in for ``create_pending`` that takes ``seconds`` on the database thread."""
    original = base.create_pending

    def create_pending(*args: Any, **kwargs: Any) -> Any:
        time.sleep(seconds)
        if then is not None:
            raise then
        return original(*args, **kwargs)

    return create_pending


def test_the_loop_runs_while_the_attempt_is_written_before_the_originate(ready, core, sessionmaker_, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    runner, (agent, _) = ready
    (item,) = runner.next_items(1)
    committed_at_send: list[bool] = []
    original_send = SwitchConnection.bgapi_send

    def bgapi_send(connection: SwitchConnection, command: str) -> Any:
        if command.startswith("originate "):
            with sessionmaker_() as fresh:  # another connection: sees committed rows only
                committed_at_send.append(fresh.scalar(select(CallAttempt.id).where(
                    CallAttempt.contact_id == item.contact_id)) is not None)
        return original_send(connection, command)

    monkeypatch.setattr(SwitchConnection, "bgapi_send", bgapi_send)
    monkeypatch.setattr(base, "create_pending", stalled(0.4))
    calls: list[Any] = []
    assert ticks_during(lambda: calls.extend(runner.dial_many([(item, agent)]))) >= 10  # 0.4 s
    (call,) = calls
    assert committed_at_send == [True]
    assert call is not None and agent.state is AgentState.RESERVED and agent.call_uuid == call.uuid


def test_a_runner_stopped_during_the_write_still_dials_what_it_wrote(ready, core, sessionmaker_, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    runner, (agent, _) = ready
    (item,) = runner.next_items(1)
    monkeypatch.setattr(base, "create_pending", stalled(0.3))
    stepping = gevent.spawn(runner.dial_many, [(item, agent)])
    gevent.sleep(0.1)  # the attempt is being written
    stepping.kill()  # as ``CampaignRunner.stop`` does to a runner's greenlet
    wait_for(lambda: [a.state for a in attempts(sessionmaker_)] == [AttemptState.DIALING], 5,
             "the committed attempt to be dialed")
    assert list(core.calls) == [agent.call_uuid] and agent.state is AgentState.RESERVED


def test_a_failed_write_gives_back_the_agents_and_the_limits(ready, core, sessionmaker_, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    runner, agents = ready
    items = runner.next_items(2)
    monkeypatch.setattr(base, "create_pending", stalled(0.2, RuntimeError("database is locked")))
    writing = gevent.spawn(runner.dial_many, list(zip(items, agents)))
    gevent.sleep(0.1)  # the write is in flight: the agents are taken meanwhile
    assert [a.state for a in agents] == [AgentState.RESERVED] * 2
    assert runner.limit.live == 2
    with pytest.raises(RuntimeError, match="locked"):
        writing.get()
    assert [(a.state, a.call_uuid) for a in agents] == [(AgentState.READY, None)] * 2
    assert runner.limit.live == 0 and core.calls == {} and attempts(sessionmaker_) == []
    monkeypatch.undo()
    again = runner.next_items(2)  # the numbers went back to the buffer
    assert [i.contact_id for i in again] == [i.contact_id for i in items]
    calls = runner.dial_many(list(zip(again, agents)))
    assert all(calls) and [a.state for a in agents] == [AgentState.RESERVED] * 2


def test_a_contact_deleted_after_the_fetch_is_skipped_and_its_agent_freed(ready, core, sessionmaker_) -> None:  # type: ignore[no-untyped-def]
    runner, agents = ready
    gone, kept = runner.next_items(2)
    with sessionmaker_() as s, s.begin():
        s.execute(delete(Phone).where(Phone.contact_id == gone.contact_id))
        s.execute(delete(Contact).where(Contact.id == gone.contact_id))
    lost, dialed = runner.dial_many([(gone, agents[0]), (kept, agents[1])])
    assert lost is None and dialed is not None
    assert agents[0].state is AgentState.READY and agents[1].state is AgentState.RESERVED
    assert runner.limit.live == 1
    assert [a.contact_id for a in attempts(sessionmaker_)] == [kept.contact_id]


def test_a_contact_withdrawn_during_a_refill_is_not_handed_out(ready, core, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    runner, _ = ready
    with core.sessions() as s:
        first = min(s.scalars(select(Phone.contact_id).where(Phone.number.in_(NUMBERS))))
    source = core.source

    def slow_source(*args: Any, **kwargs: Any) -> Any:
        time.sleep(0.3)
        return source(*args, **kwargs)

    monkeypatch.setattr(core, "source", slow_source)
    fetching = gevent.spawn(runner.next_items, 3)
    gevent.sleep(0.1)  # the strategy is being asked on the database thread
    runner.withdraw(first)  # a one-click call took the contact meanwhile
    items = fetching.get()
    assert first not in {item.contact_id for item in items} and len(items) == 2
