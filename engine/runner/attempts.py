"""Attempt rows: written PENDING before the originate, then kept equal to the call's state."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from engine.calls import Call
from engine.store.models import (
    INBOUND,
    AttemptState,
    CallAttempt,
    Callback,
    CallbackStatus,
    Campaign,
    Contact,
    Phone,
)

# Run in the transaction that ends an attempt (final export sequence, reach blocks...).
FinishHook = Callable[[Session, CallAttempt], None]


class Dialable(Protocol):
    """One number to dial, as the strategy hands it out."""

    contact_id: int
    phone_id: int | None
    number: str
    is_callback: bool
    agent_id: int | None  # the agent a callback is reserved for
    callback_id: int | None


@dataclass(frozen=True)
class NewAttempt:
    """One attempt about to be dialed: the number, its agent (if any), node and call uuid."""

    item: Dialable
    agent_id: int | None
    node: str
    call_uuid: str


def create_pending(session: Session, campaign: Campaign, attempts: Sequence[NewAttempt], *,
                   mode: str, engine: str, now: datetime) -> list[CallAttempt | None]:
    """Insert the attempts (state pending) of engine ``engine`` (its node_id) in one flush;
    the callbacks they serve are marked done with them. A contact deleted since it was
    fetched gets None, the others their row."""
    wanted = {new.item.contact_id for new in attempts}
    existing = set(session.scalars(select(Contact.id).where(Contact.id.in_(wanted))))
    rows = [CallAttempt(
        tenant_id=campaign.tenant_id, campaign_id=campaign.id, contact_id=new.item.contact_id,
        phone_id=new.item.phone_id, number=new.item.number, agent_id=new.agent_id,
        callback_id=new.item.callback_id if new.item.is_callback else None, mode=mode,
        node=new.node, engine=engine, call_uuid=new.call_uuid, state=AttemptState.PENDING,
        created_at=now, result={}) if new.item.contact_id in existing else None
        for new in attempts]
    session.add_all(row for row in rows if row is not None)
    served = [row.callback_id for row in rows if row is not None and row.callback_id is not None]
    if served:
        session.execute(update(Callback).where(Callback.id.in_(served))
                        .values(status=CallbackStatus.DONE, done_at=now)
                        .execution_options(synchronize_session=False))
    session.flush()
    return rows


def disable_phones(session: Session, reasons: Mapping[int, str]) -> None:
    """Phones that cannot be dialed (by phone id), each with its reason."""
    for phone_id, reason in reasons.items():
        session.execute(update(Phone).where(Phone.id == phone_id)
                        .values(disabled_reason=reason[:120]))


def create_inbound(session: Session, campaign: Campaign, *, contact_id: int,
                   phone_id: int | None, number: str, node: str, engine: str, call_uuid: str,
                   now: datetime) -> CallAttempt:
    """Insert the attempt of a customer who called the campaign back (answered, parked),
    taken by engine ``engine``."""
    attempt = CallAttempt(
        tenant_id=campaign.tenant_id, campaign_id=campaign.id, contact_id=contact_id,
        phone_id=phone_id, number=number, mode=campaign.mode.value, direction=INBOUND,
        node=node, engine=engine, call_uuid=call_uuid, state=AttemptState.ANSWERED, created_at=now,
        answered_at=now, result={})
    session.add(attempt)
    session.flush()
    return attempt


def save_call(session: Session, call: Call, finish_hooks: Sequence[FinishHook] = ()) -> CallAttempt:
    """Copy the call's state onto its attempt row; run the finish hooks once when it ends."""
    attempt = session.get(CallAttempt, call.attempt_id)
    if attempt is None:
        raise LookupError(f"attempt {call.attempt_id} of call {call.uuid} does not exist")
    was_ended = attempt.state is AttemptState.ENDED
    attempt.state = call.state.attempt_state
    attempt.agent_id = call.agent_id
    for name in _COPIED:
        value = getattr(call, name)
        if value is not None:
            setattr(attempt, name, value)
    if call.result:
        attempt.result = {**(attempt.result or {}), **call.result}
    session.flush()
    if attempt.state is AttemptState.ENDED and not was_ended:
        for hook in finish_hooks:
            hook(session, attempt)
    return attempt


_COPIED = ("originated_at", "answered_at", "bridged_at", "ended_at", "hangup_cause", "sip_code",
           "outcome", "dead_air_ms", "recording_path")


def save_calls(session: Session, calls: Sequence[Call],
               finish_hooks: Sequence[FinishHook] = ()) -> None:
    """Save many calls: live ones by one bulk UPDATE, ended ones through ``save_call``."""
    live = [call for call in calls if call.is_live]
    if live:
        session.execute(update(CallAttempt), [
            {"id": call.attempt_id, "state": call.state.attempt_state, "agent_id": call.agent_id,
             **({"result": call.result} if call.result else {}),
             **{name: getattr(call, name) for name in _COPIED if getattr(call, name) is not None}}
            for call in live])
    for call in calls:
        if not call.is_live:
            save_call(session, call, finish_hooks)


def open_attempts(session: Session, node: str, engine: str) -> list[CallAttempt]:
    """Engine ``engine``'s attempts on switch ``node`` that have not ended (the candidates
    for its reconciliation: another engine's calls are that engine's to follow)."""
    return list(session.scalars(
        select(CallAttempt)
        .where(CallAttempt.node == node, CallAttempt.engine == engine,
               CallAttempt.state != AttemptState.ENDED)
        .order_by(CallAttempt.id)
    ))


def open_elsewhere(session: Session, node: str, engine: str) -> dict[str, int]:
    """Open attempts on switch ``node`` per other engine (node_id), for a log line."""
    return dict(session.execute(  # type: ignore[arg-type]
        select(CallAttempt.engine, func.count())
        .where(CallAttempt.node == node, CallAttempt.engine != engine,
               CallAttempt.state != AttemptState.ENDED)
        .group_by(CallAttempt.engine)).all())
