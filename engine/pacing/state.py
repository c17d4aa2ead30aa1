"""PacingSnapshot: the live state of one campaign at the moment of a pacing decision.

Only elapsed times, never wall-clock timestamps, so the decision needs no clock.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PacingSnapshot:
    """Agents and calls of one campaign, each as seconds spent in its current state."""

    ready_for_s: tuple[float, ...] = ()  # ready agents: how long each has been ready
    talking_for_s: tuple[float, ...] = ()  # agents on a call: elapsed talk time
    wrapping_for_s: tuple[float, ...] = ()  # agents in wrap-up: elapsed wrap-up time
    ringing_for_s: tuple[float, ...] = ()  # launched calls not yet answered: elapsed ring
    waiting_for_s: tuple[float, ...] = ()  # live answers waiting for an agent: since answer

    def __post_init__(self) -> None:
        for name in ("ready_for_s", "talking_for_s", "wrapping_for_s", "ringing_for_s",
                     "waiting_for_s"):
            values = tuple(float(v) for v in getattr(self, name))
            if any(not v >= 0 for v in values):
                raise ValueError(f"PacingSnapshot.{name}: elapsed times must be >= 0")
            object.__setattr__(self, name, values)

    @property
    def agents_logged_in(self) -> int:
        return len(self.ready_for_s) + len(self.talking_for_s) + len(self.wrapping_for_s)

    @property
    def calls_in_flight(self) -> int:
        """Calls that may still need an agent: ringing plus answered and waiting."""
        return len(self.ringing_for_s) + len(self.waiting_for_s)

    @property
    def progressive_safe_calls(self) -> int:
        """Calls that can be launched with a ready agent certain for every one of them."""
        return max(0, len(self.ready_for_s) - self.calls_in_flight)
