#!/usr/bin/env python
"""Capacity of the switch simulator: originates/s sustained, peak concurrent channels, event throughput, CPU.

Starts `dialer simulate-switch` as a separate process (as in production), drives it from this process with
raw ESL `bgapi originate` at a fixed rate while one listener takes every event (`event plain ALL`),
and samples `show channels count`. Calls are answered after 0.5 s and hang up after `--hold` seconds.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import gevent
import gevent.event
from gevent import socket as gsocket

EVENT_MARK = b"Content-Type: text/event-plain"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Conn:
    """A minimal ESL connection that authenticates and counts what comes back."""

    def __init__(self, port: int) -> None:
        self.sock = gsocket.create_connection(("127.0.0.1", port))
        self.buffer = b""
        self.sock.sendall(b"auth ClueCon\n\n")

    def send(self, command: str) -> None:
        self.sock.sendall(command.encode() + b"\n\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=200.0, help="originates per second")
    parser.add_argument("--seconds", type=float, default=15.0, help="how long to keep originating")
    parser.add_argument("--hold", type=float, default=14.0, help="seconds each answered call stays up")
    args = parser.parse_args()

    world = Path(tempfile.mkdtemp()) / "bench.yaml"
    world.write_text(f"""name: bench
defaults:
  outcomes: {{human: 1}}
  post_dial_delay: 0.1
  ring: 0.4
  early_media: 0
  patience: {args.hold}
  dtmf: null
""")
    port = free_port()
    dialer = str(Path(sys.executable).with_name("dialer"))
    server = subprocess.Popen([dialer, "simulate-switch", "--listen", f"127.0.0.1:{port}", "--scenario", str(world)],
                              stderr=subprocess.DEVNULL, env={**os.environ, "DIALER_LOG_LEVEL": "WARNING"})
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        run(port, server.pid, args)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def run(port: int, server_pid: int, args: argparse.Namespace) -> None:
    listener, driver, sampler = Conn(port), Conn(port), Conn(port)
    listener.send("event plain ALL")
    sent_at: dict[str, float] = {}
    latencies: list[float] = []
    completed_at: list[float] = []
    counts = {"events": 0, "bytes": 0, "ok": 0, "err": 0}
    peak = [0]
    done = gevent.event.Event()

    def pump(conn: Conn, on_data) -> None:
        """Read `conn` until the run ends, handing each chunk to `on_data`."""
        while not done.is_set():
            data = conn.sock.recv(1 << 20)
            if not data:
                return
            on_data(data)

    tail = [b""]

    def count_events(data: bytes) -> None:
        counts["bytes"] += len(data)
        window = tail[0] + data
        counts["events"] += window.count(EVENT_MARK) - tail[0].count(EVENT_MARK)
        tail[0] = window[-64:]

    def sample() -> None:
        while not done.is_set():
            sampler.send("api show channels count")
            data = b""
            while b"total." not in data:
                data += sampler.sock.recv(4096)
            found = re.findall(rb"(\d+) total\.", data)
            peak[0] = max([peak[0]] + [int(x) for x in found])
            gevent.sleep(0.5)

    job_listener = Conn(port)
    job_listener.send("event plain BACKGROUND_JOB")

    jobs = [b""]

    def match_jobs(data: bytes) -> None:
        """Completion times are the switch's own (Event-Date-Timestamp), not when this client read them."""
        jobs[0] += data
        for stamp, job, result in re.findall(rb"Event-Date-Timestamp: (\d+)\n.*?Job-Command-Arg: "
                                             rb"%7Borigination_uuid%3D([0-9a-f-]+),[^\n]*\n"
                                             rb"Content-Length: \d+\n\n([+-])", jobs[0], re.S):
            started = sent_at.pop(job.decode(), None)
            if started is not None:
                done_at = int(stamp) / 1e6
                latencies.append(done_at - started)
                completed_at.append(done_at)
                counts["ok" if result == b"+" else "err"] += 1
        jobs[0] = jobs[0][-4096:]

    workers = [gevent.spawn(pump, listener, count_events), gevent.spawn(pump, driver, lambda data: None),
               gevent.spawn(pump, job_listener, match_jobs), gevent.spawn(sample)]
    gevent.sleep(0.5)
    cpu_server0, cpu_client0 = cpu_seconds(server_pid), resource.getrusage(resource.RUSAGE_SELF)
    total = int(args.rate * args.seconds)
    started = time.monotonic()
    wall_started = time.time()
    for i in range(total):
        due = started + i / args.rate
        delay = due - time.monotonic()
        if delay > 0:
            gevent.sleep(delay)
        leg = f"00000000-0000-4000-8000-{i:012d}"
        sent_at[leg] = time.time()
        driver.send(f"bgapi originate {{origination_uuid={leg},dialer_attempt_id={i}}}"
                    f"sofia/gateway/carrier/79{i:09d} &park()")
    send_elapsed = time.monotonic() - started
    deadline = time.monotonic() + 30
    while counts["ok"] + counts["err"] < total and time.monotonic() < deadline:
        gevent.sleep(0.1)
    answered_elapsed = time.monotonic() - started
    gevent.sleep(args.hold + 2)  # let every call hang up
    elapsed = time.monotonic() - started
    cpu_server = cpu_seconds(server_pid) - cpu_server0
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu_client = usage.ru_utime + usage.ru_stime - cpu_client0.ru_utime - cpu_client0.ru_stime
    done.set()
    for conn in (listener, driver, sampler, job_listener):
        conn.sock.close()
    gevent.killall(workers, block=False)

    completed = counts["ok"] + counts["err"]
    steady = [t - wall_started for t in completed_at if 2.0 <= t - wall_started < args.seconds]
    per_second = [sum(1 for t in steady if s <= t < s + 1) for s in range(2, int(args.seconds))]
    print(f"originates requested       {total} at {args.rate:.0f}/s over {args.seconds:.0f} s")
    print(f"originates sent/s          {total / send_elapsed:.1f}")
    print(f"originates answered/s      {len(steady) / (args.seconds - 2):.1f} sustained (seconds 2-{args.seconds:.0f};"
          f" slowest second {min(per_second)}), all {completed} done after {answered_elapsed:.1f} s "
          f"({counts['ok']} +OK, {counts['err']} -ERR, {total - completed} missing)")
    print(f"bgapi -> BACKGROUND_JOB    (switch time) median {statistics.median(latencies) * 1000:.0f} ms, "
          f"p95 {statistics.quantiles(latencies, n=20)[18] * 1000:.0f} ms (answer after 500 ms by design)")
    print(f"peak concurrent channels   {peak[0]}")
    print(f"events to one listener     {counts['events']} in {elapsed:.1f} s = {counts['events'] / elapsed:.0f}/s "
          f"({counts['bytes'] / elapsed / 1e6:.1f} MB/s)")
    print(f"CPU simulator process      {cpu_server:.1f} s ({cpu_server / elapsed * 100:.0f}% of one core)")
    print(f"CPU bench client           {cpu_client:.1f} s")


if __name__ == "__main__":
    main()
