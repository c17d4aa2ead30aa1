"""A predictive campaign against a real FreeSWITCH (freeswitch_conf/) with sipp far ends.

Two agents (sipp softphones playing a tone, parked by the engine) and one sipp customer
endpoint that answers every call. The campaign starts cold, so the pacing dials no more
calls than ready agents (it cannot risk an abandon yet): every answer is bridged at once.
"""

from __future__ import annotations

import pytest

from engine.pacing import PacingMode
from engine.runner.predictive import PredictiveRunner
from engine.store.models import AttemptState, DialMode, Outcome
from tests.engine.conftest import (  # noqa: F401 (fs_core, running_clock: fixtures used by name)
    attempts,
    fs_core,
    login_ready,
    make_campaign,
    running_clock,
    wait_for,
)

pytestmark = pytest.mark.freeswitch

NUMBERS = [f"+7900100000{n}" for n in range(1, 5)]
PACING = {"ring_timeout_s": 15, "wrap_up_s": 0.5, "answer_timeout_s": 2.0}


@pytest.mark.slow  # starts FreeSWITCH and four sipp endpoints
def test_predictive_calls_are_bridged_none_abandoned(fs_core, far_end, factory, session,  # type: ignore[no-untyped-def]
                                                    sessionmaker_) -> None:
    customers = far_end("uas_answer.xml", audio="speech.pcap", calls=len(NUMBERS))
    campaign, _ = make_campaign(
        factory, session, NUMBERS, agents=0, mode=DialMode.PREDICTIVE, pacing=PACING,
        gateway=f"sofia/trunk/{{number}}@{customers.ip}:{customers.port}")
    phones = [far_end("uas_answer.xml", audio="tone.pcap") for _ in range(2)]
    agents = [factory.agent(campaign.tenant, dial_string=f"sofia/agents/{phone.uri(f'agent{n}')}")
              for n, phone in enumerate(phones)]
    session.commit()
    login_ready(fs_core, agents, campaign.id)
    runner = PredictiveRunner(fs_core, campaign.id, tick_s=0.05)
    runner.start()
    try:
        for done in (2, 4):  # two calls at a time, one per agent
            wait_for(lambda: sum(a.state is AttemptState.BRIDGED
                                 for a in attempts(sessionmaker_)) == 2, 20, "two bridges")
            snapshot = runner.pacing_snapshot()
            assert snapshot is not None and snapshot["mode"] == PacingMode.PAUSED_BY_CAP
            for row in attempts(sessionmaker_):
                if row.state is AttemptState.BRIDGED:
                    fs_core.pool["fs1"].api(f"uuid_kill {row.call_uuid} NORMAL_CLEARING")
            wait_for(lambda done=done: sum(a.state is AttemptState.ENDED  # type: ignore[misc]
                                           for a in attempts(sessionmaker_)) == done,
                     10, "the hangups")
    finally:
        runner.stop()
    rows = attempts(sessionmaker_)
    assert sorted(r.number for r in rows) == NUMBERS
    for row in rows:
        assert row.outcome is Outcome.ANSWERED and row.agent_id is not None
        assert row.answered_at <= row.bridged_at <= row.ended_at
        assert 0 <= row.dead_air_ms < 2000
    assert runner.guard.counts(rows[-1].ended_at, runner.pacing).abandoned == 0
    assert len(runner.guard.bridge_delays) == len(NUMBERS)
    for agent in agents:
        fs_core.logout(agent.id)
