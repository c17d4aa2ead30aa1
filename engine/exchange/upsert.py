"""Writes one chunk of contact records into a list: insert new, update changed, skip same."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.store.models import Contact, Phone

from .bulk import insert_rows, select_in
from .rows import ContactRecord
from .seen import SeenIds

PhoneTuple = tuple[str, str, int]  # (E.164, type, priority)
SQLITE_CACHE_KIB = 64 * 1024


@dataclass
class ChunkResult:
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: list[tuple[ContactRecord, str]] = field(default_factory=list)


class _Existing(NamedTuple):
    id: int
    state: tuple[Any, ...]  # (name, fields, timezone, region, consent)
    consent_at: datetime | None
    phones: dict[str, tuple[int, str, int]]  # number -> (phone id, type, priority)

    def phone_tuples(self) -> tuple[PhoneTuple, ...]:
        return tuple(sorted(((number, kind, priority)
                             for number, (_, kind, priority) in self.phones.items()),
                            key=lambda phone: phone[2]))


def _state(record: ContactRecord) -> tuple[Any, ...]:
    return (record.name, record.fields, record.timezone, record.region, record.consent)


class ContactUpserter:
    """Upserts by (list, external_id) for one import run.

    The first row of the file with an external id wins; later rows with the same id are
    returned as duplicates (so re-importing a file is idempotent). Phones of an updated contact
    become those of the row: numbers kept keep their id and attempt counters.
    """

    def __init__(self, tenant_id: int, list_id: int, clock: Clock) -> None:
        self.tenant_id = tenant_id
        self.list_id = list_id
        self.clock = clock
        self.seen = SeenIds()
        self._list_was_empty: bool | None = None

    def write(self, session: Session, records: list[ContactRecord]) -> ChunkResult:
        """Upsert one chunk in the session's transaction; the caller commits."""
        result = ChunkResult()
        unique: dict[str, ContactRecord] = {}
        for record in records:
            first = unique.setdefault(record.external_id, record)
            if first is not record:
                result.duplicates.append((record, (f"duplicate external_id "
                                                   f"{record.external_id!r} (first on line "
                                                   f"{first.line})")))
        hits = dict(zip(unique, self.seen.contains(list(unique))))
        if self._list_was_empty is None:  # the first chunk of the run
            _tune_connection(session)
            self._list_was_empty = session.scalar(
                select(Contact.id).where(Contact.list_id == self.list_id).limit(1)) is None
        # A list empty at the start only holds contacts of this run: only hits need a look.
        existing = self._existing(session, [key for key, hit in hits.items()
                                            if hit or not self._list_was_empty])
        for external_id, hit in hits.items():
            if hit and external_id in existing:
                result.duplicates.append((unique.pop(external_id), (
                    f"duplicate external_id {external_id!r} (an earlier row of this file has it)"
                )))
        now = self.clock.now()
        new = [record for key, record in unique.items() if key not in existing]
        changed = [(record, existing[key]) for key, record in unique.items()
                   if key in existing and (_state(record), record.phones)
                   != (existing[key].state, existing[key].phone_tuples())]
        self._insert(session, new, now)
        self._update(session, changed, now)
        self.seen.add(list(unique))
        result.imported = len(new)
        result.updated = len(changed)
        result.unchanged = len(unique) - len(new) - len(changed)
        return result

    def _existing(self, session: Session, external_ids: list[str]) -> dict[str, _Existing]:
        rows = select_in(session, Contact.__table__, ("id", "external_id", "name", "fields",
                                                      "timezone", "region", "consent",
                                                      "consent_at"),
                         "external_id", external_ids, ("list_id", self.list_id))
        phones: dict[int, dict[str, tuple[int, str, int]]] = {row[0]: {} for row in rows}
        for contact_id, phone_id, number, kind, priority in select_in(
                session, Phone.__table__, ("contact_id", "id", "number", "phone_type", "priority"),
                "contact_id", list(phones)):
            phones[contact_id][number] = (phone_id, kind.value, priority)
        return {
            external_id: _Existing(contact_id, (name, fields or {}, zone, region, consent),
                                   consent_at, phones[contact_id])
            for contact_id, external_id, name, fields, zone, region, consent, consent_at in rows
        }

    def _contact_values(self, record: ContactRecord, consent_at: datetime | None,
                        now: datetime) -> dict[str, Any]:
        return {"name": record.name, "fields": record.fields, "timezone": record.timezone,
                "region": record.region, "consent": record.consent,
                "consent_at": consent_at if record.consent else None, "updated_at": now}

    def _insert(self, session: Session, records: list[ContactRecord], now: datetime) -> None:
        if not records:
            return
        insert_rows(
            session, Contact.__table__,
            {"tenant_id": self.tenant_id, "list_id": self.list_id, "status": "new",
             "attempts": 0, "created_at": now, "updated_at": now},
            ("external_id", "name", "fields", "timezone", "region", "consent", "consent_at"),
            ((record.external_id, record.name, record.fields, record.timezone, record.region,
              record.consent, now if record.consent else None) for record in records),
        )
        ids = dict(select_in(session, Contact.__table__, ("external_id", "id"), "external_id",
                             [record.external_id for record in records],
                             ("list_id", self.list_id)))
        self._insert_phones(session, [(ids[record.external_id], phone)
                                      for record in records for phone in record.phones])

    def _update(self, session: Session,
                changed: list[tuple[ContactRecord, _Existing]], now: datetime) -> None:
        if not changed:
            return
        session.execute(update(Contact), [
            {"id": old.id, **self._contact_values(record, old.consent_at or now, now)}
            for record, old in changed
        ])
        stale: list[int] = []
        moved: list[dict[str, Any]] = []
        added: list[tuple[int, PhoneTuple]] = []
        for record, old in changed:
            wanted = {phone[0]: phone for phone in record.phones}
            stale += [phone_id for number, (phone_id, _, _) in old.phones.items()
                      if number not in wanted]
            for number, phone in wanted.items():
                if number not in old.phones:
                    added.append((old.id, phone))
                elif old.phones[number][1:] != phone[1:]:
                    moved.append({"id": old.phones[number][0], "phone_type": phone[1],
                                  "priority": phone[2]})
        if stale:
            session.execute(delete(Phone).where(Phone.id.in_(stale)))
        if moved:
            session.execute(update(Phone), moved)
        self._insert_phones(session, added)

    @staticmethod
    def _insert_phones(session: Session, phones: list[tuple[int, PhoneTuple]]) -> None:
        insert_rows(session, Phone.__table__, {"attempts": 0},
                    ("contact_id", "number", "phone_type", "priority"),
                    ((contact_id, *phone) for contact_id, phone in phones))


def _tune_connection(session: Session) -> None:
    """A larger page cache for SQLite while importing (the default 2 MB thrashes on big lists)."""
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
