"""``dialer agent ...`` talks to the daemon's control API (here a recording stand-in)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from click.testing import CliRunner

from engine.cli import main


class Recorder(BaseHTTPRequestHandler):
    seen: list[tuple[str, str, str, object]] = []

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        Recorder.seen.append((self.command, self.path, self.headers.get("Authorization", ""), body))
        status, reply = (404, {"error": "agent 9 is not logged in"}) if "/9" in self.path else \
            (200, {"agent_id": 3, "state": "paused", "reason": "lunch"})
        data = json.dumps(reply).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def api_env() -> Iterator[dict[str, str]]:
    server = HTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Recorder.seen.clear()
    yield {"DIALER_API_TOKEN": "tok", "DIALER_API_PORT": str(server.server_port)}
    server.shutdown()
    server.server_close()


def test_commands_send_the_right_requests(api_env: dict[str, str]) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["agent", "pause", "3", "--reason", "lunch"], env=api_env)
    assert result.exit_code == 0 and "state=paused reason=lunch" in result.output
    runner.invoke(main, ["agent", "login", "3", "--campaign", "7"], env=api_env)
    runner.invoke(main, ["agent", "skip", "3"], env=api_env)
    runner.invoke(main, ["agent", "disposition", "42", "--status", "callback", "--field",
                         "product=card", "--callback", "2026-11-24 15:30"], env=api_env)
    assert Recorder.seen == [
        ("POST", "/agents/3/pause", "Bearer tok", {"reason": "lunch"}),
        ("POST", "/agents/3/login", "Bearer tok", {"campaign_id": 7}),
        ("POST", "/agents/3/preview/skip", "Bearer tok", None),
        ("POST", "/attempts/42/disposition", "Bearer tok",
         {"status": "callback", "result": {"product": "card"}, "callback_at": "2026-11-24 15:30",
          "agent_id": None}),
    ]


def test_errors_are_shown(api_env: dict[str, str]) -> None:
    result = CliRunner().invoke(main, ["agent", "status", "9"], env=api_env)
    assert result.exit_code == 1 and "404: agent 9 is not logged in" in result.output
    bad = CliRunner().invoke(main, ["agent", "disposition", "1", "--status", "x", "--field", "oops"],
                             env=api_env)
    assert bad.exit_code == 2 and "must be NAME=VALUE" in bad.output
    no_token = CliRunner().invoke(main, ["agent", "ready", "3"], env={"DIALER_API_TOKEN": ""})
    assert no_token.exit_code == 1 and "api_token is not set" in no_token.output


def test_call_list_and_consent_commands(api_env: dict[str, str]) -> None:
    runner = CliRunner()
    called = runner.invoke(main, ["agent", "call", "3", "55", "--phone", "8"], env=api_env)
    assert called.exit_code == 0, called.output
    runner.invoke(main, ["agent", "call", "3", "56"], env=api_env)
    runner.invoke(main, ["agent", "disposition", "42", "--status", "interested", "--consent"],
                  env=api_env)
    runner.invoke(main, ["agent", "disposition", "43", "--status", "refused", "--no-consent"],
                  env=api_env)
    assert [(method, path, body) for method, path, _, body in Recorder.seen] == [
        ("POST", "/agents/3/call", {"contact_id": 55, "phone_id": 8}),
        ("POST", "/agents/3/call", {"contact_id": 56, "phone_id": None}),
        ("POST", "/attempts/42/disposition", {"status": "interested", "result": {},
                                              "callback_at": None, "agent_id": None,
                                              "consent": True}),
        ("POST", "/attempts/43/disposition", {"status": "refused", "result": {},
                                              "callback_at": None, "agent_id": None,
                                              "consent": False}),
    ]
