"""Recording paths and retention."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from engine.recording import purge, recording_path, start_command
from engine.store.models import CallAttempt


def test_path_scheme(tmp_path) -> None:  # type: ignore[no-untyped-def]
    when = datetime(2026, 11, 3, 23, 59, tzinfo=timezone.utc)
    assert recording_path(tmp_path, 7, when, 42, "u-1") == tmp_path / "7/2026/11/03/42-u-1.wav"
    assert start_command("u-1", tmp_path / "a.wav") == f"uuid_record u-1 start {tmp_path}/a.wav"
    with pytest.raises(ValueError, match="spaces"):
        start_command("u-1", tmp_path / "a b.wav")


def test_purge_removes_old_days_and_clears_paths(tmp_path, factory, session, clock) -> None:  # type: ignore[no-untyped-def]
    campaign = factory.campaign()
    contact = factory.contact(factory.contact_list(campaign))
    paths = {}
    for day in (1, 20, 23):
        path = recording_path(tmp_path, campaign.tenant_id, datetime(2026, 11, day, tzinfo=timezone.utc),
                              day, f"u-{day}")
        path.parent.mkdir(parents=True)
        path.write_bytes(b"RIFF")
        paths[day] = path
        session.add(CallAttempt(id=day, tenant_id=campaign.tenant_id, campaign_id=campaign.id,
                                contact_id=contact.id, number="+79161234567", mode="progressive",
                                call_uuid=f"u-{day}", created_at=clock.now(),
                                recording_path=str(path), result={}))
    (tmp_path / "notes").mkdir()  # not a day folder: left alone
    session.flush()
    removed = purge(tmp_path, 7, date(2026, 11, 23), session)
    assert removed == [paths[1].parent]
    assert not paths[1].exists() and paths[20].exists() and paths[23].exists()
    session.expire_all()
    assert session.get(CallAttempt, 1).recording_path is None
    assert session.get(CallAttempt, 20).recording_path == str(paths[20])
    with pytest.raises(ValueError, match="--older-than"):
        purge(tmp_path, -1, date(2026, 11, 23), session)


def test_purge_command(tmp_path, db_engine, db_url) -> None:  # type: ignore[no-untyped-def]
    from click.testing import CliRunner

    from engine.cli import main

    old = tmp_path / "rec" / "1" / "2020" / "01" / "02"
    old.mkdir(parents=True)
    env = {"DIALER_DATABASE_URL": db_url, "DIALER_RECORDINGS_DIR": str(tmp_path / "rec")}
    result = CliRunner().invoke(main, ["recordings", "purge", "--older-than", "30"], env=env)
    assert result.exit_code == 0, result.output
    assert f"removed {old}" in result.output and not old.exists()
    result = CliRunner().invoke(main, ["run", "--login", "x:1"], env=env)
    assert result.exit_code == 2 and "must be AGENT_ID:CAMPAIGN_ID" in result.output
