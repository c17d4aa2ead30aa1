"""`dialer bench ...`: benchmarks. Other benchmarks join the exported `bench` group."""

from __future__ import annotations

from pathlib import Path

import click

from .ceiling import erlang_reference, lag_estimate
from .coldstart import format_scan, random_scenarios, scan
from .report import ABANDON_CAP, format_table, plot, target_report
from .runner import (
    GRID_AGENTS,
    GRID_ANSWER_RATES,
    GRID_TALK_MEANS,
    GRID_WRAPS,
    grid,
    run_all,
)


@click.group()
def bench() -> None:
    """Benchmarks that print figures (simulations, not tests)."""


@bench.command("pacing")
@click.option("--agents", type=click.IntRange(min=1), multiple=True,
              help="Agents logged in (repeatable; default: the grid's 5 10 20 50 100).")
@click.option("--answer-rate", type=click.FloatRange(0, 1, min_open=True, max_open=True),
              multiple=True, help="Live-human answers per dial (default: 0.10 0.25 0.40).")
@click.option("--talk-mean", type=click.FloatRange(min=1), multiple=True,
              help="Mean talk time, s (default: 60 180).")
@click.option("--wrap", type=click.FloatRange(min=0.1), multiple=True,
              help="Mean wrap-up time, s (default: 10 30).")
@click.option("--hours", type=click.FloatRange(min=0.01), default=1.0, show_default=True,
              help="Simulated hours per scenario.")
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--fixed-ratio", type=click.FloatRange(min=1), default=3.0, show_default=True,
              help="Lines per ready agent of the fixed-ratio baseline.")
@click.option("--jobs", type=click.IntRange(min=1), default=2, show_default=True,
              help="Worker processes.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("bench-out"), show_default=True, help="Where the PNG plots go.")
def pacing_cmd(agents: tuple[int, ...], answer_rate: tuple[float, ...],
               talk_mean: tuple[float, ...], wrap: tuple[float, ...], hours: float, seed: int,
               fixed_ratio: float, jobs: int, out_dir: Path) -> None:
    """Simulate predictive pacing against progressive 1:1 and fixed-ratio dialing.

    Runs every combination of the given values; an option left out takes all of the grid's
    values, so no option runs the whole 60-scenario grid and all four pick one scenario.
    """
    scenarios = grid(hours, seed, agents=agents or GRID_AGENTS,
                     answer_rates=answer_rate or GRID_ANSWER_RATES,
                     talk_means=talk_mean or GRID_TALK_MEANS, wraps=wrap or GRID_WRAPS)
    click.echo(f"{len(scenarios)} scenario(s) x 3 dialers, {hours:g} simulated h each, "
               f"seed {seed}, {jobs} job(s)", err=True)
    results = run_all(scenarios, fixed_ratio=fixed_ratio, jobs=jobs)
    references = {sc: erlang_reference(sc, ABANDON_CAP) for sc in scenarios}
    lags = {sc: lag_estimate(sc, ABANDON_CAP) for sc in scenarios}
    click.echo(format_table(results, references, lags))
    click.echo()
    click.echo(target_report(results, references=references, lags=lags))
    for path in plot(results, out_dir):
        click.echo(f"wrote {path}")


@bench.command("pacing-cold")
@click.option("--runs", type=click.IntRange(min=1), default=45, show_default=True,
              help="Cold starts to simulate.")
@click.option("--agents", type=click.IntRange(min=1), multiple=True,
              help="Team sizes to draw from (repeatable; default: 3 5 10 20).")
@click.option("--hours", type=click.FloatRange(min=0.01), default=0.5, show_default=True,
              help="Simulated hours per run.")
@click.option("--seed", type=int, default=7, show_default=True,
              help="Seed of the scenario draws (each run has its own world seed).")
def pacing_cold_cmd(runs: int, agents: tuple[int, ...], hours: float, seed: int) -> None:
    """Cold-start safety scan: our dialer from no history over random short scenarios."""
    scenarios = random_scenarios(runs, hours, agents or (3, 5, 10, 20), seed)
    click.echo(format_scan(scan(scenarios), ABANDON_CAP))
