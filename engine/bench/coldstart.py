"""Cold-start safety scan: many short runs of our dialer from no history, random scenarios.

The abandon cap is most at risk right after a cold start, when the window holds few live
answers and one clump of abandons passes 3 %. The scan draws scenarios (agents, answer
rate, talk, wrap-up, seed) from a seeded generator, runs ours from cold on each, and reports
the maximum abandon rate at any moment of each run and the mean occupancy.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from .metrics import RunMetrics
from .runner import GRID_ANSWER_RATES, GRID_TALK_MEANS, GRID_WRAPS, run_one
from .world import Scenario


def random_scenarios(runs: int, hours: float, agents: Sequence[int], seed: int) -> list[Scenario]:
    """``runs`` scenarios drawn from the grid's values and ``agents``, reproducible by ``seed``."""
    rng = random.Random(seed)
    return [
        Scenario(agents=rng.choice(agents), answer_rate=rng.choice(GRID_ANSWER_RATES),
                 talk_mean_s=rng.choice(GRID_TALK_MEANS), wrap_mean_s=rng.choice(GRID_WRAPS),
                 hours=hours, seed=rng.randint(1, 10_000))
        for _ in range(runs)
    ]


def scan(scenarios: Sequence[Scenario], pacing: dict | None = None) -> list[RunMetrics]:
    """Ours over each scenario, from cold."""
    return [run_one(sc, "ours", pacing=pacing) for sc in scenarios]


def format_scan(results: Sequence[RunMetrics], cap: float, worst: int = 5) -> str:
    """The runs that passed ``cap`` at any moment, the ``worst`` highest, and the means."""
    ranked = sorted(results, key=lambda r: -r.abandon_max_running)
    over = [r for r in ranked if r.abandon_max_running > cap]
    occupancy = sum(r.occupancy for r in results) / len(results)
    head = (f"{len(results)} cold start(s): {len(over)} passed the {cap:.0%} cap at some "
            f"moment; mean occupancy {occupancy:.1%}")
    lines = [head]
    for r in ranked[:max(worst, len(over))]:
        lines.append(f"  {r.scenario.label:<30} seed {r.scenario.seed:>5}  max abandon "
                     f"{r.abandon_max_running:.2%}  occupancy {r.occupancy:.1%}  "
                     f"live {r.live}  abandoned {r.abandoned}")
    return "\n".join(lines)
