"""The leads table's query: filters, keyset pagination and a capped count, fast at 1M leads.

Pages are cut by ``(updated_at, id)`` keyset cursors, never by OFFSET. A page is merged from
index ranges that are each already in ``updated_at`` order, reading at most ``limit + 1`` rows
of each: per status from ``ix_contacts_tenant_status_updated`` (tenant, status, updated_at, and
the row id SQLite keeps in every index); with an agent or team filter per agent and status from
``ix_contacts_agent_status_updated``; with a list filter per status from
``ix_contacts_list_status_updated``. The ranges are merged in SQL (``UNION ALL`` of the
per-range pages, up to RANGES_PER_QUERY a statement). So a page costs about ``limit`` index rows
per range whatever the table size, with or without a status filter, and never sorts an agent's
or a team's leads.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    func,
    literal_column,
    or_,
    select,
    text,
    union_all,
)
from sqlalchemy.orm import Session

from engine.store.models import Agent, Contact, ContactList

from .dates import DateError, day_start, parse_day

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
COUNT_CAP = 10_000
SECONDARY_COUNT_CAP = 1_000
AGENT_INDEX = "ix_contacts_assigned_agent_id"
RANGES_PER_QUERY = 200  # ranges merged by one SELECT (SQLite allows 500 compound terms)
SORTS = ("updated_desc", "updated_asc")


class FilterError(ValueError):
    """A filter parameter is malformed; the message names it."""


@dataclass(frozen=True)
class Cursor:
    updated_at: datetime
    id: int

    def encode(self) -> str:
        micros = (self.updated_at - EPOCH) // timedelta(microseconds=1)
        return f"{micros}.{self.id}"

    @classmethod
    def decode(cls, raw: str, name: str = "cursor") -> Cursor:
        try:
            micros, row_id = (int(part) for part in raw.split("."))
        except ValueError:
            raise FilterError(f"{name}: {raw!r} is not a page cursor") from None
        return cls(EPOCH + timedelta(microseconds=micros), row_id)


@dataclass(frozen=True)
class LeadFilter:
    statuses: tuple[str, ...] = ()
    campaign_id: int | None = None
    list_id: int | None = None
    agent_id: int | None = None
    team_id: int | None = None
    updated_from: date | None = None  # inclusive, in the display time zone
    updated_to: date | None = None  # inclusive
    sort: str = "updated_desc"

    @classmethod
    def from_args(cls, args: dict[str, list[str]]) -> LeadFilter:
        """Parse query-string values (as ``MultiDict.to_dict(flat=False)``)."""

        def one(key: str) -> str:
            return (args.get(key) or [""])[0].strip()

        def number(key: str) -> int | None:
            raw = one(key)
            if not raw:
                return None
            if not raw.isdigit():
                raise FilterError(f"{key}: {raw!r} is not a number")
            return int(raw)

        def day(key: str) -> date | None:
            try:
                return parse_day(key, one(key))
            except DateError as exc:
                raise FilterError(str(exc)) from None

        sort = one("sort") or "updated_desc"
        if sort not in SORTS:
            raise FilterError(f"sort: {sort!r} is not one of {', '.join(SORTS)}")
        statuses = tuple(sorted({s for s in args.get("status", []) if s}))
        return cls(statuses, number("campaign"), number("list"), number("agent"), number("team"),
                   day("updated_from"), day("updated_to"), sort)

    def to_args(self) -> dict[str, object]:
        """The query-string form of this filter (for links and exports)."""
        args: dict[str, object] = {"status": list(self.statuses), "campaign": self.campaign_id,
                                   "list": self.list_id, "agent": self.agent_id,
                                   "team": self.team_id, "updated_from": self.updated_from,
                                   "updated_to": self.updated_to, "sort": self.sort}
        return {k: v for k, v in args.items() if v not in (None, [], "")}


@dataclass
class Page:
    contacts: list[Contact]
    next_cursor: str | None
    prev_cursor: str | None
    count: int  # capped at cap + 1
    cap: int
    statuses: list[str] = field(default_factory=list)

    @property
    def count_capped(self) -> bool:
        return self.count > self.cap


def _by_agent(flt: LeadFilter) -> bool:
    return flt.agent_id is not None or flt.team_id is not None


def tenant_status_codes(session: Session, tenant_id: int) -> list[str]:
    """The distinct statuses among a tenant's leads, by a skip scan over the status index."""
    rows = session.execute(text(
        "WITH RECURSIVE s(code) AS ("
        " SELECT MIN(status) FROM contacts WHERE tenant_id = :t"
        " UNION ALL"
        " SELECT (SELECT MIN(status) FROM contacts WHERE tenant_id = :t AND status > s.code)"
        " FROM s WHERE s.code IS NOT NULL)"
        " SELECT code FROM s WHERE code IS NOT NULL"
    ), {"t": tenant_id})
    return [row[0] for row in rows]


def _conditions(tenant_id: int, flt: LeadFilter, zone: ZoneInfo,
                by_agent: bool = True) -> list[ColumnElement[bool]]:
    """Everything but the status (the status is a key of the merged ranges); without the agent
    and team conditions when ``by_agent`` is False (the ranges name the agents then)."""
    where: list[ColumnElement[bool]] = [Contact.tenant_id == tenant_id]
    if flt.campaign_id is not None:
        where.append(Contact.list_id.in_(select(ContactList.id).where(
            ContactList.tenant_id == tenant_id, ContactList.campaign_id == flt.campaign_id)))
    if flt.list_id is not None:
        where.append(Contact.list_id == flt.list_id)
    if flt.agent_id is not None and by_agent:
        where.append(Contact.assigned_agent_id == flt.agent_id)
    if flt.team_id is not None and by_agent:
        where.append(Contact.assigned_agent_id.in_(select(Agent.id).where(
            Agent.tenant_id == tenant_id, Agent.team_id == flt.team_id)))
    if flt.updated_from is not None:
        where.append(Contact.updated_at >= day_start(flt.updated_from, zone))
    if flt.updated_to is not None:
        where.append(Contact.updated_at < day_start(flt.updated_to + timedelta(days=1), zone))
    return where


def _beyond(cursor: Cursor, ascending: bool) -> ColumnElement[bool]:
    """Rows after ``cursor`` in the scan order; the first term bounds the index range."""
    if ascending:
        return and_(Contact.updated_at >= cursor.updated_at,
                    or_(Contact.updated_at > cursor.updated_at, Contact.id > cursor.id))
    return and_(Contact.updated_at <= cursor.updated_at,
                or_(Contact.updated_at < cursor.updated_at, Contact.id < cursor.id))


def filtered(tenant_id: int, flt: LeadFilter, zone: ZoneInfo) -> Select[tuple[Contact]]:
    """All leads matching the filter (exports stream this)."""
    query = select(Contact).where(*_conditions(tenant_id, flt, zone))
    if flt.statuses:
        query = query.where(Contact.status.in_(flt.statuses))
    order = (Contact.updated_at.asc(), Contact.id.asc()) if flt.sort == "updated_asc" else (
        Contact.updated_at.desc(), Contact.id.desc())
    return query.order_by(*order)


def page(session: Session, tenant_id: int, flt: LeadFilter, zone: ZoneInfo, *, limit: int,
         cursor: Cursor | None = None, backward: bool = False) -> Page:
    """One page of leads after (or, ``backward``, before) ``cursor``."""
    statuses = list(flt.statuses) or tenant_status_codes(session, tenant_id)
    ascending = (flt.sort == "updated_asc") != backward
    where = _conditions(tenant_id, flt, zone, by_agent=False)
    if cursor is not None:
        where.append(_beyond(cursor, ascending))
    order = (Contact.updated_at.asc(), Contact.id.asc()) if ascending else (
        Contact.updated_at.desc(), Contact.id.desc())
    ranges = _ranges(session, tenant_id, flt, statuses)
    keys: list[list[tuple[datetime, int]]] = []
    for first in range(0, len(ranges), RANGES_PER_QUERY):
        parts = [select(select(Contact.updated_at, Contact.id).where(*where, condition)
                        .order_by(*order).limit(limit + 1).subquery())
                 for condition in ranges[first:first + RANGES_PER_QUERY]]
        key_order = (literal_column("updated_at"), literal_column("id"))
        query = union_all(*parts).limit(limit + 1).order_by(
            *(column.asc() if ascending else column.desc() for column in key_order))
        keys.append([(row.updated_at, row.id) for row in session.execute(query)])
    merged = list(heapq.merge(*keys, reverse=not ascending))[: limit + 1]
    more = len(merged) > limit
    merged = merged[:limit]
    if backward:
        merged.reverse()
    by_id = {c.id: c for c in session.scalars(select(Contact).where(
        Contact.id.in_([row_id for _, row_id in merged])))}
    contacts = [by_id[row_id] for _, row_id in merged]
    first = Cursor(*merged[0]).encode() if merged else None
    last = Cursor(*merged[-1]).encode() if merged else None
    if backward:
        next_cursor, prev_cursor = last, first if more else None
    else:
        next_cursor, prev_cursor = (last if more else None), (first if cursor else None)
    counted = replace(flt, statuses=tuple(statuses))
    return Page(contacts, next_cursor, prev_cursor, count(session, tenant_id, counted, zone),
                count_cap(counted), statuses)


def _ranges(session: Session, tenant_id: int, flt: LeadFilter,
            statuses: list[str]) -> list[ColumnElement[bool]]:
    """One condition per index range a page is merged from: per agent and status with an
    agent or team filter (the planner then walks ``ix_contacts_agent_status_updated``), else
    per status (with the list filter's equality, ``ix_contacts_list_status_updated``)."""
    if _by_agent(flt):
        agents = select(Agent.id).where(Agent.tenant_id == tenant_id).order_by(Agent.id)
        if flt.agent_id is not None:
            agents = agents.where(Agent.id == flt.agent_id)
        if flt.team_id is not None:
            agents = agents.where(Agent.team_id == flt.team_id)
        columns = Contact.__table__.c  # Core columns: cheaper to build hundreds of conditions
        return [and_(columns.assigned_agent_id == agent_id, columns.status == status)
                for agent_id in session.scalars(agents) for status in statuses]
    return [Contact.status == status for status in statuses]


def count_cap(flt: LeadFilter) -> int:
    """Index-only filters (status, dates) count cheaply up to COUNT_CAP; a filter on agent, team,
    list or campaign needs a row lookup per candidate, so it counts up to SECONDARY_COUNT_CAP."""
    secondary = (flt.agent_id, flt.team_id, flt.list_id, flt.campaign_id)
    return COUNT_CAP if all(value is None for value in secondary) else SECONDARY_COUNT_CAP


def count(session: Session, tenant_id: int, flt: LeadFilter, zone: ZoneInfo) -> int:
    """How many leads match, counted up to ``count_cap(flt) + 1`` (enough to say "more than").

    With an agent, team or list filter SQLite is told to walk that column's index, which visits
    only those leads (the planner would pick the status index and visit up to
    cap / selectivity rows); PostgreSQL's planner chooses by its statistics.
    """
    inner = select(Contact.id).where(*_conditions(tenant_id, flt, zone))
    if flt.statuses:
        inner = inner.where(Contact.status.in_(flt.statuses))
    driver = (AGENT_INDEX if _by_agent(flt)
              else "ix_contacts_list_id" if flt.list_id is not None else None)
    if driver:
        inner = inner.with_hint(Contact, f"INDEXED BY {driver}", "sqlite")
    limited = inner.limit(count_cap(flt) + 1).subquery()
    return session.scalar(select(func.count()).select_from(limited))
