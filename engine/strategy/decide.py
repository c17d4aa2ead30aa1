"""The core rule: may this contact be dialed now, on which phone, and if not, why and when.

``decide`` is the single gate every dial passes (the daemon, the simulator and ``dialer
explain`` all call it): it never returns a dialable phone outside its calling window in any of
the callee's candidate zones, on a DNC list, blocked by another tenant, or over a frequency cap.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import cached_property

from .caps import CapUse, cap_use
from .config import StrategyConfig
from .facts import AttemptFact, CallbackFact, Circumstances, ContactFacts, PhoneFacts
from .retry import last_attempt, ready_at
from .windows import LAST_CALL_GUARD, closed_zones, next_open
from .zones import Zones, contact_zones, number_zones


class Reason(StrEnum):
    FINAL_STATUS = "final_status"
    CONTACT_ATTEMPTS = "contact_attempts"
    IN_PROGRESS = "in_progress"
    CALLBACK_PENDING = "callback_pending"
    DISABLED = "disabled"
    PHONE_ATTEMPTS = "phone_attempts"
    DNC = "dnc"
    BLOCKED = "blocked"
    RETRY_DELAY = "retry_delay"
    CAP = "cap"
    OUTSIDE_WINDOW = "outside_window"


@dataclass(frozen=True)
class Blocker:
    reason: Reason
    detail: str
    # None: lasts until something else changes (status, list, counter); for OUTSIDE_WINDOW
    # the opening is the phone's next_time.
    until: datetime | None


@dataclass(frozen=True)
class PhoneDecision:
    phone: PhoneFacts
    zones: Zones
    blockers: tuple[Blocker, ...]
    callback: CallbackFact | None  # the due callback this call would serve
    now: datetime
    config: StrategyConfig = field(repr=False, compare=False)

    @property
    def dialable(self) -> bool:
        return not self.blockers

    @cached_property
    def next_time(self) -> datetime | None:
        """Now when dialable; else the earliest time every blocker may have lifted and the
        window is open; None when no such time is in sight. Computed on demand (a batch only
        needs the dialable phones)."""
        if not self.blockers:
            return self.now
        lifts = [b.until for b in self.blockers if b.reason is not Reason.OUTSIDE_WINDOW]
        if None in lifts:
            return None
        start = max((until for until in lifts if until is not None), default=self.now)
        if any(b.reason is Reason.OUTSIDE_WINDOW for b in self.blockers):
            start = max(start, self.now + LAST_CALL_GUARD)  # past a window's closing minute
        return next_open(self.config, self.zones.names, max(start, self.now))

    @property
    def is_callback(self) -> bool:
        return self.callback is not None


@dataclass(frozen=True)
class ContactDecision:
    contact: ContactFacts
    now: datetime
    phones: tuple[PhoneDecision, ...]  # in dialing order
    caps: tuple[CapUse, ...]

    @property
    def chosen(self) -> PhoneDecision | None:
        """The phone to dial now: the first dialable one in order."""
        return next((phone for phone in self.phones if phone.dialable), None)

    @property
    def dialable(self) -> bool:
        return self.chosen is not None

    @property
    def next_time(self) -> datetime | None:
        times = [p.next_time for p in self.phones if p.next_time is not None]
        return min(times) if times else None


def decide(contact: ContactFacts, config: StrategyConfig, now: datetime,
           around: Circumstances = Circumstances()) -> ContactDecision:
    """Decide every phone of ``contact`` at ``now`` (aware UTC).

    A due callback puts its phone (or, without one, the contact's first phone) first, lifts
    the attempt budgets and retry delays for it, but never the window, DNC, blocks or caps.
    """
    own = {p.id: number_zones(p.number, p.plan_zones, config.default_timezone)
           for p in contact.phones}
    shared = contact_zones(contact.timezone, contact.region, own.values())
    due = sorted((c for c in around.callbacks if c.due_at <= now), key=lambda c: c.due_at)
    callback = due[0] if due else None
    history = tuple(a for a in around.history if a.created_at <= now)
    all_zones = sorted({name for p in contact.phones for name in (shared or own[p.id]).names})
    caps = cap_use(config.caps, all_zones, history, now) if config.caps.any and all_zones else ()
    contact_blockers = _contact_blockers(contact, config, around, history, callback, now)
    decisions = []
    for phone in _ordered(contact.phones, config, callback):
        zones = shared or own[phone.id]
        serves = callback if callback and callback.phone_id in (None, phone.id) else None
        blockers = (*contact_blockers,
                    *_phone_blockers(phone, config, around, history, serves, now),
                    *_cap_blockers(caps),
                    *_window_blockers(config, zones, now))
        decisions.append(PhoneDecision(phone, zones, blockers, serves, now, config))
    return ContactDecision(contact, now, tuple(decisions), caps)


def _ordered(phones: tuple[PhoneFacts, ...], config: StrategyConfig,
             callback: CallbackFact | None) -> list[PhoneFacts]:
    """Callback's phone first, then by the campaign's type order, then priority."""
    return sorted(phones, key=lambda p: (
        not (callback is not None and callback.phone_id == p.id),
        config.phone_rank(p.phone_type), p.priority, p.id))


def _spent(reason: Reason, used: int, limit: int, per: str) -> Blocker:
    """Attempt budgets are spent for good (a callback alone may still use the contact)."""
    return Blocker(reason, f"{used} of {limit} attempts per {per} used", None)


def _contact_blockers(contact: ContactFacts, config: StrategyConfig, around: Circumstances,
                      history: tuple[AttemptFact, ...], callback: CallbackFact | None,
                      now: datetime) -> list[Blocker]:
    blockers = []
    if contact.final:
        blockers.append(Blocker(Reason.FINAL_STATUS, f"status {contact.status!r} is final", None))
    if callback is None and contact.attempts >= config.max_attempts_per_contact:
        blockers.append(_spent(Reason.CONTACT_ATTEMPTS, contact.attempts,
                               config.max_attempts_per_contact, "contact"))
    if any(a.outcome is None for a in history):
        blockers.append(Blocker(Reason.IN_PROGRESS, "a call to this contact is in progress",
                                None))
    upcoming = [c for c in around.callbacks if c.due_at > now]
    if callback is None and upcoming:
        first = min(upcoming, key=lambda c: c.due_at)
        blockers.append(Blocker(Reason.CALLBACK_PENDING,
                                f"callback #{first.id} is scheduled", first.due_at))
    return blockers


def _phone_blockers(phone: PhoneFacts, config: StrategyConfig, around: Circumstances,
                    history: tuple[AttemptFact, ...], callback: CallbackFact | None,
                    now: datetime) -> list[Blocker]:
    blockers = []
    if phone.disabled_reason:
        blockers.append(Blocker(Reason.DISABLED, f"phone disabled: {phone.disabled_reason}", None))
    if callback is None and phone.attempts >= config.max_attempts_per_phone:
        blockers.append(_spent(Reason.PHONE_ATTEMPTS, phone.attempts,
                               config.max_attempts_per_phone, "phone"))
    if phone.number in around.dnc:
        blockers.append(Blocker(Reason.DNC, "number is on a do-not-call list", None))
    blocked_until = around.blocks.get(phone.number)
    if blocked_until is not None and blocked_until > now:
        blockers.append(Blocker(Reason.BLOCKED, "reached recently for another tenant",
                                blocked_until))
    last = last_attempt(history, phone.number)
    ready = ready_at(config, last, phone.next_attempt_at)
    if callback is None and ready is not None and ready > now:
        outcome = last.outcome.value if last is not None and last.outcome else "scheduled"
        blockers.append(Blocker(Reason.RETRY_DELAY, f"retry delay after {outcome}", ready))
    return blockers


def _cap_blockers(caps: tuple[CapUse, ...]) -> list[Blocker]:
    return [Blocker(Reason.CAP, f"{use.used} of {use.limit} calls this {use.period}",
                    use.resets_at) for use in caps if use.exhausted]


def _window_blockers(config: StrategyConfig, zones: Zones, now: datetime) -> list[Blocker]:
    """The window's end is not computed here: ``PhoneDecision.next_time`` finds the opening."""
    closed = closed_zones(config, zones.names, now)
    state = "closed"
    if not closed:
        closed = closed_zones(config, zones.names, now + LAST_CALL_GUARD)
        state = "closing within a minute"
    if not closed:
        return []
    more = f" and {len(closed) - 3} more zones" if len(closed) > 3 else ""
    named = ", ".join(closed[:3]) + more
    return [Blocker(Reason.OUTSIDE_WINDOW, f"calling window {state} in {named}", None)]
