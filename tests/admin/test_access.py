"""Roles (403) and tenants (404): nobody reaches what is not theirs by editing a URL."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from engine.store.models import CallAttempt, Campaign, CampaignStatus

from .conftest import post

STAFF_PAGES = ["/campaigns/", "/lists/", "/funnel/", "/statistics/", "/exports/leads.xlsx"]


def _recorded_attempt(session, tenant_id: int) -> int:
    return session.scalar(select(CallAttempt.id).where(
        CallAttempt.tenant_id == tenant_id, CallAttempt.recording_path.is_not(None)))


@pytest.mark.parametrize("url", STAFF_PAGES + ["/campaigns/new", "/campaigns/{campaign}"])
def test_agent_cannot_open_admin_pages(as_user, world, url):
    response = as_user("a_agent").get(url.format(campaign=world.a_demo.campaign.id))
    assert response.status_code == 403
    assert "нет доступа" in response.get_data(as_text=True)


def test_agent_cannot_post_to_admin_actions(as_user, world):
    client = as_user("a_agent")
    assert post(client, f"/campaigns/{world.a_demo.campaign.id}/start").status_code == 403
    assert post(client, "/lists/upload").status_code == 403
    assert post(client, "/campaigns/new", {"name": "x", "mode": "preview"}).status_code == 403


@pytest.mark.parametrize("url", STAFF_PAGES + ["/campaigns/{campaign}"])
def test_supervisor_reads_admin_pages(as_user, world, url):
    assert as_user("a_supervisor").get(url.format(campaign=world.a_demo.campaign.id)).status_code == 200


def test_supervisor_changes_status_but_does_not_edit_or_upload(as_user, world, session):
    client = as_user("a_supervisor")
    campaign_id = world.a_demo.campaign.id
    assert client.get("/campaigns/new").status_code == 403
    assert post(client, f"/campaigns/{campaign_id}", {"name": "renamed", "mode": "preview"}
                ).status_code == 403
    assert post(client, "/lists/upload").status_code == 403
    assert post(client, f"/campaigns/{campaign_id}/start").status_code == 302
    assert session.get(Campaign, campaign_id).status is CampaignStatus.RUNNING


def test_agent_sees_only_own_leads(as_user, world):
    client = as_user("a_agent")
    own = world.a_demo.agents[0]
    assert own.name == "a_agent"
    data = client.get("/leads/?format=json&agent=999").get_json()  # an agent filter is ignored
    mine = {c.id for c in world.a_demo.contacts if c.assigned_agent_id == own.id}
    assert {row["id"] for row in data["leads"]} == mine
    foreign = next(c for c in world.a_demo.contacts if c.assigned_agent_id != own.id)
    assert client.get(f"/leads/{foreign.id}").status_code == 404
    assert client.get(f"/leads/{next(iter(mine))}").status_code == 200


def test_other_tenants_lead_card_is_404(as_user, world):
    client = as_user("a_admin")
    assert client.get(f"/leads/{world.b_demo.contacts[0].id}").status_code == 404
    assert client.get(f"/leads/{world.a_demo.contacts[0].id}").status_code == 200


def test_other_tenants_recording_is_404(as_user, world, session):
    client = as_user("a_admin")
    theirs, ours = _recorded_attempt(session, world.b.id), _recorded_attempt(session, world.a.id)
    assert client.get(f"/recordings/{theirs}").status_code == 404
    assert client.get(f"/recordings/{theirs}/download").status_code == 404
    assert client.get(f"/recordings/{ours}").status_code == 200


def test_other_tenants_campaign_is_404(as_user, world, session):
    client = as_user("a_admin")
    theirs = world.b_demo.campaign.id
    assert client.get(f"/campaigns/{theirs}").status_code == 404
    assert post(client, f"/campaigns/{theirs}/start").status_code == 404
    assert post(client, f"/campaigns/{theirs}", {"name": "hijack", "mode": "preview"}
                ).status_code == 404
    assert session.get(Campaign, theirs).status is CampaignStatus.DRAFT


def test_other_tenants_list_yields_no_leads(as_user, world):
    client = as_user("a_admin")
    theirs = client.get(f"/leads/?format=json&list={world.b_demo.contact_list.id}").get_json()
    assert theirs["leads"] == [] and theirs["count"] == 0
    ours = client.get(f"/leads/?format=json&list={world.a_demo.contact_list.id}").get_json()
    assert len(ours["leads"]) == 50


def test_other_tenants_export_is_empty(as_user, world):
    client = as_user("a_admin")
    response = client.get(f"/exports/leads.xlsx?campaign={world.b_demo.campaign.id}")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert sheet.max_row == 1  # the header only


def test_other_tenants_upload_is_404(as_user, world):
    theirs = as_user("b_admin")
    response = post(theirs, "/lists/upload",
                    {"file": (io.BytesIO(b"external_id,phone\n1,+79161112233\n"), "b.csv")},
                    content_type="multipart/form-data")
    token = response.headers["Location"].rstrip("/").split("/")[-1]
    assert theirs.get(f"/lists/upload/{token}").status_code == 200
    ours = as_user("a_admin")
    assert ours.get(f"/lists/upload/{token}").status_code == 404
    assert ours.get(f"/lists/upload/{token}/progress").status_code == 404
    assert ours.get(f"/lists/upload/{token}/rejects.csv").status_code == 404
    assert ours.get("/lists/upload/..%2F..%2Fetc/progress").status_code == 404
