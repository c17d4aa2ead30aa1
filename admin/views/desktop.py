"""The agent desktop: ready / pause, preview cards, the call card with the campaign script,
result fields, disposition and callback, live from the engine's event stream.

Every action goes through the admin to the engine's control API (the browser never holds the
API token) and only ever for the signed-in agent's own seat.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user
from sqlalchemy import select

from engine.leads import statuses_for
from engine.store.models import CallAttempt, Campaign, CampaignStatus, Contact, DialMode, Role
from engine.strategy.windows import local_time
from engine.strategy.zones import customer_zone

from .. import masking, script_doc
from ..access import roles
from ..engine_client import EngineError, relay_response
from ..extensions import db, engine, state
from ..statuses import status_label

bp = Blueprint("desktop", __name__, url_prefix="/desktop")

_ACTIONS = {"ready": "ready", "logout": "logout", "hangup": "hangup",
            "dial": "preview/dial", "skip": "preview/skip"}


class ResultError(ValueError):
    """A result field the agent filled wrongly; the message names the field."""


def seat() -> int:
    """The signed-in agent's own seat (403 for an agent user without one)."""
    if current_user.agent_id is None:
        abort(403)
    return current_user.agent_id


def contact_zone(contact: Contact, campaign: Campaign) -> str:
    """The zone a callback time is read in, by the rule the engine's disposition uses."""
    return customer_zone(contact.timezone, contact.region,
                         [phone.number for phone in contact.phones], campaign.timezone)


def read_result(fields: list[dict[str, Any]], form: dict[str, str]) -> dict[str, Any]:
    """The campaign's result fields from the submitted form, typed and checked."""
    result: dict[str, Any] = {}
    for item in fields:
        name, kind = item["name"], item.get("type", "text")
        title = item.get("label") or name
        raw = form.get(f"field_{name}", "").strip()
        if kind == "bool":
            result[name] = raw == "on"
            continue
        if not raw:
            if item.get("required"):
                raise ResultError(gettext("%(field)s is required", field=title))
            continue
        if kind == "number":
            try:
                result[name] = float(raw) if any(c in raw for c in ".eE") else int(raw)
            except ValueError:
                raise ResultError(gettext("%(field)s: %(value)s is not a number",
                                          field=title, value=raw)) from None
        elif kind == "choice" and raw not in [str(o) for o in item.get("options", [])]:
            raise ResultError(gettext("%(field)s: %(value)s is not one of the options",
                                      field=title, value=raw))
        elif kind == "date":
            try:
                result[name] = date.fromisoformat(raw).isoformat()
            except ValueError:
                raise ResultError(gettext("%(field)s: %(value)s is not a date (YYYY-MM-DD)",
                                          field=title, value=raw)) from None
        else:
            result[name] = raw
    return result


@dataclass(frozen=True)
class CallCard:
    """The connected (or just ended, not yet disposed) call as the agent sees it."""

    attempt: CallAttempt
    contact: Contact
    campaign: Campaign
    zone: str
    local_now: datetime
    script: script_doc.Script


def _contact_view(contact: Contact, number: str | None) -> dict[str, Any]:
    masked = current_user.mask_numbers
    return {"id": contact.id, "label": masking.contact_label(contact, masked),
            "number": masking.phone_text(number, masked),
            "fields": masking.contact_fields(contact, masked),
            "status": status_label(contact.status)}


def _call_card(agent_id: int) -> CallCard | None:
    """The agent's last call if it was connected and still waits for a disposition (the
    engine announces a call or agent state only once it is stored)."""
    attempt = db().scalar(select(CallAttempt).where(
        CallAttempt.agent_id == agent_id, CallAttempt.tenant_id == current_user.tenant_id)
        .order_by(CallAttempt.id.desc()).limit(1))
    if attempt is None or attempt.bridged_at is None or attempt.disposition is not None:
        return None
    contact = db().get(Contact, attempt.contact_id)
    campaign = db().get(Campaign, attempt.campaign_id)
    zone = contact_zone(contact, campaign)
    return CallCard(attempt, contact, campaign, zone, local_time(state().clock.now(), zone),
                    script_doc.parse(campaign.script))


def _preview_card(card: dict[str, Any] | None) -> dict[str, Any] | None:
    if not card:
        return None
    contact = db().get(Contact, card["contact_id"])
    if contact is None or contact.tenant_id != current_user.tenant_id:
        return None
    return _contact_view(contact, card.get("number"))


def _panel_context() -> dict[str, Any]:
    agent_id = seat()
    error = None
    try:
        agent = engine().agent(agent_id)
    except EngineError as exc:
        agent, error = None, str(exc)
    call = _call_card(agent_id) if agent else None
    campaigns = db().scalars(select(Campaign).where(
        Campaign.tenant_id == current_user.tenant_id, Campaign.status == CampaignStatus.RUNNING,
        Campaign.mode != DialMode.IVR).order_by(Campaign.name)).all()
    names = {s.code: s.name for s in statuses_for(db(), current_user.tenant_id)}
    # an inbound call's card comes with the call: it is shown as the call card, from its attempt
    card = agent.get("card") if agent else None
    preview = _preview_card(card) if card and not card.get("inbound") else None
    return {
        "agent": agent, "engine_error": error, "campaigns": campaigns,
        "preview": preview,
        "call": call,
        "call_contact": _contact_view(call.contact, call.attempt.number) if call else None,
        "statuses": [(code, status_label(code, names)) for code in names],
        "key": f"call-{call.attempt.id}" if call else (
            f"card-{preview['id']}" if preview else
            f"unknown-{agent['call_uuid']}" if agent and agent["state"] == "talking"
            and not agent.get("attempt_id") else "idle"),
    }


@bp.route("/")
@roles(Role.AGENT)
def index():  # type: ignore[no-untyped-def]
    return render_template("_live_page.html", screen="desktop", title=gettext("Desktop"),
                           **_panel_context())


@bp.route("/panel")
@roles(Role.AGENT)
def panel():  # type: ignore[no-untyped-def]
    """The live part of the page, re-read by the page's script on every event."""
    return render_template("desktop/_panel.html", **_panel_context())


@bp.route("/events")
@roles(Role.AGENT)
def events() -> Response:
    """The engine's event stream, only this agent's events, without contact data."""
    agent_id = seat()
    return relay_response(engine(), lambda data: data.get("agent_id") == agent_id)


def refused(exc: EngineError) -> None:
    """The engine's refusal as a message (numbers masked for a masking tenant)."""
    flash(gettext("The engine refused: %(reason)s",
                  reason=masking.reason_text(str(exc), current_user.mask_numbers)), "error")


def _done(action: Any) -> Response:
    """Run an engine action; its refusal becomes a message on the desktop."""
    try:
        action()
    except EngineError as exc:
        refused(exc)
    return redirect(url_for("desktop.index"))


@bp.post("/join")
@roles(Role.AGENT)
def join():  # type: ignore[no-untyped-def]
    agent_id = seat()
    campaign = db().get(Campaign, request.form.get("campaign_id", type=int) or -1)
    if campaign is None or campaign.tenant_id != current_user.tenant_id:
        abort(404)
    return _done(lambda: engine().login(agent_id, campaign.id))


@bp.post("/pause")
@roles(Role.AGENT)
def pause():  # type: ignore[no-untyped-def]
    agent_id = seat()
    reason = request.form.get("reason", "").strip()
    if not reason:
        flash(gettext("Choose or type a reason to pause."), "error")
        return redirect(url_for("desktop.index"))
    return _done(lambda: engine().pause(agent_id, reason[:120]))


@bp.post("/<any(ready, logout, hangup, dial, skip):action>")
@roles(Role.AGENT)
def act(action: str):  # type: ignore[no-untyped-def]
    agent_id = seat()
    return _done(lambda: engine().action(agent_id, _ACTIONS[action]))


@bp.post("/dispose/<int:attempt_id>")
@roles(Role.AGENT)
def dispose(attempt_id: int):  # type: ignore[no-untyped-def]
    """Status, result fields, consent and an optional callback (customer's local time)."""
    agent_id = seat()
    attempt = db().get(CallAttempt, attempt_id)
    if attempt is None or attempt.tenant_id != current_user.tenant_id \
            or attempt.agent_id != agent_id:
        abort(404)
    campaign = db().get(Campaign, attempt.campaign_id)
    status = request.form.get("status", "")
    if status not in {s.code for s in statuses_for(db(), current_user.tenant_id)}:
        flash(gettext("Choose a status."), "error")
        return redirect(url_for("desktop.index"))
    try:
        result = read_result(campaign.result_fields or [], request.form.to_dict())
    except ResultError as exc:
        flash(str(exc), "error")
        return redirect(url_for("desktop.index"))
    callback_at = request.form.get("callback_at", "").strip().replace("T", " ") or None
    try:
        engine().dispose(attempt_id, agent_id=agent_id, status=status, result=result,
                         callback_at=callback_at, consent=request.form.get("consent") == "on")
    except EngineError as exc:
        refused(exc)
        return redirect(url_for("desktop.index"))
    flash(gettext("Saved."), "ok")
    return redirect(url_for("desktop.index"))
