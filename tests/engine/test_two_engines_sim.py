"""Two engines sharing one database and one switch: each follows only its own calls."""

from __future__ import annotations

import logging

from engine.runner.progressive import ProgressiveRunner
from engine.store.models import AttemptState

from .conftest import attempts, login_ready, make_campaign, new_core, wait_for


def test_a_second_engine_leaves_the_first_engines_live_calls_alone(  # type: ignore[no-untyped-def]
        core, simulator, factory, session, sessionmaker_, running_clock, tmp_path,
        caplog) -> None:
    campaign, agents = make_campaign(factory, session, ["+79007000001"], agents=1)
    login_ready(core, agents, campaign.id)
    runner = ProgressiveRunner(core, campaign.id, tick_s=0.02)
    runner.start()
    try:
        wait_for(lambda: any(a.state is AttemptState.BRIDGED for a in attempts(sessionmaker_)),
                 10, "the first engine's call bridged")
        (row,) = attempts(sessionmaker_)
        assert row.engine == "dialer-1"
        caplog.set_level(logging.INFO, logger="engine.runner.core")
        second = new_core(simulator, sessionmaker_, running_clock, tmp_path / "rec2",
                          node_id="dialer-2")
        second.start()
        try:
            assert second.pool.wait_up(5)
            assert row.call_uuid in core.calls
            assert row.call_uuid not in second.calls
            assert "open attempts of other engines left to them: dialer-1 1" in caplog.text
        finally:
            second.stop()
    finally:
        runner.stop()
    (row,) = attempts(sessionmaker_)
    assert row.state is AttemptState.BRIDGED and row.ended_at is None  # still the first's
