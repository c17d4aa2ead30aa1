"""Hangup cause and SIP code -> outcome."""

from __future__ import annotations

import pytest

from engine.store.models import Outcome
from engine.switch.causes import CAUSE_OUTCOMES, cause_from_job_result, outcome_for

from .transcripts import events


@pytest.mark.parametrize(("fixture", "expected"), [
    ("busy.txt", Outcome.BUSY),
    ("no_answer_timeout.txt", Outcome.NO_ANSWER),
    ("unreachable.txt", Outcome.NETWORK_FAILURE),
])
def test_real_hangups(fixture: str, expected: Outcome) -> None:
    hangup = next(e for e in events(fixture) if e.name == "CHANNEL_HANGUP")
    assert outcome_for(hangup.hangup_cause, hangup.sip_code, answered=False) is expected


@pytest.mark.parametrize(("cause", "sip", "expected"), [
    ("CALL_REJECTED", 603, Outcome.REJECTED),
    ("UNALLOCATED_NUMBER", 404, Outcome.INVALID_NUMBER),
    ("NO_ROUTE_DESTINATION", None, Outcome.INVALID_NUMBER),
    ("ORIGINATOR_CANCEL", 487, Outcome.CANCELLED),
    ("NORMAL_CLEARING", 486, Outcome.BUSY),  # generic cause: the SIP code decides
    ("NORMAL_UNSPECIFIED", 484, Outcome.INVALID_NUMBER),
    ("INTERWORKING", 488, Outcome.REJECTED),  # 4xx class
    ("INTERWORKING", 502, Outcome.NETWORK_FAILURE),  # 5xx class
    (None, None, Outcome.NETWORK_FAILURE),
    ("SOMETHING_NEW", None, Outcome.NETWORK_FAILURE),
])
def test_cause_table(cause: str | None, sip: int | None, expected: Outcome) -> None:
    assert outcome_for(cause, sip, answered=False) is expected


def test_answered_leg_is_answered_whatever_the_cause() -> None:
    assert outcome_for("NORMAL_CLEARING", 200, answered=True) is Outcome.ANSWERED
    assert outcome_for("USER_BUSY", None, answered=True) is Outcome.ANSWERED


def test_table_only_maps_to_outcomes_a_retry_rule_knows() -> None:
    assert set(CAUSE_OUTCOMES.values()) <= set(Outcome)
    assert Outcome.ANSWERED not in CAUSE_OUTCOMES.values()


def test_job_result() -> None:
    assert cause_from_job_result("-ERR USER_BUSY\n") == "USER_BUSY"
    assert cause_from_job_result("-ERR\n") == "UNKNOWN"
    assert cause_from_job_result("+OK 0aa39ba9") is None
