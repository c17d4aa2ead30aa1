"""The state machine of one customer call (one CallAttempt).

``pending -> dialing -> ringing -> answered -> bridged -> ended``; any state may
end. Each switch event is handled by a small ``on_<event_name>`` method; the
machine records times and the hangup, and tells its observer (the campaign
runner) about every step. It does no I/O itself.
"""

from __future__ import annotations

import copy
import enum
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from engine.clock import Clock
from engine.store.models import AttemptState, Outcome
from engine.switch.causes import cause_from_job_result, outcome_for
from engine.switch.event import Event

log = logging.getLogger(__name__)


class CallState(enum.StrEnum):
    PENDING = "pending"
    DIALING = "dialing"
    RINGING = "ringing"
    ANSWERED = "answered"
    BRIDGED = "bridged"
    ENDED = "ended"

    @property
    def attempt_state(self) -> AttemptState:
        """How the state is stored (the attempt table has no separate ringing state)."""
        return AttemptState.DIALING if self is CallState.RINGING else AttemptState(self.value)


TRANSITIONS: dict[CallState, frozenset[CallState]] = {
    CallState.PENDING: frozenset({CallState.DIALING, CallState.ENDED}),
    CallState.DIALING: frozenset({CallState.RINGING, CallState.ANSWERED, CallState.ENDED}),
    CallState.RINGING: frozenset({CallState.ANSWERED, CallState.ENDED}),
    CallState.ANSWERED: frozenset({CallState.BRIDGED, CallState.ENDED}),
    CallState.BRIDGED: frozenset({CallState.ENDED}),
    CallState.ENDED: frozenset(),
}


class CallObserver(Protocol):
    """What the owner of a call hears; each method is called once per step."""

    def call_changed(self, call: Call) -> None: ...  # any recorded change (persist it)

    def call_early_media(self, call: Call) -> None: ...  # rings with audio (183)

    def call_answered(self, call: Call) -> None: ...

    def call_bridged(self, call: Call) -> None: ...

    def call_ended(self, call: Call) -> None: ...

    def call_dtmf(self, call: Call, digit: str) -> None: ...

    def call_app_done(self, call: Call, application: str) -> None: ...  # e.g. a playback ended


@dataclass(eq=False)
class Call:
    """One customer leg, identified by the ``origination_uuid`` the engine chose."""

    attempt_id: int
    uuid: str
    node: str
    campaign_id: int
    clock: Clock
    observer: CallObserver
    agent_id: int | None = None
    contact_id: int | None = None
    state: CallState = CallState.PENDING
    originated_at: datetime | None = None
    answered_at: datetime | None = None
    bridged_at: datetime | None = None
    ended_at: datetime | None = None
    hangup_cause: str | None = None
    sip_code: int | None = None
    outcome: Outcome | None = None
    agent_leg: str | None = None
    dead_air_ms: int | None = None
    recording_path: str | None = None
    digits: list[str] = field(default_factory=list)
    result: dict[str, Any] = field(default_factory=dict)  # IVR choices and the like
    # Set by the owner before the hangup when it knows better than the cause table
    # (ABANDONED: nobody came; MACHINE: AMD; CANCELLED: the dialer withdrew it).
    outcome_override: Outcome | None = None
    _answered_mono: float | None = None

    # --- transitions ----------------------------------------------------------------------

    def _move(self, new: CallState) -> bool:
        if new not in TRANSITIONS[self.state]:
            log.debug("call %s: ignoring %s -> %s", self.uuid, self.state, new)
            return False
        self.state = new
        return True

    def dialing(self) -> None:
        """The originate is about to be sent."""
        if self._move(CallState.DIALING):
            self.originated_at = self.clock.now()
            self.observer.call_changed(self)

    def answered(self) -> None:
        if self._move(CallState.ANSWERED):
            self.answered_at = self.clock.now()
            self._answered_mono = self.clock.monotonic()
            self.observer.call_answered(self)  # act first (bridge): the customer is waiting
            self.observer.call_changed(self)

    def bridged(self, agent_leg: str | None) -> None:
        if self._move(CallState.BRIDGED):
            self.bridged_at = self.clock.now()
            self.agent_leg = agent_leg
            if self._answered_mono is not None:
                self.dead_air_ms = round((self.clock.monotonic() - self._answered_mono) * 1000)
            self.observer.call_changed(self)
            self.observer.call_bridged(self)

    def found_bridged(self, agent_leg: str) -> None:
        """Reconciliation found the leg bridged: record it; the owner has nothing to do.

        The answer time, when it was missed, is when the engine learnt of it; dead air
        is then unknown."""
        if self.state in (CallState.DIALING, CallState.RINGING) and self._move(CallState.ANSWERED):
            self.answered_at = self.clock.now()
        self.bridged(agent_leg)

    def end(self, cause: str | None, sip_code: int | None = None,
            outcome: Outcome | None = None) -> None:
        """The leg is gone; the outcome comes from ``outcome``, the override, or the cause."""
        was_answered = self.answered_at is not None
        if not self._move(CallState.ENDED):
            return
        self.ended_at = self.clock.now()
        self.hangup_cause = cause
        self.sip_code = sip_code
        self.outcome = (outcome or self.outcome_override
                        or outcome_for(cause, sip_code, was_answered))
        self.observer.call_changed(self)
        self.observer.call_ended(self)

    def job_result(self, body: str) -> None:
        """The originate's BACKGROUND_JOB: an ``-ERR`` before any hangup event ends the call."""
        cause = cause_from_job_result(body)
        if cause is not None and self.state is not CallState.ENDED:
            self.end(cause)

    @property
    def is_live(self) -> bool:
        return self.state is not CallState.ENDED

    def snapshot(self) -> Call:
        """A copy for another thread to write: later steps of this call do not show in it."""
        frozen = copy.copy(self)
        frozen.result = copy.deepcopy(self.result)
        frozen.digits = list(self.digits)
        return frozen

    # --- events ---------------------------------------------------------------------------

    def handle(self, event: Event) -> None:
        handler = getattr(self, "on_" + event.name.lower(), None)
        if handler is not None:
            handler(event)

    def on_channel_progress(self, event: Event) -> None:
        self._move(CallState.RINGING)  # stored as dialing: nothing to write

    def on_channel_progress_media(self, event: Event) -> None:
        self._move(CallState.RINGING)
        self.observer.call_early_media(self)

    def on_channel_answer(self, event: Event) -> None:
        self.answered()

    def on_channel_bridge(self, event: Event) -> None:
        self.bridged(event.other_leg)

    def on_channel_hangup(self, event: Event) -> None:
        self.end(event.hangup_cause, event.sip_code)

    def on_channel_execute_complete(self, event: Event) -> None:
        application = event.get("Application")
        if application and self.state in (CallState.ANSWERED, CallState.BRIDGED):
            self.observer.call_app_done(self, application)

    def on_dtmf(self, event: Event) -> None:
        digit = event.get("DTMF-Digit")
        if digit and self.is_live:
            self.digits.append(digit)
            self.observer.call_dtmf(self, digit)
