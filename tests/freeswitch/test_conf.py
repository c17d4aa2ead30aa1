"""freeswitch_conf/ behaviour on a real FreeSWITCH: inbound callbacks, agents' registration, ACLs."""

from __future__ import annotations

import uuid

import pytest

from tests.freeswitch.conftest import FarEnd
from tests.freeswitch.esl_client import DialerEsl
from tests.freeswitch.sipp import SippAgent
from tests.freeswitch.switch import LOOPBACK, SwitchInfo

pytestmark = pytest.mark.freeswitch

CAMPAIGN_NUMBER = "4951234567"
CUSTOMER_NUMBER = "79001234567"


def call_campaign_number(far_end: FarEnd, switch: SwitchInfo, ip: str = LOOPBACK) -> SippAgent:
    """A customer calling CAMPAIGN_NUMBER on the trunk profile from *ip*, as the PBX would pass it on."""
    return far_end(
        "uac_callback.xml",
        audio="speech.pcap",
        remote=f"{LOOPBACK}:{switch.trunk_sip_port}",
        extra_args=["-s", CAMPAIGN_NUMBER, "-key", "caller", CUSTOMER_NUMBER],
        ip=ip,
    )


def test_customer_calling_back_is_answered_parked_and_tagged(esl: DialerEsl, far_end: FarEnd, switch: SwitchInfo) -> None:
    caller = call_campaign_number(far_end, switch)
    park = esl.wait_for(
        lambda e: e.get("Event-Name") == "CHANNEL_PARK" and e.get("variable_dialer_inbound") == "true", 20.0
    )
    inbound = park["Unique-ID"]
    assert park["Call-Direction"] == "inbound"
    assert park["Answer-State"] == "answered"
    assert park["Caller-Context"] == "inbound_callbacks"
    assert park["variable_dialer_campaign_number"] == CAMPAIGN_NUMBER
    assert park["variable_dialer_caller_number"] == CUSTOMER_NUMBER

    assert esl.api(f"uuid_kill {inbound}") == "+OK\n"
    assert esl.wait_event("CHANNEL_HANGUP_COMPLETE", inbound)["Hangup-Cause"] == "NORMAL_CLEARING"
    assert caller.wait(5.0) == 0


def test_trunk_refuses_calls_from_outside_the_pbx_acl(esl: DialerEsl, far_end: FarEnd, switch: SwitchInfo) -> None:
    stranger = call_campaign_number(far_end, switch, ip="127.0.0.2")
    assert stranger.wait(10.0) not in (0, None), "a caller outside dialer_pbx_cidr must not be answered"
    assert "407 Proxy Authentication Required" in stranger.errors()
    assert not [e for e in esl.events if e.get("Caller-Network-Addr") == "127.0.0.2"], "no channel may be created"


def test_registered_agent_is_reached_through_the_directory(esl: DialerEsl, far_end: FarEnd, switch: SwitchInfo) -> None:
    phone = far_end("uas_answer.xml", audio="tone.pcap")
    registrar = f"{LOOPBACK}:{switch.agents_sip_port}"
    agent_id = "1003"
    register = far_end(
        "uac_register.xml",
        remote=registrar,
        extra_args=["-au", agent_id, "-ap", switch.agent_passwords[agent_id], "-key", "agent_user", agent_id,
                    "-key", "contact_port", str(phone.port)],
    )  # fmt: skip
    assert register.wait(10.0) == 0, "registration with the directory password failed"
    assert f"{agent_id}@{switch.domain}" in esl.api("sofia status profile agents reg")

    call = str(uuid.uuid4())
    job = esl.bgapi(f"originate {{origination_uuid={call},park_after_bridge=true}}user/{agent_id}@{switch.domain} &park()")
    assert esl.job_result(job) == f"+OK {call}"
    assert esl.wait_event("CHANNEL_PARK", call)["variable_dialer_agent"] == agent_id
    assert esl.api(f"uuid_kill {call}") == "+OK\n"
    esl.wait_event("CHANNEL_HANGUP_COMPLETE", call)


def test_agent_registration_with_a_wrong_password_is_refused(far_end: FarEnd, switch: SwitchInfo) -> None:
    register = far_end(
        "uac_register.xml",
        remote=f"{LOOPBACK}:{switch.agents_sip_port}",
        extra_args=["-au", "1004", "-ap", "wrong-password", "-key", "agent_user", "1004", "-key", "contact_port", "9"],
    )
    assert register.wait(10.0) not in (0, None)
    assert "403 Forbidden" in register.errors()


def test_agent_dialling_9000_opens_a_parked_session_for_the_engine(
    esl: DialerEsl, far_end: FarEnd, switch: SwitchInfo
) -> None:
    agent_id = "1005"
    phone = far_end(
        "uac_agent_call.xml",
        audio="tone.pcap",
        remote=f"{LOOPBACK}:{switch.agents_sip_port}",
        extra_args=["-s", "9000", "-au", agent_id, "-ap", switch.agent_passwords[agent_id], "-key", "agent_user", agent_id],
    )
    park = esl.wait_for(
        lambda e: e.get("Event-Name") == "CHANNEL_PARK" and e.get("variable_dialer_agent_login") == agent_id, 20.0
    )
    assert park["Caller-Context"] == "agents"
    assert park["Answer-State"] == "answered"
    assert park["variable_park_after_bridge"] == "true"
    assert esl.api(f"uuid_kill {park['Unique-ID']}") == "+OK\n"
    assert phone.wait(5.0) == 0


def test_agent_dialling_anything_else_is_forbidden(far_end: FarEnd, switch: SwitchInfo) -> None:
    phone = far_end(
        "uac_agent_call.xml",
        audio="tone.pcap",
        remote=f"{LOOPBACK}:{switch.agents_sip_port}",
        extra_args=["-s", CUSTOMER_NUMBER, "-au", "1006", "-ap", switch.agent_passwords["1006"],
                    "-key", "agent_user", "1006"],
    )
    assert phone.wait(10.0) not in (0, None)
    assert "403 Forbidden" in phone.errors()


def test_customer_is_dialled_through_the_pbx_gateway_with_the_campaign_caller_id(
    esl: DialerEsl, far_end: FarEnd, switch: SwitchInfo
) -> None:
    pbx = far_end("uas_answer.xml", audio="speech.pcap", port=switch.pbx_port)
    call = esl.originate_parked(
        f"origination_caller_id_number={CAMPAIGN_NUMBER},dialer_attempt=9", f"sofia/gateway/pbx/{CUSTOMER_NUMBER}"
    )
    assert esl.api(f"uuid_kill {call}") == "+OK\n"
    esl.wait_event("CHANNEL_HANGUP_COMPLETE", call)

    [(_, invite)] = pbx.received("INVITE")
    assert invite.startswith(f"INVITE sip:{CUSTOMER_NUMBER}@{LOOPBACK}:{switch.pbx_port}")
    from_header = next(line for line in invite.splitlines() if line.startswith("From:"))
    assert f"sip:{CAMPAIGN_NUMBER}@" in from_header
