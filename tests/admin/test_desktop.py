"""The agent desktop against a real engine (simulator + DialerCore + control API on loopback)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timezone

from sqlalchemy import select

from admin import create_app
from engine.store.models import CallAttempt, Callback, Contact

from .conftest import csrf_token, login, post
from .engine_server import (TOKEN, Relay, app, engine, in_state, join_ready,  # noqa: F401 (fixtures)
                            panel_until, seats, start_preview)


def test_agent_day_preview_call_disposition_and_callback(as_user, engine, seats, sessionmaker_):  # type: ignore[no-untyped-def]
    seat = seats["a"]
    client = as_user("a_agent")
    page = client.get("/desktop/").get_data(as_text=True)
    assert 'data-state="offline"' in page and f'value="{seat.campaign_id}"' in page
    stream = Relay(as_user("a_agent"), "/desktop/events")
    assert stream.first.startswith(b": connected")

    join_ready(client, seat)
    assert [e["state"] for e in stream.next(2)] == ["paused", "ready"]
    refused = post(client, "/desktop/pause", {"reason": " "}, follow_redirects=True)
    assert "data-state=\"ready\"" in refused.get_data(as_text=True)
    post(client, "/desktop/pause", {"reason": "Lunch"})
    paused = panel_until(client, in_state("paused"), "the pause")
    assert 'id="agent-reason">Lunch<' in paused
    assert stream.next(1)[0] == {"kind": "agent_state", "agent_id": seat.agent_id,
                                     "state": "paused"}

    start_preview(engine, seat)
    post(client, "/desktop/ready")
    card = panel_until(client, lambda html: 'id="preview-card"' in html, "the preview card")
    assert seat.number in card and "Ivan a_agent" in card and "Yekaterinburg" in card
    assert [e["kind"] for e in stream.next(3)] == ["agent_state", "agent_state", "card"]

    post(client, "/desktop/dial")
    call = panel_until(client, lambda html: 'id="call-card"' in html and 'id="hangup"' in html,
                       "the customer to answer and be bridged")
    assert "Good afternoon, this is Acme bank." in call and "Speak slowly" in call
    assert "Too expensive" in call and "No fee in the first year." in call
    assert "Asia/Yekaterinburg" in call and "<strong>15:0" in call  # 10:0x UTC there
    assert 'name="field_product"' in call and 'data-status="callback"' in call

    post(client, "/desktop/hangup")
    panel_until(client, lambda html: 'id="hangup"' not in html and 'id="call-card"' in html,
                "the call to end (the card stays until disposed)")
    with sessionmaker_() as s:
        attempt = s.scalars(select(CallAttempt).where(
            CallAttempt.agent_id == seat.agent_id).order_by(CallAttempt.id.desc())).first()
    form = {"status": "callback", "field_amount": "12.5", "callback_at": "2026-11-24T15:30",
            "consent": "on"}
    missing = post(client, f"/desktop/dispose/{attempt.id}", form, follow_redirects=True)
    assert "Product" in missing.get_data(as_text=True) and 'id="call-card"' in missing.get_data(as_text=True)
    bad = post(client, f"/desktop/dispose/{attempt.id}",
               {**form, "field_product": "car"}, follow_redirects=True)
    assert "car" in bad.get_data(as_text=True)
    done = post(client, f"/desktop/dispose/{attempt.id}", {**form, "field_product": "card"},
                follow_redirects=True)
    assert 'id="call-card"' not in done.get_data(as_text=True)
    with sessionmaker_() as s:
        stored = s.get(CallAttempt, attempt.id)
        callback = s.scalars(select(Callback).where(Callback.contact_id == seat.contact_id)).one()
        contact = s.get(Contact, seat.contact_id)
    assert stored.disposition == "callback" and stored.result["product"] == "card"
    assert stored.result["amount"] == 12.5
    # 15:30 in Yekaterinburg (UTC+5) is 10:30 UTC, for this agent again
    assert callback.due_at == datetime(2026, 11, 24, 10, 30, tzinfo=timezone.utc)
    assert callback.agent_id == seat.agent_id
    assert contact.status == "callback" and contact.consent


def test_actions_need_csrf_and_act_only_for_the_own_seat(as_user, engine, seats, sessionmaker_, world):  # type: ignore[no-untyped-def]
    a, b = as_user("a_agent"), as_user("b_agent")
    assert a.post("/desktop/ready").status_code == 400  # no CSRF token
    join_ready(a, seats["a"])
    join_ready(b, seats["b"])
    stream = Relay(as_user("a_agent"), "/desktop/events")  # a second tab
    post(b, "/desktop/pause", {"reason": "Break"})
    panel_until(b, in_state("paused"), "b's pause")
    assert post(a, "/desktop/pause", {"reason": "Lunch"}).status_code == 302
    panel_until(a, in_state("paused"), "a's pause")
    assert stream.next(1) == [{"kind": "agent_state", "agent_id": seats["a"].agent_id,
                                   "state": "paused"}]  # b's pause was not relayed to a

    # another tenant's campaign, another seat's attempt: 404, nothing happens
    assert post(a, "/desktop/join", {"campaign_id": seats["b"].campaign_id}).status_code == 404
    with sessionmaker_() as s:
        foreign = s.scalars(select(CallAttempt).where(
            CallAttempt.agent_id != seats["a"].agent_id)).all()
    assert {x.tenant_id for x in foreign} == {world.a.id, world.b.id}
    for attempt in foreign:
        response = post(a, f"/desktop/dispose/{attempt.id}", {"status": "refused"})
        assert response.status_code == 404
    with sessionmaker_() as s:
        assert all(s.get(CallAttempt, x.id).disposition == x.disposition for x in foreign)

    for username in ("a_supervisor", "a_admin"):
        client = as_user(username)
        assert client.get("/desktop/").status_code == 403
        assert client.get("/desktop/events").status_code == 403


def test_masked_tenant_agent_never_sees_the_number(as_user, engine, seats):  # type: ignore[no-untyped-def]
    seat = seats["b"]
    client = as_user("b_agent")
    join_ready(client, seat)
    stream = Relay(as_user("b_agent"), "/desktop/events")
    start_preview(engine, seat)
    card = panel_until(client, lambda html: 'id="preview-card"' in html, "the preview card")
    digits = seat.number.lstrip("+")
    assert digits not in card and "•••" in card
    assert f"Потенциальный клиент {seat.contact_id}" in card and "Ivan" not in card
    assert "Yekaterinburg" not in card  # free fields stay hidden until consent
    events = stream.next(2)
    assert digits not in json.dumps(events) and "Ivan" not in json.dumps(events)
    post(client, "/desktop/dial")
    call = panel_until(client, lambda html: 'id="call-card"' in html, "the call card")
    assert digits not in call and f"Потенциальный клиент {seat.contact_id}" in call
    assert 'name="consent"' in call
    assert digits not in client.get("/desktop/").get_data(as_text=True)


def test_engine_down_is_said_on_the_page(world, sessionmaker_, clock, seats):  # type: ignore[no-untyped-def]
    settings = replace(world.settings, api_port=1, api_token=TOKEN)
    client = create_app(settings, clock=clock, session_factory=sessionmaker_).test_client()
    login(client, "a_agent")
    page = client.get("/desktop/").get_data(as_text=True)
    assert "127.0.0.1:1" in page and 'data-state="offline"' in page
    response = client.post("/desktop/ready", data={"csrf_token": csrf_token(client, "/desktop/")},
                           follow_redirects=True)
    assert "127.0.0.1:1" in response.get_data(as_text=True)
