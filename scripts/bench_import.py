#!/usr/bin/env python
"""Benchmark: import a generated 1,000,000-contact CSV into a fresh SQLite file, then again.

Prints the generation time, the first import (all rows new) and the re-import of the same
file (all rows unchanged), each with wall seconds, the CPU seconds of the writing (main)
process and of the parsing process, and rows per second (wall). The machine's load average is
printed before each run too: on a shared machine wall time depends on it. ``--repeat N`` runs
the pair N times on fresh databases and prints the medians. Usage:
    .venv/bin/python scripts/bench_import.py [--rows N] [--dir /tmp] [--repeat N]
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import time
from dataclasses import dataclass
from pathlib import Path
from statistics import median

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from engine.clock import SystemClock
from engine.exchange.importer import Importer
from engine.exchange.mapping import Mapping
from engine.exchange.targets import ensure_list
from engine.store.db import make_engine, make_sessionmaker, transaction
from engine.store.models import Base, Tenant

FORMATS = ("+7 9{a:02d} {b:03d}-{c:02d}-{d:02d}", "8 (9{a:02d}) {b:03d}-{c:02d}-{d:02d}",
           "79{a:02d}{b:03d}{c:02d}{d:02d}", "+79{a:02d}{b:03d}{c:02d}{d:02d}")
ZONES = ("Europe/Moscow", "Asia/Yekaterinburg", "Asia/Novosibirsk", "")


def generate(path: Path, rows: int) -> None:
    rng = random.Random(42)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(["external_id", "name", "phone", "phone_type", "phone2", "phone2_type",
                         "timezone", "region", "consent", "debt"])
        for n in range(rows):
            parts = {"a": rng.randrange(100), "b": rng.randrange(1000), "c": rng.randrange(100),
                     "d": rng.randrange(100)}
            phone2 = f"8495{rng.randrange(10**7):07d}" if n % 3 == 0 else ""
            writer.writerow([f"C{n:08d}", f"Клиент Номер {n}", rng.choice(FORMATS).format(**parts),
                             "мобильный", phone2, "рабочий" if phone2 else "",
                             ZONES[n % 4], "Москва", n % 2, f"{rng.randrange(10**6)}.00"])


@dataclass(frozen=True)
class Timing:
    wall: float  # seconds
    writer_cpu: float  # CPU seconds of this (the writing) process
    parser_cpu: float  # CPU seconds of the parsing process (0: files under 4 MB parse here)
    summary: str


def timed_import(factory, path: Path, tenant_id: int,  # type: ignore[no-untyped-def]
                 list_id: int) -> Timing:
    importer = Importer(factory, path, tenant_id=tenant_id, list_id=list_id, mapping=Mapping(),
                        region="RU", clock=SystemClock())
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    started, cpu = time.perf_counter(), time.process_time()
    summary = importer.run(lambda line, reason, cells: None)
    wall, writer = time.perf_counter() - started, time.process_time() - cpu
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the parser has been joined
    parser = (after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime)
    return Timing(wall, writer, parser, summary.line())


def fresh_database(db_path: Path) -> tuple[Engine, sessionmaker[Session], int, int]:
    """An empty SQLite database with a tenant and a list: engine, factory, their ids."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{db_path}")
    Base.metadata.create_all(engine)
    factory = make_sessionmaker(engine)
    clock = SystemClock()
    with transaction(factory) as session:
        tenant = Tenant(name="bench", created_at=clock.now())
        session.add(tenant)
        session.flush()
        tenant_id, list_id = tenant.id, ensure_list(session, tenant, "bench", None, clock).id
    return engine, factory, tenant_id, list_id


def load() -> str:
    return f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--dir", type=Path, default=Path("/tmp"))
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    csv_path = args.dir / f"bench_import_{args.rows}.csv"
    db_path = args.dir / "bench_import.sqlite3"
    started = time.perf_counter()
    generate(csv_path, args.rows)
    print(f"generated {args.rows} rows ({csv_path.stat().st_size / 1e6:.0f} MB) "
          f"in {time.perf_counter() - started:.1f} s")
    timings: dict[str, list[Timing]] = {"import": [], "re-import": []}
    for _ in range(args.repeat):
        engine, factory, tenant_id, list_id = fresh_database(db_path)
        for label, runs in timings.items():
            print(f"{label}: {load()} before", flush=True)
            timing = timed_import(factory, csv_path, tenant_id, list_id)
            print(f"{label}: {timing.wall:.1f} s wall, {timing.writer_cpu:.1f} s CPU writer, "
                  f"{timing.parser_cpu:.1f} s CPU parser, {args.rows / timing.wall:,.0f} rows/s "
                  f"({timing.summary})", flush=True)
            runs.append(timing)
        engine.dispose()
    if args.repeat > 1:
        for label, runs in timings.items():
            print(f"{label} median of {len(runs)}: "
                  f"{median(run.wall for run in runs):.1f} s wall, "
                  f"{median(run.writer_cpu for run in runs):.1f} s CPU writer, "
                  f"{median(run.parser_cpu for run in runs):.1f} s CPU parser")
    print(f"after: {load()}")
    csv_path.unlink()


if __name__ == "__main__":
    main()
