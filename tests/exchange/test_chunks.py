"""Pieces of parsed rows (column-wise, duplicates found by the parser) and their transactions."""

from __future__ import annotations

import csv
import io
import json
import pickle

import pytest
from sqlalchemy import func, select

from engine.exchange import importer as importer_module
from engine.exchange.chunks import numbered_rows, read_chunks
from engine.exchange.mapping import Mapping, plan_columns
from engine.exchange.phones import PhoneNormalizer
from engine.exchange.rows import RowParser, fields_json
from engine.exchange.upsert import ContactUpserter
from engine.store.models import Contact

from .test_import import table

HEADER = ["external_id", "name", "phone", "debt"]


def chunks_of(text: str, chunk_size: int) -> list:  # type: ignore[type-arg]
    raw = io.BytesIO(text.encode())
    with io.TextIOWrapper(raw, encoding="utf-8", newline="") as stream:
        rows = numbered_rows(csv.reader(stream))
        _, header, _ = next(rows)
        parser = RowParser(plan_columns(Mapping(), header, "f.csv"), PhoneNormalizer("RU"))
        return list(read_chunks(rows, parser, raw, chunk_size))


def test_records_are_column_wise_and_only_possible_rejects_carry_their_cells():
    rows = [["K1", "one", "+79161230001", "10"],   # line 2
            ["K2", "two", "garbage", "20"],        # 3: bad phone
            ["K2", "two again", "+79161230003", ""],  # 4: K2's first good row
            ["K1", "dup", "+79161230004", ""],     # 5: duplicate within the chunk
            ["K3", "three", "+79161230005", ""],   # 6: next chunk
            ["K1", "later", "+79161230006", ""]]   # 7: K1 again, in a later chunk
    first, second = chunks_of(table(rows, header=HEADER), chunk_size=4)[:2]

    assert first.rows == 4 and len(first.records) == 2
    assert first.records.external_ids == ("K1", "K2")
    assert first.records.lines == (2, 4)
    assert first.records.fields == ('{"debt": "10"}', "{}")
    assert first.records.phones[0] == (("+79161230001", "mobile", 0),)
    assert first.rejects == [
        (3, ("phone: 'garbage' is not a phone number (The string supplied did not seem to be "
             "a phone number.)")),
        (5, "duplicate external_id 'K1' (first on line 2)")]
    assert set(first.cells) == {3, 5} and first.records.suspects == []

    assert second.records.external_ids == ("K3", "K1")
    assert second.records.suspects == [1]  # K1: the writer confirms it in the database
    assert set(second.cells) == {7} and second.cells[7] == rows[5]
    assert pickle.loads(pickle.dumps(second)) == second


def test_a_rejected_row_does_not_claim_its_id_for_later_chunks():
    rows = [["M1", "bad", "12345", ""], ["M1", "good", "+79161230001", ""]]
    first, second = chunks_of(table(rows, header=HEADER), chunk_size=1)[:2]
    assert [line for line, _ in first.rejects] == [2] and len(first.records) == 0
    assert second.records.external_ids == ("M1",) and second.records.suspects == []


def test_stored_fields_spelled_differently_are_unchanged(run_import, write_csv, sessionmaker_):
    header = ["external_id", "phone", "a", "b"]
    path = write_csv(table([["F1", "+79161230001", "1", "2"]], header=header))
    run_import(path)
    with sessionmaker_.begin() as session:  # the same object, keys in another order
        contact = session.scalars(select(Contact)).one()
        contact.fields = {"b": "2", "a": "1"}
    assert run_import(path).unchanged == 1

    changed = write_csv(table([["F1", "+79161230001", "1", "3"]], header=header), name="v2.csv")
    assert run_import(changed).updated == 1
    assert run_import.contacts()["F1"].fields == {"a": "1", "b": "3"}


def test_fields_json_is_the_database_layers_json():
    fields = {'a"b': "x\\y\n\t\u2028", "Долг": "Ёлка \x01 \x7f", "": ""}
    assert fields_json(fields) == json.dumps(fields, ensure_ascii=False)
    assert fields_json({}) == "{}"


def rows_csv(count: int) -> str:
    return table([[f"T{n:02d}", f"n{n}", f"+7916{n:07d}", ""] for n in range(count)],
                 header=HEADER)


def test_a_transaction_spans_pieces_up_to_the_chunk_size(run_import, write_csv, monkeypatch,
                                                          sessionmaker_):
    monkeypatch.setattr(importer_module, "PIECE_ROWS", 5)
    path = write_csv(rows_csv(30))
    positions: list[int] = []
    run_import(path, chunk_size=10, progress=positions.append)
    assert len(positions) == 4 and positions[-1] == path.stat().st_size  # 10, 20, 30, end

    real_write = ContactUpserter.write
    calls = []

    def failing_write(self, session, records):  # type: ignore[no-untyped-def]
        calls.append(len(records))
        if len(calls) == 3:  # the first piece of the second transaction
            raise RuntimeError("disk on fire")
        return real_write(self, session, records)

    monkeypatch.setattr(ContactUpserter, "write", failing_write)
    other = write_csv(rows_csv(30).replace("T", "U"), name="other.csv")
    with pytest.raises(RuntimeError, match="disk on fire"):
        run_import(other, chunk_size=10)
    assert run_import.importer.summary.imported == 10
    with sessionmaker_() as session:
        assert session.scalar(select(func.count()).select_from(Contact).where(
            Contact.external_id.like("U%"))) == 10


def test_a_transaction_open_for_long_is_committed_early(run_import, write_csv, monkeypatch,
                                                       clock):
    monkeypatch.setattr(importer_module, "PIECE_ROWS", 5)
    real_write = ContactUpserter.write

    def slow_write(self, session, records):  # type: ignore[no-untyped-def]
        clock.advance(2)  # each piece takes 2 s: a transaction closes after its second
        return real_write(self, session, records)

    monkeypatch.setattr(ContactUpserter, "write", slow_write)
    positions: list[int] = []
    summary = run_import(write_csv(rows_csv(30)), progress=positions.append)
    assert summary.imported == 30 and len(positions) == 4


def test_rejects_held_for_a_transaction_stay_bounded(run_import, write_csv, monkeypatch):
    """Rejects are reported at commit: a file of bad rows commits by their text, not rows."""
    monkeypatch.setattr(importer_module, "PIECE_ROWS", 5)
    monkeypatch.setattr(importer_module, "CHUNK_CHARS", 100)  # 17 characters a row: 2 pieces
    bad = table([[f"B{n:02d}", "bad", "garbage", "x" * 4] for n in range(30)], header=HEADER)
    positions: list[int] = []
    summary = run_import(write_csv(bad), progress=positions.append)
    assert summary.rejected == 30 and len(run_import.rejects) == 30
    assert len(positions) == 4  # rows 1-10, 11-20, 21-30, the end
