"""Export of ended call attempts for a CRM, with a per-consumer watermark (see docs/exchange.md).

Rows are ordered by ``CallAttempt.final_seq``. A consumer's cursor (``ExportCursor``) holds the
last sequence number it received; the next run exports only attempts after it, so consecutive
runs neither miss nor repeat an attempt. The file is written beside the target and moved into
place only after the cursor is committed; a failed run leaves no file and an unmoved cursor.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from engine.clock import Clock
from engine.masking import mask_number, mask_text, mask_values
from engine.store.db import transaction
from engine.store.models import (
    Agent,
    AttemptState,
    CallAttempt,
    Campaign,
    Contact,
    ContactList,
    ExportCursor,
    Tenant,
)

from .tables import atomic_output, write_table

ATTEMPT_COLUMNS = (
    "attempt_id", "final_seq", "call_uuid", "tenant", "campaign_id", "campaign", "list",
    "contact_external_id", "number", "mode", "originated_at", "answered_at", "bridged_at",
    "ended_at", "hangup_cause", "sip_code", "outcome", "amd_result", "agent", "dead_air_ms",
    "recording_path", "disposition", "result_json",
)


class ExportConflict(RuntimeError):
    """Another export for the same consumer committed first; this run wrote nothing."""


@dataclass(frozen=True)
class ExportResult:
    rows: int
    last_seq: int  # the last final_seq exported (the consumer's cursor), else the one before


def attempt_rows(session: Session, after_seq: int = 0, since: datetime | None = None,
                 tenant_id: int | None = None) -> Iterator[tuple[int, list[Any]]]:
    """(final_seq, row in ATTEMPT_COLUMNS order) for ended attempts after ``after_seq``."""
    query = (
        select(CallAttempt.id.label("attempt_id"), CallAttempt.final_seq, CallAttempt.call_uuid,
               Tenant.name.label("tenant"), Tenant.mask_numbers, CallAttempt.campaign_id,
               Campaign.name.label("campaign"), ContactList.name.label("list"),
               Contact.external_id.label("contact_external_id"), CallAttempt.number,
               CallAttempt.mode, CallAttempt.originated_at, CallAttempt.answered_at,
               CallAttempt.bridged_at, CallAttempt.ended_at, CallAttempt.hangup_cause,
               CallAttempt.sip_code, CallAttempt.outcome, CallAttempt.amd_result,
               Agent.name.label("agent"), CallAttempt.dead_air_ms, CallAttempt.recording_path,
               CallAttempt.disposition, CallAttempt.result.label("result_json"))
        .join(Tenant, Tenant.id == CallAttempt.tenant_id)
        .join(Campaign, Campaign.id == CallAttempt.campaign_id)
        .join(Contact, Contact.id == CallAttempt.contact_id)
        .join(ContactList, ContactList.id == Contact.list_id)
        .outerjoin(Agent, Agent.id == CallAttempt.agent_id)
        .where(CallAttempt.state == AttemptState.ENDED, CallAttempt.final_seq > after_seq)
        .order_by(CallAttempt.final_seq)
        .execution_options(yield_per=1000)
    )
    if since is not None:
        query = query.where(CallAttempt.ended_at >= since)
    if tenant_id is not None:
        query = query.where(CallAttempt.tenant_id == tenant_id)
    for row in session.execute(query):
        values = dict(row._mapping)
        if values["mask_numbers"]:
            values["number"] = mask_number(values["number"])
            values["recording_path"] = mask_text(values["recording_path"])
            values["result_json"] = mask_values(values["result_json"])
        if values["outcome"] is not None:
            values["outcome"] = values["outcome"].value
        yield values["final_seq"], [values[column] for column in ATTEMPT_COLUMNS]


def export_attempts(factory: sessionmaker[Session], out: Path, clock: Clock, *,
                    consumer: str | None = None, since: datetime | None = None,
                    tenant_id: int | None = None) -> ExportResult:
    """Write ended attempts to ``out`` (.csv or .xlsx); with a consumer, only new ones."""
    with atomic_output(out) as partial, transaction(factory) as session:
        after = last = _cursor(session, consumer, clock) if consumer else 0

        def rows() -> Iterator[list[Any]]:
            nonlocal last
            for seq, row in attempt_rows(session, after, since, tenant_id):
                last = seq
                yield row

        count = write_table(partial, out.suffix.lower(), ATTEMPT_COLUMNS, rows(),
                            sheet="attempts")
        if consumer and last != after:
            moved = session.execute(
                update(ExportCursor)
                .where(ExportCursor.name == consumer, ExportCursor.last_seq == after)
                .values(last_seq=last, updated_at=clock.now())
                .execution_options(synchronize_session=False)
            ).rowcount
            if moved != 1:
                raise ExportConflict(f"another export for consumer {consumer!r} ran at the same "
                                     "time; nothing was written, run again")
    return ExportResult(count, last)


def _cursor(session: Session, consumer: str, clock: Clock) -> int:
    cursor = session.get(ExportCursor, consumer)
    if cursor is None:
        cursor = ExportCursor(name=consumer, last_seq=0, updated_at=clock.now())
        session.add(cursor)
        session.flush()
    return cursor.last_seq
