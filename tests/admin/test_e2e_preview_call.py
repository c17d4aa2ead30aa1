"""End to end in real headless Chromium against a real engine (simulator + DialerCore + control
API): a manager creates a preview campaign, uploads a list with column mapping, distributes it
and starts the campaign; an agent takes the preview card, dials, the simulated customer answers,
the call is bridged, the agent sets a disposition with a result field; the funnel and the
statistics show that lead and call. Screenshots: test-artifacts/screenshots/2*.png."""

from __future__ import annotations

from sqlalchemy import select

from engine.runner.registry import RUNNERS
from engine.store.models import CallAttempt, Campaign, Contact

from .engine_server import app, engine, seats  # noqa: F401 (fixtures)
from .test_browser import (base_url, log_in, new_page, page, pytestmark,  # noqa: F401 (fixtures)
                           shot)

NUMBER = "+79007000051"  # the simulator's callee answers and talks for 30 s
CSV = f"ext,full name,tel,city,tz\nE-51,Elena Browser,{NUMBER},Omsk,Asia/Omsk\n"
MAPPING = {"ext": "external_id", "full name": "name", "tel": "phone", "city": "field",
           "tz": "timezone"}
CAMPAIGN = {  # the editor's fields
    "name": "E2E preview", "timezone": "Europe/Moscow", "caller_id_number": "+74950000000",
    "gateway": "sofia/gateway/carrier/{number}", "pacing": "ring_timeout_s: 15\nwrap_up_s: 0.2\n",
    "script": "Добрый день! Банк «Акме», удобно говорить?",
    "result_fields": "- name: product\n  label: Product\n  type: choice\n"
                     "  options: [card, loan]\n  required: true\n",
}


def start_in_engine(engine, campaign_id: int) -> None:  # type: ignore[no-untyped-def]
    """What the daemon's campaign watch does for a campaign set running in the database."""

    def start(core):  # type: ignore[no-untyped-def]
        with core.sessions() as session:
            mode = session.get_one(Campaign, campaign_id).mode
        RUNNERS[mode](core, campaign_id, tick_s=0.02).start()

    engine.call(start)


def test_preview_campaign_from_creation_to_statistics(new_page, base_url, engine, seats,  # type: ignore[no-untyped-def]
                                                      sessionmaker_, tmp_path):
    manager = new_page()
    log_in(manager, base_url, "a_admin")
    manager.click("header nav >> text=Кампании")
    manager.click("#new-campaign")
    manager.select_option("select[name=mode]", "preview")
    for name, value in CAMPAIGN.items():
        manager.fill(f"[name={name}]", value)
    manager.click("#save-campaign")
    assert manager.locator(".flash.ok").inner_text() == "Кампания сохранена."
    shot(manager, "20-e2e-campaign")

    csv_path = tmp_path / "e2e.csv"
    csv_path.write_text(CSV)
    manager.click("header nav >> text=Списки")
    manager.set_input_files("#upload-form input[type=file]", str(csv_path))
    manager.click("#upload-form button[type=submit]")
    assert "Elena Browser" in manager.locator("#preview").inner_text()
    for header, target in MAPPING.items():
        manager.select_option(f'select[data-header="{header}"]', target)
    manager.fill("input[name=list_name]", "E2E list")
    manager.select_option("select[name=campaign]", label="E2E preview")
    shot(manager, "21-e2e-mapping")
    manager.click("#start-import")
    manager.wait_for_selector("#import-status[data-state=done]")
    assert "Готово" in manager.locator("#import-status").inner_text()

    manager.click("header nav >> text=Списки")
    manager.locator("#lists tr", has_text="E2E list").locator("text=Распределить").click()
    manager.check(f'input[name=agent][value="{seats["a"].agent_id}"]')
    manager.click("#distribute-form button[type=submit]")
    manager.click("header nav >> text=Кампании")
    row = manager.locator("#campaigns tr", has_text="E2E preview")
    row.locator("button[data-action=start]").click()
    assert "работает" in manager.locator("#campaigns tr", has_text="E2E preview").inner_text()
    shot(manager, "22-e2e-campaigns")
    with sessionmaker_() as s:
        campaign_id = s.scalar(select(Campaign.id).where(Campaign.name == "E2E preview"))
        lead = s.scalar(select(Contact).where(Contact.external_id == "E-51"))
    assert lead.status == "assigned" and lead.assigned_agent_id == seats["a"].agent_id
    start_in_engine(engine, campaign_id)

    agent = new_page()
    log_in(agent, base_url, "a_agent")
    agent.click("header nav >> text=Рабочее место")
    agent.select_option("select[name=campaign_id]", label="E2E preview")
    agent.click("#join")
    card = agent.wait_for_selector("#preview-card")  # ready, then offered the next card
    assert "Elena Browser" in card.inner_text() and NUMBER in card.inner_text()
    assert "Omsk" in card.inner_text()
    shot(agent, "23-e2e-preview-card")
    agent.click("#dial")
    agent.wait_for_selector("#call-card #hangup")  # answered and bridged
    assert "Банк «Акме»" in agent.locator("#script").inner_text()
    shot(agent, "24-e2e-call-card")
    agent.click("#hangup")
    agent.wait_for_selector("#call-card:not(:has(#hangup))")
    agent.select_option("select[name=field_product]", "loan")
    agent.click('#disposition button[data-status="interested"]')
    agent.wait_for_selector("#waiting")
    assert agent.locator(".flash.ok").inner_text() == "Сохранено."
    with sessionmaker_() as s:
        attempt = s.scalars(select(CallAttempt).where(CallAttempt.contact_id == lead.id)).one()
        stored = s.get(Contact, lead.id)
    assert attempt.bridged_at is not None and attempt.agent_id == seats["a"].agent_id
    assert attempt.disposition == "interested" and attempt.result["product"] == "loan"
    assert stored.status == "interested"

    manager.goto(f"{base_url}/funnel/?from_status=assigned&to_status=interested"
                 f"&campaign={campaign_id}")
    summary = manager.locator("#funnel-summary").inner_text()
    assert summary.startswith("1 — назначен, 1 — интересуется = 100.0%"), summary
    shot(manager, "25-e2e-funnel")
    manager.goto(f"{base_url}/statistics/?campaign={campaign_id}")
    calls = manager.locator("#campaign-calls tr", has_text="E2E preview").all_inner_texts()
    assert calls and calls[0].split("\t")[1:3] == ["1", "1"], calls  # attempts, live answers
    agent_row = manager.locator("#agent-statuses tr", has_text="a_agent")
    assert agent_row.count() == 1 and "alert" not in (agent_row.get_attribute("class") or "")
    shot(manager, "26-e2e-statistics")
    manager.goto(f"{base_url}/leads/{lead.id}")
    assert "#" + str(attempt.id) in manager.locator("#history").inner_text()
    assert "Интересуется" in manager.locator("#calls").inner_text()
    shot(manager, "27-e2e-lead-card")
