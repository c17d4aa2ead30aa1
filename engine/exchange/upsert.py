"""Writes one chunk of contact records into a list: insert new, update changed, skip same."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.store.models import Contact, Phone

from .bulk import insert_rows, select_in
from .rows import PhoneTuple, Records

SQLITE_CACHE_KIB = 64 * 1024


@dataclass
class ChunkResult:
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: list[tuple[int, str]] = field(default_factory=list)  # (line, reason)


class _Existing(NamedTuple):
    id: int
    state: tuple[Any, ...]  # (name, fields as JSON text, timezone, region, consent)
    consent_at: datetime | None
    phones: dict[str, tuple[int, str, int]]  # number -> (phone id, type, priority)

    def phone_tuples(self) -> tuple[PhoneTuple, ...]:
        return tuple(sorted(((number, kind, priority)
                             for number, (_, kind, priority) in self.phones.items()),
                            key=lambda phone: phone[2]))

    def same_as(self, state: tuple[Any, ...], phones: tuple[PhoneTuple, ...]) -> bool:
        if state != self.state:  # the stored JSON may be spelled differently (key order)
            name, fields, *rest = state
            stored_name, stored_fields, *stored_rest = self.state
            if (name, rest) != (stored_name, stored_rest) or (
                    json.loads(fields) != json.loads(stored_fields or "{}")):
                return False
        return phones == self.phone_tuples()


class ContactUpserter:
    """Upserts by (list, external_id) for one import run.

    Each chunk's records have distinct external ids (``chunks.read_chunks`` rejects repeats
    within a chunk); a suspect, whose id an earlier chunk probably had, that exists in the list
    is returned as a duplicate (the first row of the file wins, so re-importing a file is
    idempotent). Phones of an updated contact become those of the row: numbers kept keep their
    id and attempt counters.
    """

    def __init__(self, tenant_id: int, list_id: int, clock: Clock) -> None:
        self.tenant_id = tenant_id
        self.list_id = list_id
        self.clock = clock
        self._list_was_empty: bool | None = None

    def write(self, session: Session, records: Records) -> ChunkResult:
        """Upsert one chunk in the session's transaction; the caller commits."""
        if self._list_was_empty is None:  # the first chunk of the run
            _tune_connection(session)
            self._list_was_empty = session.scalar(
                select(Contact.id).where(Contact.list_id == self.list_id).limit(1)) is None
        ids = records.external_ids
        # A list empty at the start only holds contacts of this run: only suspects need a look.
        existing = self._existing(session, [ids[index] for index in records.suspects]
                                  if self._list_was_empty else ids)
        duplicates = [index for index in records.suspects if ids[index] in existing]
        result = ChunkResult(duplicates=[
            (records.lines[index],
             f"duplicate external_id {ids[index]!r} (an earlier row of this file has it)")
            for index in duplicates])
        if existing:
            skip = set(duplicates)
            new = [index for index, key in enumerate(ids) if key not in existing]
            known = [index for index, key in enumerate(ids) if key in existing
                     and index not in skip]
        else:
            new, known = list(range(len(ids))), []
        now = self.clock.now()
        changed = [(index, existing[ids[index]]) for index in known
                   if not existing[ids[index]].same_as(_state(records, index),
                                                       records.phones[index])]
        self._insert(session, records, new, now)
        self._update(session, records, changed, now)
        result.imported = len(new)
        result.updated = len(changed)
        result.unchanged = len(known) - len(changed)
        return result

    def _existing(self, session: Session, external_ids: list[str]) -> dict[str, _Existing]:
        rows = select_in(session, Contact.__table__, ("id", "external_id", "name", "fields",
                                                      "timezone", "region", "consent",
                                                      "consent_at"),
                         "external_id", external_ids, ("list_id", self.list_id),
                         as_text=("fields",))
        phones: dict[int, dict[str, tuple[int, str, int]]] = {row[0]: {} for row in rows}
        for contact_id, phone_id, number, kind, priority in select_in(
                session, Phone.__table__, ("contact_id", "id", "number", "phone_type", "priority"),
                "contact_id", list(phones), as_text=("phone_type",)):
            phones[contact_id][number] = (phone_id, kind, priority)
        return {
            external_id: _Existing(contact_id, (name, fields, zone, region, consent),
                                   consent_at, phones[contact_id])
            for contact_id, external_id, name, fields, zone, region, consent, consent_at in rows
        }

    def _insert(self, session: Session, records: Records, new: list[int],
                now: datetime) -> None:
        if not new:
            return
        everything = len(new) == len(records)

        def column(values: Any) -> Any:
            return values if everything else [values[index] for index in new]

        external_ids = column(records.external_ids)
        consents = column(records.consents)
        insert_rows(
            session, Contact.__table__,
            {"tenant_id": self.tenant_id, "list_id": self.list_id, "status": "new",
             "attempts": 0, "created_at": now, "updated_at": now},
            {"external_id": external_ids, "name": column(records.names),
             "fields": column(records.fields), "timezone": column(records.timezones),
             "region": column(records.regions), "consent": consents,
             "consent_at": [now if consent else None for consent in consents]},
            raw=("fields",),
        )
        contact_ids = dict(select_in(session, Contact.__table__, ("external_id", "id"),
                                     "external_id", external_ids, ("list_id", self.list_id)))
        self._insert_phones(session, [
            (contact_ids[key], *phone)
            for key, phones in zip(external_ids, column(records.phones)) for phone in phones])

    def _update(self, session: Session, records: Records,
                changed: list[tuple[int, _Existing]], now: datetime) -> None:
        if not changed:
            return
        session.execute(update(Contact), [
            {"id": old.id, "name": records.names[index],
             "fields": json.loads(records.fields[index]), "timezone": records.timezones[index],
             "region": records.regions[index], "consent": records.consents[index],
             "consent_at": (old.consent_at or now) if records.consents[index] else None,
             "updated_at": now}
            for index, old in changed
        ])
        stale: list[int] = []
        moved: list[dict[str, Any]] = []
        added: list[tuple[int, str, str, int]] = []
        for index, old in changed:
            wanted = {phone[0]: phone for phone in records.phones[index]}
            stale += [phone_id for number, (phone_id, _, _) in old.phones.items()
                      if number not in wanted]
            for number, phone in wanted.items():
                if number not in old.phones:
                    added.append((old.id, *phone))
                elif old.phones[number][1:] != phone[1:]:
                    moved.append({"id": old.phones[number][0], "phone_type": phone[1],
                                  "priority": phone[2]})
        if stale:
            session.execute(delete(Phone).where(Phone.id.in_(stale)))
        if moved:
            session.execute(update(Phone), moved)
        self._insert_phones(session, added)

    @staticmethod
    def _insert_phones(session: Session, phones: list[tuple[int, str, str, int]]) -> None:
        """Insert (contact id, number, type, priority) rows."""
        if not phones:
            return
        contact_ids, numbers, types, priorities = zip(*phones)
        insert_rows(session, Phone.__table__, {"attempts": 0},
                    {"contact_id": contact_ids, "number": numbers, "phone_type": types,
                     "priority": priorities})


def _state(records: Records, index: int) -> tuple[Any, ...]:
    return (records.names[index], records.fields[index], records.timezones[index],
            records.regions[index], records.consents[index])


def _tune_connection(session: Session) -> None:
    """A larger page cache for SQLite while importing (the default 2 MB thrashes on big lists)."""
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
