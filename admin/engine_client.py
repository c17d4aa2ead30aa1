"""A small client of the engine's control API (``engine/api/app.py``).

The admin talks to the daemon server-side, so the API token never reaches a browser.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import requests
from flask import Response, stream_with_context

from engine.config import Settings

STREAM_READ_TIMEOUT_S = 60.0  # the engine sends a keep-alive every 15 s
KEEPALIVE = "keep-alive"


class EngineError(Exception):
    """The engine refused an action; ``status`` is its HTTP status (503: not reachable)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class EngineClient:
    base_url: str
    token: str
    timeout_s: float = 10.0

    @classmethod
    def from_settings(cls, settings: Settings) -> EngineClient:
        return cls(f"http://{settings.api_host}:{settings.api_port}", settings.api_token)

    def _headers(self) -> dict[str, str]:
        if not self.token:
            raise EngineError(503, "the engine's api_token is not set (DIALER_API_TOKEN)")
        return {"Authorization": f"Bearer {self.token}"}

    def _call(self, method: str, path: str, payload: dict[str, Any] | None = None) -> Any:
        try:
            response = requests.request(method, self.base_url + path, json=payload,
                                        headers=self._headers(), timeout=self.timeout_s)
        except requests.RequestException as exc:
            raise EngineError(503, f"the engine is not reachable at {self.base_url}") from exc
        try:
            data = response.json() if response.content else {}
        except ValueError:
            data = {"error": response.text[:200]}
        if response.status_code >= 400:
            raise EngineError(response.status_code, str(data.get("error", response.reason)))
        return data

    def agent(self, agent_id: int) -> dict[str, Any] | None:
        """The agent's state and preview card, or None when the agent is not logged in."""
        try:
            return self._call("GET", f"/agents/{agent_id}")
        except EngineError as exc:
            if exc.status == 404:
                return None
            raise

    def agents(self) -> list[dict[str, Any]]:
        """Every logged-in agent, each as ``agent()`` describes it."""
        return self._call("GET", "/agents")

    def pacing(self, campaign_id: int) -> dict[str, Any] | None:
        """The last pacing decision of a running campaign, or None (not running, no decision
        yet, or a mode without pacing)."""
        try:
            return self._call("GET", f"/campaigns/{campaign_id}/pacing").get("pacing")
        except EngineError as exc:
            if exc.status == 404:
                return None
            raise

    def call(self, agent_id: int, contact_id: int, phone_id: int | None) -> dict[str, Any]:
        """Dial a contact for the agent now (one-click call); 409 names why it may not be."""
        return self._call("POST", f"/agents/{agent_id}/call",
                          {"contact_id": contact_id, "phone_id": phone_id})

    def login(self, agent_id: int, campaign_id: int) -> dict[str, Any]:
        return self._call("POST", f"/agents/{agent_id}/login", {"campaign_id": campaign_id})

    def action(self, agent_id: int, name: str) -> dict[str, Any]:
        """``ready``, ``logout``, ``hangup``, ``preview/dial`` or ``preview/skip``."""
        return self._call("POST", f"/agents/{agent_id}/{name}")

    def pause(self, agent_id: int, reason: str) -> dict[str, Any]:
        return self._call("POST", f"/agents/{agent_id}/pause", {"reason": reason})

    def dispose(self, attempt_id: int, *, agent_id: int, status: str, result: dict[str, Any],
                callback_at: str | None, consent: bool) -> dict[str, Any]:
        """The agent's disposition; ``consent`` True records the customer's consent (False
        leaves what is recorded as it is)."""
        payload = {"status": status, "result": result, "callback_at": callback_at,
                   "agent_id": agent_id}
        return self._call("POST", f"/attempts/{attempt_id}/disposition",
                          {**payload, "consent": True} if consent else payload)

    def events(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """Subscribe to the engine's event stream now; the iterator gives ``(kind, data)``
        and ends when the connection does."""
        try:
            response = requests.get(self.base_url + "/events", headers=self._headers(),
                                    stream=True, timeout=(self.timeout_s, STREAM_READ_TIMEOUT_S))
        except requests.RequestException as exc:
            raise EngineError(503, f"the engine is not reachable at {self.base_url}") from exc
        if response.status_code >= 400:
            response.close()
            raise EngineError(response.status_code, "the engine refused the event stream")
        return _read_stream(response)


def _read_stream(response: requests.Response) -> Iterator[tuple[str, dict[str, Any]]]:
    with response:
        try:
            yield from parse_sse(response.iter_lines(decode_unicode=True))
        except requests.RequestException:
            return


def parse_sse(lines: Iterator[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Server-sent events (``event:`` + ``data:`` lines, blank line ends one). A comment (the
    engine's keep-alive) comes out as ``(KEEPALIVE, {})``; data that is not a JSON object is
    dropped."""
    kind, data = "message", []
    for line in lines:
        if line == "":
            if data:
                try:
                    value = json.loads("\n".join(data))
                except ValueError:
                    value = None
                if isinstance(value, dict):
                    yield kind, value
            kind, data = "message", []
        elif line.startswith(":"):
            yield KEEPALIVE, {}
        elif line.startswith("event:"):
            kind = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].lstrip())


def relay_response(client: EngineClient, accept: Callable[[dict[str, Any]], bool]) -> Response:
    """A browser's event stream: the engine's events that ``accept`` lets through, cut to
    kind, agent and state (never contact data); the page re-reads what changed."""

    try:
        events, error = client.events(), None
    except EngineError as exc:
        events, error = iter(()), str(exc)

    def relay() -> Iterator[str]:
        yield ": connected\n\n"
        for kind, data in events:
            if kind == KEEPALIVE:
                yield ": keep-alive\n\n"
            elif accept(data):
                payload = {"kind": kind, "agent_id": data.get("agent_id"),
                           "state": data.get("state")}
                yield f"data: {json.dumps(payload)}\n\n"
        if error:
            yield f"data: {json.dumps({'kind': 'engine_error', 'error': error})}\n\n"

    return Response(stream_with_context(relay()), mimetype="text/event-stream",
                    headers={"X-Accel-Buffering": "no"})
