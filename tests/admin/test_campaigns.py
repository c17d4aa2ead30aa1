"""Campaigns: create, edit, validation through the engine's parsers, status changes."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from admin import campaign_status, script_doc
from engine.store.models import Campaign, CampaignLease, CampaignStatus, DialMode

from .conftest import post

VALID = {
    "name": "Autumn offer", "mode": "predictive", "timezone": "Asia/Yekaterinburg",
    "caller_id_number": "+74951234567", "caller_id_name": "Acme",
    "strategy": "phone_order: [work, mobile]\nwindows: {weekdays: \"09:00-20:00\"}\ncaps: {day: 2}\n",
    "pacing": "abandon_cap: 0.02\n", "ivr": "greeting: Здравствуйте!\n",
    "script": "Добрый день! Меня зовут ...", "hints": "Говорите медленно\nУлыбайтесь",
    "objections": "- objection: Дорого\n  answer: Есть рассрочка\n",
    "result_fields": "- {name: budget, label: Бюджет, type: number}\n"
                     "- {name: product, type: choice, options: [A, B]}\n",
}


def test_create_campaign_stores_every_setting(as_user, session, world):
    response = post(as_user("a_admin"), "/campaigns/new", VALID)
    assert response.status_code == 302
    campaign = session.scalar(select(Campaign).where(Campaign.name == "Autumn offer"))
    assert campaign.tenant_id == world.a.id
    assert campaign.mode is DialMode.PREDICTIVE and campaign.status is CampaignStatus.DRAFT
    assert campaign.strategy["phone_order"] == ["work", "mobile"]
    assert campaign.pacing == {"abandon_cap": 0.02}
    assert campaign.ivr == {"greeting": "Здравствуйте!"}
    assert campaign.result_fields[1]["options"] == ["A", "B"]
    script = script_doc.parse(campaign.script)
    assert script.hints == ["Говорите медленно", "Улыбайтесь"]
    assert script.objections == [{"objection": "Дорого", "answer": "Есть рассрочка"}]
    assert response.headers["Location"] == f"/campaigns/{campaign.id}"


def test_edit_form_shows_stored_values_and_saves_changes(as_user, session, world):
    client = as_user("a_admin")
    campaign_id = world.a_demo.campaign.id
    page = client.get(f"/campaigns/{campaign_id}").get_data(as_text=True)
    assert "abandon_cap: 0.03" in page
    assert post(client, f"/campaigns/{campaign_id}", {**VALID, "name": "Renamed"}).status_code == 302
    session.expire_all()
    assert session.get(Campaign, campaign_id).name == "Renamed"


@pytest.mark.parametrize(("field", "value", "message"), [
    ("strategy", "phone_order: [fax]\n", "strategy.phone_order"),
    ("strategy", "windows: {mon: \"22:00-08:00\"}\n", "strategy.windows.mon"),
    ("strategy", "a: b\n  c: d: e\n", "line 2, column 4"),
    ("pacing", "abandon_cap: 2\n", "pacing.abandon_cap"),
    ("pacing", "- 1\n", "expected key: value pairs"),
    ("result_fields", "- {name: x, type: choice}\n", "a choice needs a list of options"),
    ("objections", "- objection: only\n", "needs exactly"),
    ("timezone", "Mars/Olympus", "Mars/Olympus"),
    ("name", "", "от 1 до 200"),
    ("script", "text\n## Hints\n", "reserved"),
])
def test_invalid_settings_are_refused_with_the_field_named(as_user, session, field, value, message):
    response = post(as_user("a_admin"), "/campaigns/new", {**VALID, field: value})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert session.scalar(select(Campaign).where(Campaign.name == VALID["name"])) is None


def test_runner_settings_live_beside_the_pacing_model(as_user, session):
    pacing = "abandon_cap: 0.02\nring_timeout_s: 20\nwrap_up_s: 5\nmax_cps: 2\n"
    response = post(as_user("a_admin"), "/campaigns/new", {**VALID, "pacing": pacing})
    assert response.status_code == 302
    campaign = session.scalar(select(Campaign).where(Campaign.name == VALID["name"]))
    assert campaign.pacing == {"abandon_cap": 0.02, "ring_timeout_s": 20, "wrap_up_s": 5,
                               "max_cps": 2}


def test_duplicate_name_is_refused(as_user, world):
    response = post(as_user("a_admin"), "/campaigns/new", {**VALID, "name": world.a_demo.campaign.name})
    assert response.status_code == 400
    assert "уже есть" in response.get_data(as_text=True)


def test_same_name_in_another_tenant_is_fine(as_user, world):
    response = post(as_user("a_admin"), "/campaigns/new", {**VALID, "name": world.b_demo.campaign.name})
    assert response.status_code == 302


def test_start_pause_stop_follow_the_status_machine(as_user, session, world):
    client = as_user("a_admin")
    campaign_id = world.a_demo.campaign.id
    for action, expected in (("start", "running"), ("pause", "paused"), ("start", "running"),
                             ("stop", "stopped")):
        assert post(client, f"/campaigns/{campaign_id}/{action}").status_code == 302
        session.expire_all()
        assert session.get(Campaign, campaign_id).status.value == expected
    refused = post(client, f"/campaigns/{campaign_id}/pause", follow_redirects=True)
    assert "cannot pause a campaign that is stopped" in refused.get_data(as_text=True)
    session.expire_all()
    assert session.get(Campaign, campaign_id).status is CampaignStatus.STOPPED


def test_campaign_list_shows_status_and_actions(as_user, world):
    page = as_user("a_supervisor").get("/campaigns/").get_data(as_text=True)
    assert world.a_demo.campaign.name in page and world.b_demo.campaign.name not in page
    assert 'data-action="start"' in page and 'data-action="pause"' not in page


def test_campaign_list_shows_the_engine_running_each_campaign(as_user, world, session, clock):
    ours = world.a_demo.campaign.id
    session.add(CampaignLease(campaign_id=ours, engine="dialer-7",
                              expires_at=clock.now() + timedelta(seconds=10)))
    session.commit()
    cell = re.compile(r'<td class="engine">(.*?)</td>')
    page = as_user("a_supervisor").get("/campaigns/").get_data(as_text=True)
    assert "dialer-7" in cell.findall(page)
    clock.advance(11)  # the engine stopped renewing its lease
    page = as_user("a_supervisor").get("/campaigns/").get_data(as_text=True)
    assert "dialer-7 <span class=\"muted\">(не отвечает)</span>" in cell.findall(page)


def test_status_machine_rules():
    S = CampaignStatus
    assert campaign_status.apply("start", S.DRAFT) is S.RUNNING
    assert campaign_status.apply("stop", S.PAUSED) is S.STOPPED
    assert campaign_status.actions_for(S.RUNNING) == ["pause", "stop"]
    assert campaign_status.actions_for(S.FINISHED) == []
    with pytest.raises(campaign_status.TransitionError, match="cannot pause"):
        campaign_status.apply("pause", S.DRAFT)
    with pytest.raises(campaign_status.TransitionError, match="unknown action"):
        campaign_status.apply("explode", S.DRAFT)


def test_script_round_trip():
    script = script_doc.Script("Hello.\n\nSecond paragraph.", ["Be brief", "Smile"],
                               [{"objection": "No time", "answer": "Two minutes.\nPromise."}])
    assert script_doc.parse(script_doc.compose(script)) == script
    assert script_doc.parse("Just text") == script_doc.Script("Just text")
    assert script_doc.compose(script_doc.Script()) == ""
