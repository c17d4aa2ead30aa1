"""A restarted engine's predictive runner carries on from the stored attempts, not cold."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import datetime, timedelta

import gevent
import pytest

from engine.pacing import PacingMode
from engine.runner.predictive import PredictiveRunner
from engine.sim.scenario import scenario_from_dict
from engine.sim.server import SwitchSimulator
from engine.store.models import AttemptState, CallAttempt, DialMode, Outcome

from .conftest import (
    RULES,
    attempts,
    login_ready,
    make_campaign,
    new_core,
    wait_for,
    world,
)

# Half of the dials answer after a short ring and talk 1-2 s; the others are busy at once.
MIXED = {"prefix": "+7901", "outcomes": {"human": 1, "busy": 1}, "post_dial_delay": 0.05,
         "early_media": 0.0, "ring": {"dist": "uniform", "min": 0.3, "max": 1.0},
         "talk": {"dist": "uniform", "min": 1.0, "max": 2.0}, "patience": 10, "dtmf": None}
AGENTS = 6
PACING = {"ring_timeout_s": 15, "wrap_up_s": 0.2, "abandon_cap": 0.1, "answer_timeout_s": 0.5,
          "defaults": {"answer_rate": 0.5, "machine_rate": 0.0, "ring_answer_mean_s": 0.7,
                       "ring_noanswer_mean_s": 0.2, "talk_mean_s": 1.5, "talk_cv": 0.3,
                       "wrap_mean_s": 0.2, "wrap_cv": 0.3}}
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

