"""Leads: the filtered, sorted, keyset-paginated table with per-user columns, and JSON; the lead
card with its one-click call."""

from __future__ import annotations

from dataclasses import replace
from zoneinfo import ZoneInfo

from flask import (Blueprint, abort, current_app, flash, jsonify, redirect, render_template,
                   request, url_for)
from flask_babel import gettext
from flask_login import current_user, login_required
from sqlalchemy import select

from engine.store.models import (
    Agent,
    CallAttempt,
    Campaign,
    Contact,
    ContactList,
    LeadStatus,
    LeadStatusChange,
    Role,
    Team,
    User,
)

from .. import lead_rows, masking
from ..access import roles, tenant_get
from ..engine_client import EngineError
from ..extensions import db, engine
from ..leads_query import Cursor, FilterError, LeadFilter, page
from engine.leads import statuses_for

from ..statuses import status_label

bp = Blueprint("leads", __name__, url_prefix="/leads")


def display_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["DISPLAY_TIMEZONE"])


def request_filter() -> LeadFilter:
    """The filter in the query string; an agent only ever sees the leads assigned to them."""
    try:
        flt = LeadFilter.from_args(request.args.to_dict(flat=False))
    except FilterError as exc:
        abort(400, description=str(exc))
    if current_user.is_agent:
        flt = replace(flt, agent_id=current_user.agent_id or -1, team_id=None)
    return flt


def status_names() -> dict[str, str]:
    return {s.code: s.name for s in statuses_for(db(), current_user.tenant_id)}


def _choices() -> dict[str, object]:
    tenant_id = current_user.tenant_id
    statuses = statuses_for(db(), tenant_id)
    return {
        "statuses": [(s.code, status_label(s.code, {s.code: s.name})) for s in statuses],
        "campaigns": db().execute(select(Campaign.id, Campaign.name)
                                  .where(Campaign.tenant_id == tenant_id).order_by(Campaign.name)).all(),
        "lists": db().execute(select(ContactList.id, ContactList.name)
                              .where(ContactList.tenant_id == tenant_id).order_by(ContactList.name)).all(),
        "agents": db().execute(select(Agent.id, Agent.name)
                               .where(Agent.tenant_id == tenant_id).order_by(Agent.name)).all(),
        "teams": db().execute(select(Team.id, Team.name)
                              .where(Team.tenant_id == tenant_id).order_by(Team.name)).all(),
    }


@bp.route("/")
@login_required
def index():  # type: ignore[no-untyped-def]
    flt = request_filter()
    after, before = request.args.get("after"), request.args.get("before")
    try:
        cursor = Cursor.decode(before, "before") if before else (
            Cursor.decode(after, "after") if after else None)
    except FilterError as exc:
        abort(400, description=str(exc))
    result = page(db(), current_user.tenant_id, flt, display_zone(),
                  limit=current_app.config["PAGE_SIZE"], cursor=cursor, backward=bool(before))
    columns = lead_rows.chosen_columns(_preferences())
    rows = lead_rows.build_rows(db(), result.contacts, current_user.mask_numbers, status_names())
    if request.args.get("format") == "json":
        return jsonify(leads=[row.as_json(columns) for row in rows], next=result.next_cursor,
                       prev=result.prev_cursor, count=result.count,
                       count_capped=result.count_capped)
    return render_template("leads/index.html", rows=rows, result=result, flt=flt,
                           columns=columns, choices=_choices(), args=flt.to_args(),
                           all_columns={key: str(title) for key, title in lead_rows.COLUMNS.items()},
                           card_url=url_for("leads.index"),
                           recording_url=url_for("recordings.play", attempt_id=0)[:-1],
                           download_title=gettext("Download"))


def _preferences() -> dict[str, object]:
    return db().scalar(select(User.preferences).where(User.id == current_user.id)) or {}


@bp.route("/columns", methods=["POST"])
@login_required
def columns():  # type: ignore[no-untyped-def]
    """Remember the columns this user chose for the leads table."""
    chosen = [key for key in lead_rows.COLUMNS if key in request.form.getlist("column")]
    user = db().get(User, current_user.id)
    user.preferences = {**(user.preferences or {}), "lead_columns": chosen}
    db().commit()
    return redirect(url_for("leads.index", **request.args.to_dict(flat=False)))


def visible_lead(lead_id: int) -> Contact:
    """The lead if the user may open it (tenant, and for agents their own), else 404."""
    contact = tenant_get(Contact, lead_id)
    if current_user.is_agent and contact.assigned_agent_id != current_user.agent_id:
        abort(404)
    return contact


@bp.route("/<int:lead_id>")
@login_required
def card(lead_id: int):  # type: ignore[no-untyped-def]
    contact = visible_lead(lead_id)
    masked = current_user.mask_numbers
    statuses = statuses_for(db(), current_user.tenant_id)
    names = {s.code: s.name for s in statuses}
    history = db().execute(
        select(LeadStatusChange, User.username, Agent.name.label("agent"))
        .outerjoin(User, User.id == LeadStatusChange.user_id)
        .outerjoin(Agent, Agent.id == LeadStatusChange.agent_id)
        .where(LeadStatusChange.contact_id == contact.id)
        .order_by(LeadStatusChange.changed_at, LeadStatusChange.id)).all()
    calls = db().execute(
        select(CallAttempt, Agent.name.label("agent"))
        .outerjoin(Agent, Agent.id == CallAttempt.agent_id)
        .where(CallAttempt.contact_id == contact.id)
        .order_by(CallAttempt.created_at.desc(), CallAttempt.id.desc())).all()
    row = lead_rows.build_rows(db(), [contact], masked, names)[0]
    passed = {change.LeadStatusChange.to_status for change in history} | {contact.status}
    return render_template(
        "leads/card.html", contact=contact, row=row, history=history, calls=calls,
        progress=progress_steps(statuses, passed, contact.status),
        phones=[(masking.phone_text(p.number, masked), p) for p in contact.phones],
        fields=masking.contact_fields(contact, masked), label_of=lambda code: status_label(code, names),
        can_call=_seat_logged_in(),
    )


def _seat_logged_in() -> bool:
    """Whether the user is an agent whose seat is logged in to the engine (one-click calls)."""
    if not current_user.is_agent or current_user.agent_id is None:
        return False
    try:
        return engine().agent(current_user.agent_id) is not None
    except EngineError:
        return False


@bp.post("/<int:lead_id>/call")
@roles(Role.AGENT)
def call(lead_id: int):  # type: ignore[no-untyped-def]
    """One-click call: the engine reserves the agent's seat and dials this lead (one phone, or
    the one the strategy picks); a refusal (DNC, calling window, caps, busy) is shown here."""
    contact = visible_lead(lead_id)
    if current_user.agent_id is None:
        abort(403)
    phone_id = request.form.get("phone_id", type=int)
    if phone_id is not None and phone_id not in {phone.id for phone in contact.phones}:
        abort(404)
    try:
        engine().call(current_user.agent_id, contact.id, phone_id)
    except EngineError as exc:
        reason = masking.reason_text(str(exc), current_user.mask_numbers)
        flash(gettext("The call was not placed: %(reason)s", reason=reason), "error")
        return redirect(url_for("leads.card", lead_id=contact.id))
    flash(gettext("Calling %(name)s…", name=masking.contact_label(contact,
                                                                 current_user.mask_numbers)), "ok")
    return redirect(url_for("desktop.index"))


def progress_steps(statuses: list[LeadStatus], passed: set[str],
                   current: str) -> list[tuple[str, str]]:
    """(code, css state) for the progress bar: the working path, plus a lost end if reached."""
    steps = []
    for status in statuses:
        if status.category == "lost" and status.code != current:
            continue
        if status.code == current:
            state = "lost" if status.category == "lost" else "current"
        else:
            state = "passed" if status.code in passed else ""
        steps.append((status.code, state))
    if current not in {s.code for s in statuses}:
        steps.append((current, "current"))
    return steps
