"""One-click calls from the lead card against a real engine (simulator + DialerCore + API)."""

from __future__ import annotations

import html
import re

from sqlalchemy import select

from engine.store.models import (
    CallAttempt,
    Contact,
    ContactList,
    DncEntry,
    LeadStatusChange,
)

from .conftest import post
from .engine_server import (  # noqa: F401 (fixtures)
    Seat,
    app,
    engine,
    in_state,
    join_ready,
    panel_until,
    seats,
    start_preview,
)

TALKS = "+79007000031"  # the simulator's callee answers and talks for 30 s
BARRED = "+79007000032"  # put on the tenant's do-not-call list


def own_lead(factory, session, seat: Seat, name: str):  # type: ignore[no-untyped-def]
    """A lead of the seat's campaign assigned to the seat, with a talking and a barred phone."""
    contacts = session.scalars(select(ContactList).where(
        ContactList.campaign_id == seat.campaign_id)).first()
    contact = factory.contact(contacts, phones=[TALKS, BARRED], name=name,
                              timezone="Europe/Moscow", assigned_agent_id=seat.agent_id,
                              status="assigned")
    session.add(DncEntry(tenant_id=contacts.tenant_id, number=BARRED, reason="asked",
                         created_at=factory.clock.now()))
    session.commit()
    return contact.id, [phone.id for phone in contact.phones]


def paused_in_running_campaign(client, engine, seat: Seat) -> None:  # type: ignore[no-untyped-def]
    """Logged in, paused (so the preview runner offers no card), the campaign's runner up."""
    join_ready(client, seat)
    post(client, "/desktop/pause", {"reason": "Lunch"})
    panel_until(client, in_state("paused"), "the pause")
    start_preview(engine, seat)


def flashes(client, url: str) -> str:  # type: ignore[no-untyped-def]
    """The messages the page shows, one per line."""
    page = client.get(url).get_data(as_text=True)
    return "\n".join(html.unescape(text) for text in
                     re.findall(r'<p class="flash \w+">(.*?)</p>', page, re.DOTALL))


def test_agent_calls_a_lead_from_its_card(as_user, engine, seats, factory, session,  # type: ignore[no-untyped-def]
                                          sessionmaker_):
    seat = seats["a"]
    lead_id, (talks, barred) = own_lead(factory, session, seat, "Olga Call")
    client = as_user("a_agent")
    card = client.get(f"/leads/{lead_id}").get_data(as_text=True)
    assert TALKS in card and "data-call=" not in card  # not logged in to the engine: no button

    paused_in_running_campaign(client, engine, seat)
    card = client.get(f"/leads/{lead_id}").get_data(as_text=True)
    assert f'data-call="{talks}"' in card and f'data-call="{barred}"' in card

    refused = post(client, f"/leads/{lead_id}/call", {"phone_id": barred})
    assert refused.headers["Location"] == f"/leads/{lead_id}"
    message = flashes(client, f"/leads/{lead_id}")
    assert message.startswith("Звонок не начат: ")
    assert "do-not-call" in message and BARRED in message

    placed = post(client, f"/leads/{lead_id}/call", {"phone_id": talks})
    assert placed.headers["Location"] == "/desktop/"
    call = panel_until(client, lambda page: 'id="call-card"' in page and 'id="hangup"' in page,
                       "the lead to answer and be bridged to the agent")
    assert "Olga Call" in call and TALKS in call

    busy = post(client, f"/leads/{lead_id}/call", {"phone_id": talks})
    assert busy.headers["Location"] == f"/leads/{lead_id}"
    assert "Звонок не начат" in (message := flashes(client, f"/leads/{lead_id}"))
    assert "is talking" in message

    post(client, "/desktop/hangup")
    panel_until(client, lambda page: 'id="hangup"' not in page, "the call to end")
    with sessionmaker_() as s:
        attempts = s.scalars(select(CallAttempt).where(CallAttempt.contact_id == lead_id)).all()
    assert [(a.number, a.agent_id) for a in attempts] == [(TALKS, seat.agent_id)]
    assert attempts[0].bridged_at is not None


def test_masked_tenant_calls_without_seeing_the_number(as_user, engine, seats, factory, session,  # type: ignore[no-untyped-def]
                                                        sessionmaker_):
    seat = seats["b"]
    lead_id, (talks, barred) = own_lead(factory, session, seat, "Boris Hidden")
    client = as_user("b_agent")
    paused_in_running_campaign(client, engine, seat)
    card = client.get(f"/leads/{lead_id}").get_data(as_text=True)
    assert f'data-call="{talks}"' in card and "•••" in card
    assert TALKS.lstrip("+") not in card and "Boris Hidden" not in card

    post(client, f"/leads/{lead_id}/call", {"phone_id": barred})
    message = flashes(client, f"/leads/{lead_id}")
    assert "do-not-call" in message and "•••" in message
    assert BARRED.lstrip("+") not in message

    post(client, f"/leads/{lead_id}/call", {"phone_id": talks})
    call = panel_until(client, lambda page: 'id="call-card"' in page and 'id="hangup"' in page,
                       "the masked lead to be bridged")
    assert f"Потенциальный клиент {lead_id}" in call and TALKS.lstrip("+") not in call

    # consent during the call: the disposition sends it to the engine, the name appears
    post(client, "/desktop/hangup")
    panel_until(client, lambda page: 'id="hangup"' not in page, "the call to end")
    with sessionmaker_() as s:
        attempt = s.scalars(select(CallAttempt).where(CallAttempt.contact_id == lead_id)).one()
    post(client, f"/desktop/dispose/{attempt.id}",
         {"status": "interested", "field_product": "loan", "consent": "on"})
    card = client.get(f"/leads/{lead_id}").get_data(as_text=True)
    assert "Boris Hidden" in card and "Потенциальный клиент" not in card
    assert TALKS.lstrip("+") not in card
    with sessionmaker_() as s:
        contact = s.get(Contact, lead_id)
        history = s.scalars(select(LeadStatusChange).where(
            LeadStatusChange.contact_id == lead_id).order_by(LeadStatusChange.id)).all()
    assert contact.consent and contact.status == "interested"
    assert history[-1].attempt_id == attempt.id


def test_calls_stay_within_the_own_tenant_and_leads(as_user, engine, seats, factory, session,  # type: ignore[no-untyped-def]
                                                    world, sessionmaker_):
    seat = seats["a"]
    lead_id, (talks, _) = own_lead(factory, session, seat, "Own lead")
    client = as_user("a_agent")
    paused_in_running_campaign(client, engine, seat)
    foreign = seats["b"].contact_id  # another tenant's lead
    colleague = next(c.id for c in world.a_demo.contacts  # this tenant's, not this agent's
                     if c.assigned_agent_id != seat.agent_id)
    other_phone = session.get(Contact, seats["a"].contact_id).phones[0].id
    targets = [foreign, colleague, lead_id]

    def attempts() -> int:
        with sessionmaker_() as s:
            return len(s.scalars(select(CallAttempt.id).where(
                CallAttempt.contact_id.in_(targets))).all())

    before = attempts()
    assert post(client, f"/leads/{foreign}/call", {}).status_code == 404
    assert post(client, f"/leads/{colleague}/call", {}).status_code == 404
    assert post(client, f"/leads/{lead_id}/call", {"phone_id": other_phone}).status_code == 404
    assert client.post(f"/leads/{lead_id}/call", data={"phone_id": talks}).status_code == 400
    assert post(as_user("a_supervisor"), f"/leads/{lead_id}/call", {}).status_code == 403
    assert attempts() == before
