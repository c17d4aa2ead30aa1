"""Reading the regulator's registry files: both encodings, both layouts, bad lines kept apart."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.numbering.registry import RegistryFormatError, read_registry

DATA = Path(__file__).parent / "data"


def test_new_layout_utf8_with_bom_and_gar_territory() -> None:
    rows, errors = read_registry(DATA / "ABC-3xx.csv")
    assert [(r.line, r.code, r.first, r.last) for r in rows[:2]] == [
        (2, 383, 73832000000, 73832999999), (3, 383, 73833000000, 73833099999)]
    assert rows[0].operator == 'ПАО "Ростелеком"'
    assert rows[0].territory == "г.о. город Новосибирск|Новосибирская обл."
    assert rows[1].territory == ""  # "-" means none
    assert [str(e) for e in errors] == [
        "line 6: first '20000x0' is not a number of at most 7 digits"]
    assert len(rows) == 5


def test_old_layout_cp1251_with_every_kind_of_bad_line() -> None:
    rows, errors = read_registry(DATA / "DEF-9xx.csv")
    assert [r.code for r in rows] == [916, 913, 914, 999, 902]
    assert rows[0].region == "г. Москва и Московская область"
    assert rows[0].first == 79160000000 and rows[0].last == 79169999999
    assert [(e.line, e.reason) for e in errors] == [
        (5, "range end 4999999 is below its start 5000000"),
        (8, "2 fields, expected at least 6"),
        (9, "capacity 99999 does not match range 4000000-4099999"),
    ]


def test_header_without_needed_columns_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("Код;Начало;Конец\n916;0;9\n", encoding="utf-8")
    with pytest.raises(RegistryFormatError, match=r"x.csv: line 1: .*\['first', 'last', 'region'\]"):
        read_registry(path)


def test_empty_and_missing_files_are_refused(tmp_path: Path) -> None:
    (tmp_path / "empty.csv").write_bytes(b"")
    with pytest.raises(RegistryFormatError, match="empty file"):
        read_registry(tmp_path / "empty.csv")
    with pytest.raises(RegistryFormatError, match="nope.csv"):
        read_registry(tmp_path / "nope.csv")


def test_non_abc_code_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("АВС/ DEF;От;До;Емкость;Оператор;Регион\n"
                    "112;0000000;0000009;10;X;г. Москва\n"
                    "495;0000000;0000009;10;X;г. Москва\n", encoding="utf-8")
    rows, errors = read_registry(path)
    assert [r.code for r in rows] == [495]
    assert errors[0].line == 2 and "not an ABC/DEF code" in errors[0].reason
