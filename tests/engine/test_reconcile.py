"""Reconciliation decisions (pure) and the switch survey against replayed real replies."""

from __future__ import annotations

from engine.store.models import AttemptState, Outcome
from engine.switch.reconcile import Adopt, Close, plan


def test_gone_channels_close_by_last_known_state() -> None:
    open_calls = {"p": AttemptState.PENDING, "d": AttemptState.DIALING,
                  "a": AttemptState.ANSWERED, "b": AttemptState.BRIDGED}
    assert plan(open_calls, alive=[], callstates={}) == [
        Close("p", Outcome.LOST), Close("d", Outcome.LOST),
        Close("a", Outcome.ABANDONED), Close("b", Outcome.ANSWERED)]


def test_live_channels_are_adopted_in_the_later_state() -> None:
    open_calls = {"d": AttemptState.DIALING, "p": AttemptState.PENDING,
                  "b": AttemptState.BRIDGED, "r": AttemptState.DIALING}
    callstates = {"d": "ACTIVE", "p": "RINGING", "b": "ACTIVE", "r": "EARLY"}
    assert plan(open_calls, alive=["d", "p", "b", "r"], callstates=callstates) == [
        Adopt("d", AttemptState.ANSWERED),  # answered while the engine was away
        Adopt("p", AttemptState.DIALING),  # the originate went out before the crash
        Adopt("b", AttemptState.BRIDGED),  # a bridge is not visible in the list: keep it
        Adopt("r", AttemptState.DIALING)]


def test_alive_but_not_yet_listed_keeps_its_state() -> None:
    # show channels lags events: uuid_exists said alive, the list does not have it yet
    assert plan({"x": AttemptState.DIALING}, alive=["x"], callstates={}) == [
        Adopt("x", AttemptState.DIALING)]
