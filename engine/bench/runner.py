"""Runs scenarios with the three dialers, one scenario at a time or the whole grid."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor

from engine.pacing import PacingSettings

from .dialers import FixedRatioDialer, PredictiveDialer, ProgressiveDialer
from .metrics import RunMetrics
from .world import Scenario, World

GRID_AGENTS = (5, 10, 20, 50, 100)
GRID_ANSWER_RATES = (0.10, 0.25, 0.40)
GRID_TALK_MEANS = (60.0, 180.0)
GRID_WRAPS = (10.0, 30.0)
DIALERS = ("ours", "progressive", "fixed_ratio")


def grid(
    hours: float,
    seed: int,
    agents: Iterable[int] = GRID_AGENTS,
    answer_rates: Iterable[float] = GRID_ANSWER_RATES,
    talk_means: Iterable[float] = GRID_TALK_MEANS,
    wraps: Iterable[float] = GRID_WRAPS,
) -> list[Scenario]:
    """Every combination of agents, answer rate, talk and wrap-up (default: the whole grid)."""
    return [
        Scenario(agents=a, answer_rate=r, talk_mean_s=t, wrap_mean_s=w, hours=hours, seed=seed)
        for a, r, t, w in itertools.product(agents, answer_rates, talk_means, wraps)
    ]


def run_one(scenario: Scenario, dialer: str, fixed_ratio: float = 3.0,
            pacing: dict | None = None) -> RunMetrics:
    """One dialer over one scenario. Ours starts from the campaign defaults, not the world's."""
    if dialer == "ours":
        settings = PacingSettings.from_dict(
            {"answer_timeout_s": scenario.answer_timeout_s, **(pacing or {})})
        driver = PredictiveDialer(settings)
    elif dialer == "progressive":
        driver = ProgressiveDialer()
    elif dialer == "fixed_ratio":
        driver = FixedRatioDialer(fixed_ratio)
    else:
        raise ValueError(f"unknown dialer {dialer!r} (known: {', '.join(DIALERS)})")
    started = time.process_time()
    tally = World(scenario, driver).run()
    modes = dict(driver.modes) if isinstance(driver, PredictiveDialer) else None
    return RunMetrics.of(dialer, scenario, tally, time.process_time() - started, modes)


def _job(args: tuple[Scenario, str, float, dict | None]) -> RunMetrics:
    return run_one(*args)


def run_all(scenarios: Iterable[Scenario], fixed_ratio: float = 3.0, jobs: int = 1,
            pacing: dict | None = None) -> list[RunMetrics]:
    """Every dialer over every scenario; the slow runs (ours, many agents) start first."""
    work = [(sc, d, fixed_ratio, pacing) for sc in scenarios for d in DIALERS]
    order = sorted(range(len(work)),
                   key=lambda i: (work[i][1] != "ours", -work[i][0].agents))
    if jobs <= 1:
        results = {i: _job(work[i]) for i in order}
    else:
        with ProcessPoolExecutor(jobs) as pool:
            results = dict(zip(order, pool.map(_job, [work[i] for i in order])))
    return [results[i] for i in range(len(work))]

