"""Loading registry files into the database, reloading, looking numbers up, and the CLI."""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import func, select

from engine.cli import main
from engine.numbering.loader import load_registry
from engine.numbering.lookup import national_key, plan_zones
from engine.store.models import NumberingRange

DATA = Path(__file__).parent / "data"


def _count(session, source: str | None = None) -> int:  # type: ignore[no-untyped-def]
    stmt = select(func.count()).select_from(NumberingRange)
    if source:
        stmt = stmt.where(NumberingRange.source == source)
    return session.scalar(stmt)


def test_load_counts_and_zones(session) -> None:  # type: ignore[no-untyped-def]
    report = load_registry(session, DATA / "DEF-9xx.csv")
    assert (report.loaded, report.rejected, report.without_zone) == (5, 3, 1)
    assert "DEF-9xx.csv: 5 ranges loaded, 3 rejected, 1 without a time zone" == report.summary()
    zones = dict(session.execute(select(NumberingRange.first, NumberingRange.timezone)).all())
    assert zones[79160000000] == "Europe/Moscow"
    assert zones[79142700000] == "Asia/Srednekolymsk Asia/Ust-Nera Asia/Yakutsk"
    assert zones[79991000000] is None  # "Российская Федерация": nationwide


def test_territory_column_wins_and_dash_falls_back_to_region(session) -> None:  # type: ignore[no-untyped-def]
    load_registry(session, DATA / "ABC-3xx.csv")
    assert plan_zones(session, ["+73832123456", "+73833012345", "+74012012345"]) == {
        "+73832123456": ("Asia/Novosibirsk",), "+73833012345": ("Asia/Novosibirsk",),
        "+74012012345": ("Europe/Kaliningrad",)}


def test_reload_replaces_only_the_same_file(session, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    load_registry(session, DATA / "ABC-3xx.csv")
    load_registry(session, DATA / "DEF-9xx.csv")
    load_registry(session, DATA / "DEF-9xx.csv")
    assert (_count(session, "ABC-3xx.csv"), _count(session, "DEF-9xx.csv")) == (5, 5)
    smaller = tmp_path / "DEF-9xx.csv"
    smaller.write_text("АВС/ DEF;От;До;Емкость;Оператор;Регион\n"
                       "916;0000000;9999999;10000000;МТС;Омская область\n", encoding="utf-8")
    load_registry(session, smaller)
    assert (_count(session, "ABC-3xx.csv"), _count(session, "DEF-9xx.csv")) == (5, 1)
    assert plan_zones(session, ["+79161234567"]) == {"+79161234567": ("Asia/Omsk",)}


def test_lookup_bounds_gaps_and_foreign_numbers(session) -> None:  # type: ignore[no-untyped-def]
    load_registry(session, DATA / "DEF-9xx.csv")
    found = plan_zones(session, [
        "+79139000000", "+79139499999",  # first and last of a range
        "+79138999999", "+79139500000",  # just outside it
        "+79991050000",  # nationwide range: no zone
        "+12125551234", "garbage", "+7916123456"])
    assert found == {"+79139000000": ("Asia/Novosibirsk",), "+79139499999": ("Asia/Novosibirsk",)}
    assert national_key("+79161234567") == 79161234567
    assert national_key("+380441234567") is None


def test_cli_load_prints_per_file_and_exit_status(db_url: str, db_engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    runner = CliRunner()
    env = {"DIALER_DATABASE_URL": db_url}
    good = tmp_path / "ABC-4xx.csv"
    good.write_text("АВС/ DEF;От;До;Емкость;Оператор;Регион\n"
                    "495;0000000;0999999;1000000;МГТС;г. Москва\n", encoding="utf-8")
    result = runner.invoke(main, ["numbering-plan", "load", str(good)], env=env)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "ABC-4xx.csv: 1 ranges loaded, 0 rejected, 0 without a time zone"

    shutil.copy(DATA / "DEF-9xx.csv", tmp_path / "DEF-9xx.csv")
    result = runner.invoke(main, ["numbering-plan", "load", str(tmp_path / "DEF-9xx.csv")], env=env)
    assert result.exit_code == 1
    assert "DEF-9xx.csv: 5 ranges loaded, 3 rejected" in result.output
    assert "DEF-9xx.csv: line 8: 2 fields, expected at least 6" in result.stderr

    bad = tmp_path / "bad.csv"
    bad.write_text("a;b\n1;2\n", encoding="utf-8")
    result = runner.invoke(main, ["numbering-plan", "load", str(bad), str(good)], env=env)
    assert result.exit_code == 2
    assert "error: " in result.stderr and "lacks column(s)" in result.stderr
    assert "ABC-4xx.csv: 1 ranges loaded" in result.output  # the good file still loads


def test_cli_shows_the_first_errors_and_counts_the_rest(db_url: str, db_engine,  # type: ignore[no-untyped-def]
                                                       tmp_path: Path) -> None:
    path = tmp_path / "ABC-8xx.csv"
    bad_lines = "".join(f"812;{i:07d};x;1;ПАО;г. Санкт-Петербург\n" for i in range(25))
    path.write_text("АВС/ DEF;От;До;Емкость;Оператор;Регион\n"
                    "812;0000100;0000199;100;ПАО;г. Санкт-Петербург\n" + bad_lines, encoding="cp1251")
    result = CliRunner().invoke(main, ["numbering-plan", "load", str(path)],
                                env={"DIALER_DATABASE_URL": db_url})
    assert result.exit_code == 1
    assert "ABC-8xx.csv: 1 ranges loaded, 25 rejected" in result.output
    assert result.stderr.count("ABC-8xx.csv: line ") == 20
    assert "ABC-8xx.csv: line 3: last 'x' is not a number of at most 7 digits" in result.stderr
    assert "ABC-8xx.csv: ... and 5 more" in result.stderr
