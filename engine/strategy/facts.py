"""Plain data the strategy decides on: a contact with its phones and what happened around it.

The database side (``engine.store.queries``) builds these; tests and simulations build them
directly. All datetimes are aware UTC.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from engine.store.models import Outcome, PhoneType


@dataclass(frozen=True)
class PhoneFacts:
    id: int
    number: str  # E.164
    phone_type: PhoneType = PhoneType.MOBILE
    priority: int = 0
    attempts: int = 0
    next_attempt_at: datetime | None = None
    disabled_reason: str | None = None
    plan_zones: tuple[str, ...] | None = None  # from the numbering-plan registry, if loaded


@dataclass(frozen=True)
class ContactFacts:
    id: int
    tenant_id: int
    phones: tuple[PhoneFacts, ...]
    status: str = "new"
    final: bool = False  # the status is a final one: never dial again
    attempts: int = 0
    timezone: str | None = None
    region: str | None = None


@dataclass(frozen=True)
class AttemptFact:
    """A past (or running) attempt of the same tenant to one of the contact's numbers."""

    number: str
    created_at: datetime
    outcome: Outcome | None = None  # None: the call is still in progress
    ended_at: datetime | None = None
    campaign_id: int | None = None
    contact_id: int | None = None


@dataclass(frozen=True)
class CallbackFact:
    id: int
    due_at: datetime
    phone_id: int | None = None  # None: any phone of the contact
    agent_id: int | None = None  # the agent reserved for it


@dataclass(frozen=True)
class Circumstances:
    """Everything around a contact that can forbid or delay a call."""

    history: tuple[AttemptFact, ...] = ()
    dnc: frozenset[str] = frozenset()  # numbers on the tenant's or the global DNC list
    blocks: Mapping[str, datetime] = field(default_factory=dict)  # number -> blocked until
    callbacks: tuple[CallbackFact, ...] = ()  # pending callbacks of this campaign
