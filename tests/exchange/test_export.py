"""Exports: the attempt watermark across runs (SQLite and PostgreSQL), XLSX, masking, leads."""

from __future__ import annotations

import csv
import threading
import uuid
from datetime import timedelta
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import OperationalError

import engine.exchange.export as export_module
from engine.exchange.export import ATTEMPT_COLUMNS, ExportConflict, export_attempts
from engine.exchange.leads import LEAD_COLUMNS, export_leads
from engine.store.db import make_engine, make_sessionmaker
from engine.store.final_seq import FINAL_SEQ_COUNTER, assign_final_seq, next_value
from engine.store.models import (
    AttemptState,
    Base,
    CallAttempt,
    Contact,
    ExportCursor,
    LeadStatusChange,
    Outcome,
    Tenant,
)

from ..factories import Factory


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


class Calls:
    """Creates call attempts and ends them the way the engine does (final_seq last)."""

    def __init__(self, session, factory: Factory, clock) -> None:  # type: ignore[no-untyped-def]
        self.session, self.factory, self.clock = session, factory, clock
        tenant = factory.tenant(name="acme")
        self.campaign = factory.campaign(tenant, name="collections")
        self.contact_list = factory.contact_list(self.campaign, name="november")
        self.agent = factory.agent(tenant, name="Ольга")

    def start(self, contact=None, **kw):  # type: ignore[no-untyped-def]
        contact = contact or self.factory.contact(self.contact_list)
        attempt = CallAttempt(
            tenant_id=self.campaign.tenant_id, campaign_id=self.campaign.id,
            contact_id=contact.id, phone_id=contact.phones[0].id,
            number=contact.phones[0].number, mode="progressive", call_uuid=str(uuid.uuid4()),
            state=AttemptState.DIALING, created_at=self.clock.now(),
            originated_at=self.clock.now(), **kw)
        self.session.add(attempt)
        self.session.commit()
        return attempt

    def end(self, attempt, outcome=Outcome.ANSWERED, **kw):  # type: ignore[no-untyped-def]
        self.clock.advance(30)
        attempt.state = AttemptState.ENDED
        attempt.outcome = outcome
        attempt.ended_at = self.clock.now()
        for key, value in kw.items():
            setattr(attempt, key, value)
        assign_final_seq(self.session, attempt)
        self.session.commit()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db(request, db_url):  # type: ignore[no-untyped-def]
    """A sessionmaker on SQLite, then on PostgreSQL (skipped without DIALER_TEST_PG_URL)."""
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else db_url
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    yield make_sessionmaker(engine)
    engine.dispose()


@pytest.fixture
def calls(any_db, clock):  # type: ignore[no-untyped-def]
    session = any_db()
    yield Calls(session, Factory(session, clock), clock)
    session.close()


def test_watermark_never_misses_or_repeats_across_runs(any_db, calls, clock, tmp_path):
    first, second, third = (calls.start() for _ in range(3))
    still_ringing = calls.start()
    calls.end(second, Outcome.BUSY, hangup_cause="USER_BUSY", sip_code=486)
    out = tmp_path / "attempts.csv"

    run1 = export_attempts(any_db, out, clock, consumer="crm")
    assert [row["attempt_id"] for row in read_csv(out)] == [str(second.id)]
    assert (run1.rows, run1.last_seq) == (1, 1)

    calls.end(third)
    calls.end(first, Outcome.NO_ANSWER)
    run2 = export_attempts(any_db, out, clock, consumer="crm")
    assert [row["attempt_id"] for row in read_csv(out)] == [str(third.id), str(first.id)]
    assert run2.last_seq == 3

    run3 = export_attempts(any_db, out, clock, consumer="crm")
    assert read_csv(out) == [] and run3.last_seq == 3

    calls.end(still_ringing)
    assert [row["attempt_id"] for row in read_csv(out)] == []  # unchanged until it runs
    export_attempts(any_db, out, clock, consumer="crm")
    assert [row["attempt_id"] for row in read_csv(out)] == [str(still_ringing.id)]

    export_attempts(any_db, out, clock, consumer="audit")  # another consumer starts at 0
    assert len(read_csv(out)) == 4


def test_attempt_columns_are_stable_and_documented(any_db, calls, clock, tmp_path):
    attempt = calls.start(agent_id=calls.agent.id)
    clock.advance(5)
    attempt.answered_at = clock.now()
    attempt.bridged_at = clock.now() + timedelta(milliseconds=750)
    calls.end(attempt, hangup_cause="NORMAL_CLEARING", sip_code=200, amd_result="human",
              dead_air_ms=750, recording_path="2026/11/23/a.wav", disposition="promise",
              result={"amount": "100", "date": "2026-12-01"})
    out = tmp_path / "a.csv"
    export_attempts(any_db, out, clock)

    with open(out, encoding="utf-8") as handle:
        assert handle.readline().strip() == ",".join(ATTEMPT_COLUMNS)
    [row] = read_csv(out)
    assert row["call_uuid"] == attempt.call_uuid
    assert row["contact_external_id"] == calls.session.get(Contact, attempt.contact_id).external_id
    assert row["number"] == "+79161234567" and row["tenant"] == "acme"
    assert row["campaign"] == "collections" and row["list"] == "november"
    assert row["originated_at"] == "2026-11-23T10:00:00.000Z"
    assert row["answered_at"] == "2026-11-23T10:00:05.000Z"
    assert row["bridged_at"] == "2026-11-23T10:00:05.750Z"
    assert row["ended_at"] == "2026-11-23T10:00:35.000Z"
    assert (row["outcome"], row["sip_code"], row["amd_result"]) == ("answered", "200", "human")
    assert (row["agent"], row["dead_air_ms"], row["disposition"]) == ("Ольга", "750", "promise")
    assert row["result_json"] == '{"amount": "100", "date": "2026-12-01"}'
    assert row["final_seq"] == "1"


def test_since_filters_by_end_time(any_db, calls, clock, tmp_path):
    early = calls.start()
    calls.end(early)
    clock.advance(3600)
    late = calls.start()
    calls.end(late)
    out = tmp_path / "a.csv"
    export_attempts(any_db, out, clock, since=late.ended_at - timedelta(minutes=1))
    assert [row["attempt_id"] for row in read_csv(out)] == [str(late.id)]


def test_masked_tenants_never_export_numbers(any_db, calls, clock, tmp_path):
    tenant = calls.session.get(Tenant, calls.campaign.tenant_id)
    tenant.mask_numbers = True
    calls.session.commit()
    attempt = calls.start()
    calls.end(attempt, recording_path="2026/11/23/79161234567.wav",
              result={"callback_to": "8 (916) 123-45-67", "due": "2026-12-01"})
    contact = calls.session.get(Contact, attempt.contact_id)
    contact.fields = {"alt": "+7 916 123 45 67", "debt": "1500.00"}
    calls.session.commit()
    out = tmp_path / "a.xlsx"
    export_attempts(any_db, out, clock)
    sheet = openpyxl.load_workbook(out).active
    values = [cell for row in sheet.iter_rows(values_only=True) for cell in row]
    assert "+*********67" in values
    assert "2026/11/23/*********67.wav" in values
    assert '{"callback_to": "* (***) ***-**-67", "due": "2026-12-01"}' in values
    assert not any("9161234567" in str(value) for value in values)

    leads = tmp_path / "leads.csv"
    export_leads(any_db, leads, calls.campaign.id)
    text = leads.read_text(encoding="utf-8")
    assert "9161234567" not in text and "916 123 45 67" not in text
    [row] = read_csv(leads)
    assert row["phones"] == "+*********67"
    assert row["fields_json"] == '{"alt": "+* *** *** ** 67", "debt": "1500.00"}'


def test_xlsx_attempts_read_back(any_db, calls, clock, tmp_path):
    for _ in range(3):
        calls.end(calls.start(), result={"k": "v"})
    out = tmp_path / "attempts.xlsx"
    export_attempts(any_db, out, clock, consumer="crm")
    rows = list(openpyxl.load_workbook(out).active.iter_rows(values_only=True))
    assert rows[0] == ATTEMPT_COLUMNS
    assert len(rows) == 4
    row = dict(zip(rows[0], rows[1]))
    assert row["ended_at"] == clock.now().replace(tzinfo=None) - timedelta(seconds=60)
    assert row["result_json"] == '{"k": "v"}'


def test_failed_export_writes_no_file_and_keeps_the_cursor(any_db, calls, clock, tmp_path,
                                                           monkeypatch):
    calls.end(calls.start())
    out = tmp_path / "a.csv"
    real_write = export_module.write_table

    def racing_write(*args, **kwargs):  # type: ignore[no-untyped-def]
        count = real_write(*args, **kwargs)
        with any_db.begin() as other:  # another run of the same consumer commits first
            other.execute(update(ExportCursor).where(ExportCursor.name == "crm")
                          .values(last_seq=99))
        return count

    export_attempts(any_db, out, clock, consumer="crm")  # creates the cursor at 1
    out.unlink()
    calls.end(calls.start())
    monkeypatch.setattr(export_module, "write_table", racing_write)
    with pytest.raises(ExportConflict, match="another export for consumer 'crm'"):
        export_attempts(any_db, out, clock, consumer="crm")
    assert not out.exists() and list(tmp_path.glob(".*partial")) == []
    with any_db() as session:
        assert session.get(ExportCursor, "crm").last_seq == 99  # the winner's cursor stands


def test_final_seq_is_assigned_once_and_counts_up(any_db, calls):
    attempts = [calls.start() for _ in range(3)]
    for attempt in attempts:
        calls.end(attempt)
    assert [a.final_seq for a in attempts] == [1, 2, 3]
    assert assign_final_seq(calls.session, attempts[0]) == 1


def test_final_seq_under_concurrent_writers(any_db):
    workers, per_worker = 4, 25
    seen: list[int] = []
    lock = threading.Lock()

    def work() -> None:
        for _ in range(per_worker):
            with any_db.begin() as session:
                value = next_value(session, FINAL_SEQ_COUNTER)
            with lock:
                seen.append(value)

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(seen) == list(range(1, workers * per_worker + 1))


def test_counter_row_stays_locked_until_commit_on_postgresql(pg_url):
    engine = make_engine(pg_url)
    Base.metadata.create_all(engine)
    factory = make_sessionmaker(engine)
    with factory.begin() as session:
        next_value(session, FINAL_SEQ_COUNTER)
    holder = factory()
    assert next_value(holder, FINAL_SEQ_COUNTER) == 2  # transaction left open
    with factory() as other:
        other.execute(text("SET LOCAL lock_timeout = '200ms'"))
        with pytest.raises(OperationalError, match="lock timeout"):
            next_value(other, FINAL_SEQ_COUNTER)
    holder.commit()
    with factory.begin() as session:
        assert next_value(session, FINAL_SEQ_COUNTER) == 3
    holder.close()
    engine.dispose()


def test_lead_export_csv_and_xlsx(any_db, calls, clock, tmp_path):
    won = calls.factory.contact(calls.contact_list, external_id="L1", name="Анна",
                                phones=["+79161234567", "+74951234567"], status="interested")
    calls.factory.contact(calls.contact_list, external_id="L2", status="new")
    calls.session.add(LeadStatusChange(contact_id=won.id, from_status="new",
                                       to_status="interested", changed_at=clock.now()))
    calls.session.commit()
    calls.end(calls.start(won), Outcome.NO_ANSWER)
    calls.end(calls.start(won, agent_id=calls.agent.id), disposition="interested",
              result={"amount": "5000"})

    out = tmp_path / "leads.csv"
    assert export_leads(any_db, out, calls.campaign.id, ["interested"]) == 1
    [row] = read_csv(out)
    assert list(row) == list(LEAD_COLUMNS)
    assert (row["contact_external_id"], row["name"], row["status"]) == ("L1", "Анна", "interested")
    assert row["phones"] == "+79161234567 +74951234567"
    assert (row["last_outcome"], row["last_disposition"], row["last_agent"]) == (
        "answered", "interested", "Ольга")
    assert row["result_json"] == '{"amount": "5000"}'
    assert row["status_changed_at"] == "2026-11-23T10:00:00.000Z"

    xlsx = tmp_path / "leads.xlsx"
    assert export_leads(any_db, xlsx, calls.campaign.id) == 2
    rows = list(openpyxl.load_workbook(xlsx).active.iter_rows(values_only=True))
    assert rows[0] == LEAD_COLUMNS
    assert sorted(row[0] for row in rows[1:]) == ["L1", "L2"]
    with any_db() as session:
        assert session.scalar(select(ExportCursor)) is None  # lead exports keep no cursor
