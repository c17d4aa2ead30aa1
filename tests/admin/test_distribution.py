"""Distributing a list's unassigned leads to agents or a team."""

from __future__ import annotations


import pytest
from sqlalchemy import select

from admin.distribution import round_robin
from engine.store.models import Contact, ContactList, LeadStatusChange, User

from .conftest import post
from .test_lists import start_import, upload, wait_for

CSV = "external_id,phone\n" + "".join(f"R{n},+7916200{n:04d}\n" for n in range(7))


def test_round_robin_deals_in_turn():
    assert round_robin([1, 2, 3, 4, 5], [10, 20]) == {10: [1, 3, 5], 20: [2, 4]}
    assert round_robin([1, 2], [10, 20, 30], start=2) == {30: [1], 10: [2]}
    with pytest.raises(ValueError, match="no agents"):
        round_robin([1], [])


def test_distribute_an_imported_list_to_a_team(as_user, session, world):
    client = as_user("a_admin")
    token = upload(client, CSV.encode(), "fresh.csv")
    start_import(client, token, ["external_id", "phone"], list_name="Fresh")
    assert wait_for(client, token)["counts"]["imported"] == 7
    contact_list = session.scalar(select(ContactList).where(ContactList.name == "Fresh"))
    page = client.get(f"/lists/{contact_list.id}/distribute").get_data(as_text=True)
    assert ": 7." in page
    team_id = world.a_demo.agents[0].team_id
    response = post(client, f"/lists/{contact_list.id}/distribute", {"team": str(team_id)},
                    follow_redirects=True)
    assert "Распределено лидов: 7, между операторами: 3." in response.get_data(as_text=True)
    leads = session.scalars(select(Contact).where(Contact.list_id == contact_list.id)).all()
    per_agent = {}
    for lead in leads:
        assert lead.status == "assigned"
        per_agent[lead.assigned_agent_id] = per_agent.get(lead.assigned_agent_id, 0) + 1
    assert sorted(per_agent.values()) == [2, 2, 3]
    admin_id = session.scalar(select(User.id).where(User.username == "a_admin"))
    changes = session.scalars(select(LeadStatusChange).where(
        LeadStatusChange.contact_id.in_([lead.id for lead in leads]))).all()
    assert len(changes) == 7 and {c.user_id for c in changes} == {admin_id}
    again = post(client, f"/lists/{contact_list.id}/distribute", {"team": str(team_id)},
                 follow_redirects=True)
    assert "Распределено лидов: 0" in again.get_data(as_text=True)  # none left unassigned


def test_distribute_needs_a_choice_and_the_right_tenant(as_user, world):
    client = as_user("a_admin")
    list_id = world.a_demo.contact_list.id
    refused = post(client, f"/lists/{list_id}/distribute", {})
    assert "Выберите операторов или группу" in refused.get_data(as_text=True)
    assert client.get(f"/lists/{world.b_demo.contact_list.id}/distribute").status_code == 404
    assert as_user("a_supervisor").get(f"/lists/{list_id}/distribute").status_code == 403
