"""Campaign leases: engines sharing a database run each running campaign once between them."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import gevent
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from engine.config import ConfigError, Settings
from engine.daemon import Daemon
from engine.runner.leases import hold, release
from engine.store.db import make_engine, make_sessionmaker, transaction
from engine.store.models import Base, CampaignLease, DialMode
from tests.factories import Factory

from .conftest import make_campaign, sim_node, wait_for

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)


@pytest.fixture(params=["sqlite", "postgresql"])
def lease_sessions(request, db_url) -> Iterator[sessionmaker[Session]]:  # type: ignore[no-untyped-def]
    url = db_url if request.param == "sqlite" else request.getfixturevalue("pg_url")
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    yield make_sessionmaker(engine)
    engine.dispose()


def _hold(sessions: sessionmaker[Session], engine: str, ids: list[int], at: datetime
          ) -> dict[int, str]:
    with transaction(sessions) as session:
        return hold(session, engine, ids, at, ttl_s=15)


def test_one_engine_holds_a_campaign_until_its_lease_expires(lease_sessions, clock) -> None:  # type: ignore[no-untyped-def]
    with transaction(lease_sessions) as session:
        factory = Factory(session, clock)
        tenant = factory.tenant()
        ids = [factory.campaign(tenant).id for _ in range(3)]
    first, second = ids[:2], ids[1:]
    assert _hold(lease_sessions, "a", first, T0) == {ids[0]: "a", ids[1]: "a"}
    assert _hold(lease_sessions, "b", second, T0 + timedelta(seconds=1)) == {
        ids[1]: "a", ids[2]: "b"}
    # "a" renews in time and keeps both; then stops renewing and "b" takes ids[1] once expired.
    assert _hold(lease_sessions, "a", first, T0 + timedelta(seconds=14)) == {
        ids[0]: "a", ids[1]: "a"}
    assert _hold(lease_sessions, "b", second, T0 + timedelta(seconds=28)) == {
        ids[1]: "a", ids[2]: "b"}  # 28 s < 14 + 15: still "a"'s
    assert _hold(lease_sessions, "b", second, T0 + timedelta(seconds=30)) == {
        ids[1]: "b", ids[2]: "b"}
    assert _hold(lease_sessions, "a", first, T0 + timedelta(seconds=31)) == {
        ids[0]: "a", ids[1]: "b"}  # lost to "b"
    with transaction(lease_sessions) as session:
        release(session, "b", keep=[ids[2]])
        release(session, "a")
    with lease_sessions() as session:
        left = session.execute(select(CampaignLease.campaign_id, CampaignLease.engine)).all()
    assert [tuple(row) for row in left] == [(ids[2], "b")]
    assert _hold(lease_sessions, "a", [ids[1]], T0 + timedelta(seconds=32)) == {ids[1]: "a"}


def _race(url: str, engine: str, campaign_id: int, rounds: int, barrier) -> list[str]:  # type: ignore[no-untyped-def]
    """In its own process: each round, wait for the other engine, then ask for the lease
    (at the start of a round there is none, or it has expired): whom it says holds it."""
    sessions = make_sessionmaker(make_engine(url))
    seen = []
    for n in range(rounds):
        barrier.wait()
        at = T0 + timedelta(minutes=n)  # every round's lease has expired by the next
        with transaction(sessions) as session:
            seen.append(hold(session, engine, [campaign_id], at, ttl_s=15)[campaign_id])
        barrier.wait()
        if engine == "a" and n % 2:  # the next round starts with no lease row (as the first)
            with transaction(sessions) as session:
                release(session, seen[-1])
        barrier.wait()
    return seen


def test_two_processes_asking_at_once_agree_on_one_holder(lease_sessions, clock) -> None:  # type: ignore[no-untyped-def]
    with transaction(lease_sessions) as session:
        campaign_id = Factory(session, clock).campaign().id
    url = lease_sessions.kw["bind"].url.render_as_string(hide_password=False)
    context = multiprocessing.get_context("spawn")
    barrier = context.Manager().Barrier(2)
    rounds = 12
    with context.Pool(2) as pool:
        a, b = pool.starmap(_race, [(url, "a", campaign_id, rounds, barrier),
                                    (url, "b", campaign_id, rounds, barrier)])
    assert a == b  # both engines name the same holder every round
    assert set(a) <= {"a", "b"}


def test_lease_time_below_three_seconds_is_refused() -> None:
    with pytest.raises(ConfigError, match="campaign_lease_s must be at least 3"):
        Settings(campaign_lease_s=2)


def _daemon(simulator, sessions, clock, tmp_path, node_id: str) -> Daemon:  # type: ignore[no-untyped-def]
    settings = Settings(data_dir=tmp_path / node_id, node_id=node_id,
                        switches=(sim_node(simulator),), campaign_lease_s=3)
    return Daemon(settings, sessions, clock=clock, watch_s=0.1)


def test_two_daemons_run_a_campaign_once_and_take_over_from_a_dead_one(  # type: ignore[no-untyped-def]
        simulator, factory, session, sessionmaker_, running_clock, tmp_path) -> None:
    campaign, _ = make_campaign(factory, session, ["+79002000001"], agents=0,
                                mode=DialMode.PROGRESSIVE)
    first = _daemon(simulator, sessionmaker_, running_clock, tmp_path, "dialer-a")
    second = _daemon(simulator, sessionmaker_, running_clock, tmp_path, "dialer-b")
    first_core = first.start()
    second_core = second.start()
    try:
        assert second_core.pool.wait_up(5)
        gevent.sleep(0.5)  # five watch periods of both engines
        assert campaign.id in first_core.runners
        assert campaign.id not in second_core.runners
        # The first engine dies: it neither renews nor releases its lease.
        gevent.killall(first._greenlets)
        first_core.stop()
        wait_for(lambda: campaign.id in second_core.runners, 6,
                 "the second engine to take the campaign once the lease expired")
        with sessionmaker_() as read:
            assert read.get(CampaignLease, campaign.id).engine == "dialer-b"  # type: ignore[union-attr]
    finally:
        second.stop()
    with sessionmaker_() as read:  # a clean stop gives the lease up
        assert read.get(CampaignLease, campaign.id) is None
