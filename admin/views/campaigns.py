"""Campaigns: list, create, edit, and start / pause / stop (stored; the daemon follows the DB)."""

from __future__ import annotations

import logging
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user
from sqlalchemy import func, select

from engine.store.models import (
    Campaign,
    CampaignLease,
    CampaignStatus,
    ContactList,
    DialMode,
    Role,
)

from .. import campaign_settings as cs
from .. import campaign_status, script_doc
from ..access import STAFF, roles, tenant_get
from ..extensions import db, state
from ..labels import label

bp = Blueprint("campaigns", __name__, url_prefix="/campaigns")
log = logging.getLogger(__name__)

STRATEGY_EXAMPLE = """phone_order: [mobile, work, home]
windows: {weekdays: "09:00-21:00", sat: "10:00-18:00", sun: null}
max_attempts_per_phone: 5
retry_minutes: {busy: 15, no_answer: 120, invalid_number: disable}
caps: {day: 2, week: 6}
"""


@bp.route("/")
@roles(*STAFF)
def index():  # type: ignore[no-untyped-def]
    rows = db().execute(
        select(Campaign, func.count(ContactList.id), CampaignLease.engine,
               CampaignLease.expires_at)
        .outerjoin(ContactList, ContactList.campaign_id == Campaign.id)
        .outerjoin(CampaignLease, CampaignLease.campaign_id == Campaign.id)
        .where(Campaign.tenant_id == current_user.tenant_id)
        .group_by(Campaign.id, CampaignLease.engine, CampaignLease.expires_at)
        .order_by(Campaign.name)
    ).all()
    return render_template("campaigns/index.html", rows=rows, now=state().clock.now(),
                           actions_for=campaign_status.actions_for)


def _form_values(campaign: Campaign | None) -> dict[str, str]:
    if campaign is None:
        return {"mode": DialMode.PROGRESSIVE.value, "timezone": "Europe/Moscow",
                "strategy": STRATEGY_EXAMPLE, "pacing": "abandon_cap: 0.03\n"}
    script = script_doc.parse(campaign.script)
    return {
        "name": campaign.name, "mode": campaign.mode.value, "timezone": campaign.timezone,
        "caller_id_number": campaign.caller_id_number, "caller_id_name": campaign.caller_id_name,
        "gateway": campaign.gateway, "advertising": "on" if campaign.advertising else "",
        "strategy": cs.to_yaml(campaign.strategy), "pacing": cs.to_yaml(campaign.pacing),
        "amd": cs.to_yaml(campaign.amd), "ivr": cs.to_yaml(campaign.ivr),
        "recording": cs.to_yaml(campaign.recording), "script": script.body,
        "hints": "\n".join(script.hints), "objections": cs.to_yaml(script.objections),
        "result_fields": cs.to_yaml(campaign.result_fields),
    }


def _parse_form(form: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """Stored values from the submitted form, and an error per field (empty when all good)."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    name = form.get("name", "").strip()
    if not name or len(name) > 200:
        errors["name"] = gettext("A name of 1 to 200 characters is required.")
    values["name"] = name
    try:
        values["mode"] = DialMode(form.get("mode", ""))
    except ValueError:
        errors["mode"] = gettext("Choose a dialing mode.")
    zone = form.get("timezone", "").strip() or "Europe/Moscow"
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        errors["timezone"] = gettext("Unknown time zone %(zone)s.", zone=zone)
        zone = "UTC"
    values["timezone"] = zone
    for key, limit in (("caller_id_number", 32), ("caller_id_name", 80), ("gateway", 255)):
        values[key] = form.get(key, "").strip()
        if len(values[key]) > limit:
            errors[key] = gettext("At most %(n)s characters.", n=limit)
    values["advertising"] = form.get("advertising") == "on"
    parsers = {
        "strategy": lambda text: cs.parse_strategy(text, zone),
        "pacing": cs.parse_pacing,
        "amd": lambda text: cs.parse_mapping("amd", text),
        "ivr": lambda text: cs.parse_mapping("ivr", text),
        "recording": lambda text: cs.parse_mapping("recording", text),
        "result_fields": cs.parse_result_fields,
        "objections": cs.parse_objections,
    }
    for key, parse in parsers.items():
        try:
            values[key] = parse(form.get(key, ""))
        except cs.SettingsError as exc:
            errors[key] = str(exc)
    if "objections" not in errors:
        script = script_doc.Script(form.get("script", ""), form.get("hints", "").splitlines(),
                                   values.pop("objections"))
        try:
            values["script"] = script_doc.compose(script)
        except script_doc.ScriptError as exc:
            errors["script"] = str(exc)
    return values, errors


def _name_taken(name: str, campaign_id: int | None) -> bool:
    query = select(Campaign.id).where(Campaign.tenant_id == current_user.tenant_id,
                                      Campaign.name == name)
    return any(found != campaign_id for found in db().scalars(query))


def _edit(campaign: Campaign | None):  # type: ignore[no-untyped-def]
    form = dict(request.form) if request.method == "POST" else _form_values(campaign)
    errors: dict[str, str] = {}
    if request.method == "POST":
        values, errors = _parse_form(form)
        if not errors.get("name") and _name_taken(values["name"], campaign and campaign.id):
            errors["name"] = gettext("A campaign with this name exists already.")
        if not errors:
            now = state().clock.now()
            if campaign is None:
                campaign = Campaign(tenant_id=current_user.tenant_id, created_at=now)
                db().add(campaign)
            for key, value in values.items():
                setattr(campaign, key, value)
            campaign.updated_at = now
            db().commit()
            log.info("campaign %s saved by user %s", campaign.id, current_user.id)
            flash(gettext("Campaign saved."), "ok")
            return redirect(url_for("campaigns.edit", campaign_id=campaign.id))
    status = 400 if errors else 200
    return render_template("campaigns/edit.html", campaign=campaign, form=form, errors=errors,
                           modes=list(DialMode)), status


@bp.route("/new", methods=["GET", "POST"])
@roles(Role.ADMIN)
def create():  # type: ignore[no-untyped-def]
    return _edit(None)


@bp.route("/<int:campaign_id>", methods=["GET", "POST"])
@roles(*STAFF)
def edit(campaign_id: int):  # type: ignore[no-untyped-def]
    campaign = tenant_get(Campaign, campaign_id)
    if request.method == "POST" and current_user.role is not Role.ADMIN:
        abort(403)
    return _edit(campaign)


@bp.route("/<int:campaign_id>/<action>", methods=["POST"])
@roles(*STAFF)
def change_status(campaign_id: int, action: str):  # type: ignore[no-untyped-def]
    campaign = tenant_get(Campaign, campaign_id)
    try:
        new_status = campaign_status.apply(action, CampaignStatus(campaign.status))
    except campaign_status.TransitionError as exc:
        flash(str(exc), "error")
        return redirect(url_for("campaigns.index"))
    campaign.status = new_status
    campaign.updated_at = state().clock.now()
    db().commit()
    log.info("campaign %s -> %s by user %s", campaign.id, new_status.value, current_user.id)
    flash(gettext("Campaign %(name)s is now %(status)s.", name=campaign.name,
                  status=label(new_status.value)), "ok")
    return redirect(url_for("campaigns.index"))
