#!/usr/bin/env python
"""Benchmark the engine against the switch simulator (run in its own process).

Progressive phase: N nailed-up agents, every callee a human who answers after a short ring
and talks briefly; prints originates per second sustained, peak concurrent calls, and the
engine's answer-to-bridge latency (``dead_air_ms``: CHANNEL_ANSWER received -> uuid_bridge
sent -> CHANNEL_BRIDGE received) p50/p99.
IVR phase: no agents, long messages, up to ``--ivr-channels`` calls at once; prints the peak
concurrent calls and originates per second.

Targets (issue 4): 100 originates/s, 2,000 concurrent calls, p99 answer-to-bridge < 50 ms
with 500 agents. Figures depend on the machine; nothing here is asserted.

    .venv/bin/python scripts/bench_engine.py --agents 500 --seconds 60
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import gevent
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
    """Engine-side latency: CHANNEL_ANSWER read off the socket -> uuid_bridge written to it."""

    def __init__(self, core: DialerCore) -> None:
        self.answered: dict[str, float] = {}
        self.samples_ms: list[float] = []
        original_answer = Call.on_channel_answer
        original_send = SwitchConnection.api_send
        latency = self

        def on_channel_answer(call: Call, event) -> None:  # type: ignore[no-untyped-def]
            latency.answered[call.uuid] = event.received_mono
            original_answer(call, event)

        def api_send(connection: SwitchConnection, command: str):  # type: ignore[no-untyped-def]
            result = original_send(connection, command)
            if command.startswith("uuid_bridge "):
                received = latency.answered.pop(command.split()[1], None)
                if received is not None:
                    latency.samples_ms.append((time.monotonic() - received) * 1000)
            return result

        Call.on_channel_answer = on_channel_answer  # type: ignore[method-assign]
        SwitchConnection.api_send = api_send  # type: ignore[method-assign]


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


def originates_per_second(sessions, campaign_id: int, warmup_s: float) -> float:  # type: ignore[no-untyped-def]
    with sessions() as session:
        times = sorted(t for t in session.scalars(select(CallAttempt.originated_at).where(
            CallAttempt.campaign_id == campaign_id)) if t is not None)
    times = [t for t in times if (t - times[0]).total_seconds() >= warmup_s] if times else []
    if len(times) < 2:
        return 0.0
    return (len(times) - 1) / (times[-1] - times[0]).total_seconds()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=60, help="length of each phase")
    parser.add_argument("--talk", type=float, default=3.0, help="callee talk time, seconds")
    parser.add_argument("--cps", type=float, default=None,
                        help="the progressive campaign's max calls per second (default: none)")
    parser.add_argument("--ivr-channels", type=int, default=2000)
    parser.add_argument("--skip-ivr", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
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
        contacts = int(args.agents / (args.talk + 1.5) * args.seconds * 1.5) + args.agents
        campaign_id, agent_ids = seed_database(
            sessions, DialMode.PROGRESSIVE, contacts, args.agents,
            pacing={"ring_timeout_s": 15, "wrap_up_s": 0, "max_cps": args.cps})
        t0 = time.monotonic()
        for agent_id in agent_ids:
            core.login(agent_id, campaign_id)
        while sum(1 for a in core.agents if a.state.value == "ready") < len(agent_ids):
            gevent.sleep(0.1)
        print(f"{len(agent_ids)} agents logged in and ready in {time.monotonic() - t0:.1f} s")
        latency = BridgeLatency(core)
        peak, _, elapsed = run_phase(core, ProgressiveRunner(core, campaign_id, tick_s=0.01),
                                     args.seconds)
        with sessions() as session:
            dead_air = [d for d in session.scalars(select(CallAttempt.dead_air_ms).where(
                CallAttempt.campaign_id == campaign_id)) if d is not None]
            log_rows = session.scalar(select(AgentStateLog.id).order_by(AgentStateLog.id.desc()))
        rate = originates_per_second(sessions, campaign_id, warmup_s=5)
        print(f"progressive: {args.agents} agents, {elapsed:.0f} s: {rate:.1f} originates/s "
              f"sustained, peak {peak} concurrent calls, {len(dead_air)} bridged, "
              f"engine answer-event-to-bridge-command p50 "
              f"{percentile(latency.samples_ms, 0.5):.1f} ms, p99 "
              f"{percentile(latency.samples_ms, 0.99):.1f} ms; dead air (to the bridge event) "
              f"p50 {percentile(dead_air, 0.5):.0f} ms, p99 {percentile(dead_air, 0.99):.0f} ms "
              f"({log_rows} agent state rows)")
        if not args.skip_ivr:
            contacts = args.ivr_channels * 2
            ivr_id, _ = seed_database(
                sessions, DialMode.IVR, contacts, 0,
                pacing={"ring_timeout_s": 15, "max_channels": args.ivr_channels},
                ivr={"messages": [f"silence_stream://{int(args.seconds * 1000)}"]})
            peak, peak_at, elapsed = run_phase(core, IvrRunner(core, ivr_id, tick_s=0.01),
                                               args.seconds)
            print(f"ivr: limit {args.ivr_channels} channels, {elapsed:.0f} s: peak {peak} "
                  f"concurrent calls, first reached after {peak_at:.1f} s")
    finally:
        core.stop()
        simulator.terminate()
        simulator.wait(10)
        engine.dispose()
        if not os.environ.get("KEEP_BENCH_DIR"):
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
