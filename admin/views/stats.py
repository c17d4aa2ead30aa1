"""Statistics: per status and per agent (with the honesty check), agent time, abandons, AMD."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from .. import statistics
from ..access import STAFF, roles
from ..extensions import db, state
from engine.leads import statuses_for

from ..statuses import status_label
from .reports import report_choices, request_report_filter

bp = Blueprint("stats", __name__, url_prefix="/statistics")


def duration(seconds: float) -> str:
    minutes = int(seconds // 60)
    return f"{minutes // 60}:{minutes % 60:02d}"


@bp.route("/")
@roles(*STAFF)
def index():  # type: ignore[no-untyped-def]
    report = request_report_filter()
    tenant_id = current_user.tenant_id
    statuses = statuses_for(db(), tenant_id)
    names = {s.code: s.name for s in statuses}
    by_agent = statistics.statuses_by_agent(db(), tenant_id, report)
    averages = statistics.average_shares(by_agent)
    codes = [s.code for s in statuses if any(s.code in a.by_status for a in by_agent)]
    order = {s.code: s.position for s in statuses}
    called = sorted(statistics.statuses_called(db(), tenant_id, report),
                    key=lambda row: (order.get(row.code, 10**6), row.code))
    return render_template(
        "stats.html", report=report, choices=report_choices(), by_agent=by_agent,
        averages=averages, flags={a.agent_id: statistics.flag_rates(a, averages) for a in by_agent},
        codes=codes, called=called,
        times=statistics.agent_time(db(), tenant_id, report, state().clock.now()),
        campaigns=statistics.campaign_calls(db(), tenant_id, report),
        label_of=lambda code: status_label(code, names), duration=duration,
    )
