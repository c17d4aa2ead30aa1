"""The agent desktop in real headless Chromium against a real engine: the page follows the
engine's event stream (the softphone answering turns the agent ready without a reload)."""

from __future__ import annotations

from .engine_server import app, engine, seats  # noqa: F401 (fixtures)
from .test_browser import (base_url, log_in, new_page, page, pytestmark,  # noqa: F401 (fixtures)
                           shot)


def test_agent_joins_pauses_and_gets_ready(page, base_url, seats):  # type: ignore[no-untyped-def]
    seat = seats["a"]
    log_in(page, base_url, "a_agent")
    page.click("header nav >> text=Рабочее место")
    state = page.locator("#agent-state")
    assert state.get_attribute("data-state") == "offline"

    page.select_option("select[name=campaign_id]", str(seat.campaign_id))
    page.click("#join")
    # the answer of the softphone arrives as an event; the script re-reads the panel
    page.wait_for_selector('#agent-state[data-state="ready"]')
    assert page.locator("#agent-state").inner_text() == "готов"
    page.fill("input[name=reason]", "Обед")
    page.click("#pause")
    page.wait_for_selector('#agent-state[data-state="paused"]')
    assert page.locator("#agent-reason").inner_text() == "Обед"
    shot(page, "10-desktop-paused")
    page.click("#ready")
    page.wait_for_selector('#agent-state[data-state="ready"]')
    assert page.locator("#waiting").is_visible()
