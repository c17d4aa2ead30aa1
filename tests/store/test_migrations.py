"""Migrations bring an empty database to head, match the models, and go down again."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from engine.store.db import make_engine
from engine.store.migrate import current_revision, downgrade, head_revision, upgrade
from engine.store.models import Base


def _schema_diff(url: str) -> list:
    engine = make_engine(url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    engine.dispose()
    return diff


@pytest.fixture(params=["sqlite", "postgresql"])
def any_url(request, db_url):  # type: ignore[no-untyped-def]
    return db_url if request.param == "sqlite" else request.getfixturevalue("pg_url")


def test_upgrade_to_head_matches_models(any_url: str) -> None:
    upgrade(any_url)
    assert current_revision(any_url) == head_revision()
    assert _schema_diff(any_url) == []


def test_downgrade_to_base_and_up_again(any_url: str) -> None:
    upgrade(any_url)
    downgrade(any_url, "base")
    engine = make_engine(any_url)
    assert [t for t in inspect(engine).get_table_names() if t != "alembic_version"] == []
    engine.dispose()
    upgrade(any_url)
    assert current_revision(any_url) == head_revision()
