"""Leads table: filters, sorting, keyset pages, remembered columns, JSON, agent scoping."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from admin import leads_query
from engine.store.models import Contact, User

from .conftest import post


def _all_pages(client, query: str, backward_check: bool = True) -> list[int]:
    """Walk the pages forward, then back from the end, and return the forward order."""
    ids, pages, cursor = [], [], None
    while True:
        url = f"/leads/?format=json&{query}" + (f"&after={cursor}" if cursor else "")
        data = client.get(url).get_json()
        pages.append([row["id"] for row in data["leads"]])
        ids += pages[-1]
        cursor = data["next"]
        if cursor is None:
            break
    if backward_check and len(pages) > 1:
        prev = data["prev"]
        for expected in reversed(pages[:-1]):
            back = client.get(f"/leads/?format=json&{query}&before={prev}").get_json()
            assert [row["id"] for row in back["leads"]] == expected
            prev = back["prev"]
        assert prev is None
    return ids


@pytest.fixture
def small_pages(app):
    app.config["PAGE_SIZE"] = 7
    return app


def test_keyset_pages_cover_every_lead_once_in_order(small_pages, as_user, session, world):
    ids_a = [c.id for c in world.a_demo.contacts]
    tie = world.a_demo.contacts[0].updated_at
    session.execute(update(Contact).where(Contact.id.in_(ids_a[:10])).values(updated_at=tie))
    session.commit()
    client = as_user("a_admin")
    expected = [row.id for row in session.execute(
        select(Contact.id).where(Contact.tenant_id == world.a.id)
        .order_by(Contact.updated_at.desc(), Contact.id.desc()))]
    assert _all_pages(client, "sort=updated_desc") == expected
    assert _all_pages(client, "sort=updated_asc") == expected[::-1]


@pytest.mark.parametrize("ranges_per_query", [200, 4])
def test_team_pages_merge_agent_status_ranges_in_order(small_pages, as_user, session, world,
                                                       monkeypatch, ranges_per_query):
    """A team's pages are merged from per-agent-and-status ranges, several statements of
    ranges when there are many; they walk the team's leads in the same order either way."""
    monkeypatch.setattr(leads_query, "RANGES_PER_QUERY", ranges_per_query)
    team = world.a_demo.agents[0].team_id
    team_agents = {a.id for a in world.a_demo.agents if a.team_id == team}
    client = as_user("a_admin")
    expected = [row.id for row in session.execute(
        select(Contact.id).where(Contact.assigned_agent_id.in_(team_agents))
        .order_by(Contact.updated_at.desc(), Contact.id.desc()))]
    assert len(expected) > 2 * small_pages.config["PAGE_SIZE"]
    assert _all_pages(client, f"team={team}") == expected
    assert _all_pages(client, f"team={team}&sort=updated_asc") == expected[::-1]


def test_status_filter_with_several_statuses(small_pages, as_user, session, world):
    client = as_user("a_admin")
    got = _all_pages(client, "status=refused&status=wrong_number")
    expected = {c.id for c in session.scalars(select(Contact).where(
        Contact.tenant_id == world.a.id, Contact.status.in_(["refused", "wrong_number"])))}
    assert set(got) == expected and len(got) == len(expected) > 0


def test_campaign_agent_team_and_date_filters(as_user, session, world):
    client = as_user("a_admin")
    agent = world.a_demo.agents[1]
    by_agent = client.get(f"/leads/?format=json&agent={agent.id}").get_json()
    assert {r["id"] for r in by_agent["leads"]} == {
        c.id for c in world.a_demo.contacts if c.assigned_agent_id == agent.id}
    by_team = client.get(f"/leads/?format=json&team={agent.team_id}").get_json()
    assert by_team["count"] == 60
    by_campaign = client.get(f"/leads/?format=json&campaign={world.a_demo.campaign.id}").get_json()
    assert by_campaign["count"] == 60
    newest = max(c.updated_at for c in world.a_demo.contacts)
    day = (newest + timedelta(hours=3)).date()  # Moscow is UTC+3
    by_day = client.get(f"/leads/?format=json&updated_from={day}&updated_to={day}").get_json()
    expected = {c.id for c in world.a_demo.contacts
                if (c.updated_at + timedelta(hours=3)).date() == day}
    assert {r["id"] for r in by_day["leads"]} == expected and expected


@pytest.mark.parametrize("query", ["sort=sideways", "agent=abc", "updated_from=23.11.2026",
                                   "after=garbage"])
def test_malformed_filters_are_400_with_the_parameter_named(as_user, query):
    response = as_user("a_admin").get(f"/leads/?{query}")
    assert response.status_code == 400
    assert query.split("=")[0] in response.get_data(as_text=True)


def test_count_is_capped(as_user, monkeypatch):
    monkeypatch.setattr(leads_query, "COUNT_CAP", 10)
    client = as_user("a_admin")
    data = client.get("/leads/?format=json").get_json()
    assert data["count"] == 11 and data["count_capped"] is True
    assert "более 10" in client.get("/leads/").get_data(as_text=True)


def test_count_with_agent_or_list_filter_uses_the_lower_cap(as_user, world, monkeypatch):
    monkeypatch.setattr(leads_query, "SECONDARY_COUNT_CAP", 5)
    client = as_user("a_admin")
    agent = world.a_demo.agents[0]
    for query in (f"agent={agent.id}", f"list={world.a_demo.contact_list.id}",
                  f"team={agent.team_id}&status=assigned&status=no_answer"):
        data = client.get(f"/leads/?format=json&{query}").get_json()
        assert data["count"] == 6 and data["count_capped"], query
    exact = client.get(f"/leads/?format=json&agent={agent.id}&status=client_interested").get_json()
    expected = sum(c.assigned_agent_id == agent.id and c.status == "client_interested"
                   for c in world.a_demo.contacts)
    assert exact["count"] == expected <= 5 and not exact["count_capped"]


def test_columns_are_chosen_per_user_and_remembered(as_user, session):
    client = as_user("a_admin")
    page = client.get("/leads/").get_data(as_text=True)
    assert "<th class=\"\">Оператор</th>" in page  # "Agent" is a default column
    saved = post(client, "/leads/columns?status=refused&status=callback&sort=updated_asc",
                 {"column": ["external_id", "status", "recording"]})
    assert saved.headers["Location"] == (
        "/leads/?status=refused&status=callback&sort=updated_asc")  # the filter is kept
    prefs = session.scalar(select(User.preferences).where(User.username == "a_admin"))
    assert prefs == {"lead_columns": ["external_id", "status", "recording"]}
    page = client.get("/leads/").get_data(as_text=True)
    assert "Оператор</th>" not in page and "Внешний ID</th>" in page
    data = client.get("/leads/?format=json").get_json()
    assert set(data["leads"][0]) == {"id", "external_id", "status", "recording"}
    other = as_user("a_supervisor").get("/leads/").get_data(as_text=True)
    assert "Оператор</th>" in other  # another user keeps the defaults


def test_recordings_column_plays_and_downloads(as_user, world):
    client = as_user("a_admin")
    page = client.get("/leads/?status=interested").get_data(as_text=True)
    assert '<audio controls preload="none" src="/recordings/' in page
    assert "/download" in page


def test_distinct_statuses_skip_scan(session, world):
    codes = leads_query.tenant_status_codes(session, world.a.id)
    expected = sorted({c.status for c in session.scalars(
        select(Contact).where(Contact.tenant_id == world.a.id))})
    assert codes == expected


def test_cursor_round_trip():
    cursor = leads_query.Cursor(leads_query.EPOCH + timedelta(days=20000, microseconds=7), 42)
    assert leads_query.Cursor.decode(cursor.encode()) == cursor
