"""The control API (Flask test client) on a core connected to the simulator."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from engine.api.app import create_api
from engine.api.hub import EventHub, PublishingStateLog
from engine.runner.progressive import ProgressiveRunner
from engine.store.models import Callback, CampaignLease, Contact, LeadStatus, LeadStatusChange

from .conftest import attempts, make_campaign, wait_for

TOKEN = "s3cret"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def api(core):  # type: ignore[no-untyped-def]
    hub = EventHub()
    core.state_log = PublishingStateLog(core.writer, core.writer.announce)
    core.send_events_to(hub.publish)
    return create_api(core, hub, TOKEN).test_client()


def test_token_is_required(api) -> None:  # type: ignore[no-untyped-def]
    response = api.get("/agents/1")
    assert response.status_code == 401 and "token" in response.json["error"]
    assert api.get("/agents/1", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_login_to_a_campaign_another_engine_runs_is_refused(api, core, factory, session,  # type: ignore[no-untyped-def]
                                                             running_clock) -> None:
    campaign, agents = make_campaign(factory, session, ["+79001000001"], agents=1)
    lease = CampaignLease(campaign_id=campaign.id, engine="dialer-2",
                          expires_at=running_clock.now() + timedelta(seconds=60))
    session.add(lease)
    session.commit()
    url = f"/agents/{agents[0].id}/login"
    response = api.post(url, json={"campaign_id": campaign.id}, headers=AUTH)
    assert response.status_code == 409
    assert response.json["error"] == (f"campaign {campaign.id} runs on engine dialer-2: "
                                      f"log agent {agents[0].id} in there")
    assert core.agents.get(agents[0].id) is None  # no softphone was called
    lease.expires_at = running_clock.now() - timedelta(seconds=1)  # that engine went away
    session.commit()
    assert api.post(url, json={"campaign_id": campaign.id}, headers=AUTH).status_code == 200


def test_agent_day_through_the_api(api, core, factory, session, sessionmaker_) -> None:  # type: ignore[no-untyped-def]
    campaign, agents = make_campaign(factory, session, ["+79001000001"], agents=1)
    session.add(LeadStatus(tenant_id=None, code="callback", name="Call back"))
    session.commit()
    agent_id = agents[0].id
    stream = api.get("/events", headers=AUTH, buffered=False).response
    assert next(stream).startswith(b": connected")

    response = api.post(f"/agents/{agent_id}/login", json={"campaign_id": campaign.id}, headers=AUTH)
    assert response.status_code == 200 and response.json["state"] == "paused"
    assert b"event: agent_state" in next(stream)
    wait_for(lambda: api.get(f"/agents/{agent_id}", headers=AUTH).json["state"] == "ready", 5,
             "the softphone to answer")
    assert b'"state": "ready"' in next(stream)
    assert api.post(f"/agents/{agent_id}/pause", json={}, headers=AUTH).status_code == 400
    paused = api.post(f"/agents/{agent_id}/pause", json={"reason": "coffee"}, headers=AUTH).json
    assert (paused["state"], paused["reason"]) == ("paused", "coffee")
    assert api.post(f"/agents/{agent_id}/ready", headers=AUTH).json["state"] == "ready"
    assert api.post(f"/agents/{agent_id}/preview/dial", headers=AUTH).status_code == 409

    runner = ProgressiveRunner(core, campaign.id, tick_s=0.02)
    runner.start()
    try:
        wait_for(lambda: attempts(sessionmaker_) and attempts(sessionmaker_)[0].ended_at, 10,
                 "the call to end")
    finally:
        runner.stop()
    attempt = attempts(sessionmaker_)[0]
    bad = api.post(f"/attempts/{attempt.id}/disposition", json={"status": "nope"}, headers=AUTH)
    assert bad.status_code == 400 and "known: callback" in bad.json["error"]
    done = api.post(f"/attempts/{attempt.id}/disposition", headers=AUTH, json={
        "status": "callback", "result": {"product": "card"}, "callback_at": "2026-11-24 15:30",
        "agent_id": agent_id}).json
    assert done["callback_due_at"] == "2026-11-24T12:30:00+00:00"  # 15:30 in Moscow
    with sessionmaker_() as s:
        callback = s.scalars(select(Callback)).one()
        contact = s.get(Contact, attempt.contact_id)
        change = s.scalars(select(LeadStatusChange)).one()
        stored = s.get(type(attempt), attempt.id)
    assert callback.agent_id == agent_id and callback.due_at == datetime(2026, 11, 24, 12, 30,
                                                                          tzinfo=timezone.utc)
    assert contact.status == "callback" and (change.from_status, change.to_status) == ("new", "callback")
    assert stored.disposition == "callback" and stored.result["product"] == "card"
    past = api.post(f"/attempts/{attempt.id}/disposition", headers=AUTH,
                    json={"status": "callback", "callback_at": "2026-11-01 10:00"})
    assert past.status_code == 400 and "in the past" in past.json["error"]

    assert api.post(f"/agents/{agent_id}/logout", headers=AUTH).json["state"] == "offline"
    assert api.get(f"/agents/{agent_id}", headers=AUTH).status_code == 404
