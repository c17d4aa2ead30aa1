"""Funnel: conversion from one status to another by period, agent and team lead."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user

from .. import funnel
from ..access import STAFF, roles
from ..extensions import db
from engine.leads import statuses_for

from ..statuses import status_label
from .reports import report_choices, request_report_filter

bp = Blueprint("funnel", __name__, url_prefix="/funnel")


@bp.route("/")
@roles(*STAFF)
def index():  # type: ignore[no-untyped-def]
    report = request_report_filter()
    statuses = statuses_for(db(), current_user.tenant_id)
    codes = [s.code for s in statuses]
    success = [s.code for s in statuses if s.category == "success"]
    from_status = request.args.get("from_status") or "assigned"
    to_status = request.args.get("to_status") or (success[0] if success else "client_interested")
    start, end = report.span
    query = funnel.FunnelQuery(current_user.tenant_id, from_status, to_status, start, end,
                               report.agent_id, report.team_lead_id, report.campaign_id)
    result = funnel.run(db(), query, codes, {s.code for s in statuses if s.category == "lost"})
    names = {s.code: s.name for s in statuses}
    return render_template("funnel.html", result=result, report=report, query=query,
                           statuses=statuses, choices=report_choices(),
                           label_of=lambda code: status_label(code, names))
