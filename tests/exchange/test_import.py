"""Importing contact CSV files: formats, mapping, upsert, rejects, hostile files, atomicity."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.exchange.encoding import EncodingError
from engine.exchange.importer import Importer, ImportFileError
from engine.exchange.mapping import Mapping, MappingError, load_mapping
from engine.exchange.upsert import ContactUpserter
from engine.store.db import make_engine, make_sessionmaker
from engine.store.models import Base, Contact, Phone, PhoneType

from ..factories import Factory

HEADER = ["external_id", "name", "phone", "phone_type", "phone2", "timezone", "consent", "debt"]
ROWS = [
    ["A1", "Иванов Иван", "+7 916 123-45-67", "мобильный", "8 (495) 123-45-67",
     "Europe/Moscow", "да", "1500.00"],
    ["A2", "Петрова Анна", "89161112233", "", "", "", "0", ""],
    ["A3", "Smith; John, Jr.", "9031234567", "Рабочий", "", "Asia/Yekaterinburg", "yes", "7"],
]


def table(rows: list[list[str]], delimiter: str = ",", header: list[str] = HEADER) -> str:
    def cell(value: str) -> str:
        return f'"{value}"' if any(ch in value for ch in ',;\t"\n') else value
    return "".join(delimiter.join(cell(value) for value in row) + "\r\n"
                   for row in [header, *rows])


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1251"])
@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_good_file_in_each_encoding_and_delimiter(run_import, write_csv, encoding, delimiter):
    path = write_csv(table(ROWS, delimiter), encoding=encoding)

    summary = run_import(path)

    assert summary.line() == "rows read 3, imported 3, updated 0, unchanged 0, rejected 0"
    assert run_import.importer.format.encoding.name == encoding
    assert run_import.importer.format.delimiter == delimiter
    contacts = run_import.contacts()
    assert contacts["A1"].name == "Иванов Иван"
    assert [(p.number, p.phone_type, p.priority) for p in contacts["A1"].phones] == [
        ("+79161234567", PhoneType.MOBILE, 0), ("+74951234567", PhoneType.OTHER, 1)]
    assert contacts["A1"].timezone == "Europe/Moscow"
    assert contacts["A1"].consent is True and contacts["A1"].consent_at is not None
    assert contacts["A1"].fields == {"debt": "1500.00"}
    assert contacts["A2"].fields == {} and contacts["A2"].consent is False
    assert contacts["A3"].name == "Smith; John, Jr."
    assert contacts["A3"].phones[0].phone_type == PhoneType.WORK


def test_mapping_file_maps_russian_headers(run_import, write_csv, tmp_path):
    mapping_path = tmp_path / "crm.yaml"
    mapping_path.write_text(
        "columns:\n  external_id: ID клиента\n  name: ФИО\n  phone: Телефон\n"
        "  phone2: Телефон 2\n  phone2_type: Тип 2\n"
        "fields:\n  debt: Сумма долга\nunmapped: ignore\n", encoding="utf-8")
    path = write_csv("ID клиента;ФИО;Телефон;Телефон 2;Тип 2;Сумма долга;Мусор\n"
                     "77;Сидоров;+79161234567;+74957654321;домашний;100;x\n", encoding="cp1251")

    summary = run_import(path, load_mapping(mapping_path))

    assert summary.imported == 1
    contact = run_import.contacts()["77"]
    assert contact.name == "Сидоров"
    assert contact.fields == {"debt": "100"}  # the unmapped "Мусор" column is ignored
    assert [(p.number, p.phone_type) for p in contact.phones] == [
        ("+79161234567", PhoneType.MOBILE), ("+74957654321", PhoneType.HOME)]


def test_mapping_names_encoding_and_delimiter(run_import, write_csv, tmp_path):
    mapping_path = tmp_path / "m.yaml"
    mapping_path.write_text("encoding: cp1251\ndelimiter: tab\n", encoding="utf-8")
    path = write_csv(table(ROWS, "\t"), encoding="cp1251")
    assert run_import(path, load_mapping(mapping_path)).imported == 3
    assert run_import.importer.format.encoding.reason == "named in the mapping file"

    (tmp_path / "m2.yaml").write_text("encoding: cp1251\n", encoding="utf-8")
    utf8 = write_csv("external_id,name,phone\n1,Иван,+79161234567\n", name="utf8.csv")
    with pytest.raises(EncodingError, match="not valid cp1251 as the mapping says"):
        run_import(utf8, load_mapping(tmp_path / "m2.yaml"))  # "И" is 0xd0 0x98 in UTF-8


def test_reimport_changes_nothing_and_counts_unchanged(run_import, write_csv, clock):
    path = write_csv(table(ROWS))
    run_import(path)
    before = {key: (c.updated_at, [p.id for p in c.phones])
              for key, c in run_import.contacts().items()}
    clock.advance(3600)

    summary = run_import(path)

    assert summary.line() == "rows read 3, imported 0, updated 0, unchanged 3, rejected 0"
    after = {key: (c.updated_at, [p.id for p in c.phones])
             for key, c in run_import.contacts().items()}
    assert after == before


def test_reimport_with_changes_updates_and_keeps_surviving_phones(run_import, write_csv,
                                                                 clock, sessionmaker_):
    run_import(write_csv(table(ROWS)))
    kept_phone = run_import.contacts()["A1"].phones[0]
    with sessionmaker_.begin() as session:  # the dialer has called it meanwhile
        session.get(Phone, kept_phone.id).attempts = 2
    clock.advance(60)
    changed = [["A1", "Иванов И.", "8 (495) 123-45-67", "work", "+7 916 123-45-67",
                "Europe/Moscow", "да", "1500.00"], ROWS[1], ROWS[2]]

    summary = run_import(write_csv(table(changed), name="v2.csv"))

    assert (summary.imported, summary.updated, summary.unchanged) == (0, 1, 2)
    contact = run_import.contacts()["A1"]
    assert contact.name == "Иванов И." and contact.updated_at == clock.now()
    assert [(p.number, p.phone_type, p.priority) for p in contact.phones] == [
        ("+74951234567", PhoneType.WORK, 0), ("+79161234567", PhoneType.MOBILE, 1)]
    survivor = next(p for p in contact.phones if p.number == "+79161234567")
    assert (survivor.id, survivor.attempts) == (kept_phone.id, 2)

    dropped = [["A1", "Иванов И.", "+7 916 123-45-67", "", "", "", "да", ""]]
    assert run_import(write_csv(table(dropped), name="v3.csv")).updated == 1
    assert [p.number for p in run_import.contacts()["A1"].phones] == ["+79161234567"]


def test_rejects_carry_line_numbers_and_good_rows_are_kept(run_import, write_csv):
    text = (
        "external_id,name,phone,timezone\n"          # line 1
        "B1,ok,+79161234567,\n"                      # 2
        ",no id,+79161234568,\n"                     # 3
        "B3,garbage,12345,\n"                        # 4
        "B4,\"multi\nline name\",+79161234569,\n"    # 5-6
        "B5,bad zone,+79161234570,Mars/Olympus\n"    # 7
        "B6,too,many,columns,here\n"                 # 8
        "\n"                                         # 9: blank, skipped
        "B7,no phone,,\n"                            # 10
        "B1,again,+79161234571,\n"                   # 11: duplicate id
        "B8,abc,not a number,\n"                     # 12
        "B9,ok,8 916 123 45 72,Europe/Samara\n"      # 13
    )
    summary = run_import(write_csv(text))

    assert summary.line() == "rows read 10, imported 3, updated 0, unchanged 0, rejected 7"
    assert run_import.reasons() == {
        3: "external_id is empty",
        4: "phone: '12345' is not a valid number (region RU)",
        7: "timezone: unknown time zone 'Mars/Olympus' (use an IANA name such as Europe/Moscow)",
        8: "row has 5 fields, the header has 4",
        10: "no phone number",
        11: "duplicate external_id 'B1' (first on line 2)",
        12: "phone: 'not a number' is not a phone number (The string supplied did not seem to "
            "be a phone number.)",
    }
    assert run_import.rejects[3][2] == ["B6", "too", "many", "columns", "here"]
    assert set(run_import.contacts()) == {"B1", "B4", "B9"}
    assert run_import.contacts()["B4"].name == "multi\nline name"


def test_duplicate_external_ids_first_row_wins(run_import, write_csv):
    rows = [["D1", "first", "+79161234567"], ["D2", "x", "+79161234568"],
            ["D1", "second", "+79161234569"]]
    header = ["external_id", "name", "phone"]
    path = write_csv(table(rows, header=header))

    for chunk_size in (1, 100):  # across chunks and within one chunk
        run_import(path, chunk_size=chunk_size)
        assert list(run_import.reasons()) == [4]
        assert "duplicate external_id 'D1'" in run_import.reasons()[4]
        assert run_import.contacts()["D1"].name == "first"


def test_phones_are_deduplicated_within_a_contact(run_import, write_csv):
    header = ["external_id", "phone", "phone2", "phone3"]
    run_import(write_csv(table([["P1", "+79161234567", "8 916 123 45 67", "89031234567"]],
                               header=header)))
    assert [(p.number, p.priority) for p in run_import.contacts()["P1"].phones] == [
        ("+79161234567", 0), ("+79031234567", 1)]


def test_region_option_changes_how_national_numbers_read(run_import, write_csv):
    path = write_csv(table([["U1", "(212) 555-0123"]], header=["external_id", "phone"]))
    assert run_import(path, region="US").imported == 1
    assert run_import.contacts()["U1"].phones[0].number == "+12125550123"


@pytest.mark.parametrize(("content", "message"), [
    (b"", "the file is empty"),
    (b"\n\n", "the file is empty"),
    (b"name,phone\nx,+79161234567\n", "required column external_id is missing"),
    (b"external_id,name\n1,x\n", "no phone column"),
    (b"external_id,phone_type\n1,mobile\n", "no phone column"),
    (b"external_id,phone,phone\n1,2,3\n", "appears more than once"),
    (b"exter\x00nal_id,phone\n1,+79161234567\n", "the header has a NUL byte"),
    (b'"' + b"h" * 200_000 + b'",phone\n', "unreadable row: field larger than field limit"),
])
def test_file_level_errors_import_nothing(run_import, write_csv, content, message):
    with pytest.raises((ImportFileError, MappingError), match=message):
        run_import(write_csv(content))
    assert run_import.contacts() == {}


def test_header_only_file_imports_nothing_cleanly(run_import, write_csv):
    assert run_import(write_csv("external_id,phone\n")).line() == (
        "rows read 0, imported 0, updated 0, unchanged 0, rejected 0")


def test_wrong_encodings_are_refused_with_evidence(run_import, write_csv):
    text = table(ROWS * 20)
    with pytest.raises(EncodingError, match="UTF-16"):
        run_import(write_csv(text, encoding="utf-16"))
    with pytest.raises(EncodingError, match="koi8"):
        run_import(write_csv(text, name="koi.csv", encoding="koi8_r"))
    assert run_import.contacts() == {}


def test_nul_bytes_and_very_long_fields_reject_only_their_rows(run_import, write_csv):
    long_field = "x" * 200_000
    content = (b"external_id,name,phone,note\n"
               b"N1,nul\x00name,+79161234567,\n"
               + f'N2,long,+79161234568,"{long_field}"\n'.encode()
               + f"N3,long free field,+79161234569,{'y' * 20_000}\n".encode()
               + "N4,Ок,+79161234570,short\n".encode())

    summary = run_import(write_csv(content))

    assert (summary.imported, summary.rejected) == (1, 3)
    reasons = run_import.reasons()
    assert "NUL byte" in reasons[2] and "'name'" in reasons[2]
    assert "field larger than field limit" in reasons[3]
    assert "note: longer than 10000 characters" in reasons[4]
    assert set(run_import.contacts()) == {"N4"}


def test_crash_mid_import_leaves_no_half_imported_chunk(run_import, write_csv, monkeypatch,
                                                       sessionmaker_):
    rows = [[f"C{n:03d}", f"name {n}", f"+7916{n:07d}"] for n in range(25)]
    path = write_csv(table(rows, header=["external_id", "name", "phone"]))
    real_write = ContactUpserter.write
    calls = []

    def failing_write(self, session, records):  # type: ignore[no-untyped-def]
        calls.append(len(records))
        result = real_write(self, session, records)  # rows are written, then it fails
        if len(calls) == 3:
            raise RuntimeError("disk on fire")
        return result

    monkeypatch.setattr(ContactUpserter, "write", failing_write)
    with pytest.raises(RuntimeError, match="disk on fire"):
        run_import(path, chunk_size=10)
    assert run_import.importer.summary.imported == 20
    with sessionmaker_() as session:
        assert session.scalar(select(func.count()).select_from(Contact)) == 20
        assert session.scalar(select(func.count()).select_from(Phone)) == 20

    calls.clear()
    with pytest.raises(RuntimeError):
        run_import(path, chunk_size=10, single_transaction=True)
    with sessionmaker_() as session:  # the second run's 25 rows: all rolled back
        assert session.scalar(select(func.count()).select_from(Contact)) == 20

    monkeypatch.setattr(ContactUpserter, "write", real_write)
    summary = run_import(path, chunk_size=10)  # running it again finishes the job
    assert (summary.imported, summary.unchanged) == (5, 20)


def test_progress_is_reported_by_byte_position(run_import, write_csv):
    rows = [[f"G{n}", f"+7916{n:07d}"] for n in range(30)]
    path = write_csv(table(rows, header=["external_id", "phone"]))
    positions: list[int] = []
    run_import(path, chunk_size=10, progress=positions.append)
    assert len(positions) == 4 and positions == sorted(positions)
    assert positions[-1] == Path(path).stat().st_size


def test_import_and_reimport_on_postgresql(pg_url, write_csv, clock):
    engine = make_engine(pg_url)
    Base.metadata.create_all(engine)
    factory = make_sessionmaker(engine)
    with factory() as session:
        builder = Factory(session, clock)
        contact_list = builder.contact_list(builder.campaign(builder.tenant()))
        session.commit()
        tenant_id, list_id = contact_list.tenant_id, contact_list.id
    path = write_csv(table(ROWS, ";"), encoding="cp1251")

    def run():  # type: ignore[no-untyped-def]
        return Importer(factory, path, tenant_id=tenant_id, list_id=list_id, mapping=Mapping(),
                        region="RU", clock=clock, chunk_size=2).run(lambda *reject: None)

    assert run().line() == "rows read 3, imported 3, updated 0, unchanged 0, rejected 0"
    assert run().line() == "rows read 3, imported 0, updated 0, unchanged 3, rejected 0"
    with factory() as session:
        contact = session.scalars(select(Contact).where(Contact.external_id == "A1")).one()
        assert contact.fields == {"debt": "1500.00"} and contact.consent_at == clock.now()
        assert [(p.number, p.phone_type) for p in contact.phones] == [
            ("+79161234567", PhoneType.MOBILE), ("+74951234567", PhoneType.OTHER)]
    engine.dispose()


def test_rejected_rows_count_toward_the_chunk(run_import, write_csv):
    """A file of bad rows is still processed chunk by chunk (memory stays bounded)."""
    path = write_csv(table([[f"R{n}", "garbage"] for n in range(30)],
                           header=["external_id", "phone"]))
    positions: list[int] = []
    summary = run_import(path, chunk_size=10, progress=positions.append)
    assert summary.rejected == 30 and len(positions) == 4
