"""Hangup cause and SIP status -> attempt outcome, table-driven.

Order of decisions (see docs/engine.md, "Outcomes"):

1. A leg that was answered is ``ANSWERED`` here; the call logic refines it to
   ``ABANDONED`` or ``MACHINE`` when no agent came or AMD said machine.
2. A hangup the dialer itself caused before an answer (``ORIGINATOR_CANCEL``,
   ``MANAGER_REQUEST``, ``LOSE_RACE``) is ``CANCELLED``.
3. A specific Q.850 cause decides by ``CAUSE_OUTCOMES``.
4. A generic cause (``NORMAL_CLEARING`` without an answer, ``NORMAL_UNSPECIFIED``,
   ``INTERWORKING``, unknown ones) falls back to the SIP status by ``SIP_OUTCOMES``
   (exact code first, then its class: 4xx rejected, 5xx network, 6xx rejected).
5. Nothing known: ``NETWORK_FAILURE`` (retryable, and it shows up in reports).
"""

from __future__ import annotations

from types import MappingProxyType

from engine.store.models import Outcome

CAUSE_OUTCOMES = MappingProxyType({
    "USER_BUSY": Outcome.BUSY,
    "NO_ANSWER": Outcome.NO_ANSWER,
    "NO_USER_RESPONSE": Outcome.NO_ANSWER,
    "ALLOTTED_TIMEOUT": Outcome.NO_ANSWER,
    "PROGRESS_TIMEOUT": Outcome.NO_ANSWER,
    "SUBSCRIBER_ABSENT": Outcome.NO_ANSWER,
    "CALL_REJECTED": Outcome.REJECTED,
    "FACILITY_REJECTED": Outcome.REJECTED,
    "OUTGOING_CALL_BARRED": Outcome.REJECTED,
    "INCOMING_CALL_BARRED": Outcome.REJECTED,
    "UNALLOCATED_NUMBER": Outcome.INVALID_NUMBER,
    "NO_ROUTE_DESTINATION": Outcome.INVALID_NUMBER,
    "NUMBER_CHANGED": Outcome.INVALID_NUMBER,
    "INVALID_NUMBER_FORMAT": Outcome.INVALID_NUMBER,
    "INCOMPATIBLE_DESTINATION": Outcome.INVALID_NUMBER,
    "NORMAL_TEMPORARY_FAILURE": Outcome.NETWORK_FAILURE,
    "NETWORK_OUT_OF_ORDER": Outcome.NETWORK_FAILURE,
    "DESTINATION_OUT_OF_ORDER": Outcome.NETWORK_FAILURE,
    "NORMAL_CIRCUIT_CONGESTION": Outcome.NETWORK_FAILURE,
    "SWITCH_CONGESTION": Outcome.NETWORK_FAILURE,
    "SERVICE_UNAVAILABLE": Outcome.NETWORK_FAILURE,
    "RECOVERY_ON_TIMER_EXPIRE": Outcome.NETWORK_FAILURE,
    "GATEWAY_DOWN": Outcome.NETWORK_FAILURE,
    "INVALID_GATEWAY": Outcome.NETWORK_FAILURE,
    "CHAN_NOT_IMPLEMENTED": Outcome.NETWORK_FAILURE,
    "MEDIA_TIMEOUT": Outcome.NETWORK_FAILURE,
    "BEARERCAPABILITY_NOTAVAIL": Outcome.NETWORK_FAILURE,
    "DESTINATION_UNREACHABLE": Outcome.NETWORK_FAILURE,
    "ORIGINATOR_CANCEL": Outcome.CANCELLED,
    "MANAGER_REQUEST": Outcome.CANCELLED,
    "LOSE_RACE": Outcome.CANCELLED,
})

SIP_OUTCOMES = MappingProxyType({
    404: Outcome.INVALID_NUMBER,
    410: Outcome.INVALID_NUMBER,
    484: Outcome.INVALID_NUMBER,
    485: Outcome.INVALID_NUMBER,
    604: Outcome.INVALID_NUMBER,
    486: Outcome.BUSY,
    600: Outcome.BUSY,
    408: Outcome.NO_ANSWER,
    480: Outcome.NO_ANSWER,
    487: Outcome.NO_ANSWER,
    403: Outcome.REJECTED,
    603: Outcome.REJECTED,
})

SIP_CLASS_OUTCOMES = MappingProxyType({
    4: Outcome.REJECTED,
    5: Outcome.NETWORK_FAILURE,
    6: Outcome.REJECTED,
})


def outcome_for(cause: str | None, sip_code: int | None, answered: bool) -> Outcome:
    """The outcome of a customer leg from how it ended (see the module docstring)."""
    if answered:
        return Outcome.ANSWERED
    by_cause = CAUSE_OUTCOMES.get((cause or "").upper())
    if by_cause is not None:
        return by_cause
    if sip_code is not None:
        by_sip = SIP_OUTCOMES.get(sip_code) or SIP_CLASS_OUTCOMES.get(sip_code // 100)
        if by_sip is not None:
            return by_sip
    return Outcome.NETWORK_FAILURE


def cause_from_job_result(body: str) -> str | None:
    """``-ERR USER_BUSY`` (a failed originate's BACKGROUND_JOB body) -> ``USER_BUSY``."""
    text = body.strip()
    if not text.startswith("-ERR"):
        return None
    cause = text[4:].strip().split()
    return cause[0] if cause else "UNKNOWN"
