"""Control API additions: agent list, one-click calls from a lead card, call events,
consent on the disposition, and a running campaign's pacing snapshot."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from engine.api.app import create_api
from engine.api.hub import EventHub, PublishingStateLog
from engine.runner.progressive import ProgressiveRunner
from engine.store.models import (
    AttemptState,
    CallAttempt,
    Contact,
    DncEntry,
    LeadStatus,
    LeadStatusChange,
)

from .conftest import (
    attempts,
    drain,
    drain_until,
    first_call_ended,
    login_ready,
    make_campaign,
    run_until,
    saw_call,
    wait_for,
)
from .test_api import AUTH, TOKEN


@pytest.fixture
def hub(core):  # type: ignore[no-untyped-def]
    hub = EventHub()
    core.state_log = PublishingStateLog(core.writer, core.writer.announce)
    core.send_events_to(hub.publish)
    return hub


@pytest.fixture
def api(core, hub):  # type: ignore[no-untyped-def]
    return create_api(core, hub, TOKEN).test_client()


@pytest.fixture
def desk(core, factory, session):  # type: ignore[no-untyped-def]
    """A running progressive campaign with nothing of its own to dial, two agents logged in
    and paused (so the runner leaves them alone), and a contact list of the same tenant."""
    campaign, agents = make_campaign(factory, session, [], agents=2)
    leads = factory.contact_list(campaign, name="leads")
    session.commit()
    login_ready(core, agents, campaign.id)
    for agent in agents:
        core.agents.get(agent.id).pause("manual calls")
    runner = ProgressiveRunner(core, campaign.id, tick_s=0.02)
    runner.start()
    yield campaign, agents, leads
    runner.stop()


def test_agents_list_all_logged_in_agents(api, core, factory, session) -> None:  # type: ignore[no-untyped-def]
    first, agents_a = make_campaign(factory, session, [], agents=1)
    second, agents_b = make_campaign(factory, session, [], agents=2)
    login_ready(core, agents_a, first.id)
    login_ready(core, agents_b, second.id)
    listed = api.get("/agents", headers=AUTH).json
    assert [a["agent_id"] for a in listed] == sorted(a.id for a in agents_a + agents_b)
    assert {a["state"] for a in listed} == {"ready"}
    assert set(listed[0]) == {"agent_id", "state", "reason", "campaign_id", "call_uuid",
                              "attempt_id", "card"}
    only = api.get(f"/agents?campaign_id={second.id}", headers=AUTH).json
    assert sorted(a["agent_id"] for a in only) == sorted(a.id for a in agents_b)
    bad = api.get("/agents?campaign_id=x", headers=AUTH)
    assert bad.status_code == 400 and "campaign_id" in bad.json["error"]


def test_one_click_call_is_dialed_bridged_and_announced(api, core, hub, desk, factory, session,  # type: ignore[no-untyped-def]
                                                        sessionmaker_) -> None:
    campaign, agents, leads = desk
    contact = factory.contact(leads, phones=["+79001000111"], timezone="Europe/Moscow")
    session.commit()
    queue = hub.subscribe()
    agent_id = agents[0].id
    response = api.post(f"/agents/{agent_id}/call", headers=AUTH,
                        json={"contact_id": contact.id, "phone_id": None})
    assert response.status_code == 200, response.json
    body = response.json
    assert body["state"] == "reserved" and body["attempt_id"] > 0
    assert body["call_uuid"] == core.agents.get(agent_id).call_uuid
    wait_for(lambda: attempts(sessionmaker_)[-1].ended_at is not None, 10, "the call to end")
    attempt = attempts(sessionmaker_)[-1]
    assert attempt.id == body["attempt_id"] and attempt.contact_id == contact.id
    assert attempt.agent_id == agent_id and attempt.bridged_at is not None
    assert attempt.campaign_id == campaign.id and attempt.direction == "outbound"
    # Back to the pause the agent called from, after wrap-up.
    wait_for(lambda: core.agents.get(agent_id).state.value == "paused", 5, "the pause again")
    assert core.agents.get(agent_id).reason == "manual calls"
    got = drain_until(queue, saw_call("ended"), 5, "the ended call event")
    call_events = [data for kind, data in got if kind == "call"]
    assert [e["state"] for e in call_events] == ["dialing", "answered", "bridged", "ended"]
    assert all(e["attempt_id"] == attempt.id and e["call_uuid"] == attempt.call_uuid
               and e["campaign_id"] == campaign.id and e["contact_id"] == contact.id
               and e["agent_id"] == agent_id for e in call_events)
    assert call_events[-1]["outcome"] == "answered"


def test_one_click_call_refusals_name_the_reason(api, core, desk, factory, session,  # type: ignore[no-untyped-def]
                                                sessionmaker_) -> None:
    campaign, agents, leads = desk
    agent_id = agents[0].id
    night = factory.contact(leads, phones=["+79001000222"], timezone="America/Los_Angeles")
    listed = factory.contact(leads, phones=["+79001000333"], timezone="Europe/Moscow")
    two = factory.contact(leads, phones=["+79001000444", "+79001000555"],
                          timezone="Europe/Moscow")
    stranger_campaign, _ = make_campaign(factory, session, ["+79001000666"], agents=0)
    session.add(DncEntry(tenant_id=campaign.tenant_id, number="+79001000333",
                         created_at=core.clock.now()))
    session.commit()
    with sessionmaker_() as s:
        stranger = s.scalars(select(Contact).where(Contact.tenant_id
                                                   == stranger_campaign.tenant_id)).one()

    def call(body: Any) -> Any:
        return api.post(f"/agents/{agent_id}/call", headers=AUTH, json=body)

    outside = call({"contact_id": night.id})
    assert outside.status_code == 409 and "NOT dialable" in outside.json["error"]
    assert "outside" in outside.json["error"] or "window" in outside.json["error"]
    dnc = call({"contact_id": listed.id})
    assert dnc.status_code == 409 and "do-not-call list" in dnc.json["error"]
    assert call({"contact_id": stranger.id}).status_code == 404
    wrong_phone = call({"contact_id": night.id, "phone_id": two.phones[0].id})
    assert wrong_phone.status_code == 404 and "not a phone of contact" in wrong_phone.json["error"]
    assert call({"contact_id": "7"}).status_code == 400
    assert call({"contact_id": two.id, "phone_id": True}).status_code == 400
    assert api.post("/agents/999999/call", headers=AUTH,
                    json={"contact_id": two.id}).status_code == 404
    # A chosen second phone is dialed, not the first.
    chosen = call({"contact_id": two.id, "phone_id": two.phones[1].id})
    assert chosen.status_code == 200, chosen.json
    with sessionmaker_() as s:
        assert s.get(CallAttempt, chosen.json["attempt_id"]).number == "+79001000555"
    # The agent is busy now; a second click is refused by the agent's state.
    busy = call({"contact_id": listed.id})
    assert busy.status_code == 409 and "reserved" in busy.json["error"]
    assert not [a for a in attempts(sessionmaker_) if a.contact_id in (night.id, listed.id)]
    wait_for(lambda: attempts(sessionmaker_)[-1].state is AttemptState.ENDED, 10, "call end")


def test_one_click_call_needs_a_running_campaign(api, core, factory, session) -> None:  # type: ignore[no-untyped-def]
    campaign, agents = make_campaign(factory, session, ["+79001000777"], agents=1)
    login_ready(core, agents, campaign.id)
    contact_id = session.scalars(select(Contact.id)).one()
    refused = api.post(f"/agents/{agents[0].id}/call", headers=AUTH,
                       json={"contact_id": contact_id})
    assert refused.status_code == 409 and "not running" in refused.json["error"]
    assert core.agents.get(agents[0].id).state.value == "ready"


def test_disposition_records_consent_with_history(api, core, factory, session,  # type: ignore[no-untyped-def]
                                                  sessionmaker_) -> None:
    campaign, agents = make_campaign(factory, session, ["+79001000888"], agents=1)
    session.add(LeadStatus(tenant_id=None, code="interested", name="Interested"))
    session.commit()
    login_ready(core, agents, campaign.id)
    run_until(core, campaign.id, first_call_ended(sessionmaker_), 10, "the call to end")
    attempt = attempts(sessionmaker_)[0]
    url = f"/attempts/{attempt.id}/disposition"
    bad = api.post(url, headers=AUTH, json={"status": "interested", "consent": "yes"})
    assert bad.status_code == 400 and "consent" in bad.json["error"]
    done = api.post(url, headers=AUTH, json={"status": "interested", "consent": True,
                                             "agent_id": agents[0].id})
    assert done.status_code == 200
    with sessionmaker_() as s:
        contact = s.get(Contact, attempt.contact_id)
        change = s.scalars(select(LeadStatusChange)).one()
        stored = s.get(CallAttempt, attempt.id)
    assert contact.consent is True and contact.consent_at is not None
    assert change.comment == "consent given" and change.attempt_id == attempt.id
    assert stored.result["consent"] is True
    again = api.post(url, headers=AUTH, json={"status": "interested", "consent": False})
    assert again.status_code == 200
    with sessionmaker_() as s:
        assert s.get(Contact, attempt.contact_id).consent is False
        assert s.get(CallAttempt, attempt.id).result["consent"] is False


class SnapshotRunner(ProgressiveRunner):
    """A runner that has the pacing helper's ``pacing_snapshot``."""

    def pacing_snapshot(self) -> dict[str, Any]:
        return {"ready": len(self.core.agents.ready(self.campaign_id))}


def test_campaign_pacing(api, core, factory, session) -> None:  # type: ignore[no-untyped-def]
    campaign, _ = make_campaign(factory, session, [], agents=0)
    assert api.get(f"/campaigns/{campaign.id}/pacing", headers=AUTH).status_code == 404
    runner = ProgressiveRunner(core, campaign.id, tick_s=0.02)
    runner.start()
    try:
        assert api.get(f"/campaigns/{campaign.id}/pacing", headers=AUTH).json == {
            "campaign_id": campaign.id, "mode": "progressive", "pacing": None}
    finally:
        runner.stop()
    runner = SnapshotRunner(core, campaign.id, tick_s=0.02)
    runner.start()
    try:
        body = api.get(f"/campaigns/{campaign.id}/pacing", headers=AUTH).json
        assert json.dumps(body) and body["pacing"] == {"ready": 0}
    finally:
        runner.stop()
