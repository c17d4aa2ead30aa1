#!/usr/bin/env python3
"""Benchmark: select the next 100 dialable phones from a 1,000,000-contact campaign.

Builds the campaign in a SQLite file (bulk Core executemany, not the ORM) with realistic
surroundings (numbering-plan ranges, DNC entries, call history, cross-tenant blocks, callbacks),
then times ``next_dialable(limit=100)`` repeatedly as a campaign runner calls it (passing its
hopper cursor); after each call the returned phones are marked as dialed (outside the timing).

    .venv/bin/python scripts/bench_next_batch.py [--contacts N] [--rounds R] [--db PATH] [--reuse]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import bindparam, insert, update

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.numbering.regions import regions  # noqa: E402
from engine.store.db import make_engine, make_sessionmaker  # noqa: E402
from engine.store.models import (  # noqa: E402
    Base, CallAttempt, Callback, Campaign, Contact, ContactBlock, ContactList, DncEntry,
    NumberingRange, Outcome, Phone, Tenant,
)
from engine.store.queries import next_dialable, strategy_of  # noqa: E402
from engine.strategy.config import StrategyConfig  # noqa: E402
from engine.strategy.retry import after_attempt  # noqa: E402

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)  # Monday, 12:00 in Moscow
CHUNK = 50_000


def chunks(rows, size=CHUNK):  # type: ignore[no-untyped-def]
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def build(url: str, contacts: int, rng: random.Random) -> None:
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    zone_choices = [" ".join(r.zones) for r in regions()]
    with engine.begin() as conn:
        conn.execute(insert(Tenant), [{"id": 1, "name": "bench", "created_at": NOW},
                                      {"id": 2, "name": "other", "created_at": NOW}])
        conn.execute(insert(Campaign), [{
            "id": 1, "tenant_id": 1, "name": "collection", "mode": "predictive",
            "strategy": {"preset": "ru_collection"}, "created_at": NOW, "updated_at": NOW}])
        conn.execute(insert(ContactList), [{"id": 1, "tenant_id": 1, "campaign_id": 1,
                                            "name": "big", "created_at": NOW}])
        # Numbering plan: each DEF code 900-999 split into ten 1M ranges with a region's zones.
        conn.execute(insert(NumberingRange), [
            {"country": "RU", "first": (7000 + code) * 10**7 + part * 10**6,
             "last": (7000 + code) * 10**7 + part * 10**6 + 999_999, "operator": "bench",
             "region": "", "timezone": rng.choice(zone_choices), "source": "DEF-9xx.csv"}
            for code in range(900, 1000) for part in range(10)])
        numbers = rng.sample(range(9_000_000_000, 10_000_000_000), contacts)
        for batch in chunks(range(contacts)):
            conn.execute(insert(Contact), [{
                "id": i + 1, "tenant_id": 1, "list_id": 1, "external_id": f"C{i + 1:07d}",
                "name": "", "fields": {}, "consent": False, "status": "new", "attempts": 0,
                "timezone": "Europe/Moscow" if i % 10 == 0 else None,
                "created_at": NOW, "updated_at": NOW} for i in batch])
        for batch in chunks(range(contacts)):
            rows = [{"contact_id": i + 1, "number": f"+7{numbers[i]}", "phone_type": "mobile",
                     "priority": 0, "attempts": 0} for i in batch]
            rows += [{"contact_id": i + 1, "number": f"+7495{i:07d}", "phone_type": "work",
                      "priority": 1, "attempts": 0} for i in batch if i % 5 == 0]
            conn.execute(insert(Phone), rows)
        sample = [f"+7{n}" for n in rng.sample(numbers, 30_000)]
        conn.execute(insert(DncEntry), [{"tenant_id": None if k % 2 else 1, "number": n,
                                         "reason": "", "source": "bench", "created_at": NOW}
                                        for k, n in enumerate(sample[:10_000])])
        conn.execute(insert(ContactBlock), [{"number": n, "owner_tenant_id": 2,
                                             "blocked_until": NOW + timedelta(days=30),
                                             "created_at": NOW} for n in sample[10_000:15_000]])
        index = {f"+7{n}": i + 1 for i, n in enumerate(numbers)}
        history = [{
            "tenant_id": 1, "campaign_id": 1, "contact_id": index[n], "number": n,
            "mode": "predictive", "node": "", "call_uuid": f"bench-{k}", "state": "ended",
            "outcome": rng.choice(["no_answer", "busy", "answered", "machine"]), "result": {},
            "created_at": NOW - timedelta(hours=rng.randint(1, 24 * 30))}
            for k, n in enumerate(sample[15_000:30_000])]
        conn.execute(insert(CallAttempt), history)
        # The phones as the engine leaves them after those attempts (retry rules applied).
        config = StrategyConfig.from_dict({"preset": "ru_collection"})
        phones = Phone.__table__
        conn.execute(
            update(phones).where(phones.c.number == bindparam("n")).values(
                attempts=1, last_outcome=bindparam("outcome"), last_attempt_at=bindparam("at"),
                next_attempt_at=bindparam("next_at")),
            [{"n": row["number"], "outcome": row["outcome"], "at": row["created_at"],
              "next_at": after_attempt(config, Outcome(row["outcome"]),
                                       row["created_at"]).next_attempt_at} for row in history])
        conn.execute(insert(Callback), [{
            "campaign_id": 1, "contact_id": index[f"+7{n}"], "due_at": NOW - timedelta(minutes=k),
            "reason": "agent", "status": "pending", "created_at": NOW}
            for k, n in enumerate(rng.sample(numbers[:50_000], 20))])
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--db", default="/tmp/dialer-bench-next-batch.sqlite3")
    parser.add_argument("--reuse", action="store_true", help="time an existing --db as it is")
    args = parser.parse_args()
    path = Path(args.db)
    url = f"sqlite:///{path}"
    if args.reuse and path.exists():
        print(f"reusing {path} (already-dialed phones stay dialed)")
    else:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        started = time.perf_counter()
        build(url, args.contacts, random.Random(7))
        print(f"built {args.contacts:,} contacts in {time.perf_counter() - started:.1f} s ({path})")

    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        campaign = session.get_one(Campaign, 1)
        config = strategy_of(campaign)
        timings, cpu, callbacks, total, cursor = [], [], 0, 0, 0
        for _ in range(args.rounds):
            began, began_cpu = time.perf_counter(), time.process_time()
            found = next_dialable(session, campaign, NOW, limit=100, config=config,
                                  after_contact=cursor)
            timings.append((time.perf_counter() - began) * 1000)
            cpu.append((time.process_time() - began_cpu) * 1000)
            total += len(found)
            regular = [c.contact_id for c in found if not c.is_callback]
            cursor = max(regular) if len(found) == 100 and regular else 0
            callbacks += sum(c.is_callback for c in found)
            session.execute(update(Phone).where(Phone.id.in_([c.phone_id for c in found]))
                            .values(attempts=Phone.attempts + 1,
                                    next_attempt_at=NOW + timedelta(hours=2)))
            session.execute(update(Callback).where(Callback.contact_id.in_(
                [c.contact_id for c in found if c.is_callback])).values(status="done"))
            session.commit()
    engine.dispose()
    print(f"next_dialable(limit=100): {args.rounds} calls, {total / args.rounds:.0f} phones per "
          f"call, {callbacks} callbacks")
    for name, values in (("wall", timings), ("cpu (this process)", cpu)):
        values.sort()
        p95 = values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]
        print(f"  {name}: median {statistics.median(values):.1f} ms, p95 {p95:.1f} ms "
              f"(min {values[0]:.1f}, max {values[-1]:.1f})")
    print(f"  machine load average during the run: {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
