"""Pure pacing for predictive campaigns, shared by the engine and the simulation benchmark.

Use::

    from engine.pacing import (AttemptOutcome, CallResult, GuardState, PacingEstimates,
                               PacingSettings, PacingSnapshot, decide_calls)

    settings = PacingSettings.from_dict(campaign.pacing)        # PacingSettingsError names the field
    estimates = PacingEstimates.from_settings(settings)          # cold start from the defaults
    guard = GuardState()                                         # or rebuilt from stored attempts

    # on every pacing tick (e.g. each second, and when an agent becomes ready):
    decision = decide_calls(snapshot, estimates, settings, guard, clock.now())
    log.info("pacing %s", decision.explain)                      # JSON-serialisable dict
    launch(decision.calls_to_launch)

    # as attempts progress (each call returns a NEW object; keep the latest one):
    estimates = estimates.observe_attempt(AttemptOutcome.HUMAN, ring_s)   # ringing phase ended
    estimates = estimates.observe_talk(talk_s)                            # conversation ended
    estimates = estimates.observe_wrap(wrap_s)                            # wrap-up ended
    guard = guard.record(at, CallResult.SERVED, settings, answer_to_bridge_s=0.4)
    guard = guard.record(at, CallResult.ABANDONED, settings, answer_to_bridge_s=2.0)
    guard = guard.record(at, CallResult.MACHINE, settings)
    # or both at once, from one finished attempt (engine.pacing.history):
    estimates, guard = learn(estimates, guard, FinishedAttempt(...), settings)

    # after a restart: the state learnt from the campaign's stored attempts, from the
    # window's per-bucket counts and the most recent attempts (or from a list of attempts)
    estimates, guard = restore(window_buckets, recent_attempts, recent_delays, settings, now)
    estimates, guard = rebuild(finished_attempts, settings, clock.now())

Every type here is a frozen dataclass; nothing reads the clock, the database or the network.
"""

from .decision import PacingDecision, PacingMode, decide_calls
from .estimates import AttemptOutcome, PacingEstimates
from .guard import AbandonCounts, CallResult, GuardBucket, GuardState
from .history import FinishedAttempt, learn, rebuild, restore
from .settings import EstimateDefaults, PacingSettings, PacingSettingsError
from .state import PacingSnapshot

__all__ = [
    "AbandonCounts",
    "AttemptOutcome",
    "CallResult",
    "EstimateDefaults",
    "FinishedAttempt",
    "GuardBucket",
    "GuardState",
    "PacingDecision",
    "PacingEstimates",
    "PacingMode",
    "PacingSettings",
    "PacingSettingsError",
    "PacingSnapshot",
    "decide_calls",
    "learn",
    "rebuild",
    "restore",
]
