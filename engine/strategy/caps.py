"""Contact frequency caps per local calendar day, ISO week and month (across a tenant's campaigns).

Periods are counted in the callee's calendar; with several candidate zones each zone's calendar
is counted and the strictest result applies.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from engine.store.models import Outcome

from .config import CapCount, Caps
from .facts import AttemptFact
from .windows import local_time, zone

# What counts as having reached the person for CapCount.REACHED (an abandoned call disturbed them).
REACHED = frozenset({Outcome.ANSWERED, Outcome.ABANDONED})
HORIZON = timedelta(days=33)  # history older than this never counts (a month plus zone slack)
PERIODS = ("day", "week", "month")


@dataclass(frozen=True)
class CapUse:
    period: str  # day / week / month
    limit: int
    used: int
    resets_at: datetime | None  # when the strictest zone's period ends (UTC); None if unused

    @property
    def exhausted(self) -> bool:
        return self.used >= self.limit


def counts(caps: Caps, attempt: AttemptFact) -> bool:
    """Running calls always count (they may yet reach the person)."""
    if attempt.outcome is None or caps.count is CapCount.ATTEMPTS:
        return True
    return attempt.outcome in REACHED


def _period(period: str, day: date) -> tuple[date, date]:
    if period == "day":
        return day, day + timedelta(days=1)
    if period == "week":
        start = day - timedelta(days=day.weekday())
        return start, start + timedelta(days=7)
    start = day.replace(day=1)
    return start, (start + timedelta(days=32)).replace(day=1)


def _midnight(day: date, zone_name: str) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone(zone_name)).astimezone(timezone.utc)


def cap_use(caps: Caps, zones: Sequence[str], history: Sequence[AttemptFact],
            now: datetime) -> tuple[CapUse, ...]:
    """Use of each configured cap at ``now``: the most used over the candidate zones."""
    counted = [a.created_at for a in history if counts(caps, a) and a.created_at <= now]
    if not counted:
        return tuple(CapUse(period, limit, 0, None) for period in PERIODS
                     if (limit := getattr(caps, period)) is not None)
    out = []
    for period in PERIODS:
        limit = getattr(caps, period)
        if limit is None:
            continue
        uses = []
        for name in zones:
            start, end = _period(period, local_time(now, name).date())
            since = _midnight(start, name)
            uses.append(CapUse(period, limit, sum(1 for t in counted if t >= since),
                               _midnight(end, name)))
        out.append(max(uses, key=lambda use: (use.used, use.resets_at or now)))
    return tuple(out)
