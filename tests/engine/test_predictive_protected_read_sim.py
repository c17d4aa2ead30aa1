"""Predictive: the contacts abandoned in the last 72 hours are read on the writer's thread, before
the calls are paired with agents; such a contact is dialed only with a ready agent reserved."""

from __future__ import annotations

import threading
from datetime import timedelta

import gevent
from sqlalchemy import select

from engine.runner.base import BUFFER_TTL_S
from engine.runner.predictive import PredictiveRunner
from engine.store.models import AttemptState, CallAttempt, DialMode, Outcome, Phone

from .conftest import attempts, login_ready, make_campaign, mixed_predictive, wait_for

_, PACING = mixed_predictive(ring_max_s=0.6, talk_s=(0.5, 1.0), wrap_s=0.1)
PROTECTED, OTHER = "+79001000001", "+79001000002"


def test_recently_abandoned_contact_waits_for_a_ready_agent(  # type: ignore[no-untyped-def]
        core, factory, session, sessionmaker_, running_clock) -> None:
    campaign, (agent_row,) = make_campaign(factory, session, [PROTECTED, OTHER], agents=1,
                                           mode=DialMode.PREDICTIVE, pacing=PACING)
    contact_of = {p.number: p.contact_id for p in session.scalars(select(Phone))}
    an_hour_ago = running_clock.now() - timedelta(hours=1)
    session.add(CallAttempt(
        tenant_id=campaign.tenant_id, campaign_id=campaign.id, contact_id=contact_of[PROTECTED],
        number=PROTECTED, mode="predictive", call_uuid="abandoned-before", state=AttemptState.ENDED,
        outcome=Outcome.ABANDONED, created_at=an_hour_ago, ended_at=an_hour_ago))
    session.commit()
    login_ready(core, [agent_row], campaign.id)
    agent = core.agents.get(agent_row.id)
    agent.pause("coffee")
    runner = PredictiveRunner(core, campaign.id, tick_s=0.02)
    read_on: list[int] = []
    real = runner._recently_abandoned

    def spy(contact_ids, now):  # type: ignore[no-untyped-def]
        read_on.append(threading.get_ident())
        return real(contact_ids, now)

    runner._recently_abandoned = spy  # type: ignore[method-assign]
    runner._launch(2, core.agents.ready(campaign.id), running_clock.now())
    assert read_on and threading.get_ident() not in read_on  # not on the event loop's thread
    wait_for(lambda: len(attempts(sessionmaker_)) == 2
             and attempts(sessionmaker_)[1].state is AttemptState.ENDED, 10, "the other call")
    dialed = attempts(sessionmaker_)[1]
    assert (dialed.number, dialed.agent_id) == (OTHER, None)  # no agent ready: only the other one
    agent.ready()
    gevent.sleep(BUFFER_TTL_S)  # the numbers fetched ahead are stale: fetched again
    runner._launch(2, core.agents.ready(campaign.id), running_clock.now())
    wait_for(lambda: len(attempts(sessionmaker_)) >= 3, 5, "the protected contact dialed")
    protected = [a for a in attempts(sessionmaker_)[2:] if a.number == PROTECTED]
    assert [a.agent_id for a in protected] == [agent_row.id]  # with its agent reserved
