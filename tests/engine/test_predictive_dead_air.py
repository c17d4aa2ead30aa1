"""Dead air as the pacing guard counts it: from the hand-over to the agent queue, not the answer.

With AMD on, a human's answer reaches the predictive runner only after the AMD verdict; the
customer's silence during detection is AMD's, not the pacing's, and must not push a campaign
into the progressive fallback. The predictive runner stores that time as the attempt's
``dead_air_ms``, next to ``amd_decision_ms``, so a restarted engine reads the same.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import gevent
import pytest

from engine.amd.decision import Decision
from engine.runner import amd
from engine.runner.predictive import PredictiveRunner
from engine.sim.scenario import scenario_from_dict
from engine.sim.server import SwitchSimulator
from engine.store.models import AttemptState, DialMode, Outcome

from .conftest import RULES, attempts, login_ready, make_campaign, wait_for, world

HUMANS = ["+79001000001", "+79001000002"]  # answer at once, talk under a second
PACING = {"ring_timeout_s": 15, "wrap_up_s": 0.2, "answer_timeout_s": 2.0}
AMD_MS = 1200  # every verdict: human, after this much audio


@pytest.fixture
def slow_human_verdicts(monkeypatch: pytest.MonkeyPatch) -> None:
    """AMD that says human after AMD_MS of real time (the detector itself is tested
    elsewhere; here only when its verdict reaches the runner matters)."""
    def verdict(detector: Any, frames: Any) -> Decision:
        gevent.sleep(AMD_MS / 1000)
        return Decision("human", "test", 0.9, AMD_MS)

    monkeypatch.setattr(amd, "load_default_detector", lambda **kw: None)
    monkeypatch.setattr(amd, "run_detector", verdict)


@pytest.fixture
def simulator() -> Iterator[SwitchSimulator]:
    sim = SwitchSimulator(scenario_from_dict(world(rules=RULES)), seed=3, record_tick=0.05,
                          heartbeat_seconds=None).start()
    yield sim
    sim.stop()


def test_guard_counts_silence_from_the_amd_verdict(core, factory, session,  # type: ignore[no-untyped-def]
                                                   sessionmaker_, slow_human_verdicts) -> None:
    campaign, agents = make_campaign(factory, session, HUMANS, agents=2,
                                     mode=DialMode.PREDICTIVE, pacing=PACING,
                                     amd={"enabled": True, "budget_s": 3})
    login_ready(core, agents, campaign.id)
    runner = PredictiveRunner(core, campaign.id, tick_s=0.02)
    runner.start()
    try:
        wait_for(lambda: len(attempts(sessionmaker_)) == 2
                 and all(a.state is AttemptState.ENDED for a in attempts(sessionmaker_)),
                 30, "both calls to end")
    finally:
        runner.stop()
    rows = attempts(sessionmaker_)
    for row in rows:
        assert (row.outcome, row.amd_result) == (Outcome.ANSWERED, "human")
        assert row.bridged_at is not None and row.amd_decision_ms == AMD_MS
        answer_to_bridge_s = (row.bridged_at - row.answered_at).total_seconds()
        assert answer_to_bridge_s > AMD_MS / 1000
        # The queue's share only: what is left of answer-to-bridge once AMD has decided
        # (a loaded machine may slow the bridge, never add AMD's time to it).
        assert row.dead_air_ms / 1000 <= answer_to_bridge_s - AMD_MS / 1000 + 0.05
    delays = runner.guard.bridge_delays
    assert len(delays) == 2
    for row, delay in zip(sorted(rows, key=lambda r: r.ended_at), delays):
        assert delay == pytest.approx(row.dead_air_ms / 1000, abs=0.002)
    # A restarted engine reads the same from the stored attempts.
    restored = PredictiveRunner(core, campaign.id, tick_s=0.02).guard.bridge_delays
    assert restored == pytest.approx(delays, abs=0.002)  # dead_air_ms: whole ms
