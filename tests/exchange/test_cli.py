"""``dialer import`` / ``dialer export`` through click: summary line, exit codes, files."""

from __future__ import annotations

import csv
import io
import sys

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from engine.cli import main
from engine.exchange.cli import progress_bar
from engine.exchange.upsert import ContactUpserter
from engine.store.models import ContactList

GOOD = "external_id;name;phone\n1;Анна;+79161234567\n2;Борис;89031234567\n"
MIXED = GOOD + "3;Вера;12345\n4;;\n"


@pytest.fixture
def dialer(db_url, tmp_path, monkeypatch):
    """Run ``dialer ARGS`` against the test database; returns click's Result."""
    monkeypatch.chdir(tmp_path)
    runner = CliRunner(env={"DIALER_DATABASE_URL": db_url, "DIALER_CONFIG": ""})

    def run(*args: str):  # type: ignore[no-untyped-def]
        return runner.invoke(main, list(args), catch_exceptions=False)

    return run


def test_good_import_exits_0_with_one_summary_line(dialer, target, write_csv):
    result = dialer("import", str(write_csv(GOOD)), "--list", "november")
    assert result.exit_code == 0, result.output
    assert result.stdout == "rows read 2, imported 2, updated 0, unchanged 0, rejected 0\n"
    assert "encoding utf-8 (valid UTF-8), delimiter semicolon" in result.stderr
    assert "importing" not in result.stderr  # no progress bar without a terminal

    again = dialer("import", str(write_csv(GOOD)), "--list", "november")
    assert again.stdout.endswith("imported 0, updated 0, unchanged 2, rejected 0\n")


def test_rejected_rows_exit_3_and_land_in_the_reject_file(dialer, target, write_csv, tmp_path):
    rejects = tmp_path / "rejects.csv"
    result = dialer("import", str(write_csv(MIXED, encoding="cp1251")), "--list", "november",
                    "--reject-file", str(rejects))
    assert result.exit_code == 3
    assert result.stdout.endswith("rows read 4, imported 2, updated 0, unchanged 0, rejected 2\n")
    with open(rejects, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle, delimiter=";"))
    assert rows == [
        ["line", "reason", "external_id", "name", "phone"],
        ["4", "phone: '12345' is not a valid number (region RU)", "3", "Вера", "12345"],
        ["5", "no phone number", "4", "", ""],
    ]


def test_rejects_without_a_reject_file_go_to_stderr(dialer, target, write_csv):
    result = dialer("import", str(write_csv(MIXED)), "--list", "november")
    assert result.exit_code == 3
    assert "line 4: phone: '12345' is not a valid number" in result.stderr
    assert "line 5: no phone number" in result.stderr


@pytest.mark.parametrize(("args", "content", "message"), [
    (["--tenant", "nobody"], GOOD, "no tenant named 'nobody'"),
    (["--campaign", "999"], GOOD, "has no campaign '999'"),
    (["--region", "XX"], GOOD, "unknown phone region 'XX'"),
    ([], "", "the file is empty"),
    ([], "name;phone\nx;+79161234567\n", "required column external_id is missing"),
    ([], GOOD.encode("utf-16"), "UTF-16 is not supported"),
])
def test_usage_and_file_errors_exit_2(dialer, target, write_csv, args, content, message):
    result = dialer("import", str(write_csv(content)), "--list", "november", *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stdout == ""


def test_missing_file_and_bad_mapping_exit_2(dialer, target, write_csv, tmp_path):
    assert dialer("import", str(tmp_path / "none.csv"), "--list", "x").exit_code == 2
    mapping = tmp_path / "m.yaml"
    mapping.write_text("columns:\n  telephone: Тел\n", encoding="utf-8")
    result = dialer("import", str(write_csv(GOOD)), "--list", "x", "--mapping", str(mapping))
    assert result.exit_code == 2 and "columns.telephone: not a contact field" in result.stderr


def test_crash_exits_1_and_says_what_was_kept(dialer, target, write_csv, monkeypatch):
    def crash(self, session, records):  # type: ignore[no-untyped-def]
        raise RuntimeError("database went away")

    monkeypatch.setattr(ContactUpserter, "write", crash)
    result = dialer("import", str(write_csv(GOOD)), "--list", "november")
    assert result.exit_code == 1
    assert "import aborted: RuntimeError: database went away; earlier chunks were kept" in (
        result.stderr)


def test_tenant_is_implicit_only_when_there_is_one(dialer, target, factory, session, write_csv,
                                                   sessionmaker_):
    result = dialer("import", str(write_csv(GOOD)), "--list", "fresh", "--campaign",
                    "collections")
    assert result.exit_code == 0, result.output
    with sessionmaker_() as check:
        created = check.scalars(select(ContactList).where(ContactList.name == "fresh")).one()
        assert created.campaign_id == target.campaign_id and created.tenant_id == target.tenant_id

    factory.tenant(name="second")
    session.commit()
    result = dialer("import", str(write_csv(GOOD)), "--list", "november")
    assert result.exit_code == 2 and "there are 2 tenants: name one with --tenant" in result.stderr
    assert dialer("import", str(write_csv(GOOD)), "--list", "november",
                  "--tenant", "acme").exit_code == 0


def test_help_documents_exit_codes(dialer):
    text = dialer("import", "--help").stdout
    for line in ("0  every row was imported", "3  some rows were rejected",
                 "2  usage or file error", "1  crash"):
        assert line in text


def test_export_commands_write_files_and_report(dialer, target, write_csv, tmp_path):
    assert dialer("import", str(write_csv(GOOD)), "--list", "november").exit_code == 0
    out = tmp_path / "attempts.csv"
    result = dialer("export", "attempts", "--out", str(out), "--consumer", "crm",
                    "--since", "2026-11-01", "--tenant", "acme")
    assert result.exit_code == 0, result.output
    assert result.stdout == f"exported 0 attempts to {out} (consumer crm at 0)\n"
    assert out.read_text(encoding="utf-8").startswith("attempt_id,final_seq,call_uuid,")

    leads = tmp_path / "leads.xlsx"
    result = dialer("export", "leads", "--campaign", "collections", "--status", "new",
                    "--out", str(leads))
    assert result.exit_code == 0, result.output
    assert result.stdout == f"exported 2 leads to {leads}\n" and leads.exists()


@pytest.mark.parametrize(("args", "message"), [
    (["attempts", "--out", "a.txt"], "must end in .csv or .xlsx"),
    (["attempts", "--out", "a.csv", "--since", "yesterday"], "is not an ISO-8601 date"),
    (["attempts", "--out", "a.csv", "--tenant", "nobody"], "no tenant named 'nobody'"),
    (["leads", "--campaign", "nope", "--out", "l.csv"], "has no campaign 'nope'"),
])
def test_export_usage_errors_exit_2(dialer, target, args, message):
    result = dialer("export", *args)
    assert result.exit_code == 2 and message in result.stderr


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_only_on_a_terminal(monkeypatch, write_csv):
    path = write_csv(GOOD)
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    with progress_bar(path) as update:
        update(path.stat().st_size)
    assert "importing" in terminal.getvalue() and "100%" in terminal.getvalue()

    pipe = io.StringIO()
    monkeypatch.setattr(sys, "stderr", pipe)
    with progress_bar(path) as update:
        update(10)
    assert pipe.getvalue() == ""
