"""The funnel: of the leads that entered one status in a period, how many reached another.

``summarize`` is pure: it turns the per-status counts the queries return into the figures the
page shows ("386 assigned, 9 interested = 2.3%; of the rest 65% not worked, 35% lost: ...").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, literal_column, select, union
from sqlalchemy.orm import Session

from engine.store.models import Agent, Contact, ContactList, LeadStatusChange, Team


@dataclass(frozen=True)
class FunnelQuery:
    tenant_id: int
    from_status: str
    to_status: str
    start: datetime  # entered ``from_status`` at or after
    end: datetime  # and before
    agent_id: int | None = None
    team_lead_id: int | None = None  # a user leading one or more teams
    campaign_id: int | None = None


@dataclass(frozen=True)
class FunnelResult:
    cohort: int
    converted: int
    in_progress: int  # of the rest: still being worked (or not worked yet)
    lost: int  # of the rest: ended in a lost status
    lost_by_status: list[tuple[str, int]]
    steps: list[tuple[str, int]]  # every status in funnel order, leads of the cohort that had it

    @staticmethod
    def share(part: int, whole: int) -> float:
        return 100.0 * part / whole if whole else 0.0

    @property
    def rate(self) -> float:
        return self.share(self.converted, self.cohort)

    @property
    def rest(self) -> int:
        return self.cohort - self.converted


def summarize(cohort: int, reached: dict[str, int], converted_current: dict[str, int],
              order: list[str], lost_codes: set[str], to_status: str) -> FunnelResult:
    """Figures from counts: ``reached`` = leads per status ever had; ``converted_current`` =
    current statuses of the leads that did not reach ``to_status``."""
    converted = reached.get(to_status, 0)
    lost_by_status = [(code, n) for code, n in sorted(converted_current.items(),
                                                      key=lambda item: (-item[1], item[0]))
                      if code in lost_codes and n]
    lost = sum(n for _, n in lost_by_status)
    rest = cohort - converted
    steps = [(code, reached.get(code, 0)) for code in order]
    steps += [(code, n) for code, n in sorted(reached.items()) if code not in order]
    return FunnelResult(cohort, converted, rest - lost, lost, lost_by_status, steps)


def _cohort(q: FunnelQuery) -> Select[tuple[int]]:
    query = (
        select(LeadStatusChange.contact_id)
        .join(Contact, Contact.id == LeadStatusChange.contact_id)
        .where(Contact.tenant_id == q.tenant_id, LeadStatusChange.to_status == q.from_status,
               LeadStatusChange.changed_at >= q.start, LeadStatusChange.changed_at < q.end)
    )
    if q.agent_id is not None:
        query = query.where(Contact.assigned_agent_id == q.agent_id)
    if q.team_lead_id is not None:
        query = query.where(Contact.assigned_agent_id.in_(
            select(Agent.id).join(Team, Team.id == Agent.team_id)
            .where(Team.tenant_id == q.tenant_id, Team.lead_user_id == q.team_lead_id)))
    if q.campaign_id is not None:
        query = query.where(Contact.list_id.in_(select(ContactList.id).where(
            ContactList.tenant_id == q.tenant_id, ContactList.campaign_id == q.campaign_id)))
    return query.distinct()


def run(session: Session, q: FunnelQuery, order: list[str], lost_codes: set[str]) -> FunnelResult:
    cohort = _cohort(q).subquery()
    members = select(cohort.c.contact_id)
    cohort_size = session.scalar(select(func.count()).select_from(cohort)) or 0
    passed = union(
        select(LeadStatusChange.contact_id.label("cid"), LeadStatusChange.to_status.label("code"))
        .where(LeadStatusChange.contact_id.in_(members)),
        select(Contact.id.label("cid"), Contact.status.label("code")).where(Contact.id.in_(members)),
    ).subquery()
    reached = dict(session.execute(
        select(passed.c.code, func.count(literal_column("*"))).group_by(passed.c.code)).all())
    reached_target = select(passed.c.cid).where(passed.c.code == q.to_status)
    current = dict(session.execute(
        select(Contact.status, func.count()).where(Contact.id.in_(members),
                                                   Contact.id.not_in(reached_target))
        .group_by(Contact.status)).all())
    return summarize(cohort_size, reached, current, order, lost_codes, q.to_status)
