"""Statistics: the honesty check, agent time and occupancy, abandon rate, AMD results.

Query functions return plain dataclasses; the rules that flag a figure are pure functions
(``flag_rates``, ``occupancy``) so they can be tested without a database.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, case, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from engine.pacing.settings import PacingSettings, PacingSettingsError
from engine.store.models import (
    INBOUND,
    Agent,
    AgentStateLog,
    CallAttempt,
    Campaign,
    Contact,
    ContactList,
    LeadStatusChange,
    Outcome,
    Team,
)

from .report_filter import ReportFilter

WORK_STATES = ("talking", "wrap_up")
AVAILABLE_STATES = ("ready", "reserved", "talking", "wrap_up")
RATE_ALERT_FACTOR = 2.0  # an agent's share of a status this many times the average stands out
RATE_ALERT_MIN = 3  # ... when it counts at least this many leads


@dataclass
class AgentStatuses:
    agent_id: int
    name: str
    by_status: dict[str, int] = field(default_factory=dict)  # status set by the agent
    without_call: dict[str, int] = field(default_factory=dict)  # of those, with no call

    @property
    def total(self) -> int:
        return sum(self.by_status.values())

    @property
    def total_without_call(self) -> int:
        return sum(self.without_call.values())

    def share(self, code: str) -> float:
        return 100.0 * self.by_status.get(code, 0) / self.total if self.total else 0.0


@dataclass(frozen=True)
class StatusCalled:
    code: str
    leads: int
    called: int  # leads with at least one call attempt

    @property
    def not_called(self) -> int:
        return self.leads - self.called


@dataclass
class AgentTime:
    agent_id: int
    name: str
    seconds: dict[str, float] = field(default_factory=dict)  # per state, clipped to the period
    calls: int = 0
    results: dict[str, int] = field(default_factory=dict)  # dispositions

    @property
    def in_system(self) -> float:
        return sum(s for state, s in self.seconds.items() if state != "offline")

    @property
    def occupancy(self) -> float | None:
        return occupancy(self.seconds)


@dataclass(frozen=True)
class CampaignCalls:
    campaign_id: int
    name: str
    attempts: int
    live: int  # humans answered: talked or abandoned
    abandoned: int
    cap: float
    amd: dict[str, int]

    @property
    def abandon_rate(self) -> float:
        return self.abandoned / self.live if self.live else 0.0

    @property
    def over_cap(self) -> bool:
        return self.abandon_rate > self.cap


def occupancy(seconds: dict[str, float]) -> float | None:
    """Share of the available time spent talking or in wrap-up (None with no available time)."""
    available = sum(seconds.get(state, 0.0) for state in AVAILABLE_STATES)
    if not available:
        return None
    return sum(seconds.get(state, 0.0) for state in WORK_STATES) / available


def average_shares(agents: list[AgentStatuses]) -> dict[str, float]:
    totals: dict[str, int] = defaultdict(int)
    for agent in agents:
        for code, n in agent.by_status.items():
            totals[code] += n
    grand = sum(totals.values())
    return {code: 100.0 * n / grand for code, n in totals.items()} if grand else {}


def flag_rates(agent: AgentStatuses, averages: dict[str, float]) -> set[str]:
    """Statuses this agent sets far more often than everyone on average."""
    return {code for code, n in agent.by_status.items()
            if n >= RATE_ALERT_MIN and agent.share(code) > RATE_ALERT_FACTOR * averages.get(code, 0)}


def _agents_scope(report: ReportFilter, tenant_id: int):  # type: ignore[no-untyped-def]
    query = select(Agent.id).where(Agent.tenant_id == tenant_id)
    if report.agent_id is not None:
        query = query.where(Agent.id == report.agent_id)
    if report.team_lead_id is not None:
        query = query.join(Team, Team.id == Agent.team_id).where(
            Team.lead_user_id == report.team_lead_id)
    return query


def _campaign_lists(report: ReportFilter, tenant_id: int):  # type: ignore[no-untyped-def]
    return select(ContactList.id).where(ContactList.tenant_id == tenant_id,
                                        ContactList.campaign_id == report.campaign_id)


def statuses_by_agent(session: Session, tenant_id: int, report: ReportFilter) -> list[AgentStatuses]:
    """Statuses each agent set in the period, and how many of them had no call behind them."""
    start, end = report.span
    attempt = aliased(CallAttempt)
    called = or_(LeadStatusChange.attempt_id.is_not(None), exists().where(
        attempt.contact_id == LeadStatusChange.contact_id,
        attempt.agent_id == LeadStatusChange.agent_id,
        attempt.created_at <= LeadStatusChange.changed_at))
    query = (
        select(Agent.id, Agent.name, LeadStatusChange.to_status, func.count(),
               func.sum(case((called, 0), else_=1)))
        .join(Agent, Agent.id == LeadStatusChange.agent_id)
        .where(Agent.id.in_(_agents_scope(report, tenant_id)),
               LeadStatusChange.changed_at >= start, LeadStatusChange.changed_at < end,
               LeadStatusChange.from_status.is_not(None))
        .group_by(Agent.id, Agent.name, LeadStatusChange.to_status)
    )
    if report.campaign_id is not None:
        query = query.join(Contact, Contact.id == LeadStatusChange.contact_id).where(
            Contact.list_id.in_(_campaign_lists(report, tenant_id)))
    agents: dict[int, AgentStatuses] = {}
    for agent_id, name, code, n, no_call in session.execute(query):
        if code == "assigned":  # distribution, not a result an agent reports
            continue
        row = agents.setdefault(agent_id, AgentStatuses(agent_id, name))
        row.by_status[code] = n
        row.without_call[code] = int(no_call or 0)
    return sorted(agents.values(), key=lambda a: a.name)


def statuses_called(session: Session, tenant_id: int, report: ReportFilter) -> list[StatusCalled]:
    """Per current status: leads updated in the period and how many of them were called."""
    start, end = report.span
    has_call = exists().where(CallAttempt.contact_id == Contact.id)
    query = (
        select(Contact.status, func.count(), func.sum(case((has_call, 1), else_=0)))
        .where(Contact.tenant_id == tenant_id, Contact.updated_at >= start,
               Contact.updated_at < end)
        .group_by(Contact.status)
    )
    if report.agent_id is not None or report.team_lead_id is not None:
        query = query.where(Contact.assigned_agent_id.in_(_agents_scope(report, tenant_id)))
    if report.campaign_id is not None:
        query = query.where(Contact.list_id.in_(_campaign_lists(report, tenant_id)))
    return [StatusCalled(code, n, int(called or 0)) for code, n, called in session.execute(query)]


def agent_time(session: Session, tenant_id: int, report: ReportFilter,
               now: datetime) -> list[AgentTime]:
    """Time per state (clipped to the period), calls and dispositions for each agent."""
    start, end = report.span
    scope = _agents_scope(report, tenant_id)
    agents = {row.id: AgentTime(row.id, row.name) for row in session.execute(
        select(Agent.id, Agent.name).where(Agent.id.in_(scope)))}
    logs = session.execute(
        select(AgentStateLog.agent_id, AgentStateLog.state, AgentStateLog.started_at,
               AgentStateLog.ended_at)
        .where(AgentStateLog.agent_id.in_(scope), AgentStateLog.started_at < end,
               or_(AgentStateLog.ended_at.is_(None), AgentStateLog.ended_at > start))
        .execution_options(yield_per=5000))
    for agent_id, state, began, ended in logs:
        seconds = (min(ended or now, end) - max(began, start)).total_seconds()
        if seconds > 0:
            totals = agents[agent_id].seconds
            totals[state] = totals.get(state, 0.0) + seconds
    calls = (
        select(CallAttempt.agent_id, CallAttempt.disposition, func.count())
        .where(CallAttempt.agent_id.in_(scope), CallAttempt.bridged_at.is_not(None),
               CallAttempt.created_at >= start, CallAttempt.created_at < end)
        .group_by(CallAttempt.agent_id, CallAttempt.disposition)
    )
    if report.campaign_id is not None:
        calls = calls.where(CallAttempt.campaign_id == report.campaign_id)
    for agent_id, disposition, n in session.execute(calls):
        agents[agent_id].calls += n
        if disposition:
            agents[agent_id].results[disposition] = n
    return sorted(agents.values(), key=lambda a: a.name)


def _cap(pacing: dict[str, object]) -> float:
    try:
        return PacingSettings.from_dict(pacing).abandon_cap
    except PacingSettingsError:
        return PacingSettings().abandon_cap


def campaign_calls(session: Session, tenant_id: int, report: ReportFilter) -> list[CampaignCalls]:
    """Per campaign: attempts, live answers, abandons against the cap, and AMD verdicts."""
    start, end = report.span
    in_period = and_(CallAttempt.created_at >= start, CallAttempt.created_at < end)
    campaigns = select(Campaign).where(Campaign.tenant_id == tenant_id).order_by(Campaign.name)
    if report.campaign_id is not None:
        campaigns = campaigns.where(Campaign.id == report.campaign_id)
    live = (Outcome.ANSWERED, Outcome.ABANDONED)
    out = []
    for campaign in session.scalars(campaigns):
        # Outbound only: a missed inbound callback is stored as abandoned but is no abandoned
        # call as the regulator counts them.
        where = and_(CallAttempt.campaign_id == campaign.id, in_period,
                     CallAttempt.direction != INBOUND)
        attempts, answered, abandoned = session.execute(
            select(func.count(),
                   func.sum(case((CallAttempt.outcome.in_(live), 1), else_=0)),
                   func.sum(case((CallAttempt.outcome == Outcome.ABANDONED, 1), else_=0)))
            .where(where)).one()
        amd = {verdict or "none": n for verdict, n in session.execute(
            select(CallAttempt.amd_result, func.count())
            .where(where, CallAttempt.answered_at.is_not(None))
            .group_by(CallAttempt.amd_result))}
        out.append(CampaignCalls(campaign.id, campaign.name, attempts, int(answered or 0),
                                 int(abandoned or 0), _cap(campaign.pacing), amd))
    return out
