#!/usr/bin/env python
"""Benchmark the engine against the switch simulator (run in its own process).

Progressive phase: N nailed-up agents, every callee a human who answers after a short ring
and talks briefly; prints originates per second sustained, peak concurrent calls, and the
answer-to-bridge latency p50/p99: CHANNEL_ANSWER read off the socket by the engine ->
``uuid_bridge`` written to the socket. The bridge waits for the customer's originate to
return (the simulator, like FreeSWITCH 1.11.1, returns it about 20 ms after the answer), so
the engine's own part is printed too: from the later of the answer and the originate's
result to the bridge command. Also printed: answer-to-bridge from the switch's
own answer time (``Event-Date-Timestamp``; includes time the event waited in the socket
before the engine read it), ``dead_air_ms`` (to the CHANNEL_BRIDGE event), how late the
event loop woke a greenlet sleeping 5 ms (p99 and worst: time the loop was busy with
something else, such as work that blocks it), the CPU time used by the engine process and
by the simulator, and the load average.
IVR phase: no agents, long messages, up to ``--ivr-channels`` calls at once; prints the peak
concurrent calls and originates per second.

``--repeat N`` runs everything N times (a fresh simulator and database each time) and
prints the median of each figure. Targets (issue 4): 100 originates/s, 2,000 concurrent
calls, p99 answer-to-bridge < 50 ms with 500 agents. Figures depend on the machine and on
what else runs on it; nothing here is asserted.

    .venv/bin/python scripts/bench_engine.py --agents 500 --seconds 40 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import gevent
import gevent.pool
from sqlalchemy import insert, select

from engine.calls import Call
from engine.clock import SystemClock
from engine.config import SwitchNode
from engine.runner.core import DialerCore
from engine.runner.ivr import IvrRunner
from engine.runner.progressive import ProgressiveRunner
from engine.store.db import make_engine, make_sessionmaker
from engine.store.models import (
    Agent,
    AgentStateLog,
    Base,
    CallAttempt,
    Campaign,
    CampaignStatus,
    Contact,
    ContactList,
    DialMode,
    Phone,
    Tenant,
)
from engine.store.queries import next_dialable
from engine.switch.connection import SwitchConnection

FIRST_EXTENSION = 10000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def zone_at_noon() -> str:
    return f"Etc/GMT{-(12 - datetime.now(timezone.utc).hour):+d}"


def start_simulator(workdir: Path, agents: int, talk_s: float) -> tuple[subprocess.Popen, int]:  # type: ignore[type-arg]
    scenario = {
        "name": "bench", "seed": 1, "time_scale": 1.0,
        "defaults": {"outcomes": {"human": 1}, "post_dial_delay": 0.05,
                     "ring": {"dist": "uniform", "min": 0.5, "max": 1.5}, "early_media": 0,
                     "patience": 60, "talk": talk_s, "dtmf": None},
        "agents": [{"extensions": f"{FIRST_EXTENSION}-{FIRST_EXTENSION + max(agents, 1) - 1}",
                    "answer": 0.05}],
    }
    path = workdir / "scenario.json"
    path.write_text(json.dumps(scenario))
    port = free_port()
    dialer = Path(sys.executable).with_name("dialer")
    process = subprocess.Popen(
        [str(dialer), "simulate-switch", "--listen", f"127.0.0.1:{port}", "--scenario", str(path),
         "--event-queue-limit", "0"],
        stdout=subprocess.DEVNULL, stderr=(workdir / "sim.log").open("w"))
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process, port
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the simulator did not start; see " + str(workdir / "sim.log"))


def seed_database(sessions, mode: DialMode, contacts: int, agents: int, **campaign) -> tuple[int, list[int]]:  # type: ignore[no-untyped-def]
    now = datetime.now(timezone.utc)
    zone = zone_at_noon()
    with sessions() as session, session.begin():
        tenant = Tenant(name=f"bench-{mode}", created_at=now)
        session.add(tenant)
        session.flush()
        row = Campaign(tenant_id=tenant.id, name=f"bench {mode}", mode=mode,
                       status=CampaignStatus.RUNNING, gateway="sofia/gateway/carrier/{number}",
                       recording={"enabled": False}, created_at=now, updated_at=now, **campaign)
        session.add(row)
        session.flush()
        contact_list = ContactList(tenant_id=tenant.id, campaign_id=row.id, name="bench",
                                   created_at=now)
        session.add(contact_list)
        session.flush()
        base = 79000000000 + 1000000 * (1 if mode is DialMode.PROGRESSIVE else 2)
        session.execute(insert(Contact), [
            {"tenant_id": tenant.id, "list_id": contact_list.id, "external_id": str(n),
             "timezone": zone, "created_at": now, "updated_at": now, "fields": {}}
            for n in range(contacts)])
        ids = session.scalars(select(Contact.id).where(Contact.list_id == contact_list.id)
                              .order_by(Contact.id)).all()
        session.execute(insert(Phone), [{"contact_id": cid, "number": f"+{base + n}"}
                                        for n, cid in enumerate(ids)])
        if agents:
            session.execute(insert(Agent), [
                {"tenant_id": tenant.id, "name": f"a{n}", "skills": [],
                 "dial_string": f"user/{FIRST_EXTENSION + n}@sim"} for n in range(agents)])
        agent_ids = session.scalars(select(Agent.id).where(Agent.tenant_id == tenant.id)).all()
        return row.id, list(agent_ids)


def percentile(values: list[float] | list[int], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


class BridgeLatency:
    """Answer-to-bridge latency: from CHANNEL_ANSWER (read by the engine, and as stamped by
    the switch) to ``uuid_bridge`` written to the socket; and the engine's own part, from
    the later of the answer and the originate's result (the bridge waits for that result:
    a real FreeSWITCH returns it some 20 ms after the answer and cancels the originate of a
    leg bridged before). Patches the classes once; ``reset`` starts a new measurement."""

    def __init__(self) -> None:
        self.answered: dict[str, tuple[float, float | None]] = {}
        self.returned: dict[str, float] = {}
        self.engine_ms: list[float] = []
        self.own_ms: list[float] = []
        self.switch_ms: list[float] = []
        original_answer = Call.on_channel_answer
        original_result = Call.job_result
        original_send = SwitchConnection.api_send
        latency = self

        def on_channel_answer(call: Call, event) -> None:  # type: ignore[no-untyped-def]
            stamp = event.timestamp_us
            latency.answered[call.uuid] = (event.received_mono,
                                           stamp / 1e6 if stamp is not None else None)
            original_answer(call, event)

        def job_result(call: Call, body: str) -> None:
            latency.returned[call.uuid] = time.monotonic()
            original_result(call, body)

        def api_send(connection: SwitchConnection, command: str):  # type: ignore[no-untyped-def]
            result = original_send(connection, command)
            if command.startswith("uuid_bridge "):
                now_mono, now_wall = time.monotonic(), time.time()
                uuid = command.split()[1]
                received = latency.answered.pop(uuid, None)
                returned = latency.returned.pop(uuid, None)
                if received is not None:
                    latency.engine_ms.append((now_mono - received[0]) * 1000)
                    ready = max(received[0], returned if returned is not None else 0.0)
                    latency.own_ms.append((now_mono - ready) * 1000)
                    if received[1] is not None:
                        latency.switch_ms.append((now_wall - received[1]) * 1000)
            return result

        Call.on_channel_answer = on_channel_answer  # type: ignore[method-assign]
        Call.job_result = job_result  # type: ignore[method-assign]
        SwitchConnection.api_send = api_send  # type: ignore[method-assign]

    def reset(self) -> None:
        self.answered.clear()
        self.returned.clear()
        self.engine_ms.clear()
        self.own_ms.clear()
        self.switch_ms.clear()


class LoopLag:
    """How late the event loop wakes a greenlet that sleeps ``period_s``, once per period
    from creation to ``stop``."""

    def __init__(self, period_s: float = 0.005) -> None:
        self.period_s = period_s
        self.lags_ms: list[float] = []
        self._greenlet = gevent.spawn(self._run)

    def _run(self) -> None:
        while True:
            started = time.monotonic()
            gevent.sleep(self.period_s)
            self.lags_ms.append((time.monotonic() - started - self.period_s) * 1000)

    def stop(self) -> dict[str, float]:
        self._greenlet.kill()
        return {"lag_p99": percentile(self.lags_ms, 0.99),
                "lag_max": max(self.lags_ms, default=float("nan"))}


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc), NaN elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


class CpuMeter:
    """CPU used by this process (all its threads) and by the simulator over one phase."""

    def __init__(self, simulator_pid: int) -> None:
        self.simulator_pid = simulator_pid
        self._start = (time.monotonic(), process_cpu_s(os.getpid()),
                       process_cpu_s(simulator_pid), os.getloadavg()[0])

    def figures(self) -> dict[str, float]:
        """Shares of a core (engine, simulator), the phase's length and the higher load average
        (of its start and end)."""
        wall0, engine0, sim0, load0 = self._start
        wall = time.monotonic() - wall0
        return {"engine_cpu": (process_cpu_s(os.getpid()) - engine0) / wall,
                "sim_cpu": (process_cpu_s(self.simulator_pid) - sim0) / wall,
                "wall": wall, "load": max(load0, os.getloadavg()[0])}


def run_phase(core: DialerCore, runner, seconds: float) -> tuple[int, float, float]:  # type: ignore[no-untyped-def]
    """Run a campaign; returns its peak concurrent calls, when it was first reached, and
    how long the phase ran."""
    peak, peak_at = 0, 0.0
    runner.start()
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        gevent.sleep(0.25)
        live = sum(1 for call in list(core.calls.values()) if call.campaign_id == runner.campaign_id)
        if live > peak:
            peak, peak_at = live, time.monotonic() - started
    runner.stop()
    return peak, peak_at, time.monotonic() - started


def originate_times(sessions, campaign_id: int) -> list[datetime]:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return sorted(t for t in session.scalars(select(CallAttempt.originated_at).where(
            CallAttempt.campaign_id == campaign_id)) if t is not None)


def first_to_last_rate(times: list[datetime], warmup_s: float) -> float:
    """The figure printed before: originates from the first one after the warm-up to the last,
    over that span (overstated when the originates come in a few bursts)."""
    times = [t for t in times if (t - times[0]).total_seconds() >= warmup_s] if times else []
    if len(times) < 2:
        return 0.0
    return (len(times) - 1) / (times[-1] - times[0]).total_seconds()


def window_rate(times: list[datetime], started: datetime, ended: datetime,
                warmup_s: float) -> float:
    """Originates after the warm-up divided by the rest of the phase: the sustained rate."""
    window = (ended - started).total_seconds() - warmup_s
    counted = sum(1 for t in times if (t - started).total_seconds() >= warmup_s)
    return counted / window if window > 0 else 0.0


def progressive_phase(core: DialerCore, sessions, simulator_pid: int, latency: BridgeLatency,  # type: ignore[no-untyped-def]
                      args: argparse.Namespace) -> dict[str, float]:
    contacts = int(args.agents / (args.talk + 1.5) * args.seconds * 1.5) + args.agents
    campaign_id, agent_ids = seed_database(
        sessions, DialMode.PROGRESSIVE, contacts, args.agents,
        pacing={"ring_timeout_s": 15, "wrap_up_s": 0, "max_cps": args.cps})
    t0 = time.monotonic()
    gevent.pool.Pool(50).map(lambda agent_id: core.login(agent_id, campaign_id), agent_ids)
    while sum(1 for a in core.agents if a.state.value == "ready") < len(agent_ids):
        gevent.sleep(0.1)
    print(f"  {len(agent_ids)} agents logged in and ready in {time.monotonic() - t0:.1f} s")
    latency.reset()
    cpu = CpuMeter(simulator_pid)
    lag = LoopLag()
    started = datetime.now(timezone.utc)
    peak, _, elapsed = run_phase(core, ProgressiveRunner(core, campaign_id, tick_s=0.01),
                                 args.seconds)
    ended = datetime.now(timezone.utc)
    figures = {**cpu.figures(), **lag.stop()}
    core.writer.flush()
    with sessions() as session:
        dead_air = [d for d in session.scalars(select(CallAttempt.dead_air_ms).where(
            CallAttempt.campaign_id == campaign_id)) if d is not None]
        log_rows = session.scalar(select(AgentStateLog.id).order_by(AgentStateLog.id.desc()))
    times = originate_times(sessions, campaign_id)
    figures.update({
        "rate": window_rate(times, started, ended, warmup_s=5),
        "first_to_last": first_to_last_rate(times, warmup_s=5), "peak": peak,
        "bridged": len(dead_air), "p50": percentile(latency.engine_ms, 0.5),
        "p99": percentile(latency.engine_ms, 0.99),
        "own_p50": percentile(latency.own_ms, 0.5), "own_p99": percentile(latency.own_ms, 0.99),
        "switch_p50": percentile(latency.switch_ms, 0.5),
        "switch_p99": percentile(latency.switch_ms, 0.99),
        "dead_air_p50": percentile(dead_air, 0.5), "dead_air_p99": percentile(dead_air, 0.99),
        "cpu_ms_per_call": figures["engine_cpu"] * figures["wall"] * 1000 / max(len(times), 1)})
    print(f"  progressive: {args.agents} agents, {elapsed:.0f} s: {figures['rate']:.1f} "
          f"originates/s sustained ({figures['first_to_last']:.1f}/s first to last), peak {peak} concurrent calls, {len(dead_air)} bridged, "
          f"engine answer-event-to-bridge-command p50 {figures['p50']:.1f} ms, "
          f"p99 {figures['p99']:.1f} ms (engine's own, from the later of the answer and the "
          f"originate's result: p50 {figures['own_p50']:.1f} ms, p99 {figures['own_p99']:.1f} ms); "
          f"from the switch's answer time p50 "
          f"{figures['switch_p50']:.1f} ms, p99 {figures['switch_p99']:.1f} ms; dead air "
          f"(to the bridge event) p50 {figures['dead_air_p50']:.0f} ms, p99 "
          f"{figures['dead_air_p99']:.0f} ms ({log_rows} agent state rows); event loop late "
          f"p99 {figures['lag_p99']:.1f} ms, worst {figures['lag_max']:.0f} ms; CPU: engine "
          f"{figures['engine_cpu']:.0%} of a core ({figures['cpu_ms_per_call']:.1f} ms per "
          f"originated call), simulator {figures['sim_cpu']:.0%}; "
          f"load average {figures['load']:.1f}")
    return figures


def ivr_phase(core: DialerCore, sessions, simulator_pid: int,  # type: ignore[no-untyped-def]
              args: argparse.Namespace) -> dict[str, float]:
    ivr_id, _ = seed_database(
        sessions, DialMode.IVR, args.ivr_channels * 2, 0,
        pacing={"ring_timeout_s": 15, "max_channels": args.ivr_channels},
        ivr={"messages": [f"silence_stream://{int(args.seconds * 1000)}"]})
    cpu = CpuMeter(simulator_pid)
    peak, peak_at, elapsed = run_phase(core, IvrRunner(core, ivr_id, tick_s=0.01), args.seconds)
    figures = {"ivr_peak": peak, "ivr_peak_at": peak_at, **{
        f"ivr_{name}": value for name, value in cpu.figures().items()}}
    print(f"  ivr: limit {args.ivr_channels} channels, {elapsed:.0f} s: peak {peak} concurrent "
          f"calls, first reached after {peak_at:.1f} s; CPU: engine "
          f"{figures['ivr_engine_cpu']:.0%}, simulator {figures['ivr_sim_cpu']:.0%}; "
          f"load average {figures['ivr_load']:.1f}")
    return figures


def run_once(args: argparse.Namespace, latency: BridgeLatency) -> dict[str, float]:
    """One run with a fresh simulator and database."""
    workdir = Path(tempfile.mkdtemp(prefix="bench-engine-"))
    try:
        simulator, port = start_simulator(workdir, args.agents, args.talk)
    except RuntimeError:
        print((workdir / "sim.log").read_text()[-2000:], file=sys.stderr)
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    engine = make_engine(f"sqlite:///{workdir / 'bench.sqlite3'}")
    Base.metadata.create_all(engine)
    sessions = make_sessionmaker(engine)
    core = DialerCore(nodes=[SwitchNode("sim", "127.0.0.1", port, "ClueCon")], sessions=sessions,
                      clock=SystemClock(), source=next_dialable, recordings_dir=workdir / "rec",
                      timeout_s=30)
    try:
        core.start()
        if not core.pool.wait_up(10):
            raise SystemExit("could not connect to the simulator")
        figures = progressive_phase(core, sessions, simulator.pid, latency, args)
        if not args.skip_ivr:
            figures.update(ivr_phase(core, sessions, simulator.pid, args))
        return figures
    finally:
        core.stop()
        simulator.terminate()
        simulator.wait(10)
        engine.dispose()
        if not os.environ.get("KEEP_BENCH_DIR"):
            shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=60, help="length of each phase")
    parser.add_argument("--talk", type=float, default=3.0, help="callee talk time, seconds")
    parser.add_argument("--cps", type=float, default=None,
                        help="the progressive campaign's max calls per second (default: none)")
    parser.add_argument("--ivr-channels", type=int, default=2000)
    parser.add_argument("--skip-ivr", action="store_true")
    parser.add_argument("--repeat", type=int, default=1, help="runs; medians are printed")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    latency = BridgeLatency()
    runs = []
    for number in range(1, args.repeat + 1):
        print(f"run {number} of {args.repeat}")
        runs.append(run_once(args, latency))
    median = {name: statistics.median(run[name] for run in runs) for name in runs[0]}
    print(f"median of {len(runs)} run(s): {median['rate']:.1f} originates/s sustained "
          f"({median['first_to_last']:.1f}/s first to last), "
          f"peak {median['peak']:.0f} concurrent; engine answer-event-to-bridge-command p50 "
          f"{median['p50']:.1f} ms, p99 {median['p99']:.1f} ms (engine's own p50 "
          f"{median['own_p50']:.1f} ms, p99 {median['own_p99']:.1f} ms); from the switch's answer time "
          f"p50 {median['switch_p50']:.1f} ms, p99 {median['switch_p99']:.1f} ms; dead air p50 "
          f"{median['dead_air_p50']:.0f} ms, p99 {median['dead_air_p99']:.0f} ms; event loop "
          f"late p99 {median['lag_p99']:.1f} ms, worst {median['lag_max']:.0f} ms; CPU: engine "
          f"{median['engine_cpu']:.0%} of a core ({median['cpu_ms_per_call']:.1f} ms per "
          f"originated call), simulator {median['sim_cpu']:.0%}; "
          f"load average {median['load']:.1f}"
          + (f"; ivr peak {median['ivr_peak']:.0f} concurrent" if "ivr_peak" in median else ""))


if __name__ == "__main__":
    main()
