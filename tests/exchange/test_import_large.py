"""A 100 MB file streams through the importer with bounded memory."""

from __future__ import annotations

import tracemalloc

import pytest
from sqlalchemy import func, select

from engine.store.models import Contact

FILE_BYTES = 100 * 1024 * 1024
NOTE = "Примечание оператора: перезвонить после обеда, спросить про график платежей. " * 40


@pytest.mark.slow
def test_100_mb_file_streams_with_bounded_memory(run_import, tmp_path, sessionmaker_):
    path = tmp_path / "big.csv"
    rows = 0
    with open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write("external_id;name;phone;note\n")
        while handle.tell() < FILE_BYTES:
            handle.write("".join(f"E{n:07d};Клиент {n};+7916{n:07d};{NOTE}\n"
                                 for n in range(rows, rows + 1000)))
            rows += 1000
    size = path.stat().st_size

    tracemalloc.start()
    try:  # parsing in this process too, so the traced peak covers both halves of the work
        summary = run_import(path, parallel=False)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert summary.line() == (f"rows read {rows}, imported {rows}, updated 0, unchanged 0, "
                              "rejected 0")
    assert size >= FILE_BYTES
    assert peak < size / 5, f"peak {peak / 1e6:.0f} MB for a {size / 1e6:.0f} MB file"
    with sessionmaker_() as session:
        assert session.scalar(select(func.count()).select_from(Contact)) == rows
        last = session.scalars(select(Contact).where(Contact.external_id == f"E{rows - 1:07d}"))
        assert last.one().fields == {"note": NOTE.strip()}
