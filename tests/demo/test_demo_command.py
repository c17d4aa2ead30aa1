"""``dialer demo`` end to end in a subprocess: simulator, engine and admin on a temp data dir."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from engine.store.models import AttemptState, CallAttempt, Campaign, CampaignStatus, Outcome

from .counts import SEEDED, table_counts

pytestmark = pytest.mark.slow
STARTUP_TIMEOUT_S = 60


class Demo:
    """``dialer demo`` in a subprocess on any free admin port; its output read as it comes."""

    def __init__(self, data_dir: Path, *args: str) -> None:
        env = {**os.environ, "DIALER_DATA_DIR": str(data_dir), "DIALER_API_PORT": "0",
               "DIALER_LOG_LEVEL": "WARNING"}
        env.pop("DIALER_CONFIG", None)
        env.pop("DIALER_DATABASE_URL", None)
        self.stderr_path = data_dir.parent / f"demo-stderr-{time.monotonic_ns()}.log"
        with open(self.stderr_path, "w") as stderr:  # a file: a full pipe would stall the demo
            self.process = subprocess.Popen(
                [sys.executable, "-c", "from engine.cli import main; main(prog_name='dialer')",
                 "demo", "--port", "0", "--sim-time-scale", "0.05", "--sim-seed", "3", *args],
                cwd=data_dir.parent, env=env, stdout=subprocess.PIPE, stderr=stderr, text=True)
        self.lines: list[str] = []
        self.url: str | None = None
        self._url_seen = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)
            found = re.match(r"admin:\s+(http://127\.0\.0\.1:\d+)/login", line)
            if found:
                self.url = found.group(1)
                self._url_seen.set()
        self._url_seen.set()

    def login_status(self) -> int:
        """The HTTP status of the admin's login page while the demo runs."""
        self._url_seen.wait(STARTUP_TIMEOUT_S)
        if self.url is None:
            self.process.kill()
            raise AssertionError(f"no admin URL; the demo said:\n{''.join(self.lines)}"
                                 f"{self.stderr_path.read_text()}")
        with urllib.request.urlopen(f"{self.url}/login", timeout=10) as reply:
            return reply.status

    def finish(self) -> str:
        """Waits for the demo to exit (successfully); everything it printed."""
        self.process.wait(timeout=STARTUP_TIMEOUT_S)
        self._reader.join(5)
        assert self.process.returncode == 0, self.stderr_path.read_text()
        return "".join(self.lines)


@pytest.fixture
def demos() -> Iterator[list[Demo]]:
    """Demos started by a test; any still running when it ends (a failed assert) are killed."""
    started: list[Demo] = []
    yield started
    for demo in started:
        if demo.process.poll() is None:
            demo.process.kill()
            demo.process.wait(10)


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def _join_as_agent(base: str, campaign_id: int) -> str:
    """Signs in as demo-agent, joins the campaign from the agent desktop (through the engine's
    control API); the seat's state as the desktop shows it a moment later."""
    web = requests.Session()
    page = web.get(f"{base}/login", timeout=10)
    signed_in = web.post(f"{base}/login", timeout=10, data={
        "csrf_token": _csrf(page.text), "username": "demo-agent", "password": "demo-password"})
    assert signed_in.url.endswith("/leads/")
    panel = web.get(f"{base}/desktop/panel", timeout=10)
    assert "The engine is not available" not in panel.text
    web.post(f"{base}/desktop/join", timeout=10,
             data={"csrf_token": _csrf(panel.text), "campaign_id": str(campaign_id)})
    deadline = time.monotonic() + 20
    while True:
        panel = web.get(f"{base}/desktop/panel", timeout=10)
        state = re.search(r'id="agent-state" data-state="(\w+)"', panel.text)
        assert state, panel.text
        if state.group(1) != "offline" or time.monotonic() > deadline:
            return state.group(1)
        time.sleep(0.5)


def test_demo_runs_and_is_idempotent(tmp_path: Path, demos: list[Demo]) -> None:
    data_dir = tmp_path / "data"
    first = Demo(data_dir, "--duration", "8", "--anytime")
    demos.append(first)
    assert first.login_status() == 200
    out = first.finish()
    assert "rows read 40, imported 36, updated 0, unchanged 0, rejected 4" in out
    assert f"reject report (4 rows, line and reason): {data_dir / 'demo' / 'rejects.csv'}" in out
    assert "36 of 36 contacts would be dialed now" in out
    for n in range(1, 41):
        assert (f"D-{n:04d} " in out) == bool(n % 9)  # every imported contact, no reject
    assert "demo-admin (admin), demo-agent (agent), password demo-password" in out
    assert "this run: " in out and "this run: 0 attempts" not in out

    engine = create_engine(f"sqlite:///{data_dir / 'dialer.sqlite3'}")
    with Session(engine) as session:
        attempts = session.scalars(select(CallAttempt)).all()
        counts = table_counts(session)
        campaign = session.scalars(select(Campaign)).one()
        assert campaign.status is CampaignStatus.PAUSED  # the demo pauses it when it stops
    assert attempts
    assert all(a.state is AttemptState.ENDED and a.outcome is not None for a in attempts)
    # Calls the simulator finished itself, not only the ones hung up at the stop.
    assert {a.outcome for a in attempts} - {Outcome.CANCELLED}
    assert counts == SEEDED

    second = Demo(data_dir)  # no --duration: runs until SIGINT, like Ctrl-C
    demos.append(second)
    assert second.login_status() == 200
    assert second.url is not None
    assert _join_as_agent(second.url, campaign.id) in {"paused", "ready", "reserved", "talking",
                                                       "wrap_up"}
    second.process.send_signal(signal.SIGINT)
    out = second.finish()
    assert "rows read 40, imported 0, updated 0, unchanged 36, rejected 4" in out
    assert "campaign total: " in out
    with Session(engine) as session:
        assert table_counts(session) == counts
        assert session.scalar(select(func.count()).select_from(CallAttempt).where(
            CallAttempt.state != AttemptState.ENDED)) == 0
    engine.dispose()
