"""End to end in real headless Chromium: log in, create and start a campaign, upload a list,
filter leads, open a lead card, check the funnel and statistics. Screenshots of each main page
go to test-artifacts/screenshots/ (at the repository root; not committed)."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from .conftest import PASSWORD

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
CSV = "external_id,name,phone,city\nW-1,Wendy,+79165550101,Omsk\nW-2,Walter,+79165550102,Tver\n"

playwright_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
]


@pytest.fixture
def base_url(app):  # type: ignore[no-untyped-def]
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(10)


@pytest.fixture
def new_page():  # type: ignore[no-untyped-def]
    """``new_page()``: a page in a fresh browser context (its own cookies: another user)."""
    with playwright_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)

        def make():  # type: ignore[no-untyped-def]
            context = browser.new_context(viewport={"width": 1400, "height": 900},
                                          locale="ru-RU")
            context.set_default_timeout(15_000)
            return context.new_page()

        yield make
        browser.close()


@pytest.fixture
def page(new_page):  # type: ignore[no-untyped-def]
    return new_page()


def log_in(page, base_url: str, username: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base_url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_admin_walkthrough(page, base_url, world, tmp_path):  # type: ignore[no-untyped-def]
    page.goto(f"{base_url}/leads/")
    assert page.url.startswith(f"{base_url}/login")
    shot(page, "01-login")
    page.fill("input[name=username]", "a_admin")
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_url(f"{base_url}/leads/")

    page.click("header nav >> text=Кампании")
    page.click("#new-campaign")
    page.fill("input[name=name]", "Browser campaign")
    page.select_option("select[name=mode]", "preview")
    page.fill("textarea[name=script]", "Здравствуйте! Это компания «Акме».")
    page.fill("textarea[name=hints]", "Назовите имя клиента")
    page.click("#save-campaign")
    assert page.locator(".flash.ok").inner_text() == "Кампания сохранена."
    shot(page, "02-campaign-edit")
    page.click("text=К списку кампаний")
    row = page.locator("#campaigns tr", has_text="Browser campaign")
    row.locator("button[data-action=start]").click()
    assert "работает" in page.locator("#campaigns tr", has_text="Browser campaign").inner_text()
    shot(page, "03-campaigns")

    csv_path = tmp_path / "browser.csv"
    csv_path.write_text(CSV)
    page.click("header nav >> text=Списки")
    page.set_input_files("#upload-form input[type=file]", str(csv_path))
    page.click("#upload-form button[type=submit]")
    assert "Wendy" in page.locator("#preview").inner_text()
    page.select_option("select[name=campaign]", label="Browser campaign")
    shot(page, "04-list-mapping")
    page.click("#start-import")
    page.wait_for_selector("#import-status[data-state=done]")
    assert "Готово" in page.locator("#import-status").inner_text()
    shot(page, "05-list-imported")

    page.click("header nav >> text=Лиды")
    page.select_option("#lead-filters select[name=status]", ["interested", "client_interested"])
    page.click("#apply-filters")
    statuses = page.locator("#leads tbody tr td:nth-child(3)").all_inner_texts()
    assert statuses and set(statuses) <= {"Интересуется", "Клиент заинтересован"}
    audio_src = page.locator("#leads audio").first.get_attribute("src")
    assert page.request.get(f"{base_url}{audio_src}").status == 200
    shot(page, "06-leads-filtered")
    page.locator("#leads tbody tr td a").first.click()
    page.wait_for_selector("#progress .current")
    assert page.locator("#history tbody tr").count() >= 2
    shot(page, "07-lead-card")

    page.click("header nav >> text=Воронка")
    assert "назначен" in page.locator("#funnel-summary").inner_text()
    assert page.locator("#funnel-chart rect").count() == 9
    shot(page, "08-funnel")
    page.click("header nav >> text=Статистика")
    assert page.locator("#agent-statuses tr.alert").count() >= 1
    shot(page, "09-statistics")

    page.click("header form.lang button[value=en]")
    assert page.locator("h1").first.inner_text() == "Statistics"
