"""Lists: upload a CSV in the browser, map columns, preview, import with progress, rejects."""

from __future__ import annotations

import io
import time

from sqlalchemy import select

from engine.store.models import Contact, ContactList

from .conftest import post

CSV = ("ID клиента;ФИО;Телефон;Телефон 2;Город\n"
       "C-1;Анна;+7 916 100-00-01;8 (495) 100-00-02;Москва\n"
       "C-2;Борис;89161000003;;Казань\n"
       "C-3;Вера;12;;Тула\n"
       "C-1;Анна дубль;+79161000004;;Москва\n").encode("cp1251")
TARGETS = ["external_id", "name", "phone", "phone2", "field"]


def upload(client, data: bytes = CSV, name: str = "clients.csv") -> str:
    response = post(client, "/lists/upload", {"file": (io.BytesIO(data), name)},
                    content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"].rstrip("/").split("/")[-1]


def start_import(client, token: str, targets: list[str], **form):  # type: ignore[no-untyped-def]
    return post(client, f"/lists/upload/{token}", {"target": targets, "list_name": "Autumn",
                                                   **form})


def wait_for(client, token: str, seconds: float = 30) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job = client.get(f"/lists/upload/{token}/progress?format=json").get_json()
        if job["state"] in ("done", "failed"):
            return job
        time.sleep(0.05)
    raise AssertionError(f"import {token} did not finish")


def test_upload_preview_guesses_and_shows_the_file(as_user):
    client = as_user("a_admin")
    token = upload(client)
    page = client.get(f"/lists/upload/{token}").get_data(as_text=True)
    assert "Кодировка cp1251" in page and "точка с запятой" in page
    assert "ID клиента" in page and "Анна" in page and "Тула" in page
    selects = page.split('<select name="target"')[1:]
    assert [s.split('data-header="')[1].split('"')[0] for s in selects] == [
        "ID клиента", "ФИО", "Телефон", "Телефон 2", "Город"]
    guessed = [s.split(" selected")[0].rsplit('value="', 1)[1].split('"')[0]
               if " selected" in s else "" for s in selects]
    assert guessed == ["field"] * 5  # Russian headers match no contact field by name
    english = upload(client, b"external_id,Phone,city\n1,+79161112233,Omsk\n", "en.csv")
    page = client.get(f"/lists/upload/{english}").get_data(as_text=True)
    selects = page.split('<select name="target"')[1:]
    assert [s.split(" selected")[0].rsplit('value="', 1)[1].split('"')[0] for s in selects] == [
        "external_id", "phone", "field"]


def test_import_with_mapping_creates_leads_and_a_reject_report(as_user, session, world):
    client = as_user("a_admin")
    token = upload(client)
    response = start_import(client, token, TARGETS, campaign=str(world.a_demo.campaign.id))
    assert response.status_code == 302
    job = wait_for(client, token)
    assert job["state"] == "done", job
    assert job["counts"]["imported"] == 2 and job["counts"]["rejected"] == 2
    contact_list = session.scalar(select(ContactList).where(
        ContactList.tenant_id == world.a.id, ContactList.name == "Autumn"))
    assert contact_list.campaign_id == world.a_demo.campaign.id
    anna = session.scalar(select(Contact).where(Contact.list_id == contact_list.id,
                                                Contact.external_id == "C-1"))
    assert anna.name == "Анна" and anna.fields == {"Город": "Москва"}
    assert [p.number for p in anna.phones] == ["+79161000001", "+74951000002"]
    page = client.get(f"/lists/upload/{token}/progress").get_data(as_text=True)
    assert "Готово" in page and "rejects.csv" in page
    rejects = client.get(f"/lists/upload/{token}/rejects.csv")
    text = rejects.data.decode("utf-8-sig")
    assert "C-3" in text and "C-1" in text.split("\n", 2)[2]  # bad phone and the duplicate
    assert "attachment" in rejects.headers["Content-Disposition"]
    listing = client.get("/lists/").get_data(as_text=True)
    assert "Autumn" in listing


def test_mapping_needs_external_id_and_phone(as_user):
    client = as_user("a_admin")
    token = upload(client)
    no_phone = start_import(client, token, ["external_id", "name", "", "", ""])
    assert no_phone.status_code == 400
    assert "phone" in no_phone.get_data(as_text=True)
    twice = start_import(client, token, ["external_id", "name", "phone", "phone", ""])
    assert twice.status_code == 400 and "chosen for both" in twice.get_data(as_text=True)
    no_id = start_import(client, token, ["", "name", "phone", "", ""])
    assert "external_id" in no_id.get_data(as_text=True)


def test_list_of_another_campaign_is_refused(as_user, world, session):
    client = as_user("a_admin")
    token = upload(client)
    other = post(client, "/campaigns/new", {"name": "Other", "mode": "preview"})
    other_id = int(other.headers["Location"].rstrip("/").split("/")[-1])
    response = start_import(client, token, TARGETS, list_name=world.a_demo.contact_list.name,
                            campaign=str(other_id))
    assert response.status_code == 400
    assert "belongs to another campaign" in response.get_data(as_text=True)


def test_empty_and_unreadable_uploads_are_refused(as_user):
    client = as_user("a_admin")
    response = post(client, "/lists/upload", {"file": (io.BytesIO(b""), "empty.csv")},
                    content_type="multipart/form-data", follow_redirects=True)
    assert "the file is empty" in response.get_data(as_text=True)
    token = upload(client, "\ufeffA\n".encode("utf-16"), "utf16.csv")
    page = client.get(f"/lists/upload/{token}", follow_redirects=True).get_data(as_text=True)
    assert "UTF-16 is not supported" in page and "utf16.csv" in page
