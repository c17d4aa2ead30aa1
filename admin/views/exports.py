"""Exports: the filtered leads as an XLSX workbook (e.g. all "Client interested" for the CRM)."""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Iterator, Sequence
from datetime import datetime
from itertools import islice

from flask import Blueprint, after_this_request, send_file
from flask_babel import gettext
from flask_login import current_user
from openpyxl import Workbook
from sqlalchemy.orm import Session

from engine.store.models import Contact

from .. import lead_rows, masking
from ..access import STAFF, roles
from ..extensions import db, state
from ..leads_query import filtered
from .leads import display_zone, request_filter, status_names

bp = Blueprint("exports", __name__, url_prefix="/exports")
log = logging.getLogger(__name__)

EXPORT_COLUMNS = tuple(key for key in lead_rows.COLUMNS if key != "recording")
XLSX_MAX_ROWS = 1_048_575  # a sheet's rows, less the header
_CHUNK = 1000
_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _chunks(session: Session, query) -> Iterator[Sequence[Contact]]:  # type: ignore[no-untyped-def]
    result = session.scalars(query.execution_options(yield_per=_CHUNK))
    while batch := list(islice(result, _CHUNK)):
        yield batch


def _cell(value: object) -> object:
    if isinstance(value, datetime):
        return value.astimezone(display_zone()).replace(tzinfo=None)
    return value


@bp.route("/leads.xlsx")
@roles(*STAFF)
def leads_xlsx():  # type: ignore[no-untyped-def]
    flt = request_filter()
    masked = current_user.mask_numbers
    names = status_names()
    book = Workbook(write_only=True)
    sheet = book.create_sheet(gettext("Leads"))
    sheet.append([str(lead_rows.COLUMNS[key]) for key in EXPORT_COLUMNS] + [gettext("Fields")])
    written = 0
    query = filtered(current_user.tenant_id, flt, display_zone()).limit(XLSX_MAX_ROWS)
    for batch in _chunks(db(), query):
        for row, contact in zip(lead_rows.build_rows(db(), batch, masked, names), batch):
            fields = masking.contact_fields(contact, masked)
            sheet.append([_cell(row.value(key)) for key in EXPORT_COLUMNS]
                         + ["; ".join(f"{k}={v}" for k, v in fields.items())])
            written += 1
    handle = tempfile.NamedTemporaryFile(suffix=".xlsx", delete=False)
    book.save(handle.name)
    handle.close()

    @after_this_request
    def _cleanup(response):  # type: ignore[no-untyped-def]
        os.unlink(handle.name)
        return response

    log.info("user %s exported %s leads", current_user.id, written)
    stamp = state().clock.now().astimezone(display_zone()).strftime("%Y%m%d-%H%M")
    return send_file(handle.name, mimetype=_XLSX, as_attachment=True,
                     download_name=f"leads-{stamp}.xlsx", max_age=0)
