"""Every screen against PostgreSQL (the scale-out database), not only the embedded SQLite."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from admin import create_app
from admin.seed import seed_demo_leads, seed_tenant
from engine.config import Settings
from engine.store.db import make_engine, make_sessionmaker
from engine.store.models import Base, Role

from .conftest import FAST_HASH, PASSWORD, login

pytestmark = pytest.mark.postgres


def test_all_screens_on_postgres(pg_url, tmp_path, clock):
    engine = make_engine(pg_url)
    Base.metadata.create_all(engine)
    factory = make_sessionmaker(engine)
    settings = Settings(data_dir=tmp_path, database_url=pg_url)
    with factory() as session:
        tenant = seed_tenant(session, clock, "pg", {role: PASSWORD for role in Role},
                             prefix="pg_", hash_method=FAST_HASH)
        demo = seed_demo_leads(session, clock, tenant, contacts=40,
                               recordings_dir=settings.recordings_dir)
        session.commit()
    app = create_app(settings, clock=clock, session_factory=factory)
    app.config["PAGE_SIZE"] = 15
    client = app.test_client()
    assert login(client, "pg_admin").status_code == 302
    seen, cursor = [], None
    while True:
        data = client.get("/leads/?format=json" + (f"&after={cursor}" if cursor else "")).get_json()
        seen += [row["id"] for row in data["leads"]]
        if not (cursor := data["next"]):
            break
    assert sorted(seen) == sorted(c.id for c in demo.contacts)
    for url in ("/leads/?status=refused&status=callback&sort=updated_asc", "/campaigns/",
                f"/campaigns/{demo.campaign.id}", "/lists/", f"/leads/{demo.contacts[0].id}",
                "/funnel/?date_from=2026-11-01", "/statistics/?date_from=2026-11-01",
                f"/leads/?team={demo.agents[0].team_id}&updated_from=2026-11-01"):
        assert client.get(url).status_code == 200, url
    team = demo.agents[0].team_id
    team_agents = {a.id for a in demo.agents if a.team_id == team}
    team_page = client.get(f"/leads/?format=json&team={team}").get_json()["leads"]
    expected = sorted((c for c in demo.contacts if c.assigned_agent_id in team_agents),
                      key=lambda c: (c.updated_at, c.id), reverse=True)[:15]
    assert [row["id"] for row in team_page] == [c.id for c in expected]
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):  # the throttle's table on PostgreSQL
        assert login(app.test_client(), "pg_supervisor", "guess").status_code == 401
    assert login(app.test_client(), "pg_supervisor").status_code == 429
    export = client.get("/exports/leads.xlsx?status=interested")
    rows = list(load_workbook(io.BytesIO(export.data)).active.iter_rows(values_only=True))
    assert len(rows) - 1 == sum(c.status == "interested" for c in demo.contacts)
    engine.dispose()
