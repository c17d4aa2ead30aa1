"""The period and people a report covers (funnel and statistics share it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from .dates import DateError, day_span, local_today, parse_day

DEFAULT_DAYS = 30


@dataclass(frozen=True)
class ReportFilter:
    first: date
    last: date  # inclusive
    agent_id: int | None
    team_lead_id: int | None
    campaign_id: int | None
    zone: ZoneInfo

    @property
    def span(self) -> tuple[datetime, datetime]:
        return day_span(self.first, self.last, self.zone)

    @classmethod
    def from_args(cls, args: dict[str, str], now: datetime, zone: ZoneInfo) -> ReportFilter:
        """Parse ``date_from``/``date_to``/``agent``/``team_lead``/``campaign``; raises DateError."""
        today = local_today(now, zone)
        last = parse_day("date_to", args.get("date_to", "")) or today
        first = parse_day("date_from", args.get("date_from", "")) or last - timedelta(
            days=DEFAULT_DAYS - 1)
        if first > last:
            raise DateError("date_from: must not be after date_to")

        def number(key: str) -> int | None:
            raw = args.get(key, "").strip()
            if raw and not raw.isdigit():
                raise DateError(f"{key}: {raw!r} is not a number")
            return int(raw) if raw else None

        return cls(first, last, number("agent"), number("team_lead"), number("campaign"), zone)
