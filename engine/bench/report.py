"""The benchmark's table, target checks and PNG plots."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path

from .ceiling import ErlangReference
from .metrics import RunMetrics
from .world import Scenario

OCCUPANCY_TARGETS = ((20, 0.90), (10, 0.85))  # (at least this many agents, occupancy)
ABANDON_CAP = 0.03
THROUGHPUT_TARGET = 2.0


def by_scenario(results: list[RunMetrics]) -> dict[Scenario, dict[str, RunMetrics]]:
    table: dict[Scenario, dict[str, RunMetrics]] = defaultdict(dict)
    for r in results:
        table[r.scenario][r.dialer] = r
    return table


def throughput_ratio(runs: dict[str, RunMetrics], dialer: str) -> float:
    base = runs["progressive"].attempts_per_hour
    return runs[dialer].attempts_per_hour / base if base else float("inf")


def throughput_bound(runs: dict[str, RunMetrics]) -> float:
    """The most list throughput any dialer can reach, as a multiple of progressive's.

    Every dialer meets the same contacts in the same order, so the records worked grow with
    the calls served, and those with the agents' busy time: at 100 % occupancy a dialer that
    serves every answer works ``1 / progressive occupancy`` times the records progressive
    works. Abandoned answers need no agent time, so a dialer abandoning 3 % may pass the
    bound by about 3 % (a fixed-ratio dialer abandoning more, by more)."""
    occupancy = runs["progressive"].occupancy
    return 1.0 / occupancy if occupancy else float("inf")


def format_table(results: list[RunMetrics],
                 references: Mapping[Scenario, ErlangReference] | None = None,
                 lags: Mapping[Scenario, float] | None = None) -> str:
    """One line per scenario and dialer; ``erlang`` and ``lag``: the scenario's Erlang
    reference and lag estimate of the occupancy at the cap (see ceiling.py), the same on
    each of its lines."""
    refs, lag_of = references or {}, lags or {}
    head = (f"{'scenario':34} {'dialer':12} {'occ':>6} {'occ 1h+':>7} {'erlang':>6} "
            f"{'lag':>6} {'idle s/ah':>9} "
            f"{'contacts/ah':>11} {'dials/h':>8} {'x prog':>6} {'bound':>5} {'aband':>6} "
            f"{'max run':>7} {'max 1h':>7} {'p95 s':>5} {'cpu s':>6}")
    lines = [head, "-" * len(head)]
    for sc, runs in by_scenario(results).items():
        for name, r in runs.items():
            steady = "-" if r.occupancy_steady is None else f"{r.occupancy_steady:.1%}"
            ref = f"{refs[sc].occupancy:.1%}" if sc in refs else "-"
            lag = f"{lag_of[sc]:.1%}" if sc in lag_of else "-"
            lines.append(
                f"{sc.label:34} {name:12} {r.occupancy:6.1%} {steady:>7} {ref:>6} {lag:>6} "
                f"{r.idle_s_per_agent_hour:9.0f} "
                f"{r.contacts_per_agent_hour:11.1f} {r.attempts_per_hour:8.0f} "
                f"{throughput_ratio(runs, name):6.2f} {throughput_bound(runs):5.2f} "
                f"{r.abandon_rate:6.2%} "
                f"{r.abandon_max_running:7.2%} {r.abandon_max_hourly:7.2%} "
                f"{r.dead_air_p95_s:5.2f} {r.cpu_s:6.1f}")
    return "\n".join(lines)


def target_report(results: list[RunMetrics], dialer: str = "ours",
                  references: Mapping[Scenario, ErlangReference] | None = None,
                  lags: Mapping[Scenario, float] | None = None) -> str:
    """Each target of the issue, met or not, with the scenarios that miss it; with
    ``references``, also where ours stays under the Erlang reference (no prediction); with
    ``lags``, each occupancy miss shows the scenario's lag estimate."""
    lag_of = lags or {}
    table = by_scenario(results)
    ours = [(sc, runs[dialer]) for sc, runs in table.items()]
    lines = []
    if references:
        scope = [(sc, r) for sc, r in ours if sc in references]
        misses = [f"{sc.label} {_steady_or_run(r):.1%} < {references[sc].occupancy:.1%}"
                  for sc, r in scope if _steady_or_run(r) < references[sc].occupancy]
        lines.append(_verdict("occupancy (after the first hour when run longer) above the "
                              "Erlang reference at the cap (Poisson answers)", len(scope),
                              misses))
    views = [("whole run", lambda r: r.occupancy)]
    if all(r.occupancy_steady is not None for _, r in ours):
        views.append(("after the first hour", lambda r: r.occupancy_steady))
    for view, occupancy in views:
        for min_agents, target in OCCUPANCY_TARGETS:
            scope = [(sc, r) for sc, r in ours if sc.agents >= min_agents
                     and (min_agents == 20 or sc.agents < 20)]
            misses = [f"{sc.label} {occupancy(r):.1%}"
                      + (f" (lag estimate {lag_of[sc]:.1%})" if sc in lag_of else "")
                      for sc, r in scope if occupancy(r) < target]
            lines.append(_verdict(f"occupancy >= {target:.0%} with {min_agents}"
                                  f"{'+' if min_agents == 20 else ''} agents, {view}",
                                  len(scope), misses))
    misses = [f"{sc.label} run {r.abandon_max_running:.2%}" for sc, r in ours
              if r.abandon_max_running > ABANDON_CAP]
    lines.append(_verdict("abandon rate <= 3% at every moment of the rule's window",
                          len(ours), misses))
    misses = [f"{sc.label} 1h {r.abandon_max_hourly:.2%}" for sc, r in ours
              if r.abandon_max_hourly > ABANDON_CAP]
    lines.append(_verdict("abandon rate <= 3% in every sliding hour (stricter)", len(ours),
                          misses))
    misses = [f"{sc.label} x{throughput_ratio(table[sc], dialer):.2f} "
              f"(bound x{throughput_bound(table[sc]):.2f})" for sc, _ in ours
              if throughput_ratio(table[sc], dialer) < THROUGHPUT_TARGET]
    lines.append(_verdict("list throughput >= 2x progressive", len(ours), misses))
    possible = [sc for sc, _ in ours if throughput_bound(table[sc]) >= THROUGHPUT_TARGET]
    misses = [f"{sc.label} x{throughput_ratio(table[sc], dialer):.2f} "
              f"(bound x{throughput_bound(table[sc]):.2f})" for sc in possible
              if throughput_ratio(table[sc], dialer) < THROUGHPUT_TARGET]
    lines.append(_verdict("list throughput >= 2x progressive where 2x is possible at all "
                          "(progressive occupancy <= 50%)", len(possible), misses))
    return "\n".join(lines)


def _steady_or_run(r: RunMetrics) -> float:
    return r.occupancy if r.occupancy_steady is None else r.occupancy_steady


def _verdict(name: str, total: int, misses: list[str]) -> str:
    head = f"{'MET ' if not misses else 'MISS'} {name}: {total - len(misses)}/{total} scenarios"
    return head + "".join(f"\n       {m}" for m in misses[:12]) + (
        f"\n       ... and {len(misses) - 12} more" if len(misses) > 12 else "")


def plot(results: list[RunMetrics], out: Path) -> list[Path]:
    """One PNG per figure: each has a panel per (talk, wrap) pair, agents on the x axis."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    table = by_scenario(results)
    pairs = sorted({(sc.talk_mean_s, sc.wrap_mean_s) for sc in table})
    rates = sorted({sc.answer_rate for sc in table})
    figures = {
        "occupancy": ("agent occupancy", lambda runs, d: runs[d].occupancy),
        "abandon_max": ("max abandon rate (rule's window)",
                        lambda runs, d: runs[d].abandon_max_running),
        "idle": ("idle s per agent-hour", lambda runs, d: runs[d].idle_s_per_agent_hour),
        "contacts": ("contacts per agent-hour",
                     lambda runs, d: runs[d].contacts_per_agent_hour),
        "throughput": ("list throughput / progressive", throughput_ratio),
    }
    colors = {"ours": "tab:blue", "progressive": "tab:gray", "fixed_ratio": "tab:orange"}
    styles = ["-", "--", ":", "-."]
    written = []
    for key, (title, value) in figures.items():
        fig, axes = plt.subplots(1, len(pairs), figsize=(4.5 * len(pairs), 4), squeeze=False)
        for ax, (talk, wrap) in zip(axes[0], pairs):
            for dialer, color in colors.items():
                for style, rate in zip(styles, rates):
                    pts = sorted((sc.agents, value(runs, dialer)) for sc, runs in table.items()
                                 if (sc.talk_mean_s, sc.wrap_mean_s, sc.answer_rate)
                                 == (talk, wrap, rate))
                    if pts:
                        ax.plot(*zip(*pts), style, color=color, marker="o", markersize=3,
                                label=f"{dialer} ans {rate:.0%}")
            if key == "abandon_max":
                ax.axhline(ABANDON_CAP, color="red", linewidth=0.8)
            ax.set_xscale("log")
            ax.set_title(f"talk {talk:.0f}s wrap {wrap:.0f}s", fontsize=9)
            ax.set_xlabel("agents")
        axes[0][0].set_ylabel(title)
        axes[0][-1].legend(fontsize=6)
        fig.suptitle(title)
        fig.tight_layout()
        path = out / f"pacing_{key}.png"
        fig.savefig(path, dpi=90)
        plt.close(fig)
        written.append(path)
    return written
