"""What happens in the transaction that ends an attempt (the engine's finish hooks)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from sqlalchemy.orm import Session

from engine.store.final_seq import assign_final_seq
from engine.store.models import CallAttempt, Campaign, Contact, Phone
from engine.store.queries import record_reached, strategy_of
from engine.strategy.retry import after_attempt

from .attempts import INBOUND, FinishHook


def update_phone_and_contact(session: Session, attempt: CallAttempt) -> None:
    """Count the attempt on its phone and contact; set the phone's next allowed time.
    A customer's own call (inbound) is not one of our attempts: nothing is counted."""
    if attempt.direction == INBOUND:
        return
    ended = attempt.ended_at or attempt.created_at
    contact = session.get(Contact, attempt.contact_id)
    if contact is not None:
        contact.attempts += 1
        contact.last_attempt_at = ended
    phone = session.get(Phone, attempt.phone_id) if attempt.phone_id else None
    if phone is None or attempt.outcome is None:
        return
    phone.attempts += 1
    phone.last_attempt_at = ended
    phone.last_outcome = attempt.outcome.value
    update = after_attempt(strategy_of(session.get(Campaign, attempt.campaign_id)),
                           attempt.outcome, ended)
    phone.next_attempt_at = update.next_attempt_at
    if update.disabled_reason:
        phone.disabled_reason = update.disabled_reason


def default_hooks(block_days: int) -> Sequence[FinishHook]:
    """Phone bookkeeping, the cross-tenant block after a reach, and last the export sequence."""
    return (update_phone_and_contact, partial(_reached, block_days=block_days), assign_final_seq)


def _reached(session: Session, attempt: CallAttempt, block_days: int) -> None:
    record_reached(session, attempt, block_days)
