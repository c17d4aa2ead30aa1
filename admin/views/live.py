"""The supervisors' live view: the tenant's agents and their states, calls in progress, per
campaign the figures pacing is judged by and, for predictive campaigns, the engine's last pacing
decision; refreshed on every event of the engine's stream."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, current_app, render_template
from flask_babel import gettext
from flask_login import current_user
from sqlalchemy import case, func, select

from engine.store.models import (Agent, AgentStateLog, CallAttempt, Campaign, CampaignStatus,
                                 Contact, DialMode, Outcome)

from .. import masking
from ..access import STAFF, roles
from ..engine_client import EngineClient, EngineError, relay_response
from ..extensions import db, engine, state

bp = Blueprint("live", __name__, url_prefix="/live")

BUSY = ("reserved", "talking", "wrap_up")


@dataclass(frozen=True)
class AgentRow:
    id: int
    name: str
    state: str
    reason: str | None
    campaign_id: int | None
    since: datetime | None


def _agents(client: EngineClient) -> tuple[list[AgentRow], str | None]:
    """Every agent of the tenant as the engine's ``GET /agents`` sees it (offline when not
    logged in); ``since`` is the start of the agent's open state interval."""
    rows = db().execute(
        select(Agent.id, Agent.name, AgentStateLog.started_at)
        .outerjoin(AgentStateLog, (AgentStateLog.agent_id == Agent.id)
                   & AgentStateLog.ended_at.is_(None))
        .where(Agent.tenant_id == current_user.tenant_id).order_by(Agent.name)).all()
    try:
        seen, error = {a["agent_id"]: a for a in client.agents()}, None
    except EngineError as exc:
        seen, error = {}, str(exc)
    agents = []
    for agent_id, name, since in rows:
        engine_view = seen.get(agent_id)
        if engine_view is None:
            agents.append(AgentRow(agent_id, name, "offline", None, None, None))
        else:
            agents.append(AgentRow(agent_id, name, engine_view["state"],
                                   engine_view.get("reason"), engine_view.get("campaign_id"),
                                   since))
    return agents, error


def _pacing(client: EngineClient, campaign: Campaign) -> dict[str, Any] | None:
    """The engine's last pacing decision for a running predictive campaign, else None."""
    if campaign.mode != DialMode.PREDICTIVE or campaign.status != CampaignStatus.RUNNING:
        return None
    try:
        snapshot = client.pacing(campaign.id)
    except EngineError:
        return None  # said once on the page, from the agents' request
    if not snapshot:
        return None
    return {**snapshot, "at": _instant(snapshot.get("at"))}


def _instant(value: Any) -> datetime | None:
    """The ISO time of a pacing decision, aware UTC (None when missing or unreadable)."""
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
    if moment is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment


def _calls() -> list[dict[str, Any]]:
    masked = current_user.mask_numbers
    rows = db().execute(
        select(CallAttempt, Contact, Campaign.name, Agent.name)
        .join(Contact, Contact.id == CallAttempt.contact_id)
        .join(Campaign, Campaign.id == CallAttempt.campaign_id)
        .outerjoin(Agent, Agent.id == CallAttempt.agent_id)
        .where(CallAttempt.tenant_id == current_user.tenant_id, CallAttempt.ended_at.is_(None))
        .order_by(CallAttempt.id)).all()
    return [{"attempt": attempt, "contact": masking.contact_label(contact, masked),
             "number": masking.phone_text(attempt.number, masked), "campaign": campaign,
             "agent": agent or ""} for attempt, contact, campaign, agent in rows]


def _campaigns(client: EngineClient, agents: list[AgentRow],
               calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per running or paused campaign: agents by state, calls in progress, today's attempts,
    live answers, abandons and abandon rate against the campaign's cap, and for a predictive
    campaign the engine's pacing figures."""
    zone = ZoneInfo(current_app.config["DISPLAY_TIMEZONE"])
    today = datetime.combine(state().clock.now().astimezone(zone).date(), time(), zone)
    answered = CallAttempt.outcome.in_([Outcome.ANSWERED, Outcome.ABANDONED])
    counts = {row.campaign_id: row for row in db().execute(
        select(CallAttempt.campaign_id, func.count().label("attempts"),
               func.sum(case((answered, 1), else_=0)).label("answered"),
               func.sum(case((CallAttempt.outcome == Outcome.ABANDONED, 1), else_=0))
               .label("abandoned"))
        .where(CallAttempt.tenant_id == current_user.tenant_id,
               CallAttempt.created_at >= today, CallAttempt.created_at < today + timedelta(days=1))
        .group_by(CallAttempt.campaign_id))}
    campaigns = db().scalars(select(Campaign).where(
        Campaign.tenant_id == current_user.tenant_id,
        Campaign.status.in_([CampaignStatus.RUNNING, CampaignStatus.PAUSED]))
        .order_by(Campaign.name)).all()
    out = []
    for campaign in campaigns:
        mine = [a for a in agents if a.campaign_id == campaign.id]
        row = counts.get(campaign.id)
        answers, abandons = (row.answered or 0, row.abandoned or 0) if row else (0, 0)
        out.append({
            "campaign": campaign, "logged_in": len(mine),
            "ready": sum(a.state == "ready" for a in mine),
            "busy": sum(a.state in BUSY for a in mine),
            "paused": sum(a.state == "paused" for a in mine),
            "calls": sum(c["attempt"].campaign_id == campaign.id for c in calls),
            "attempts": row.attempts if row else 0, "answered": answers, "abandoned": abandons,
            "abandon_rate": abandons / answers if answers else None,
            "abandon_cap": (campaign.pacing or {}).get("abandon_cap"),
            "predictive": campaign.mode == DialMode.PREDICTIVE,
            "pacing": _pacing(client, campaign),
        })
    return out


def _context() -> dict[str, Any]:
    client = engine()
    agents, error = _agents(client)
    calls = _calls()
    return {"agents": agents, "calls": calls, "campaigns": _campaigns(client, agents, calls),
            "engine_error": error, "now": state().clock.now()}


@bp.route("/")
@roles(*STAFF)
def index():  # type: ignore[no-untyped-def]
    return render_template("_live_page.html", screen="live", title=gettext("Live"), **_context())


@bp.route("/panel")
@roles(*STAFF)
def panel():  # type: ignore[no-untyped-def]
    return render_template("live/_panel.html", **_context())


@bp.route("/events")
@roles(*STAFF)
def events() -> Response:
    """The engine's events about this tenant's agents only."""
    mine = set(db().scalars(select(Agent.id).where(Agent.tenant_id == current_user.tenant_id)))
    return relay_response(engine(), lambda data: data.get("agent_id") in mine)
