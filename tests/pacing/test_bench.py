"""The simulated world and the benchmark around it."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.bench.ceiling import (
    abandon_share,
    erlang_b,
    erlang_reference,
    lag_estimate,
    service_times,
)
from engine.bench.coldstart import format_scan, random_scenarios, scan
from engine.bench.metrics import max_running_rate, max_window_rate
from engine.bench.report import target_report
from engine.bench.runner import run_one
from engine.bench.world import ContactList, Scenario
from engine.cli import main
from engine.pacing import AttemptOutcome


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_progressive_never_abandons(seed: int) -> None:
    # Closed form: each call has a ready agent that nothing else can take, so no answer waits.
    sc = Scenario(agents=5, answer_rate=0.4, talk_mean_s=60, wrap_mean_s=10, hours=0.25,
                  seed=seed)
    r = run_one(sc, "progressive")
    assert r.live > 20
    assert (r.abandoned, r.abandon_max_running) == (0, 0.0)
    assert r.dead_air_p95_s == pytest.approx(sc.bridge_latency_s)


def test_fixed_ratio_overdials_a_high_answer_rate() -> None:
    sc = Scenario(agents=5, answer_rate=0.4, hours=0.25, seed=1)
    assert run_one(sc, "fixed_ratio", fixed_ratio=3.0).abandoned > 0


def test_every_dialer_meets_the_same_contacts() -> None:
    sc = Scenario(seed=5, answer_rate=0.25, machine_rate=0.15)
    first, again = ContactList(sc), ContactList(sc)
    fates = [first.next() for _ in range(5000)]
    assert fates == [again.next() for _ in range(5000)]
    humans = sum(f[0] is AttemptOutcome.HUMAN for f in fates) / len(fates)
    machines = sum(f[0] is AttemptOutcome.MACHINE for f in fates) / len(fates)
    assert abs(humans - 0.25) < 0.02 and abs(machines - 0.15) < 0.02
    assert max(f[1] for f in fates) <= sc.ring_timeout_s


def test_abandon_windows() -> None:
    live = np.array([1.0, 2.0, 3.0, 4.0, 5000.0, 5001.0])
    abandons = np.array([3.5, 5001.5])
    assert max_running_rate(live, abandons) == pytest.approx(1 / 3)  # 1 of 3 by t=3.5
    assert max_window_rate(live, abandons, run_s=7200.0) == pytest.approx(1 / 2)
    assert max_running_rate(live, np.array([])) == 0.0


def test_cli_runs_one_scenario_and_plots(tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "plots"
    result = CliRunner().invoke(main, [
        "bench", "pacing", "--agents", "5", "--answer-rate", "0.4", "--talk-mean", "60",
        "--wrap", "10", "--hours", "0.1",
        "--jobs", "1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    for dialer in ("ours", "progressive", "fixed_ratio"):
        assert f" {dialer} " in result.output
    assert "list throughput >= 2x progressive" in result.output
    assert any(line.startswith("scenario") and " erlang " in line and " lag " in line
               for line in result.output.splitlines())
    assert "above the Erlang reference at the cap" in result.output
    assert sorted(p.name for p in out.glob("*.png")) == [
        "pacing_abandon_max.png", "pacing_contacts.png", "pacing_idle.png",
        "pacing_occupancy.png", "pacing_throughput.png"]


@pytest.mark.slow
@settings(max_examples=8, deadline=None, derandomize=True)
@given(
    seed=st.integers(1, 10_000),
    agents=st.integers(3, 10),
    answer_rate=st.sampled_from([0.10, 0.25, 0.40]),
    talk=st.sampled_from([60.0, 180.0]),
    wrap=st.sampled_from([10.0, 30.0]),
)
def test_ours_never_passes_the_abandon_cap(seed: int, agents: int, answer_rate: float,
                                           talk: float, wrap: float) -> None:
    sc = Scenario(agents=agents, answer_rate=answer_rate, talk_mean_s=talk, wrap_mean_s=wrap,
                  hours=0.5, seed=seed)
    r = run_one(sc, "ours")
    assert r.abandon_max_running <= 0.03


@pytest.mark.parametrize("agents, answer_rate, talk, wrap, hours", [
    (5, 0.10, 60, 10, 0.5),  # 2 abandons in the first 39 live answers before the fix
    (10, 0.10, 180, 30, 0.5),  # the same
    (100, 0.40, 60, 30, 0.25),  # 4.31 % right after the budget first admitted an abandon
])
def test_cap_holds_just_after_cold_start(agents: int, answer_rate: float, talk: float,
                                         wrap: float, hours: float) -> None:
    # The three grid scenarios that passed the cap when the model's point estimates alone
    # (at 0.999) guarded a young window; the second also with credible bounds at 0.999.
    sc = Scenario(agents=agents, answer_rate=answer_rate, talk_mean_s=talk, wrap_mean_s=wrap,
                  hours=hours, seed=1)
    r = run_one(sc, "ours")
    assert r.live > 30
    assert r.abandon_max_running <= 0.03


def test_dialers_also_decide_when_an_agent_becomes_ready() -> None:
    # Ticks an hour apart: only the decisions when agents become ready keep progressive going
    # (one decision at the start would dial 3 numbers in all).
    sc = Scenario(agents=3, answer_rate=0.8, talk_mean_s=20, wrap_mean_s=5, hours=0.2,
                  tick_s=3600.0)
    r = run_one(sc, "progressive")
    assert r.live > 3 * sc.agents
    assert r.abandoned == 0


def test_steady_state_figures_leave_out_the_warm_up() -> None:
    short = run_one(Scenario(agents=5, hours=0.1, warmup_h=0.1), "progressive")
    assert short.occupancy_steady is None and short.attempts_per_hour_steady is None
    sc = Scenario(agents=5, answer_rate=0.4, hours=0.3, warmup_h=0.1)
    r = run_one(sc, "progressive")
    assert r.occupancy_steady is not None and r.attempts_per_hour_steady is not None
    # The whole run is the warm-up and the rest, weighted by their length.
    warm = run_one(Scenario(agents=5, answer_rate=0.4, hours=0.1, warmup_h=1.0), "progressive")
    assert r.occupancy == pytest.approx((warm.occupancy + 2 * r.occupancy_steady) / 3)
    assert r.attempts_per_hour == pytest.approx(
        (warm.attempts_per_hour + 2 * r.attempts_per_hour_steady) / 3)


def test_erlang_reference_without_patience_is_erlang_b() -> None:
    # Poisson answers that find every agent busy are lost: the loss share is Erlang B,
    # whatever the service time distribution (here the world's lognormal talk + wrap-up).
    sc = Scenario(agents=10, talk_mean_s=60, wrap_mean_s=10, seed=4)
    rng = np.random.default_rng(9)
    services = service_times(sc, 40_000, rng)
    erlangs = 7.0
    arrivals = np.cumsum(rng.exponential(services.mean() / erlangs, 40_000))
    lost, _ = abandon_share(sc.agents, 0.0, arrivals, services)
    assert lost == pytest.approx(erlang_b(10, erlangs), abs=0.006)  # 0.0787
    ref = erlang_reference(sc, 0.03, answers=40_000, patience_s=0.0)
    assert ref.abandon_share == pytest.approx(0.03, abs=0.002)
    assert erlang_b(10, ref.offered_erlangs) == pytest.approx(0.03, abs=0.006)
    assert ref.occupancy == pytest.approx(ref.offered_erlangs * 0.97 / 10, rel=0.03)


def test_erlang_reference_grows_with_patience_and_team_size() -> None:
    small, large = Scenario(agents=5, seed=2), Scenario(agents=20, seed=2)
    waiting = erlang_reference(small, 0.03, answers=20_000)
    lost = erlang_reference(small, 0.03, answers=20_000, patience_s=0.0)
    assert lost.occupancy < waiting.occupancy < erlang_reference(large, 0.03,
                                                                  answers=20_000).occupancy
    assert 0.2 < lost.occupancy < waiting.occupancy < 0.6


def test_lag_estimate_rises_with_team_and_calls_and_falls_with_ring_time() -> None:
    base = Scenario(agents=20, talk_mean_s=60, wrap_mean_s=10)
    at = lag_estimate(base, 0.03)
    assert 0.8 < at < 0.9  # the documented 85.2 %
    assert lag_estimate(replace(base, agents=10), 0.03) < at < lag_estimate(
        replace(base, agents=50), 0.03)
    assert at < lag_estimate(replace(base, talk_mean_s=180), 0.03)
    assert lag_estimate(replace(base, ring_answer_mean_s=15), 0.03) < at < lag_estimate(
        replace(base, ring_answer_mean_s=4), 0.03)
    assert at < lag_estimate(replace(base, answer_timeout_s=5), 0.03)
    assert lag_estimate(base, 0.01) < at < lag_estimate(base, 0.05)


def test_occupancy_misses_show_the_lag_estimate() -> None:
    sc = Scenario(agents=10, answer_rate=0.25, hours=0.05, seed=3)
    results = [run_one(sc, dialer) for dialer in ("ours", "progressive", "fixed_ratio")]
    report = target_report(results, lags={sc: 0.772})
    assert "MISS occupancy >= 85% with 10 agents, whole run: 0/1" in report
    assert f"{sc.label} {results[0].occupancy:.1%} (lag estimate 77.2%)" in report
    assert "(lag estimate" not in target_report(results)


def test_cold_start_scan_draws_reproducibly_and_reports_breaches() -> None:
    first = random_scenarios(6, 0.05, (3, 5), seed=4)
    assert first == random_scenarios(6, 0.05, (3, 5), seed=4)
    assert first != random_scenarios(6, 0.05, (3, 5), seed=5)
    assert {sc.agents for sc in first} <= {3, 5} and all(sc.hours == 0.05 for sc in first)
    results = scan(first[:2])
    assert [r.dialer for r in results] == ["ours", "ours"]
    assert format_scan(results, cap=0.03).startswith("2 cold start(s): 0 passed the 3% cap")
    breach = replace(results[0], abandon_max_running=0.05)
    report = format_scan([breach, results[1]], cap=0.03, worst=0)
    assert report.startswith("2 cold start(s): 1 passed")
    assert "max abandon 5.00%" in report and len(report.splitlines()) == 2
