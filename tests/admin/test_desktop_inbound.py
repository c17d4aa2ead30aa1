"""Inbound callbacks on the agent desktop, against a real engine: a customer calls the
campaign's number back and reaches a ready agent."""

from __future__ import annotations

from sqlalchemy import select

from engine.sim.scenario import IncomingCall
from engine.store.models import CallAttempt, Campaign

from .conftest import post
from .engine_server import app, engine, join_ready, panel_until, seats  # noqa: F401 (fixtures)

CAMPAIGN_NUMBER = "74950000000"  # the seats' campaigns' caller ID, as the trunk presents it


def call_in(engine, caller: str) -> None:  # type: ignore[no-untyped-def]
    engine.call(lambda core: engine.simulator.call_in(
        IncomingCall(caller=caller, dialled=CAMPAIGN_NUMBER, talk_seconds=30)))


def test_known_caller_pops_the_call_card_not_a_preview(as_user, engine, seats, sessionmaker_):  # type: ignore[no-untyped-def]
    seat = seats["a"]
    client = as_user("a_agent")
    join_ready(client, seat)
    call_in(engine, "8" + seat.number.removeprefix("+7"))  # national format
    call = panel_until(client, lambda html: 'id="call-card"' in html and 'id="hangup"' in html,
                       "the inbound call to be bridged with its card")
    assert "Ivan a_agent" in call and seat.number in call and 'id="dial"' not in call
    post(client, "/desktop/hangup")
    panel_until(client, lambda html: 'id="hangup"' not in html, "the call to end")
    with sessionmaker_() as s:
        attempt = s.scalars(select(CallAttempt).where(
            CallAttempt.contact_id == seat.contact_id)).one()
    assert attempt.direction == "inbound" and attempt.agent_id == seat.agent_id
    post(client, f"/desktop/dispose/{attempt.id}", {"status": "interested",
                                                    "field_product": "card"})
    with sessionmaker_() as s:
        assert s.get(CallAttempt, attempt.id).disposition == "interested"


def test_unknown_caller_can_be_hung_up(as_user, engine, seats, session):  # type: ignore[no-untyped-def]
    other = session.get(Campaign, seats["b"].campaign_id)
    other.caller_id_number = "+74950000001"  # the number is tenant a's campaign's only
    session.commit()
    client = as_user("a_agent")
    join_ready(client, seats["a"])
    call_in(engine, "+79005550000")
    panel = panel_until(client, lambda html: 'id="unknown-call"' in html,
                        "the caller to be bridged")
    assert 'id="dial"' not in panel and 'id="call-card"' not in panel
    post(client, "/desktop/hangup")
    panel_until(client, lambda html: 'id="unknown-call"' not in html, "the call to end")
