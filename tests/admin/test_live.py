"""The supervisors' live view against a real engine: the own tenant's agents, calls, figures."""

from __future__ import annotations

from engine.runner.predictive import PredictiveRunner
from engine.store.models import CampaignStatus, DialMode

from .conftest import post
from .engine_server import (Relay, app, engine, in_state, join_ready,  # noqa: F401 (fixtures)
                            panel_until, seats, start_preview)


def live_until(client, predicate, what: str) -> str:  # type: ignore[no-untyped-def]
    return panel_until(client, predicate, what, url="/live/panel")


def test_supervisor_sees_own_agents_calls_and_figures(as_user, engine, seats):  # type: ignore[no-untyped-def]
    a, b = seats["a"], seats["b"]
    supervisor = as_user("a_supervisor")
    page = supervisor.get("/live/").get_data(as_text=True)
    assert f'data-agent="{a.agent_id}" data-state="offline"' in page
    assert f'data-agent="{b.agent_id}"' not in page  # another tenant's seat
    stream = Relay(as_user("a_supervisor"), "/live/events")

    agent_a, agent_b = as_user("a_agent"), as_user("b_agent")
    join_ready(agent_b, b)
    join_ready(agent_a, a)
    events = stream.next(2)  # a's paused (connecting) and ready; b's never come
    assert {e["agent_id"] for e in events} == {a.agent_id}
    assert [e["state"] for e in events] == ["paused", "ready"]

    start_preview(engine, a)
    start_preview(engine, b)
    panel_until(agent_a, lambda html: 'id="preview-card"' in html, "a's card")
    post(agent_a, "/desktop/dial")
    live = live_until(supervisor, lambda html: f'data-agent="{a.agent_id}" data-state="talking"'
                      in html, "a talking on the live view")
    assert a.number in live and "Desk a_agent" in live
    row = live[live.index(f'data-campaign="{a.campaign_id}"'):]
    row = row[:row.index("</tr>")]
    cells = [c.split(">")[-1] for c in row.split("</td>")[:-1]]
    # agents, ready, busy, paused, calls now
    assert cells[2:7] == ["1", "0", "1", "0", "1"]
    assert "b_agent" not in live and b.number not in live and "Desk b_agent" not in live


def test_masked_tenant_supervisor_sees_no_number(as_user, engine, seats):  # type: ignore[no-untyped-def]
    b = seats["b"]
    agent = as_user("b_agent")
    join_ready(agent, b)
    start_preview(engine, b)
    panel_until(agent, lambda html: 'id="preview-card"' in html, "b's card")
    post(agent, "/desktop/dial")
    supervisor = as_user("b_supervisor")
    live = live_until(supervisor, lambda html: 'data-attempt="' in html, "b's call on the live view")
    assert b.number.lstrip("+") not in live and "•••" in live
    assert f"Потенциальный клиент {b.contact_id}" in live


def test_live_is_for_staff_only(as_user, engine):  # type: ignore[no-untyped-def]
    agent = as_user("a_agent")
    for url in ("/live/", "/live/panel", "/live/events"):
        assert agent.get(url).status_code == 403
    assert as_user("a_admin").get("/live/").status_code == 200


def pacing_row(html: str, campaign_id: int) -> str:
    row = html[html.index(f'data-pacing="{campaign_id}"'):]
    return row[:row.index("</tr>")]


def test_predictive_campaign_shows_the_engines_pacing_figures(as_user, engine, seats, world,  # type: ignore[no-untyped-def]
                                                               factory, session):
    campaign = factory.campaign(world.a, name="Predictive live", mode=DialMode.PREDICTIVE,
                                status=CampaignStatus.RUNNING, caller_id_number="+74950000000",
                                gateway="sofia/gateway/carrier/{number}",
                                pacing={"abandon_cap": 0.03, "ring_timeout_s": 15})
    session.commit()
    supervisor = as_user("a_supervisor")
    page = supervisor.get("/live/panel").get_data(as_text=True)
    # running in the database, not (yet) in the engine: its pacing answer is a 404
    assert "Данных о темпе пока нет" in pacing_row(page, campaign.id)
    assert f'data-pacing="{seats["a"].campaign_id}"' not in page  # preview: no pacing

    engine.call(lambda core: PredictiveRunner(core, campaign.id, tick_s=0.02).start())
    row = pacing_row(live_until(supervisor, lambda html: "Данных о темпе пока нет"
                                not in pacing_row(html, campaign.id), "a pacing decision"),
                     campaign.id)
    cells = pacing_cells(row)
    # campaign, decided at, calls to launch, reason, ready, busy, ringing, waiting: no agent yet
    assert cells[0] == "Predictive live" and cells[2] == "0"
    assert cells[4:8] == ["0", "0", "0", "0"]
    assert cells[9].endswith("/ 3.0%")

    agent = as_user("a_agent")
    post(agent, "/desktop/join", {"campaign_id": campaign.id})
    panel_until(agent, in_state("ready"), "the agent to join the predictive campaign")
    live = live_until(supervisor, lambda html: pacing_cells(pacing_row(html, campaign.id))[4]
                      == "1", "the pacing figures to count the ready agent")
    assert f'data-agent="{seats["a"].agent_id}" data-state="ready"' in live


def pacing_cells(row: str) -> list[str]:
    return [c.split(">")[-1] for c in row.split("</td>")[:-1]]
