"""AMD measured in production: a campaign's confusion matrix and humans dropped as machines.

Truth comes from two places. Calls AMD passed as human (or unknown) that reached an agent: the
agent's disposition says "answering machine" (the campaign's ``amd.machine_disposition``) or,
by default, a human was there. Calls AMD dropped as machines: only the kept samples that a
reviewer labelled are known, so the share of humans among them (with a Wilson interval) is
extrapolated to all machine drops. Network announcements (``unreachable:...``) are not
subscribers and are left out. The share per machine verdict is what pacing counts as abandoned
calls (``PacingSettings.amd_false_positive_rate``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from engine.amd.review import ReviewSettings
from engine.pacing import PacingSettings
from engine.store.models import AmdReview, CallAttempt, Campaign, Outcome

PASSED = ("human", "unknown")  # verdicts that let the call through to an agent
MAX_PACING_RATE = 0.99  # PacingSettings wants a rate below 1
Z_95 = 1.959964


def wilson(successes: int, trials: int, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval of a proportion (95 % by default); (0, 1) without trials."""
    if trials <= 0:
        return 0.0, 1.0
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class AmdQuality:
    """Counts behind one campaign's production confusion matrix."""

    passed: int  # passed as human/unknown and talked to an agent
    passed_machine: int  # ... that the agent disposed as an answering machine
    dropped: int  # dropped as machines (subscribers, not announcements)
    reviewed_human: int  # kept samples a reviewer labelled human
    reviewed_machine: int  # ... and machine
    pending: int  # kept samples still waiting for a label

    @property
    def reviewed(self) -> int:
        return self.reviewed_human + self.reviewed_machine

    @property
    def passed_human(self) -> int:
        return self.passed - self.passed_machine

    @property
    def fp_per_machine(self) -> float | None:
        """Share of machine verdicts that were humans (None before any review)."""
        return self.reviewed_human / self.reviewed if self.reviewed else None

    @property
    def fp_per_machine_ci(self) -> tuple[float, float]:
        return wilson(self.reviewed_human, self.reviewed)

    def humans_dropped(self, rate: float | None = None) -> float:
        """Estimated humans among the machine drops (at ``rate``, default the estimate)."""
        rate = self.fp_per_machine if rate is None else rate
        return self.dropped * (rate or 0.0)

    def human_share(self, rate: float | None = None) -> float | None:
        """Estimated share of all humans answering that AMD dropped as machines."""
        dropped = self.humans_dropped(rate)
        total = dropped + self.passed_human
        return dropped / total if total else None

    @property
    def human_share_ci(self) -> tuple[float, float] | None:
        """The interval of ``human_share``, from the interval of the rate (it grows with it)."""
        if not self.reviewed:
            return None
        low, high = self.fp_per_machine_ci
        shares = (self.human_share(low), self.human_share(high))
        return (shares[0] or 0.0, shares[1] or 0.0) if None not in shares else None

    @property
    def accuracy(self) -> float | None:
        """Estimated share of right verdicts over passed-and-talked plus dropped calls."""
        rate = self.fp_per_machine
        total = self.passed + self.dropped
        if rate is None or not total:
            return None
        return (self.passed_human + self.dropped * (1 - rate)) / total


def measure(session: Session, campaign_id: int, *, machine_disposition: str,
            since: datetime | None = None) -> AmdQuality:
    """The campaign's counts over attempts created since ``since`` (all by default)."""
    attempts = select(CallAttempt).where(CallAttempt.campaign_id == campaign_id)
    if since is not None:
        attempts = attempts.where(CallAttempt.created_at >= since)
    rows = attempts.subquery()
    passed = select(func.count(), func.count().filter(rows.c.disposition == machine_disposition)) \
        .where(rows.c.amd_result.in_(PASSED), rows.c.bridged_at.is_not(None))
    dropped = select(func.count()).where(rows.c.amd_result == "machine",
                                         rows.c.outcome == Outcome.MACHINE.value)
    labels = dict(session.execute(
        select(AmdReview.label, func.count()).join(rows, rows.c.id == AmdReview.attempt_id)
        .group_by(AmdReview.label)).all())
    passed_all, passed_machine = session.execute(passed).one()
    return AmdQuality(passed=passed_all, passed_machine=passed_machine,
                      dropped=session.scalar(dropped) or 0,
                      reviewed_human=labels.get("human", 0),
                      reviewed_machine=labels.get("machine", 0),
                      pending=labels.get(None, 0))


def campaign_quality(session: Session, campaign: Campaign,
                     since: datetime | None = None) -> AmdQuality:
    """``measure`` with the campaign's own disposition code."""
    settings = ReviewSettings.from_amd(campaign.amd, f"campaign {campaign.id} amd")
    return measure(session, campaign.id, machine_disposition=settings.machine_disposition,
                   since=since)


def production_fp_rate(session: Session, campaign: Campaign) -> float | None:
    """The campaign's humans per machine verdict, once enough samples are labelled (None
    before, and for a campaign without AMD)."""
    if not (campaign.amd or {}).get("enabled"):
        return None
    settings = ReviewSettings.from_amd(campaign.amd, f"campaign {campaign.id} amd")
    quality = measure(session, campaign.id, machine_disposition=settings.machine_disposition)
    if quality.reviewed < settings.min_reviewed or quality.fp_per_machine is None:
        return None
    return min(quality.fp_per_machine, MAX_PACING_RATE)


def with_production_fp_rate(pacing: PacingSettings, sessions: sessionmaker[Session],
                            campaign: Campaign) -> PacingSettings:
    """``pacing`` with ``amd_false_positive_rate`` from production when it is known."""
    with sessions() as session:
        rate = production_fp_rate(session, campaign)
    return pacing if rate is None else replace(pacing, amd_false_positive_rate=rate)


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def report(quality: AmdQuality) -> str:
    """The matrix and estimates as text for the console."""
    q = quality
    rate = q.fp_per_machine
    est_h = q.humans_dropped()
    passed = (f"passed as human  {q.passed_human:>11}   {q.passed_machine:>13}   "
              f"(agents' dispositions, {q.passed} calls)")
    dropped = (f"dropped machine  {est_h:>11.1f}   {q.dropped - est_h:>13.1f}   "
               f"({q.reviewed_human} human / {q.reviewed_machine} machine of {q.reviewed} "
               f"reviewed, {q.pending} pending; {q.dropped} drops)")
    lines = ["                 truth human   truth machine", passed, dropped, ""]
    if rate is None:
        lines.append("humans dropped as machines: unknown (no reviewed samples yet)")
    else:
        low, high = q.fp_per_machine_ci
        lines.append(f"humans per machine verdict: {_pct(rate)} (95% CI {_pct(low)}-{_pct(high)})")
        share, ci = q.human_share(), q.human_share_ci
        lines.append(f"share of humans dropped as machines: {_pct(share)}"
                     + (f" (95% CI {_pct(ci[0])}-{_pct(ci[1])})" if ci else ""))
        lines.append(f"estimated accuracy: {_pct(q.accuracy)}")
    lines.append(f"machines passed to agents: {q.passed_machine} of {q.passed} "
                 f"({_pct(q.passed_machine / q.passed if q.passed else None)})")
    return "\n".join(lines)
