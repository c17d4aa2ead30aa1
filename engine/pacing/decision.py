"""decide_calls: one pacing decision for one campaign, with the reasons a supervisor can read."""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .estimates import PacingEstimates
from .guard import GuardState
from .model import choose_calls
from .settings import PacingSettings
from .state import PacingSnapshot


class PacingMode(enum.StrEnum):
    PREDICTIVE = "predictive"  # the model dials ahead of agents about to be free
    PROGRESSIVE_FALLBACK = "progressive_fallback"  # dead air: one call per ready agent
    PAUSED_BY_CAP = "paused_by_cap"  # budget < 1 abandon: only calls with a ready agent


@dataclass(frozen=True)
class PacingDecision:
    calls_to_launch: int
    mode: PacingMode
    explain: dict[str, Any]


def decide_calls(
    snapshot: PacingSnapshot,
    estimates: PacingEstimates,
    settings: PacingSettings,
    guard_state: GuardState,
    now: datetime,
) -> PacingDecision:
    """How many calls to launch now. Pure: the same inputs always give the same decision.

    ``now`` (aware) only places the abandon rule's window. In every mode the campaign may at
    least launch one call per ready agent not already covered by a call in flight, which can
    never be abandoned; dialing ahead of busy agents happens only in predictive mode, and only
    while the abandon budget can take at least one more abandon. The budget constraint reads
    credible bounds of the estimates, and holds with ``ramp_confidence`` below
    ``ramp_budget``.
    """
    counts = guard_state.counts(now, settings)
    budget = counts.budget(settings.abandon_cap)
    p95 = guard_state.dead_air_p95(settings)
    line_room = max(
        0,
        math.floor(settings.max_lines_per_agent * snapshot.agents_logged_in)
        - snapshot.calls_in_flight,
    )
    safe = min(snapshot.progressive_safe_calls, line_room)
    explain: dict[str, Any] = {
        "agents": {
            "ready": len(snapshot.ready_for_s),
            "talking": len(snapshot.talking_for_s),
            "wrapping": len(snapshot.wrapping_for_s),
        },
        "calls": {"ringing": len(snapshot.ringing_for_s), "waiting": len(snapshot.waiting_for_s)},
        "abandon": {
            "rule": settings.rule,
            "cap": settings.abandon_cap,
            "live": round(counts.live, 3),
            "abandoned": round(counts.abandoned, 3),
            "amd_false_positives": round(counts.amd_false_positives, 3),
            "rate": round(counts.rate, 5),
            "budget": round(budget, 3),
        },
        "dead_air_p95_s": None if p95 is None else round(p95, 3),
        "estimates": estimates.summary(),
        "line_room": line_room,
        "progressive_safe": safe,
    }
    if p95 is not None and p95 > settings.dead_air_p95_s:
        return _decided(safe, PacingMode.PROGRESSIVE_FALLBACK, explain,
                        f"dead-air p95 {p95:.2f}s > {settings.dead_air_p95_s:.2f}s")
    if budget < 1:
        # Not even one more abandon fits under the cap (at the cap, or too few live answers
        # yet, e.g. a cold start): a single mistaken model estimate could pass the cap.
        return _decided(safe, PacingMode.PAUSED_BY_CAP, explain,
                        f"abandon rate {counts.rate:.2%}, budget {budget:.2f} < 1 abandon "
                        f"under cap {settings.abandon_cap:.2%}")
    if snapshot.agents_logged_in == 0:
        return _decided(0, PacingMode.PREDICTIVE, explain, "no agents logged in")
    rate_target = guard_state.rate_target(settings)
    # A young window (or one near the cap) keeps a small budget for many decisions in a row,
    # and one clump of abandons would pass the cap: its budget must hold more surely.
    confidence = (settings.ramp_confidence if budget < settings.ramp_budget
                  else settings.confidence)
    result = choose_calls(snapshot, estimates, settings, budget, line_room, rate_target,
                          confidence)
    explain["model"] = {"rate_target": round(rate_target, 5), "confidence": confidence,
                        **result.explain()}
    calls, reason = result.calls, "model"
    if calls < safe:
        calls, reason = safe, "progressive floor"
    return _decided(calls, PacingMode.PREDICTIVE, explain, reason)


def _decided(calls: int, mode: PacingMode, explain: dict[str, Any], reason: str) -> PacingDecision:
    explain.update(mode=str(mode), reason=reason, calls_to_launch=calls)
    return PacingDecision(calls, mode, explain)
