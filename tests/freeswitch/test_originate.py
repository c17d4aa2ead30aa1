"""Originate outcomes on a real FreeSWITCH: answered, busy, no answer, plus Event Socket auth."""

from __future__ import annotations

import uuid

import pytest

from engine.config import SwitchNode
from engine.switch.connection import SwitchError, _Protocol
from tests.freeswitch.conftest import FarEnd
from tests.freeswitch.esl_client import DialerEsl, Headers
from tests.freeswitch.sipp import SippAgent
from tests.freeswitch.switch import SwitchInfo

pytestmark = pytest.mark.freeswitch


def test_wrong_password_is_refused_and_right_one_accepted(switch: SwitchInfo) -> None:
    """The engine's own protocol gets a clear refusal and closes without waiting on a switch
    that hangs up after a wrong password (greenswitch's ``stop`` can wait forever there)."""
    client = _Protocol(SwitchNode("fs", switch.host, switch.esl_port, "ClueCon"),
                       sink=lambda event: None, timeout=5)
    try:
        with pytest.raises(SwitchError, match="refused the password"):
            client.open()
    finally:
        client.close()
    good = DialerEsl(switch).connect()
    try:
        assert "is ready" in good.api("status")
        assert good.api("show channels as json").startswith('{"row_count"')
    finally:
        good.close()


def test_answered_call_parks_then_kill_gives_normal_clearing(esl: DialerEsl, far_end: FarEnd) -> None:
    customer = far_end("uas_answer.xml", audio="speech.pcap")
    call = str(uuid.uuid4())
    job = esl.bgapi(f"originate {{origination_uuid={call},dialer_attempt=42}}sofia/trunk/{customer.uri('cust')} &park()")

    assert esl.job_result(job) == f"+OK {call}"
    park = esl.wait_event("CHANNEL_PARK", call)
    assert park["Answer-State"] == "answered"
    assert park["variable_dialer_attempt"] == "42"
    assert esl.api(f"uuid_getvar {call} dialer_attempt") == "42"

    assert esl.api(f"uuid_kill {call} NORMAL_CLEARING").startswith("+OK")
    hangup = esl.wait_event("CHANNEL_HANGUP_COMPLETE", call)
    assert hangup["Hangup-Cause"] == "NORMAL_CLEARING"
    assert customer.wait(5.0) == 0
    names = esl.names_for(call)
    assert names.index("CHANNEL_ANSWER") < names.index("CHANNEL_PARK") < names.index("CHANNEL_HANGUP")


def originate_failing(esl: DialerEsl, callee: SippAgent, variables: str, expected_reply: str) -> Headers:
    """Originate to *callee*, expect *expected_reply* in BACKGROUND_JOB; return CHANNEL_HANGUP_COMPLETE."""
    call = str(uuid.uuid4())
    job = esl.bgapi(f"originate {{origination_uuid={call}{variables}}}sofia/trunk/{callee.uri('x')} &park()")
    assert esl.job_result(job) == expected_reply
    hangup = esl.wait_event("CHANNEL_HANGUP_COMPLETE", call)
    assert "CHANNEL_ANSWER" not in esl.names_for(call)
    assert callee.wait(5.0) == 0, "sipp did not finish its scenario (e.g. the CANCEL / 487 exchange)"
    return hangup


def test_busy_callee_gives_user_busy(esl: DialerEsl, far_end: FarEnd) -> None:
    hangup = originate_failing(esl, far_end("uas_busy.xml"), "", "-ERR USER_BUSY")
    assert hangup["Hangup-Cause"] == "USER_BUSY"
    assert hangup["variable_sip_term_status"] == "486"


def test_unanswered_call_gives_no_answer_after_originate_timeout(esl: DialerEsl, far_end: FarEnd) -> None:
    hangup = originate_failing(esl, far_end("uas_no_answer.xml"), ",originate_timeout=2", "-ERR NO_ANSWER")
    assert hangup["Hangup-Cause"] == "NO_ANSWER"
    assert "CHANNEL_PROGRESS" in esl.names_for(hangup["Unique-ID"])


def test_api_errors_are_worded_like_freeswitch(esl: DialerEsl) -> None:
    ghost = str(uuid.uuid4())
    assert esl.api("no_such_command").startswith("-ERR no_such_command Command not found!")
    assert esl.api(f"uuid_kill {ghost}").startswith("-ERR No such channel!")
    assert esl.api(f"uuid_bridge {ghost} {uuid.uuid4()}").startswith("-ERR Invalid uuid")
    assert esl.api(f"uuid_exists {ghost}") == "false"
