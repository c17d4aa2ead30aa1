"""Seeding, importing and explaining the demo list, in-process on a ManualClock."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from engine.clock import ManualClock
from engine.demo.report import PlanRow, dialing_plan, format_plan, idle_note
from engine.demo.seed import DemoSeed, demo_strategy, import_contacts, seed_demo
from engine.store.db import transaction
from engine.store.models import Agent, Campaign, CampaignStatus, Tenant, User
from engine.strategy.config import StrategyConfig

from .counts import SEEDED, table_counts

FAST_HASH = "pbkdf2:sha256:1000"
GARBAGE_LINES = [10, 19, 28, 37]  # every 9th data row of engine/demo/contacts.csv


def _seed(factory: sessionmaker[Session], clock: ManualClock, anytime: bool = False) -> DemoSeed:
    with transaction(factory) as session:
        return seed_demo(session, clock, anytime=anytime, hash_method=FAST_HASH)


def _counts(factory: sessionmaker[Session]) -> dict[str, int]:
    with factory() as session:
        return table_counts(session)


def _plan(factory: sessionmaker[Session], seed: DemoSeed, at: datetime) -> list[PlanRow]:
    with factory() as session:
        return dialing_plan(session, session.get_one(Campaign, seed.campaign_id), at)


def test_seed_and_import_are_idempotent(
        sessionmaker_: sessionmaker[Session], clock: ManualClock, tmp_path: Path) -> None:
    seed = _seed(sessionmaker_, clock)
    first = import_contacts(sessionmaker_, seed, "RU", tmp_path / "rejects.csv", clock)
    assert first.line() == "rows read 40, imported 36, updated 0, unchanged 0, rejected 4"
    rejects = (tmp_path / "rejects.csv").read_text(encoding="utf-8-sig").splitlines()
    assert rejects[0].startswith("line;reason;external_id")
    assert [int(row.split(";")[0]) for row in rejects[1:]] == GARBAGE_LINES
    assert all("'12345' is not a valid number" in row for row in rejects[1:])
    counts = _counts(sessionmaker_)
    assert counts == SEEDED

    again = _seed(sessionmaker_, clock, anytime=True)
    second = import_contacts(sessionmaker_, again, "RU", tmp_path / "rejects.csv", clock)
    assert again == seed
    assert second.line() == "rows read 40, imported 0, updated 0, unchanged 36, rejected 4"
    assert _counts(sessionmaker_) == counts


def test_seed_restarts_the_campaign_with_the_chosen_window(
        sessionmaker_: sessionmaker[Session], clock: ManualClock) -> None:
    seed = _seed(sessionmaker_, clock, anytime=True)
    with transaction(sessionmaker_) as session:
        campaign = session.get_one(Campaign, seed.campaign_id)
        assert campaign.strategy == demo_strategy(True)
        campaign.status = CampaignStatus.PAUSED
    _seed(sessionmaker_, clock, anytime=False)
    with sessionmaker_() as session:
        campaign = session.get_one(Campaign, seed.campaign_id)
        assert campaign.status is CampaignStatus.RUNNING
        assert campaign.strategy == {"preset": "ru_collection"}
        assert campaign.gateway.endswith("{number}") and campaign.caller_id_number
        agents = session.scalars(select(Agent.dial_string).where(Agent.id.in_(seed.agent_ids)))
        assert sorted(agents) == [f"user/{1001 + n}@dialer.local" for n in range(5)]
        seat = session.scalar(select(Agent).join(User, User.id == Agent.user_id)
                              .where(User.username == "demo-agent"))
        assert seat is not None and seat.dial_string == "user/1000@dialer.local"


def test_anytime_window_is_open_around_the_clock() -> None:
    config = StrategyConfig.from_dict(demo_strategy(True))
    assert all(str(interval) == "00:00-24:00" for day in config.windows for interval in day)
    assert config.caps.day == 1  # the preset's caps stay


@pytest.fixture
def imported(sessionmaker_: sessionmaker[Session], clock: ManualClock, tmp_path: Path) -> DemoSeed:
    seed = _seed(sessionmaker_, clock)
    import_contacts(sessionmaker_, seed, "RU", tmp_path / "rejects.csv", clock)
    return seed


def test_plan_at_moscow_noon_dials_everyone(
        sessionmaker_: sessionmaker[Session], clock: ManualClock, imported: DemoSeed) -> None:
    # Mon 10:00 UTC: 13:00 in Moscow, 20:00 in Vladivostok
    rows = _plan(sessionmaker_, imported, clock.now())
    assert len(rows) == 36
    assert all(row.dialable and row.when == "now" for row in rows)
    vladivostok = [row for row in rows if "Asia/Vladivostok" in row.local]
    assert vladivostok and all(row.local.startswith("Mon 20:00") for row in vladivostok)
    assert all(row.reason == "window open until 22:00 local" for row in vladivostok)
    assert format_plan(rows).splitlines()[0] == "36 of 36 contacts would be dialed now"


def test_plan_in_the_evening_says_when_and_why_not(
        sessionmaker_: sessionmaker[Session], imported: DemoSeed) -> None:
    at = datetime(2026, 11, 23, 19, 30, tzinfo=timezone.utc)  # 22:30 in Moscow
    rows = _plan(sessionmaker_, imported, at)
    assert [row.contact.split()[0] for row in rows] == [
        f"D-{n:04d}" for n in range(1, 41) if n % 9]
    moscow = [row for row in rows if "Europe/Moscow" in row.local]
    assert moscow
    for row in moscow:
        assert not row.dialable
        assert row.local.startswith("Mon 22:30")
        assert row.when == "Tue 08:00 local (in 9h 30m)"
        assert row.reason == "calling window closed in Europe/Moscow"
    table = format_plan(rows)
    assert f"of {len(rows)} contacts would be dialed now" in table
    assert all(row.contact in table for row in rows)


def test_plan_masks_numbers_for_a_masking_tenant(
        sessionmaker_: sessionmaker[Session], clock: ManualClock, imported: DemoSeed) -> None:
    with transaction(sessionmaker_) as session:
        session.get_one(Tenant, imported.tenant_id).mask_numbers = True
    rows = _plan(sessionmaker_, imported, clock.now())
    assert rows and all(row.number.startswith("+*") and row.number[-2:].isdigit()
                        for row in rows)
    assert not any(row.number[1:4].isdigit() for row in rows)


def test_plan_at_night_dials_nobody_and_says_so(
        sessionmaker_: sessionmaker[Session], clock: ManualClock, imported: DemoSeed) -> None:
    # 00:00 in Moscow, 07:00 in Vladivostok
    night = datetime(2026, 11, 23, 21, 0, tzinfo=timezone.utc)
    rows = _plan(sessionmaker_, imported, night)
    assert len(rows) == 36 and not any(row.dialable for row in rows)
    assert all(row.reason.startswith("calling window closed") for row in rows)
    note = idle_note(rows)
    assert note is not None and "will dial nothing" in note and "--anytime" in note
    assert idle_note(_plan(sessionmaker_, imported, clock.now())) is None
    _seed(sessionmaker_, clock, anytime=True)
    assert all(row.dialable for row in _plan(sessionmaker_, imported, night))
