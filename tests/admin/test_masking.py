"""Masked numbers: a masking tenant never sees a phone number, anywhere."""

from __future__ import annotations

import io
import logging

from openpyxl import load_workbook
from sqlalchemy import select

from admin import masking
from engine.store.models import Contact, Phone

from .conftest import post
from .test_lists import start_import, wait_for


def _numbers(session, tenant_id: int) -> set[str]:
    numbers = set(session.scalars(select(Phone.number).join(Contact).where(
        Contact.tenant_id == tenant_id)))
    return numbers | {n.lstrip("+") for n in numbers} | {n[2:] for n in numbers}


def _assert_clean(text: str, numbers: set[str], where: str) -> None:
    leaked = [n for n in numbers if n in text]
    assert not leaked, f"{where} shows {leaked[:3]}"


def test_pages_json_and_export_show_no_numbers(as_user, session, world, caplog):
    numbers = _numbers(session, world.b.id)
    client = as_user("b_admin")
    caplog.set_level(logging.DEBUG)
    post(client, "/leads/columns", {"column": ["id", "external_id", "name", "phone", "status",
                                               "recording"]})
    urls = ["/leads/", "/leads/?format=json", "/leads/?status=interested", "/funnel/",
            "/statistics/", "/campaigns/", "/lists/"]
    urls += [f"/leads/{c.id}" for c in world.b_demo.contacts]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        _assert_clean(response.get_data(as_text=True), numbers, url)
    export = client.get("/exports/leads.xlsx")
    sheet = load_workbook(io.BytesIO(export.data)).active
    cells = " ".join(str(cell) for row in sheet.iter_rows(values_only=True) for cell in row)
    _assert_clean(cells, numbers, "the XLSX export")
    _assert_clean(caplog.text, numbers, "the log")


def test_unmasked_tenant_sees_its_numbers(as_user, session, world):
    contact = world.a_demo.contacts[3]
    page = as_user("a_admin").get(f"/leads/{contact.id}").get_data(as_text=True)
    assert contact.phones[0].number in page


def test_contacts_are_potential_clients_until_consent(as_user, world):
    client = as_user("b_admin")
    data = client.get("/leads/?format=json").get_json()
    by_id = {row["id"]: row["name"] for row in data["leads"]}
    for contact in world.b_demo.contacts:
        if contact.id not in by_id:
            continue
        if contact.consent:
            assert by_id[contact.id] == contact.name
        else:
            assert by_id[contact.id] == f"Потенциальный клиент {contact.id}"


def test_masked_upload_preview_and_rejects_hide_numbers(as_user, world, app):
    client = as_user("b_admin")
    csv_bytes = ("external_id,phone,name\n"
                 "X1,+79031234567,Иван\n"
                 "X1,89035550011,Пётр\n").encode()  # a duplicate id: rejected
    response = post(client, "/lists/upload", {"file": (io.BytesIO(csv_bytes), "masked.csv")},
                    content_type="multipart/form-data")
    token = response.headers["Location"].rstrip("/").split("/")[-1]
    preview = client.get(f"/lists/upload/{token}").get_data(as_text=True)
    for number in ("79031234567", "89035550011"):
        assert number not in preview
    start_import(client, token, ["external_id", "phone", "name"])
    job = wait_for(client, token)
    assert job["counts"]["rejected"] == 1
    rejects = client.get(f"/lists/upload/{token}/rejects.csv").get_data(as_text=True)
    assert "X1" in rejects and "Пётр" in rejects and "89035550011" not in rejects


def test_scrub_masks_long_digit_runs_only():
    assert masking.scrub("call +7 (916) 123-45-67 now") == "call ••• now"
    assert masking.scrub("order 12345, flat 7") == "order 12345, flat 7"
