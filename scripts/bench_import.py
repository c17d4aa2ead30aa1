#!/usr/bin/env python
"""Benchmark: import a generated 1,000,000-contact CSV into a fresh SQLite file, then again.

Prints the generation time, the first import (all rows new) and the re-import of the same
file (all rows unchanged), each with wall and CPU seconds and rows per second (wall). The
machine's load average is printed too: on a shared machine wall time depends on it. Usage:
    .venv/bin/python scripts/bench_import.py [--rows N] [--dir /tmp]
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import time
from pathlib import Path

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


def timed_import(factory, path: Path, tenant_id: int,  # type: ignore[no-untyped-def]
                 list_id: int) -> tuple[float, float, str]:
    """Wall seconds, this process's CPU seconds and the summary line of one import."""
    importer = Importer(factory, path, tenant_id=tenant_id, list_id=list_id, mapping=Mapping(),
                        region="RU", clock=SystemClock())
    started, cpu = time.perf_counter(), time.process_time()
    summary = importer.run(lambda line, reason, cells: None)
    return time.perf_counter() - started, time.process_time() - cpu, summary.line()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--dir", type=Path, default=Path("/tmp"))
    args = parser.parse_args()
    csv_path = args.dir / f"bench_import_{args.rows}.csv"
    db_path = args.dir / "bench_import.sqlite3"
    started = time.perf_counter()
    generate(csv_path, args.rows)
    print(f"generated {args.rows} rows ({csv_path.stat().st_size / 1e6:.0f} MB) "
          f"in {time.perf_counter() - started:.1f} s")
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
    print(f"load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())} "
          f"on {os.cpu_count()} CPUs")
    for label in ("import", "re-import"):
        seconds, cpu, summary = timed_import(factory, csv_path, tenant_id, list_id)
        print(f"{label}: {seconds:.1f} s wall, {cpu:.1f} s CPU, "
              f"{args.rows / seconds:,.0f} rows/s ({summary})")
    engine.dispose()
    csv_path.unlink()


if __name__ == "__main__":
    main()
