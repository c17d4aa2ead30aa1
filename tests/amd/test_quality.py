"""The production confusion matrix: agents' dispositions, reviewed samples, the estimate."""

from __future__ import annotations

from datetime import timedelta

import pytest
from click.testing import CliRunner

from engine.amd.quality import (
    AmdQuality,
    campaign_quality,
    measure,
    production_fp_rate,
    report,
    wilson,
    with_production_fp_rate,
)
from engine.amd.review import ReviewError, label_review
from engine.cli import main
from engine.pacing import PacingSettings
from engine.store.models import AmdReview, AttemptState, CallAttempt, Outcome


def attempt(factory, campaign, contact, *, amd: str | None, outcome: Outcome,  # type: ignore[no-untyped-def]
            bridged: bool = False, disposition: str | None = None, reason: str = "classifier",
            days_ago: int = 0) -> CallAttempt:
    now = factory.clock.now() - timedelta(days=days_ago)
    row = CallAttempt(
        tenant_id=campaign.tenant_id, campaign_id=campaign.id, contact_id=contact.id,
        number=contact.phones[0].number, mode="predictive", node="sim",
        call_uuid=f"uuid-{factory._next()}", state=AttemptState.ENDED, outcome=outcome,
        amd_result=amd, amd_reason=reason if amd else None, disposition=disposition,
        created_at=now, answered_at=now, bridged_at=now if bridged else None, ended_at=now,
        result={})
    factory.session.add(row)
    factory.session.flush()
    return row


def sample(factory, campaign, row: CallAttempt, label: str | None) -> AmdReview:  # type: ignore[no-untyped-def]
    review = AmdReview(attempt_id=row.id, campaign_id=campaign.id, amd_reason="beep",
                       audio_path=f"/tmp/{row.id}.wav", label=label, created_at=row.created_at)
    factory.session.add(review)
    factory.session.flush()
    return review


@pytest.fixture
def campaign_with_history(factory, session):  # type: ignore[no-untyped-def]
    """40 calls passed to agents (3 were machines), 50 machine drops (20 reviewed: 2 humans),
    an announcement and an abandoned call that do not count, and old calls from last month."""
    campaign = factory.campaign(factory.tenant(), amd={"enabled": True, "review_min_samples": 10})
    contact = factory.contact(factory.contact_list(campaign), phones=["+79001000001"])
    for n in range(40):
        attempt(factory, campaign, contact, amd="human" if n % 4 else "unknown",
                outcome=Outcome.ANSWERED, bridged=True,
                disposition="answering_machine" if n < 3 else "interested")
    for n in range(50):
        row = attempt(factory, campaign, contact, amd="machine", outcome=Outcome.MACHINE)
        if n < 20:
            sample(factory, campaign, row, "human" if n < 2 else "machine")
        elif n < 25:
            sample(factory, campaign, row, None)
    attempt(factory, campaign, contact, amd="machine", outcome=Outcome.NETWORK_FAILURE,
            reason="unreachable:sit")
    attempt(factory, campaign, contact, amd="human", outcome=Outcome.ABANDONED)
    old = attempt(factory, campaign, contact, amd="machine", outcome=Outcome.MACHINE, days_ago=30)
    sample(factory, campaign, old, "human")
    session.commit()
    return campaign


def test_wilson_interval_brackets_the_rate() -> None:
    low, high = wilson(2, 20)
    assert low < 0.1 < high
    assert low == pytest.approx(0.0279, abs=1e-3) and high == pytest.approx(0.3010, abs=1e-3)
    assert wilson(0, 0) == (0.0, 1.0)
    assert wilson(0, 50)[0] == 0.0 and wilson(50, 50)[1] == pytest.approx(1.0)


def test_matrix_from_dispositions_and_reviews(session, campaign_with_history) -> None:  # type: ignore[no-untyped-def]
    q = campaign_quality(session, campaign_with_history)
    assert (q.passed, q.passed_machine, q.passed_human) == (40, 3, 37)
    assert (q.dropped, q.reviewed, q.reviewed_human, q.pending) == (51, 21, 3, 5)  # with the old one
    since = campaign_with_history.created_at - timedelta(days=1)
    recent = measure(session, campaign_with_history.id, machine_disposition="answering_machine",
                     since=since)
    assert (recent.dropped, recent.reviewed, recent.reviewed_human) == (50, 20, 2)
    assert recent.fp_per_machine == pytest.approx(0.1)
    assert recent.humans_dropped() == pytest.approx(5.0)
    assert recent.human_share() == pytest.approx(5 / 42)
    low, high = recent.human_share_ci
    assert low < 5 / 42 < high
    assert recent.accuracy == pytest.approx((37 + 45) / 90)


def test_report_prints_matrix_and_interval(session, campaign_with_history) -> None:  # type: ignore[no-untyped-def]
    since = campaign_with_history.created_at - timedelta(days=1)
    text = report(measure(session, campaign_with_history.id,
                          machine_disposition="answering_machine", since=since))
    assert "passed as human           37               3" in text
    assert "humans per machine verdict: 10.0% (95% CI 2.8%-30.1%)" in text
    assert "share of humans dropped as machines: 11.9%" in text
    assert "5 pending; 50 drops" in text
    empty = report(AmdQuality(0, 0, 0, 0, 0, 0))
    assert "unknown (no reviewed samples yet)" in empty


def test_pacing_gets_the_estimate_once_enough_are_reviewed(  # type: ignore[no-untyped-def]
        session, sessionmaker_, campaign_with_history) -> None:
    campaign = campaign_with_history
    assert production_fp_rate(session, campaign) == pytest.approx(3 / 21)
    static = PacingSettings(amd_false_positive_rate=0.02)
    assert with_production_fp_rate(static, sessionmaker_, campaign).amd_false_positive_rate \
        == pytest.approx(3 / 21)
    campaign.amd = {"enabled": True, "review_min_samples": 22}  # one more label needed
    assert production_fp_rate(session, campaign) is None
    assert with_production_fp_rate(static, sessionmaker_, campaign) is static
    campaign.amd = {"enabled": True, "review_min_samples": 0}
    with pytest.raises(ReviewError, match=r"amd\.review_min_samples"):
        production_fp_rate(session, campaign)


def test_labels_are_checked(session, campaign_with_history, clock) -> None:  # type: ignore[no-untyped-def]
    pending = session.query(AmdReview).filter(AmdReview.label.is_(None)).first()
    with pytest.raises(ReviewError, match="label must be one of human, machine"):
        label_review(session, pending.id, "fax", reviewer="ann", now=clock.now())
    with pytest.raises(ReviewError, match="review 999999 does not exist"):
        label_review(session, 999999, "human", reviewer="ann", now=clock.now())
    label_review(session, pending.id, "human", reviewer="ann", now=clock.now())
    assert (pending.label, pending.reviewer, pending.labelled_at) == ("human", "ann", clock.now())


def test_cli_review_and_quality(db_url, session, campaign_with_history) -> None:  # type: ignore[no-untyped-def]
    env = {"DIALER_DATABASE_URL": db_url}
    runner = CliRunner()
    campaign = campaign_with_history
    listing = runner.invoke(main, ["amd", "review", "list", "--campaign", str(campaign.id)], env=env)
    assert listing.exit_code == 0, listing.output
    lines = listing.output.strip().splitlines()
    assert len(lines) == 5 and all(line.split("\t")[4] == "-" for line in lines)
    first = lines[0].split("\t")[0]
    played = runner.invoke(main, ["amd", "review", "play", first], env=env)
    assert played.output.strip() == lines[0].split("\t")[5]
    labelled = runner.invoke(main, ["amd", "review", "label", first, "machine",
                                    "--reviewer", "ann"], env=env)
    assert labelled.exit_code == 0 and f"review {first}: machine" in labelled.output
    after = runner.invoke(main, ["amd", "review", "list", "--campaign", str(campaign.id)], env=env)
    assert len(after.output.strip().splitlines()) == 4
    bad = runner.invoke(main, ["amd", "review", "label", first, "fax"], env=env)
    assert bad.exit_code == 2 and "'fax' is not one of 'human', 'machine'" in bad.output
    missing = runner.invoke(main, ["amd", "review", "play", "999999"], env=env)
    assert missing.exit_code == 1 and "review 999999 does not exist" in missing.output

    quality = runner.invoke(main, ["amd", "quality", "--campaign", str(campaign.id)], env=env)
    assert quality.exit_code == 0, quality.output
    assert "of 22 reviewed, 4 pending; 51 drops" in quality.output
    assert "humans per machine verdict: 13.6%" in quality.output
    bad_since = runner.invoke(main, ["amd", "quality", "--campaign", str(campaign.id),
                                     "--since", "last week"], env=env)
    assert bad_since.exit_code == 2 and "--since 'last week' is not an ISO-8601 date" in bad_since.output
    nothing = runner.invoke(main, ["amd", "quality", "--campaign", "999999"], env=env)
    assert nothing.exit_code == 1 and "campaign 999999 does not exist" in nothing.output

