"""The queries that matter for dialing: the next dialable phones, and blocks after a reach.

``next_dialable`` narrows the campaign's contacts with indexed SQL (list, status, attempt caps,
retry time), loads the few facts the strategy needs for that page in a handful of set-based
queries, and keeps only what the pure ``engine.strategy.decide.decide`` allows.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, bindparam, exists, func, or_, select
from sqlalchemy.orm import Session

from engine.numbering.lookup import plan_zones
from engine.strategy.caps import HORIZON
from engine.strategy.config import StrategyConfig
from engine.strategy.decide import ContactDecision, decide
from engine.strategy.facts import (
    AttemptFact,
    CallbackFact,
    Circumstances,
    ContactFacts,
    PhoneFacts,
)

from .models import (
    INBOUND,
    CallAttempt,
    Callback,
    CallbackStatus,
    Campaign,
    Contact,
    ContactBlock,
    ContactList,
    DncEntry,
    LeadStatus,
    Outcome,
    Phone,
    PhoneType,
)

PAGE_FACTOR = 1.25  # candidates fetched per page, as a multiple of the wanted count
MIN_PAGE = 32
MAX_PAGES = 10  # pages scanned per call before returning what was found


@dataclass(frozen=True)
class DialCandidate:
    """A phone the strategy allows to dial now."""

    contact_id: int
    phone_id: int
    number: str
    is_callback: bool
    callback_id: int | None
    agent_id: int | None  # the agent reserved by the callback
    zones: tuple[str, ...]


def strategy_of(campaign: Campaign) -> StrategyConfig:
    return StrategyConfig.from_dict(campaign.strategy, default_timezone=campaign.timezone)


_contacts = Contact.__table__
_phones = Phone.__table__
_attempts = CallAttempt.__table__
_callbacks = Callback.__table__
_dnc = DncEntry.__table__
_blocks = ContactBlock.__table__


def _ids(name: str):  # type: ignore[no-untyped-def]
    return bindparam(name, expanding=True)


# Statements are built once; each call only binds values (expanding IN lists).
_FINALS = select(LeadStatus.__table__.c.code).where(
    LeadStatus.__table__.c.final.is_(True),
    or_(LeadStatus.__table__.c.tenant_id == bindparam("tenant"),
        LeadStatus.__table__.c.tenant_id.is_(None)))
_DUE_CALLBACKS = (
    select(_callbacks.c.contact_id)
    .where(_callbacks.c.campaign_id == bindparam("campaign"),
           _callbacks.c.status == CallbackStatus.PENDING.value,
           _callbacks.c.due_at <= bindparam("now"))
    .group_by(_callbacks.c.contact_id).order_by(func.min(_callbacks.c.due_at))
    .limit(bindparam("limit")))
_CANDIDATES = (
    select(_contacts.c.id)
    .where(_contacts.c.list_id.in_(
               select(ContactList.__table__.c.id)
               .where(ContactList.__table__.c.campaign_id == bindparam("campaign"))),
           _contacts.c.id > bindparam("after"),
           _contacts.c.attempts < bindparam("max_contact"),
           _contacts.c.status.not_in(_ids("finals")),
           exists().where(
               _phones.c.contact_id == _contacts.c.id, _phones.c.disabled_reason.is_(None),
               or_(_phones.c.next_attempt_at.is_(None),
                   _phones.c.next_attempt_at <= bindparam("now")),
               _phones.c.attempts < bindparam("max_phone"),
               ~exists().where(
                   _dnc.c.number == _phones.c.number,
                   or_(_dnc.c.tenant_id == bindparam("tenant"), _dnc.c.tenant_id.is_(None)),
                   or_(_dnc.c.expires_at.is_(None), _dnc.c.expires_at > bindparam("now"))),
               ~exists().where(
                   _blocks.c.number == _phones.c.number,
                   _blocks.c.blocked_until > bindparam("now"),
                   _blocks.c.owner_tenant_id != bindparam("tenant"))))
    .order_by(_contacts.c.id).limit(bindparam("page")))
_CONTACT_ROWS = select(
    _contacts.c.id, _contacts.c.tenant_id, _contacts.c.status, _contacts.c.attempts,
    _contacts.c.timezone, _contacts.c.region).where(_contacts.c.id.in_(_ids("ids")))
_PHONE_ROWS = select(
    _phones.c.contact_id, _phones.c.id, _phones.c.number, _phones.c.phone_type,
    _phones.c.priority, _phones.c.attempts, _phones.c.next_attempt_at,
    _phones.c.disabled_reason).where(_phones.c.contact_id.in_(_ids("ids")))
# The tenant is filtered in Python: given a tenant_id condition, SQLite prefers the
# tenant index (every row of a big tenant) over (number, created_at) (a handful per number).
_HISTORY = select(
    _attempts.c.number, _attempts.c.created_at, _attempts.c.outcome, _attempts.c.ended_at,
    _attempts.c.campaign_id, _attempts.c.contact_id, _attempts.c.tenant_id).where(
    _attempts.c.number.in_(_ids("numbers")), _attempts.c.created_at >= bindparam("since"),
    _attempts.c.direction != INBOUND)  # the customer's own calls are no calls made to them
_DNC = select(_dnc.c.number).where(
    _dnc.c.number.in_(_ids("numbers")),
    or_(_dnc.c.tenant_id == bindparam("tenant"), _dnc.c.tenant_id.is_(None)),
    or_(_dnc.c.expires_at.is_(None), _dnc.c.expires_at > bindparam("now")))
_BLOCKS = select(_blocks.c.number, func.max(_blocks.c.blocked_until)).where(
    _blocks.c.number.in_(_ids("numbers")), _blocks.c.owner_tenant_id != bindparam("tenant"),
    _blocks.c.blocked_until > bindparam("now")).group_by(_blocks.c.number)
_PENDING_CALLBACKS = select(
    _callbacks.c.contact_id, _callbacks.c.id, _callbacks.c.due_at, _callbacks.c.phone_id,
    _callbacks.c.agent_id).where(
    _callbacks.c.contact_id.in_(_ids("ids")), _callbacks.c.campaign_id == bindparam("campaign"),
    _callbacks.c.status == CallbackStatus.PENDING.value)


def final_statuses(session: Session, tenant_id: int) -> frozenset[str]:
    """Status codes after which a contact is never dialed (built-in and the tenant's own)."""
    return frozenset(session.connection().execute(_FINALS, {"tenant": tenant_id}).scalars())


def next_dialable(session: Session, campaign: Campaign, now: datetime, limit: int = 100,
                  config: StrategyConfig | None = None,
                  after_contact: int = 0) -> list[DialCandidate]:
    """Up to ``limit`` phones (one per contact) dialable at ``now``: due callbacks first.

    Regular contacts are scanned in id order from ``after_contact``: a runner that passes the
    greatest ``contact_id`` of its previous batch (and 0 again once a batch comes back short)
    walks the list like a hopper instead of re-reading contacts that are waiting for their
    window. SQL rules out what it can (list, final status, attempt caps, retry time, DNC,
    other tenants' blocks); ``decide`` rules on the rest, and is the gate either way.
    """
    config = config or strategy_of(campaign)
    conn = session.connection()
    finals = final_statuses(session, campaign.tenant_id)
    due = conn.execute(_DUE_CALLBACKS, {"campaign": campaign.id, "now": now, "limit": limit}
                       ).scalars().all()
    chosen = _dialable(load_decisions(session, campaign, due, now, config, finals), limit)
    seen = set(due)
    after = after_contact
    for _ in range(MAX_PAGES):
        if len(chosen) >= limit:
            break
        page = conn.execute(_CANDIDATES, {
            "campaign": campaign.id, "tenant": campaign.tenant_id, "after": after, "now": now,
            "finals": sorted(finals),
            "max_contact": config.max_attempts_per_contact,
            "max_phone": config.max_attempts_per_phone,
            "page": max(math.ceil((limit - len(chosen)) * PAGE_FACTOR), MIN_PAGE)}).scalars().all()
        if not page:
            break
        after = page[-1]
        fresh = [contact_id for contact_id in page if contact_id not in seen]
        decisions = load_decisions(session, campaign, fresh, now, config, finals)
        chosen += _dialable(decisions, limit - len(chosen))
    return chosen


def _dialable(decisions: list[ContactDecision], room: int) -> list[DialCandidate]:
    out: list[DialCandidate] = []
    for decision in decisions:
        phone = decision.chosen
        if phone is None or len(out) >= room:
            continue
        callback = phone.callback
        out.append(DialCandidate(
            decision.contact.id, phone.phone.id, phone.phone.number, callback is not None,
            callback.id if callback else None, callback.agent_id if callback else None,
            phone.zones.names))
    return out


def load_decisions(session: Session, campaign: Campaign, contact_ids: Sequence[int],
                   now: datetime, config: StrategyConfig,
                   finals: frozenset[str] | None = None) -> list[ContactDecision]:
    """Decide each contact (in the given order), loading its facts set-wise."""
    if not contact_ids:
        return []
    if finals is None:
        finals = final_statuses(session, campaign.tenant_id)
    conn = session.connection()
    ids = {"ids": list(contact_ids)}
    contacts = {row.id: row for row in conn.execute(_CONTACT_ROWS, ids)}
    phones: dict[int, list[PhoneFacts]] = defaultdict(list)
    phone_rows = conn.execute(_PHONE_ROWS, ids).all()
    unlocated = {row.number for row in phone_rows if not contacts[row.contact_id].timezone}
    plans = plan_zones(session, unlocated)
    for row in phone_rows:
        phones[row.contact_id].append(PhoneFacts(
            id=row.id, number=row.number, phone_type=PhoneType(row.phone_type),
            priority=row.priority, attempts=row.attempts, next_attempt_at=row.next_attempt_at,
            disabled_reason=row.disabled_reason, plan_zones=plans.get(row.number)))
    around = _circumstances(conn, campaign, ids["ids"], {r.number for r in phone_rows}, now)
    decisions = []
    for contact_id in contact_ids:
        row = contacts.get(contact_id)
        if row is None:
            continue
        facts = ContactFacts(
            id=row.id, tenant_id=row.tenant_id, status=row.status, final=row.status in finals,
            attempts=row.attempts, timezone=row.timezone, region=row.region,
            phones=tuple(phones[contact_id]))
        decisions.append(decide(facts, config, now, around(facts)))
    return decisions


def _circumstances(conn: Connection, campaign: Campaign, contact_ids: list[int],
                   numbers: set[str], now: datetime) -> Callable[[ContactFacts], Circumstances]:
    """History, DNC, blocks and callbacks of all the numbers at once, as a per-contact view."""
    tenant = {"tenant": campaign.tenant_id, "now": now, "numbers": sorted(numbers)}
    history: dict[str, list[AttemptFact]] = defaultdict(list)
    dnc: set[str] = set()
    blocks: dict[str, datetime] = {}
    if numbers:
        for row in conn.execute(_HISTORY, {**tenant, "since": now - HORIZON}):
            if row.tenant_id != campaign.tenant_id:
                continue
            history[row.number].append(AttemptFact(
                row.number, row.created_at, Outcome(row.outcome) if row.outcome else None,
                row.ended_at, row.campaign_id, row.contact_id))
        dnc.update(conn.execute(_DNC, tenant).scalars())
        blocks.update(conn.execute(_BLOCKS, tenant).all())
    callbacks: dict[int, list[CallbackFact]] = defaultdict(list)
    for row in conn.execute(_PENDING_CALLBACKS, {"ids": contact_ids, "campaign": campaign.id}):
        callbacks[row.contact_id].append(CallbackFact(*row[1:]))

    def around(contact: ContactFacts) -> Circumstances:
        own = {phone.number for phone in contact.phones}
        return Circumstances(
            history=tuple(a for number in own for a in history.get(number, ())),
            dnc=frozenset(own & dnc),
            blocks={number: blocks[number] for number in own if number in blocks},
            callbacks=tuple(callbacks.get(contact.id, ())))

    return around


def record_reached(session: Session, attempt: CallAttempt, block_days: int) -> ContactBlock | None:
    """Block the attempt's number for other tenants for ``block_days`` after a human answered.

    Idempotent: the attempt's own block is returned as is, and an active block of the same
    tenant on the number is extended rather than duplicated. None if the attempt did not reach
    anyone.
    """
    if attempt.outcome is not Outcome.ANSWERED:
        return None
    reached_at = attempt.answered_at or attempt.ended_at or attempt.created_at
    until = reached_at + timedelta(days=block_days)
    block = session.scalars(select(ContactBlock).where(
        ContactBlock.number == attempt.number, ContactBlock.owner_tenant_id == attempt.tenant_id,
        or_(ContactBlock.attempt_id == attempt.id, ContactBlock.blocked_until >= reached_at))
        .order_by(ContactBlock.blocked_until.desc()).limit(1)).first()
    if block is None:
        block = ContactBlock(number=attempt.number, owner_tenant_id=attempt.tenant_id,
                             blocked_until=until, attempt_id=attempt.id, created_at=reached_at)
        session.add(block)
    elif block.attempt_id != attempt.id and block.blocked_until < until:
        block.blocked_until = until
        block.attempt_id = attempt.id
    session.flush()
    return block
