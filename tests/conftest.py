"""Fixtures shared by every test package: clocks, databases, factories."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from engine.clock import ManualClock
from engine.store.db import make_engine, make_sessionmaker
from engine.store.models import Base

from .factories import Factory


@pytest.fixture
def clock() -> ManualClock:
    """A manual clock at Monday 2026-11-23 10:00 UTC (13:00 in Moscow)."""
    return ManualClock(datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc))


@pytest.fixture
def db_url(tmp_path) -> str:  # type: ignore[no-untyped-def]
    return f"sqlite:///{tmp_path / 'dialer.sqlite3'}"


@pytest.fixture
def db_engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sessionmaker_(db_engine: Engine) -> sessionmaker[Session]:
    return make_sessionmaker(db_engine)


@pytest.fixture
def session(sessionmaker_: sessionmaker[Session]) -> Iterator[Session]:
    with sessionmaker_() as session:
        yield session


@pytest.fixture
def factory(session: Session, clock: ManualClock) -> Factory:
    return Factory(session, clock)


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL schema on the test server (scripts/pg-test-server)."""
    base = os.environ.get("DIALER_TEST_PG_URL")
    if not base:
        pytest.skip("DIALER_TEST_PG_URL not set: run the suite with scripts/test")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    yield f"{base}{sep}options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()
