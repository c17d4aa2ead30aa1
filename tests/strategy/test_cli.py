"""``dialer explain``: output and exit status for dialable, blocked and unknown contacts."""

from __future__ import annotations

from click.testing import CliRunner

from engine.cli import main
from engine.store.models import DncEntry
from tests.factories import Factory


def run(db_url: str, *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, ["explain", *args], env={"DIALER_DATABASE_URL": db_url})


def test_explain_exit_codes_and_text(db_url: str, sessionmaker_, clock) -> None:  # type: ignore[no-untyped-def]
    with sessionmaker_() as session:
        factory = Factory(session, clock)
        campaign = factory.campaign(name="debts", strategy={"preset": "ru_collection"})
        lst = factory.contact_list(campaign)
        ok = factory.contact(lst, phones=["+74951234567"], external_id="A-1", name="Ivan")
        factory.contact(lst, phones=["+74957654321"], external_id="A-2")
        session.add(DncEntry(tenant_id=None, number="+74957654321", created_at=clock.now()))
        other = factory.campaign(name="other")
        factory.contact(factory.contact_list(other), phones=["+74950000000"], external_id="A-1")
        session.commit()
        ok_id = ok.id

    result = run(db_url, "A-1", "--campaign", "debts", "--at", "2026-11-23T10:00:00")
    assert result.exit_code == 0, result.output
    assert "contact external id 'A-1', Ivan" in result.output
    assert "DIALABLE now on +74951234567" in result.output
    assert "local: Europe/Moscow Mon 2026-11-23 13:00 MSK, window 08:00-22:00" in result.output

    late = run(db_url, str(ok_id), "--at", "2026-11-23T22:30:00+03:00")
    assert late.exit_code == 1
    assert "calling window closed in Europe/Moscow until 2026-11-24 05:00 UTC" in late.output

    dnc = run(db_url, "A-2", "--at", "2026-11-23T10:00:00")
    assert dnc.exit_code == 1 and "number is on a do-not-call list" in dnc.output

    ambiguous = run(db_url, "A-1")
    assert ambiguous.exit_code == 2 and "2 contacts match; give --campaign" in ambiguous.stderr
    missing = run(db_url, "nobody")
    assert missing.exit_code == 2 and "contact 'nobody': not found" in missing.stderr
    no_campaign = run(db_url, "A-1", "--campaign", "nope")
    assert no_campaign.exit_code == 2 and "campaign 'nope': not found" in no_campaign.stderr
    bad_time = run(db_url, "A-2", "--at", "tomorrow")
    assert bad_time.exit_code == 2 and "'tomorrow' is not an ISO date-time" in bad_time.output


def test_explain_reports_a_bad_strategy(db_url: str, sessionmaker_, clock) -> None:  # type: ignore[no-untyped-def]
    with sessionmaker_() as session:
        factory = Factory(session, clock)
        campaign = factory.campaign(name="broken", strategy={"caps": {"day": 0}})
        factory.contact(factory.contact_list(campaign), external_id="B-1")
        session.commit()
    result = run(db_url, "B-1")
    assert result.exit_code == 1
    assert "campaign 'broken': strategy.caps.day: expected a positive integer" in result.output
