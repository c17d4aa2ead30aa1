"""XLSX export of the filtered leads."""

from __future__ import annotations

import io

from openpyxl import load_workbook


def test_export_has_the_filtered_leads_with_phones(as_user, world):
    client = as_user("a_supervisor")
    response = client.get("/exports/leads.xlsx?status=client_interested")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    assert "leads-20261123-1300.xlsx" in response.headers["Content-Disposition"]
    rows = list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))
    header, body = rows[0], rows[1:]
    assert header[:5] == ("№", "Внешний ID", "Имя", "Телефон", "Статус")
    expected = {c.id: c for c in world.a_demo.contacts if c.status == "client_interested"}
    assert {row[0] for row in body} == set(expected) and expected
    for row in body:
        contact = expected[row[0]]
        assert row[3] == contact.phones[0].number
        assert row[4] == "Клиент заинтересован"
        assert row[-1] == f"city={contact.fields['city']}"


def test_export_follows_sort_and_agent_filter(as_user, world):
    agent = world.a_demo.agents[0]
    response = as_user("a_admin").get(f"/exports/leads.xlsx?agent={agent.id}&sort=updated_asc")
    body = list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))[1:]
    mine = sorted((c for c in world.a_demo.contacts if c.assigned_agent_id == agent.id),
                  key=lambda c: (c.updated_at, c.id))
    assert [row[0] for row in body] == [c.id for c in mine]
