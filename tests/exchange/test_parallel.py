"""Parsing in a second process: the same results as in one process, and failures surface."""

from __future__ import annotations

import multiprocessing
import os

import pytest
from sqlalchemy import func, select

from engine.exchange.rows import RowParser
from engine.exchange.upsert import ContactUpserter
from engine.store.models import Contact

from .test_import import table

HEADER = ["external_id", "name", "phone"]


def mixed_rows() -> list[list[str]]:
    """Good rows, bad numbers, an empty id and a duplicate id in a later chunk."""
    rows = [[f"P{n:03d}", f"name {n}", f"+7916{n:07d}"] for n in range(40)]
    rows[5][2] = "not a number"
    rows[17][0] = ""
    rows[33][0] = "P002"
    return rows


def test_parallel_import_gives_the_same_rows_rejects_and_progress(run_import, write_csv):
    path = write_csv(table(mixed_rows(), header=HEADER))
    outcomes = []
    for parallel in (True, False):
        positions: list[int] = []
        summary = run_import(path, chunk_size=10, parallel=parallel, progress=positions.append)
        outcomes.append((run_import.rejects, positions))
        assert summary.rejected == 3 and summary.rows_read == 40
    assert outcomes[0] == outcomes[1]
    rejects, positions = outcomes[0]
    assert [(line, reason.split(":")[0]) for line, reason, _ in rejects] == [
        (7, "phone"), (19, "external_id is empty"),
        (35, "duplicate external_id 'P002' (an earlier row of this file has it)")]
    assert rejects[0][2] == ["P005", "name 5", "not a number"]
    assert len(positions) == 5 and positions[-1] == path.stat().st_size
    assert len(run_import.contacts()) == 37


def test_a_parsing_error_in_the_worker_is_raised_and_earlier_chunks_kept(
        run_import, write_csv, monkeypatch, sessionmaker_):
    path = write_csv(table(mixed_rows(), header=HEADER))
    real_parse = RowParser.parse

    def broken_parse(self, row, line):  # type: ignore[no-untyped-def]
        if line == 25:
            raise KeyError("parser bug")
        return real_parse(self, row, line)

    monkeypatch.setattr(RowParser, "parse", broken_parse)
    with pytest.raises(KeyError, match="parser bug"):
        run_import(path, chunk_size=10, parallel=True)
    with sessionmaker_() as session:  # lines 2-21: two chunks written, 18 of them good
        assert session.scalar(select(func.count()).select_from(Contact)) == 18
    assert multiprocessing.active_children() == []


def test_a_worker_that_dies_is_reported(run_import, write_csv, monkeypatch):
    path = write_csv(table(mixed_rows(), header=HEADER))
    monkeypatch.setattr(RowParser, "parse", lambda self, row, line: os._exit(3))
    with pytest.raises(RuntimeError, match=r"parsing process ended unexpectedly \(exit status 3"):
        run_import(path, parallel=True)


def test_a_crash_in_the_writer_stops_the_worker(run_import, write_csv, monkeypatch):
    path = write_csv(table(mixed_rows(), header=HEADER))

    def crash(self, session, records):  # type: ignore[no-untyped-def]
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(ContactUpserter, "write", crash)
    with pytest.raises(RuntimeError, match="disk on fire"):
        run_import(path, chunk_size=10, parallel=True)
    assert multiprocessing.active_children() == []
