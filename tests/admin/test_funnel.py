"""Funnel: the pure summary and the queries over status history."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from admin import funnel
from admin.seed import create_user
from engine.leads import ensure_default_statuses
from engine.store.models import LeadStatusChange, Role, Team

from .conftest import FAST_HASH

LOST = {"refused", "wrong_number", "not_reached"}
ORDER = ["new", "assigned", "no_answer", "callback", "interested", "client_interested",
         "refused", "wrong_number", "not_reached"]


def test_summary_matches_the_article_example():
    # 386 assigned, 9 interested = 2.3%; of the other 377: 245 in work, 132 lost.
    current = {"assigned": 200, "no_answer": 45, "wrong_number": 50, "refused": 52,
               "not_reached": 30}
    result = funnel.summarize(386, {"assigned": 386, "interested": 9}, current, ORDER, LOST,
                              "interested")
    assert (result.cohort, result.converted, result.rest) == (386, 9, 377)
    assert round(result.rate, 1) == 2.3
    assert (result.in_progress, result.lost) == (245, 132)
    assert round(result.share(result.in_progress, result.rest)) == 65
    assert result.lost_by_status == [("refused", 52), ("wrong_number", 50), ("not_reached", 30)]
    assert result.steps[:2] == [("new", 0), ("assigned", 386)]


def test_empty_cohort_has_zero_rates():
    result = funnel.summarize(0, {}, {}, ORDER, LOST, "interested")
    assert result.rate == 0.0 and result.rest == 0 and result.lost_by_status == []


@pytest.fixture
def histories(session, factory, clock):
    """Five leads assigned on Nov 20; two reach interested, one is refused, one wrong number."""
    ensure_default_statuses(session)
    tenant = factory.tenant()
    contact_list = factory.contact_list(factory.campaign(tenant))
    lead_user = create_user(session, clock, tenant, "north_lead", "password1", Role.SUPERVISOR,
                            hash_method=FAST_HASH)
    team = Team(tenant_id=tenant.id, name="north", lead_user_id=lead_user.id)
    session.add(team)
    session.flush()
    agent_a = factory.agent(tenant, team_id=team.id)
    agent_b = factory.agent(tenant)
    day = datetime(2026, 11, 20, 9, tzinfo=timezone.utc)
    paths = [(agent_a, ["assigned", "interested"]), (agent_a, ["assigned", "interested"]),
             (agent_a, ["assigned", "refused"]), (agent_b, ["assigned", "wrong_number"]),
             (agent_b, ["assigned"])]
    for agent, path in paths:
        contact = factory.contact(contact_list, assigned_agent_id=agent.id)
        moment, previous = day, "new"
        for code in path:
            session.add(LeadStatusChange(contact_id=contact.id, from_status=previous,
                                         to_status=code, changed_at=moment, agent_id=agent.id))
            previous, moment = code, moment + timedelta(hours=1)
        contact.status = previous
    # One lead assigned long before the period: outside the cohort.
    old = factory.contact(contact_list, assigned_agent_id=agent_b.id, status="assigned")
    session.add(LeadStatusChange(contact_id=old.id, from_status="new", to_status="assigned",
                                 changed_at=day - timedelta(days=60)))
    session.commit()
    return tenant, agent_a, team


def _query(tenant, **kw):
    start = datetime(2026, 11, 1, tzinfo=timezone.utc)
    return funnel.FunnelQuery(tenant.id, "assigned", "interested", start,
                              start + timedelta(days=30), **kw)


def test_run_counts_the_cohort_and_its_outcomes(session, histories):
    tenant, agent_a, _team = histories
    result = funnel.run(session, _query(tenant), ORDER, LOST)
    assert (result.cohort, result.converted, result.in_progress, result.lost) == (5, 2, 1, 2)
    assert dict(result.steps)["refused"] == 1
    by_agent = funnel.run(session, _query(tenant, agent_id=agent_a.id), ORDER, LOST)
    assert (by_agent.cohort, by_agent.converted, by_agent.lost) == (3, 2, 1)


def test_team_lead_filter(session, histories):
    tenant, _agent_a, team = histories
    led = funnel.run(session, _query(tenant, team_lead_id=team.lead_user_id), ORDER, LOST)
    assert (led.cohort, led.converted) == (3, 2)  # only agent A is in the lead's team
    assert funnel.run(session, _query(tenant, team_lead_id=12345), ORDER, LOST).cohort == 0


def test_funnel_page_shows_summary_chart_and_table(as_user, world):
    page = as_user("a_supervisor").get(
        "/funnel/?from_status=assigned&to_status=interested&date_from=2026-11-01"
        "&date_to=2026-11-30").get_data(as_text=True)
    summary = page.split('id="funnel-summary"')[1].split("</p>")[0]
    assert "60 — назначен" in summary and "интересуется" in summary
    assert "из остальных" in summary and "потеряны" in summary
    assert '<svg id="funnel-chart"' in page and page.count("<rect") == 9
    assert 'id="funnel-table"' in page


def test_funnel_rejects_a_reversed_period(as_user):
    response = as_user("a_admin").get("/funnel/?date_from=2026-11-30&date_to=2026-11-01")
    assert response.status_code == 400 and "date_from" in response.get_data(as_text=True)
