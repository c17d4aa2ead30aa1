"""The control API: token-authenticated JSON endpoints for agent actions, and ``/events``
(server-sent events: agent states and preview cards). Served by the daemon on loopback."""

from __future__ import annotations

import hmac
import json
from collections.abc import Iterator
from typing import Any

import gevent.queue
from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from engine.agents import AgentSession, AgentStateError
from engine.runner.core import DialerCore
from engine.runner.leases import CampaignElsewhere
from engine.runner.preview import PreviewRunner
from engine.store.db import transaction
from engine.switch.connection import SwitchError, SwitchUnavailable

from .dispositions import DispositionError, dispose
from .hub import EventHub
from .own_call import CallRefused, Target, call_contact

KEEPALIVE_S = 15.0


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def create_api(core: DialerCore, hub: EventHub, token: str) -> Flask:
    if not token:
        raise ValueError("the control API needs an api_token")
    app = Flask("engine.api")

    @app.before_request
    def _authenticate() -> Response | None:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if not hmac.compare_digest(given.encode(), token.encode()):
            return _error(401, "missing or wrong API token (Authorization: Bearer ...)")
        return None

    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError) -> Response:
        return _error(exc.status, str(exc))

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        return _error(exc.code or 500, exc.description or exc.name)

    def body() -> dict[str, Any]:
        data = request.get_json(silent=True)
        if data is None:
            return {}
        if not isinstance(data, dict):
            raise ApiError(400, "the request body must be a JSON object")
        return data

    def agent(agent_id: int) -> AgentSession:
        session = core.agents.get(agent_id)
        if session is None:
            raise ApiError(404, f"agent {agent_id} is not logged in")
        return session

    def preview_runner(session: AgentSession) -> PreviewRunner:
        runner = core.runners.get(session.campaign_id or -1)
        if not isinstance(runner, PreviewRunner):
            raise ApiError(409, f"agent {session.agent_id}'s campaign is not a running "
                                "preview campaign")
        return runner

    def describe(session: AgentSession) -> dict[str, Any]:
        runner = core.runners.get(session.campaign_id or -1)
        card = runner.cards.get(session.agent_id) if isinstance(runner, PreviewRunner) else None
        call = core.calls.get(session.call_uuid or "")
        return {"agent_id": session.agent_id, "state": session.state.value,
                "reason": session.reason, "campaign_id": session.campaign_id,
                "call_uuid": session.call_uuid,
                "attempt_id": call.attempt_id if call else None,
                "card": card.public() if card else core.cards.get(session.agent_id)}

    @app.get("/agents")
    def agents() -> Response:
        campaign_id = request.args.get("campaign_id")
        if campaign_id is not None and not campaign_id.isdigit():
            raise ApiError(400, "campaign_id must be an integer")
        return jsonify([describe(session) for session in
                        sorted(core.agents, key=lambda a: a.agent_id)
                        if campaign_id is None or session.campaign_id == int(campaign_id)])

    @app.post("/agents/<int:agent_id>/login")
    def login(agent_id: int) -> Response:
        campaign_id = body().get("campaign_id")
        if not isinstance(campaign_id, int):
            raise ApiError(400, "campaign_id (an integer) is required")
        try:
            return jsonify(describe(core.login(agent_id, campaign_id)))
        except LookupError as exc:
            raise ApiError(404, str(exc)) from exc
        except CampaignElsewhere as exc:
            raise ApiError(409, str(exc)) from exc
        except (SwitchError, SwitchUnavailable) as exc:
            raise ApiError(503, f"the softphone could not be called: {exc}") from exc

    @app.post("/agents/<int:agent_id>/ready")
    def ready(agent_id: int) -> Response:
        session = agent(agent_id)
        session.ready()
        return jsonify(describe(session))

    @app.post("/agents/<int:agent_id>/pause")
    def pause(agent_id: int) -> Response:
        reason = body().get("reason")
        if not isinstance(reason, str) or not reason.strip():
            raise ApiError(400, "reason (text) is required to pause")
        session = agent(agent_id)
        session.pause(reason.strip())
        return jsonify(describe(session))

    @app.post("/agents/<int:agent_id>/logout")
    def logout(agent_id: int) -> Response:
        agent(agent_id)
        core.logout(agent_id)
        return jsonify({"agent_id": agent_id, "state": "offline"})

    @app.get("/agents/<int:agent_id>")
    def show(agent_id: int) -> Response:
        return jsonify(describe(agent(agent_id)))

    @app.post("/agents/<int:agent_id>/preview/dial")
    def preview_dial(agent_id: int) -> Response:
        session = agent(agent_id)
        preview_runner(session).dial_card(agent_id)
        return jsonify(describe(session))

    @app.post("/agents/<int:agent_id>/preview/skip")
    def preview_skip(agent_id: int) -> Response:
        session = agent(agent_id)
        preview_runner(session).skip_card(agent_id)
        return jsonify(describe(session))

    @app.post("/agents/<int:agent_id>/call")
    def call(agent_id: int) -> Response:
        data = body()
        contact_id, phone_id = data.get("contact_id"), data.get("phone_id")
        if not _is_int(contact_id) or not (phone_id is None or _is_int(phone_id)):
            raise ApiError(400, "contact_id (an integer) is required; phone_id is an integer "
                                "or null")
        session = agent(agent_id)
        try:
            placed = call_contact(core, session, Target(contact_id, phone_id))
        except CallRefused as exc:
            raise ApiError(exc.status, str(exc)) from exc
        return jsonify({**describe(session), "attempt_id": placed.attempt_id})

    @app.get("/campaigns/<int:campaign_id>/pacing")
    def pacing(campaign_id: int) -> Response:
        runner = core.runners.get(campaign_id)
        if runner is None:
            raise ApiError(404, f"campaign {campaign_id} is not running")
        snapshot = getattr(runner, "pacing_snapshot", None)
        return jsonify({"campaign_id": campaign_id, "mode": runner.mode.value,
                        "pacing": snapshot() if snapshot else None})

    @app.post("/agents/<int:agent_id>/hangup")
    def hangup(agent_id: int) -> Response:
        session = agent(agent_id)
        call = core.calls.get(session.call_uuid or "")
        if call is None:
            raise ApiError(409, f"agent {agent_id} has no call to hang up")
        core.kill(call)
        return jsonify(describe(session))

    @app.post("/attempts/<int:attempt_id>/disposition")
    def disposition(attempt_id: int) -> Response:
        data = body()
        status, result = data.get("status"), data.get("result", {})
        consent = data.get("consent")
        if not isinstance(status, str) or not isinstance(result, dict):
            raise ApiError(400, "status (text) is required; result must be an object")
        if consent is not None and not isinstance(consent, bool):
            raise ApiError(400, "consent must be true or false")
        try:
            with transaction(core.sessions) as session:
                callback = dispose(session, attempt_id, status=status,
                                   agent_id=data.get("agent_id"), now=core.clock.now(),
                                   result=result, callback_at=data.get("callback_at"),
                                   consent=consent)
                due = callback.due_at.isoformat() if callback else None
        except DispositionError as exc:
            raise ApiError(400, str(exc)) from exc
        return jsonify({"attempt_id": attempt_id, "status": status, "callback_due_at": due})

    @app.get("/events")
    def events() -> Response:
        queue = hub.subscribe()
        return Response(_stream(hub, queue), mimetype="text/event-stream",
                        headers={"Cache-Control": "no-cache"})

    app.register_error_handler(AgentStateError, lambda exc: _error(409, str(exc)))
    return app


def _stream(hub: EventHub, queue: gevent.queue.Queue) -> Iterator[str]:
    try:
        yield ": connected\n\n"
        while True:
            try:
                kind, data = queue.get(timeout=KEEPALIVE_S)
            except gevent.queue.Empty:
                yield ": keep-alive\n\n"
                continue
            yield f"event: {kind}\ndata: {json.dumps(data)}\n\n"
    finally:
        hub.unsubscribe(queue)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _error(status: int, message: str) -> Response:
    response = jsonify({"error": message})
    response.status_code = status
    return response
