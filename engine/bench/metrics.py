"""Figures of one simulated run.

* occupancy: (talk + wrap-up time) / logged-in time, over all agents and the whole run
  (talk starts at the bridge; logged-in time is agents x run length, cold start included);
  ``occupancy_steady``: the same after the warm-up hour (None for runs no longer than it);
* idle: ready time per agent-hour, in seconds (logged-in time neither talking nor wrapping up);
* contacts per agent-hour: live answers bridged to an agent, per logged-in agent-hour;
* list throughput: dial attempts finished per hour (records worked); ``_steady`` after the
  warm-up hour;
* abandon rate as the rule counts it: abandoned / live answered. ``abandon_max_running`` is the
  maximum, over every moment of the run, of the rate since the window opened (the run lies in
  one calendar day and well inside 30 days, so this is what the regulator's window shows at
  any time); ``abandon_max_hourly`` is the maximum over sliding one-hour windows (15-minute
  steps), a stricter view than either rule asks for.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .world import Scenario, Tally

HOUR = 3600.0


@dataclass(frozen=True)
class RunMetrics:
    dialer: str
    scenario: Scenario
    occupancy: float
    occupancy_steady: float | None
    idle_s_per_agent_hour: float
    contacts_per_agent_hour: float
    attempts_per_hour: float
    attempts_per_hour_steady: float | None
    live: int
    abandoned: int
    abandon_rate: float
    abandon_max_running: float
    abandon_max_hourly: float
    dead_air_p95_s: float
    cpu_s: float  # CPU seconds of the run (wall time depends on what else the host runs)
    modes: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, dialer: str, sc: Scenario, tally: Tally, cpu_s: float,
           modes: dict[str, int] | None = None) -> "RunMetrics":
        run_s = sc.hours * HOUR
        agent_hours = sc.agents * sc.hours
        occupancy = tally.busy_s / (sc.agents * run_s)
        live = np.asarray(tally.live_times)
        abandons = np.asarray(tally.abandon_times)
        served = len(live) - len(abandons)
        steady_h = sc.hours - sc.warmup_h
        warm = tally.busy_s_at_warmup
        return cls(
            dialer=dialer,
            scenario=sc,
            occupancy=occupancy,
            occupancy_steady=None if warm is None
            else (tally.busy_s - warm) / (sc.agents * steady_h * HOUR),
            idle_s_per_agent_hour=(1.0 - occupancy) * HOUR,
            contacts_per_agent_hour=served / agent_hours,
            attempts_per_hour=tally.attempts / sc.hours,
            attempts_per_hour_steady=None if warm is None
            else (tally.attempts - tally.attempts_at_warmup) / steady_h,
            live=len(live),
            abandoned=len(abandons),
            abandon_rate=len(abandons) / len(live) if len(live) else 0.0,
            abandon_max_running=max_running_rate(live, abandons),
            abandon_max_hourly=max_window_rate(live, abandons, run_s),
            dead_air_p95_s=float(np.percentile(tally.bridge_delays, 95))
            if tally.bridge_delays else 0.0,
            cpu_s=cpu_s,
            modes=dict(modes or {}),
        )


def max_running_rate(live: np.ndarray, abandons: np.ndarray) -> float:
    """Max over time of abandoned/live since the start, checked right after each abandon."""
    if not len(abandons):
        return 0.0
    live_by_then = np.searchsorted(np.sort(live), np.sort(abandons), side="right")
    return float(np.max(np.arange(1, len(abandons) + 1) / np.maximum(live_by_then, 1)))


def max_window_rate(live: np.ndarray, abandons: np.ndarray, run_s: float,
                    window_s: float = HOUR, step_s: float = 900.0) -> float:
    """Max abandoned/live over sliding windows (the whole run if it is shorter)."""
    starts = np.arange(0.0, max(run_s - window_s, 0.0) + 1e-9, step_s)
    worst = 0.0
    for s in starts:
        e = s + window_s
        n_live = np.count_nonzero((live >= s) & (live < e))
        n_ab = np.count_nonzero((abandons >= s) & (abandons < e))
        if n_live:
            worst = max(worst, n_ab / n_live)
    return worst
