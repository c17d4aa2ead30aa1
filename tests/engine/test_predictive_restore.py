"""A restarted engine's predictive runner carries on from the stored attempts, not cold."""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Iterator
from datetime import datetime, timedelta

import gevent
import pytest
from sqlalchemy import select

from engine.pacing import PacingMode, PacingSettings, rebuild, restore
from engine.runner.predictive import (
    PredictiveRunner,
    _silence_s,
    finished_attempt,
    stored_history,
)
from engine.sim.scenario import scenario_from_dict
from engine.sim.server import SwitchSimulator
from engine.store.db import make_engine, make_sessionmaker
from engine.store.models import (
    INBOUND,
    OUTBOUND,
    AttemptState,
    Base,
    CallAttempt,
    DialMode,
    Outcome,
)
from tests.factories import Factory

from .conftest import (
    RULES,
    attempts,
    login_ready,
    make_campaign,
    mixed_predictive,
    new_core,
    wait_for,
    world,
)

# Half of the dials answer after a short ring and talk 1-2 s; the others are busy at once.
MIXED, PACING = mixed_predictive(ring_max_s=1.0, talk_s=(1.0, 2.0), wrap_s=0.2)
AGENTS = 6
SNAPSHOT_KEYS = {"at", "mode", "calls_to_launch", "reason", "agents_ready", "agents_busy",
                 "calls_ringing", "answer_rate", "abandon_rate", "abandon_cap", "budget",
                 "dead_air_p95_s"}


@pytest.fixture
def simulator() -> Iterator[SwitchSimulator]:
    sim = SwitchSimulator(scenario_from_dict(world(rules=[MIXED, *RULES])), seed=5,
                          record_tick=0.05, heartbeat_seconds=None).start()
    yield sim
    sim.stop()


def _old_attempts(session, campaign, contact_id: int, ended_at, served: int) -> None:  # type: ignore[no-untyped-def]
    """``served`` bridged calls and one abandoned, from before this test's engine ran."""
    for n in range(served + 1):
        bridged = ended_at - timedelta(seconds=60) if n < served else None
        session.add(CallAttempt(
            tenant_id=campaign.tenant_id, campaign_id=campaign.id, contact_id=contact_id,
            number="+79019999999", mode="predictive", call_uuid=f"old-{ended_at:%j}-{n}",
            state=AttemptState.ENDED,
            outcome=Outcome.ANSWERED if bridged else Outcome.ABANDONED,
            created_at=ended_at - timedelta(seconds=80), dead_air_ms=300 if bridged else None,
            originated_at=ended_at - timedelta(seconds=70),
            answered_at=ended_at - timedelta(seconds=62), bridged_at=bridged,
            ended_at=ended_at + timedelta(seconds=n)))


@pytest.mark.slow  # 6 s of calls in real time, then a second engine
def test_restart_rebuilds_guard_and_estimates(core, factory, session, sessionmaker_,  # type: ignore[no-untyped-def]
                                              simulator, running_clock, tmp_path,
                                              caplog) -> None:
    caplog.set_level(logging.INFO, logger="engine.runner.predictive")
    numbers = [f"+7901{n:07d}" for n in range(300)]
    campaign, agents = make_campaign(factory, session, numbers, agents=AGENTS,
                                     mode=DialMode.PREDICTIVE, pacing=PACING)
    now = running_clock.now()
    contact_id = factory.contact(factory.contact_list(campaign), phones=["+79019999999"]).id
    session.commit()
    _old_attempts(session, campaign, contact_id, now - timedelta(days=10), 30)  # in 30 days
    _old_attempts(session, campaign, contact_id, now - timedelta(days=40), 5)  # outside
    session.commit()
    login_ready(core, agents, campaign.id)
    first = PredictiveRunner(core, campaign.id, tick_s=0.02)
    before = first.guard.counts(now, first.pacing)
    assert (before.live, before.abandoned) == (31, 1)  # the window's, from the database
    first.start()
    try:
        gevent.sleep(6)
    finally:
        first.stop()
    wait_for(lambda: all(a.state is AttemptState.ENDED for a in attempts(sessionmaker_)), 15,
             "calls in flight to end")
    gevent.sleep(0.3)  # the last ends reach the runner and the database
    core.stop()  # the engine goes down mid-campaign (most numbers are still to dial)

    restarted = new_core(simulator, sessionmaker_, running_clock, tmp_path / "rec2")
    restarted.start()
    try:
        assert restarted.pool.wait_up(5)
        second = PredictiveRunner(restarted, campaign.id, tick_s=0.02)
        at = running_clock.now()
        live, restored = first.guard.counts(at, first.pacing), second.guard.counts(at,
                                                                                   first.pacing)
        rows = [r for r in attempts(sessionmaker_) if r.ended_at >= at - timedelta(days=30)]
        served = sum(r.bridged_at is not None for r in rows)
        abandoned = sum(r.outcome is Outcome.ABANDONED for r in rows)
        assert served > 30 + 3  # this run served calls too
        # The guard equals both the stored history and what the first engine had learnt.
        assert (restored.live, restored.abandoned) == (served + abandoned, abandoned)
        assert (restored.live, restored.abandoned) == (live.live, live.abandoned)
        assert second.guard.buckets == first.guard.buckets
        assert second.guard.gain == pytest.approx(first.guard.gain, rel=1e-9)
        assert second.guard.bridge_delays == pytest.approx(first.guard.bridge_delays, abs=0.1)
        # Warm estimates: the same history, learnt the same way.
        for key, value in first.estimates.summary().items():
            assert second.estimates.summary()[key] == pytest.approx(value, rel=0.02), key
        assert second.estimates.human_rate.n > second.pacing.prior_calls + 36 + 3
        # The first decision after the restart uses that budget: no cold 1:1 restart.
        assert second.pacing_snapshot() is None  # no decision yet
        login_ready(restarted, agents, campaign.id)
        second.start()
        wait_for(lambda: second.pacing_snapshot() is not None, 5, "a decision")
        snapshot = second.pacing_snapshot()
        assert snapshot is not None
        assert SNAPSHOT_KEYS <= set(snapshot)
        assert json.loads(json.dumps(snapshot)) == snapshot
        assert datetime.fromisoformat(snapshot["at"]) >= at
        assert snapshot["agents_ready"] + snapshot["agents_busy"] == AGENTS
        assert snapshot["abandon_cap"] == 0.1
        assert snapshot["budget"] == pytest.approx(0.1 * restored.live - restored.abandoned,
                                                   abs=0.3)
        assert snapshot["budget"] >= 1 and snapshot["mode"] != PacingMode.PAUSED_BY_CAP
    finally:
        restarted.stop()
    assert any("abandon window and estimates restored from" in r.getMessage()
               for r in caplog.records)



@pytest.fixture(params=["sqlite", "postgresql"])
def history_sessions(request, db_url):  # type: ignore[no-untyped-def]
    """A fresh database on SQLite and (when the test server is up) on PostgreSQL."""
    url = db_url if request.param == "sqlite" else request.getfixturevalue("pg_url")
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    yield make_sessionmaker(engine)
    engine.dispose()


def _history(factory, campaign, contact_id: int, now: datetime, count: int) -> None:  # type: ignore[no-untyped-def]
    """``count`` ended attempts over 40 days of every kind pacing tells apart, a few on
    bucket edges, and rows restore must leave out (not ended, inbound, never dialed)."""
    rng = random.Random(3)
    ends = sorted({now - timedelta(seconds=rng.uniform(1, 40 * 86400)) for _ in range(count)})
    edge = now.replace(minute=15, second=0, microsecond=0) - timedelta(days=1)
    ends += [edge, edge - timedelta(microseconds=1), now - timedelta(days=30, microseconds=-1)]
    kinds = ["none", "machine", "network", "served", "served", "served", "abandoned",
             "hung_up_waiting"]
    for n, ended in enumerate(ends):
        kind = kinds[rng.randrange(len(kinds))]
        answered = None if kind == "none" else ended - timedelta(seconds=rng.uniform(3, 60))
        outcome = {"none": Outcome.NO_ANSWER, "machine": Outcome.MACHINE,
                   "network": Outcome.NETWORK_FAILURE, "served": Outcome.ANSWERED,
                   "abandoned": Outcome.ABANDONED, "hung_up_waiting": None}[kind]
        factory.session.add(CallAttempt(
            tenant_id=campaign.tenant_id, campaign_id=campaign.id, contact_id=contact_id,
            number="+79019999999", mode="predictive", call_uuid=f"h-{n}",
            state=AttemptState.ENDED, outcome=outcome, created_at=ended - timedelta(minutes=2),
            originated_at=ended - timedelta(seconds=90),
            answered_at=answered if kind != "machine" else ended - timedelta(seconds=5),
            bridged_at=answered + timedelta(seconds=0.4) if kind == "served" else None,
            dead_air_ms=rng.randrange(100, 2000) if kind in ("served", "abandoned") else None,
            ended_at=ended))
    for n, extra in enumerate([{"state": AttemptState.BRIDGED},
                               {"direction": INBOUND}, {"originated_at": None}]):
        factory.session.add(CallAttempt(**{
            "tenant_id": campaign.tenant_id, "campaign_id": campaign.id,
            "contact_id": contact_id, "number": "+79019999999", "mode": "predictive",
            "call_uuid": f"x-{n}", "state": AttemptState.ENDED, "outcome": Outcome.ABANDONED,
            "created_at": now - timedelta(hours=1), "originated_at": now - timedelta(hours=1),
            "answered_at": now - timedelta(minutes=59), "ended_at": now - timedelta(minutes=58),
            **extra}))
    factory.session.commit()


@pytest.mark.parametrize("rule", ["us_30d", "uk_day"])
def test_stored_history_by_bucket_equals_every_attempt(history_sessions, clock,  # type: ignore[no-untyped-def]
                                                       rule: str) -> None:
    pacing = PacingSettings.from_dict({"rule": rule, "timezone": "Europe/London",
                                       "memory_calls": 30, "dead_air_calls": 40})
    now = clock.now()
    with history_sessions() as session:
        factory = Factory(session, clock)
        campaign = factory.campaign(factory.tenant(), mode=DialMode.PREDICTIVE)
        contact = factory.contact(factory.contact_list(campaign), phones=["+79019999999"])
        _history(factory, campaign, contact.id, now, 1200)
        buckets, recent, delays = stored_history(session, campaign.id, pacing, 5.0, now)
        rows = session.scalars(select(CallAttempt).where(
            CallAttempt.state == AttemptState.ENDED, CallAttempt.direction == OUTBOUND)).all()
        every = [f for f in (finished_attempt(r, _silence_s(r), 5.0) for r in rows)
                 if f is not None]
    assert len(recent) == 10 * 30  # bounded, whatever the window
    estimates, guard = restore(buckets, recent, delays, pacing, now)
    expected_estimates, expected = rebuild(every, pacing, now)
    assert guard.buckets == expected.buckets
    assert guard.counts(now, pacing) == expected.counts(now, pacing)
    assert guard.bridge_delays == pytest.approx(expected.bridge_delays)
    assert guard.gain == pytest.approx(expected.gain, rel=1e-9)
    assert estimates == expected_estimates
    counts = guard.counts(now, pacing)
    assert counts.live > 0 and counts.abandoned > 0 and counts.machines > 0
    assert len(delays) == min(40, counts.live)
