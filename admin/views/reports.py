"""What the funnel and statistics pages share: the report filter and its choices."""

from __future__ import annotations

from flask import abort, request
from flask_login import current_user
from sqlalchemy import select

from engine.store.models import Agent, Campaign, Team, User

from ..dates import DateError
from ..extensions import db, state
from ..report_filter import ReportFilter
from .leads import display_zone


def request_report_filter() -> ReportFilter:
    try:
        return ReportFilter.from_args(request.args.to_dict(), state().clock.now(), display_zone())
    except DateError as exc:
        abort(400, description=str(exc))


def report_choices() -> dict[str, object]:
    tenant_id = current_user.tenant_id
    return {
        "agents": db().execute(select(Agent.id, Agent.name).where(Agent.tenant_id == tenant_id)
                               .order_by(Agent.name)).all(),
        "team_leads": db().execute(
            select(User.id, User.username).join(Team, Team.lead_user_id == User.id)
            .where(Team.tenant_id == tenant_id).distinct().order_by(User.username)).all(),
        "campaigns": db().execute(select(Campaign.id, Campaign.name)
                                  .where(Campaign.tenant_id == tenant_id)
                                  .order_by(Campaign.name)).all(),
    }
