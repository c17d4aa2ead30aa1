"""The running predictive runner re-reads AMD's production estimate of humans dropped as
machines, and its abandon guard counts with the new value."""

from __future__ import annotations

import logging
from datetime import timedelta

import gevent
import pytest

from engine.runner import predictive
from engine.runner.predictive import PredictiveRunner
from engine.store.models import AmdReview, AttemptState, CallAttempt, DialMode, Outcome

from .conftest import make_campaign, wait_for

DROPS = 20  # machine verdicts in the abandon window


def _drops(factory, session, campaign, now, labels: list[str | None]) -> None:  # type: ignore[no-untyped-def]
    """``DROPS`` ended machine drops; the first ones reviewed with ``labels``."""
    contact = factory.contact(factory.contact_list(campaign), phones=["+79001000001"])
    for n in range(DROPS):
        at = now - timedelta(minutes=5, seconds=n)
        row = CallAttempt(
            tenant_id=campaign.tenant_id, campaign_id=campaign.id, contact_id=contact.id,
            number="+79001000001", mode="predictive", node="sim", call_uuid=f"drop-{n}",
            state=AttemptState.ENDED, outcome=Outcome.MACHINE, amd_result="machine",
            amd_reason="beep", created_at=at, originated_at=at - timedelta(seconds=9),
            answered_at=at - timedelta(seconds=3), ended_at=at, result={})
        session.add(row)
        session.flush()
        if n < len(labels):
            session.add(AmdReview(attempt_id=row.id, campaign_id=campaign.id, amd_reason="beep",
                                  audio_path=f"/tmp/{row.id}.wav", label=labels[n],
                                  created_at=at))
    session.commit()


def _label_rest(sessionmaker_, campaign_id: int, label: str) -> None:  # type: ignore[no-untyped-def]
    with sessionmaker_() as session:
        for review in session.query(AmdReview).filter_by(campaign_id=campaign_id, label=None):
            review.label = label
        session.commit()


def test_amd_estimate_is_read_again_while_running(core, factory, session, sessionmaker_,  # type: ignore[no-untyped-def]
                                                  running_clock, monkeypatch, caplog) -> None:
    caplog.set_level(logging.INFO, logger="engine.runner.predictive")
    campaign, _ = make_campaign(factory, session, ["+79001000002"], agents=1,
                                mode=DialMode.PREDICTIVE,
                                amd={"enabled": True, "review_min_samples": 10},
                                pacing={"ring_timeout_s": 15, "wrap_up_s": 0.2,
                                        "amd_false_positive_rate": 0.01})
    now = running_clock.now()
    # 10 labelled (2 humans), 10 pending: enough for an estimate of 2 / 10.
    _drops(factory, session, campaign, now, ["human"] * 2 + ["machine"] * 8 + [None] * 10)
    monkeypatch.setattr(predictive, "AMD_REFRESH_S", 1.0)
    runner = PredictiveRunner(core, campaign.id, tick_s=0.02)
    assert runner.pacing.amd_false_positive_rate == pytest.approx(0.2)  # read at start
    counts = runner.guard.counts(running_clock.now(), runner.pacing)
    assert counts.machines == DROPS and counts.amd_false_positives == pytest.approx(4.0)

    # Reviewers label the rest: 2 + 10 humans of 20 reviewed drops.
    _label_rest(sessionmaker_, campaign.id, "human")
    runner.step()
    gevent.sleep(0.05)
    assert runner.pacing.amd_false_positive_rate == pytest.approx(0.2)  # not due yet
    gevent.sleep(1.0)
    runner.step()  # due: read on the writer's thread, the loop goes on
    wait_for(lambda: runner.pacing.amd_false_positive_rate == pytest.approx(12 / 20), 5,
             "the new AMD estimate")
    counts = runner.guard.counts(running_clock.now(), runner.pacing)
    assert counts.amd_false_positives == pytest.approx(DROPS * 12 / 20)
    assert any("AMD humans per machine verdict now 0.6000 (was 0.2000)" in r.getMessage()
               for r in caplog.records)


def test_too_few_labels_or_a_failed_read_keep_a_sound_rate(core, factory, session,  # type: ignore[no-untyped-def]
                                                           running_clock, monkeypatch,
                                                           caplog) -> None:
    campaign, _ = make_campaign(factory, session, ["+79001000002"], agents=1,
                                mode=DialMode.PREDICTIVE,
                                amd={"enabled": True, "review_min_samples": 10},
                                pacing={"ring_timeout_s": 15, "wrap_up_s": 0.2,
                                        "amd_false_positive_rate": 0.01})
    _drops(factory, session, campaign, running_clock.now(), ["human"] * 3)  # 3 labels: too few
    monkeypatch.setattr(predictive, "AMD_REFRESH_S", 0.1)
    runner = PredictiveRunner(core, campaign.id, tick_s=0.02)
    assert runner.pacing.amd_false_positive_rate == pytest.approx(0.01)  # the configured one

    def broken() -> None:
        raise RuntimeError("database is locked")

    monkeypatch.setattr(runner, "_with_amd_estimate", broken)
    gevent.sleep(0.15)
    runner.step()
    gevent.sleep(0.1)
    assert runner.pacing.amd_false_positive_rate == pytest.approx(0.01)
    assert any("reading the AMD estimate failed" in r.getMessage() for r in caplog.records)
