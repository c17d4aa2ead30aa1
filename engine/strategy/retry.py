"""Retry rules: when a phone may be dialed again after an outcome, and when never again."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from engine.store.models import Outcome

from .config import StrategyConfig
from .facts import AttemptFact


@dataclass(frozen=True)
class PhoneUpdate:
    """What the engine writes to a phone after an attempt ends."""

    next_attempt_at: datetime | None
    disabled_reason: str | None


def after_attempt(config: StrategyConfig, outcome: Outcome, ended_at: datetime) -> PhoneUpdate:
    """The phone's next allowed time after ``outcome``; outcomes without a delay disable it."""
    delay = config.retry_delay(outcome)
    if delay is None:
        return PhoneUpdate(None, f"{outcome.value} (no retry)")
    return PhoneUpdate(ended_at + delay, None)


def last_attempt(history: Iterable[AttemptFact], number: str) -> AttemptFact | None:
    attempts = [a for a in history if a.number == number]
    return max(attempts, key=lambda a: a.created_at) if attempts else None


def ready_at(config: StrategyConfig, last: AttemptFact | None,
             next_attempt_at: datetime | None) -> datetime | None:
    """Earliest retry time from the stored ``next_attempt_at`` and the last attempt's outcome.

    None: no delay applies. A finished attempt whose outcome forbids retries is reported by the
    phone's disabled state, not here.
    """
    times = [next_attempt_at] if next_attempt_at else []
    if last is not None and last.outcome is not None:
        delay = config.retry_delay(last.outcome)
        if delay is not None:
            times.append((last.ended_at or last.created_at) + delay)
    return max(times) if times else None
