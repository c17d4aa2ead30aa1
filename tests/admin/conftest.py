"""Fixtures for the admin: two tenants with worked-on leads, an app and logged-in clients."""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from admin import create_app
from admin.seed import DemoData, seed_demo_leads, seed_tenant
from engine.clock import ManualClock
from engine.config import Settings
from engine.store.db import make_engine, make_sessionmaker
from engine.store.models import Base, Role, Tenant

PASSWORD = "correct horse 42"
FAST_HASH = "pbkdf2:sha256:1000"  # production uses scrypt; tests need many cheap logins
_CSRF = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')


@dataclass
class World:
    settings: Settings
    a: Tenant  # "acme": numbers shown
    b: Tenant  # "beta": numbers masked
    a_demo: DemoData
    b_demo: DemoData


@pytest.fixture(scope="session")
def world_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, World]:
    """Seeded once per session (password hashing and seeding are slow); tests get copies."""
    root = tmp_path_factory.mktemp("admin-world")
    settings = Settings(data_dir=root / "data", database_url=f"sqlite:///{root / 'db.sqlite3'}")
    engine = make_engine(settings.database_url)
    Base.metadata.create_all(engine)
    clock = ManualClock(datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc))
    with make_sessionmaker(engine)() as session:
        passwords = {role: PASSWORD for role in Role}
        a = seed_tenant(session, clock, "acme", passwords, prefix="a_", hash_method=FAST_HASH)
        b = seed_tenant(session, clock, "beta", passwords, prefix="b_", mask_numbers=True,
                        hash_method=FAST_HASH)
        a_demo = seed_demo_leads(session, clock, a, contacts=60,
                                 recordings_dir=settings.recordings_dir, seed=1)
        b_demo = seed_demo_leads(session, clock, b, contacts=30,
                                 recordings_dir=settings.recordings_dir, seed=2)
        session.commit()
    engine.dispose()
    return root, World(settings, a, b, a_demo, b_demo)


@pytest.fixture
def db_url(world_template: tuple[Path, World], tmp_path: Path) -> str:
    """A private copy of the seeded database (overrides the empty one of tests/conftest.py)."""
    shutil.copytree(world_template[0], tmp_path / "world")
    return f"sqlite:///{tmp_path / 'world' / 'db.sqlite3'}"


@pytest.fixture
def world(world_template: tuple[Path, World], db_url: str, tmp_path: Path) -> World:
    template = world_template[1]
    settings = Settings(data_dir=tmp_path / "world" / "data", database_url=db_url)
    return replace(template, settings=settings)


@pytest.fixture
def app(world: World, sessionmaker_: sessionmaker[Session], clock: ManualClock) -> Flask:
    return create_app(world.settings, clock=clock, session_factory=sessionmaker_)


def csrf_token(client: FlaskClient, url: str = "/login") -> str:
    match = _CSRF.search(client.get(url).get_data(as_text=True))
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def login(client: FlaskClient, username: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": csrf_token(client)})


def post(client: FlaskClient, url: str, data: dict | None = None, **kw):  # type: ignore[no-untyped-def]
    """A POST carrying the session's CSRF token, as the pages' forms do."""
    return client.post(url, data={**(data or {}), "csrf_token": csrf_token(client, "/leads/")},
                       **kw)


@pytest.fixture
def as_user(app: Flask):  # type: ignore[no-untyped-def]
    """``as_user("a_admin")``: a test client logged in as that user."""

    def make(username: str) -> FlaskClient:
        client = app.test_client()
        response = login(client, username)
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return make
