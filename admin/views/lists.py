"""Lists: the tenant's contact lists and CSV upload with column mapping, preview and progress."""

from __future__ import annotations

import logging
from pathlib import Path

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext
from flask_login import current_user
from sqlalchemy import func, select

from engine.exchange.targets import TargetError, ensure_list
from engine.store.models import Agent, Campaign, Contact, ContactList, Role, Team, Tenant

from .. import distribution, uploads
from ..access import STAFF, roles, tenant_get
from ..extensions import db, state

bp = Blueprint("lists", __name__, url_prefix="/lists")
log = logging.getLogger(__name__)


def _store() -> uploads.UploadStore:
    return uploads.UploadStore(Path(current_app.config["UPLOAD_DIR"]), current_user.tenant_id)


def _folder_or_404(token: str) -> uploads.UploadStore:
    store = _store()
    try:
        store.folder(token)
    except uploads.UploadError:
        abort(404)
    return store


def _campaigns():  # type: ignore[no-untyped-def]
    return db().execute(select(Campaign.id, Campaign.name)
                        .where(Campaign.tenant_id == current_user.tenant_id)
                        .order_by(Campaign.name)).all()


@bp.route("/")
@roles(*STAFF)
def index():  # type: ignore[no-untyped-def]
    rows = db().execute(
        select(ContactList, Campaign.name, func.count(Contact.id))
        .outerjoin(Campaign, Campaign.id == ContactList.campaign_id)
        .outerjoin(Contact, Contact.list_id == ContactList.id)
        .where(ContactList.tenant_id == current_user.tenant_id)
        .group_by(ContactList.id, Campaign.name).order_by(ContactList.created_at.desc())
    ).all()
    return render_template("lists/index.html", rows=rows, campaigns=_campaigns())


@bp.route("/upload", methods=["POST"])
@roles(Role.ADMIN)
def upload():  # type: ignore[no-untyped-def]
    file = request.files.get("file")
    if file is None or not file.filename:
        flash(gettext("Choose a CSV file to upload."), "error")
        return redirect(url_for("lists.index"))
    try:
        token = _store().create(file.filename, file.stream)
    except uploads.UploadError as exc:
        flash(str(exc), "error")
        return redirect(url_for("lists.index"))
    log.info("user %s uploaded a list file (token %s…)", current_user.id, token[:6])
    return redirect(url_for("lists.mapping", token=token))


@bp.route("/upload/<token>", methods=["GET", "POST"])
@roles(Role.ADMIN)
def mapping(token: str):  # type: ignore[no-untyped-def]
    """Preview the file, choose a target per column, a campaign and a list name; import."""
    store = _folder_or_404(token)
    job = store.job(token)
    if job.state != "uploaded":
        return redirect(url_for("lists.progress", token=token))
    try:
        preview = store.preview(token, current_user.mask_numbers)
    except uploads.UploadError as exc:
        flash(str(exc), "error")
        return redirect(url_for("lists.index"))
    error = ""
    targets = preview.guesses
    list_name = request.form.get("list_name", "").strip() or Path(job.filename).stem
    campaign_id = request.form.get("campaign", "")
    if request.method == "POST":
        targets = request.form.getlist("target")
        try:
            mapping_ = uploads.build_mapping(preview.headers, targets, preview.encoding,
                                             preview.delimiter)
            campaign = tenant_get(Campaign, int(campaign_id)) if campaign_id.isdigit() else None
            tenant = db().get(Tenant, current_user.tenant_id)
            contact_list = ensure_list(db(), tenant, list_name[:200], campaign, state().clock)
            db().commit()
        except (uploads.UploadError, TargetError) as exc:
            db().rollback()
            error = str(exc)
        else:
            job.list_name, job.campaign_id = contact_list.name, campaign and campaign.id
            store.save(token, job)
            uploads.run_import(store, token, state().session_factory,
                               tenant_id=current_user.tenant_id, list_id=contact_list.id,
                               mapping=mapping_, region=state().settings.default_region,
                               clock=state().clock, masked=current_user.mask_numbers)
            return redirect(url_for("lists.progress", token=token))
    return render_template("lists/mapping.html", token=token, job=job, preview=preview,
                           targets=targets, choices=uploads.TARGETS, error=error,
                           list_name=list_name, campaign_id=campaign_id,
                           campaigns=_campaigns()), 400 if error else 200


@bp.route("/upload/<token>/progress")
@roles(*STAFF)
def progress(token: str):  # type: ignore[no-untyped-def]
    store = _folder_or_404(token)
    job = store.job(token)
    if request.args.get("format") == "json":
        return jsonify(uploads.job_json(job))
    has_rejects = (store.folder(token) / "rejects.csv").is_file() and job.counts.get("rejected")
    return render_template("lists/progress.html", token=token, job=job, has_rejects=has_rejects)


@bp.route("/upload/<token>/rejects.csv")
@roles(*STAFF)
def rejects(token: str):  # type: ignore[no-untyped-def]
    store = _folder_or_404(token)
    path = store.folder(token) / "rejects.csv"
    if not path.is_file():
        abort(404)
    stem = Path(store.job(token).filename).stem or "list"
    return send_file(path, mimetype="text/csv", as_attachment=True,
                     download_name=f"{stem}-rejects.csv", max_age=0)


@bp.route("/<int:list_id>/distribute", methods=["GET", "POST"])
@roles(Role.ADMIN)
def distribute(list_id: int):  # type: ignore[no-untyped-def]
    """Give the list's unassigned leads to the chosen agents, or to a team's agents."""
    contact_list = tenant_get(ContactList, list_id)
    tenant_id = current_user.tenant_id
    agents = db().execute(select(Agent.id, Agent.name, Agent.team_id)
                          .where(Agent.tenant_id == tenant_id, Agent.active)
                          .order_by(Agent.name)).all()
    teams = db().execute(select(Team.id, Team.name).where(Team.tenant_id == tenant_id)
                         .order_by(Team.name)).all()
    if request.method == "POST":
        team = request.form.get("team", "")
        chosen = {int(v) for v in request.form.getlist("agent") if v.isdigit()}
        ids = [a.id for a in agents if a.id in chosen or (team.isdigit() and a.team_id == int(team))]
        if not ids:
            flash(gettext("Choose agents or a team."), "error")
        else:
            count = distribution.distribute(db(), tenant_id, contact_list.id, ids,
                                            current_user.id, state().clock.now())
            log.info("user %s distributed %s leads of list %s to %s agents", current_user.id,
                     count, contact_list.id, len(ids))
            flash(gettext("%(n)s leads distributed to %(m)s agents.", n=count, m=len(ids)), "ok")
            return redirect(url_for("lists.index"))
    unassigned = db().scalar(select(func.count()).where(
        Contact.list_id == contact_list.id, Contact.assigned_agent_id.is_(None)))
    return render_template("lists/distribute.html", contact_list=contact_list, agents=agents,
                           teams=teams, unassigned=unassigned)
