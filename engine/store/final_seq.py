"""``CallAttempt.final_seq``: the order in which attempts ended, the export watermark.

Call ``assign_final_seq`` as the last write of the transaction that ends an attempt, and commit
at once. The counter row stays locked (PostgreSQL row lock; SQLite's single writer) until that
transaction ends, so sequence numbers become visible in commit order: an exporter that has seen
number N has also seen every number below N, and a watermark never skips an attempt.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from engine.store.models import CallAttempt
from engine.store.models.counters import Counter

FINAL_SEQ_COUNTER = "call_attempt_final_seq"


def next_value(session: Session, name: str) -> int:
    """Advance the named counter and return its new value (1 for a new counter).

    Works on PostgreSQL and SQLite (the two supported databases): a missing row is created with
    ``INSERT ... ON CONFLICT DO NOTHING``, so two first callers cannot collide.
    """
    advance = (update(Counter).where(Counter.name == name)
               .values(value=Counter.value + 1).returning(Counter.value))
    value = session.execute(advance).scalar_one_or_none()
    if value is not None:
        return value
    insert_ = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert_(Counter).values(name=name, value=0)
                    .on_conflict_do_nothing(index_elements=["name"]))
    return session.execute(advance).scalar_one()


def assign_final_seq(session: Session, attempt: CallAttempt) -> int:
    """Give an ended attempt its final sequence number, once (later calls return the same)."""
    if attempt.final_seq is None:
        attempt.final_seq = next_value(session, FINAL_SEQ_COUNTER)
        session.flush()
    return attempt.final_seq
