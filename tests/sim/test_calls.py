"""Call outcomes through greenswitch: event order, hangup causes, SIP statuses, variables on every event."""

from __future__ import annotations

import uuid as uuidlib

import gevent
import pytest

from tests.sim.helpers import channel_events, job_body, names, wait_destroyed, wait_for

SUBSCRIBE = "event plain ALL"
ANSWERED_START = ["CHANNEL_OUTGOING", "CHANNEL_CREATE", "CHANNEL_PROGRESS", "CHANNEL_ANSWER",
                  "CHANNEL_EXECUTE", "CHANNEL_PARK"]


def originate(esl, number: str, extra: str = "", app: str = "&park()") -> tuple[str, str]:
    """bgapi originate with tagging variables; returns (channel uuid, job uuid)."""
    leg = str(uuidlib.uuid4())
    reply = esl.send(f"bgapi originate {{origination_uuid={leg},dialer_attempt_id=77,dialer_campaign_id=5"
                     f"{extra}}}sofia/gateway/carrier/{number} {app}")
    assert reply.data.startswith("+OK Job-UUID: ")
    return leg, reply.headers["Job-UUID"]


@pytest.mark.parametrize("number, cause, sip_status, sequence", [
    ("2000001", "USER_BUSY", "486", ["CHANNEL_OUTGOING", "CHANNEL_CREATE", "CHANNEL_HANGUP",
                                     "CHANNEL_HANGUP_COMPLETE", "CHANNEL_DESTROY"]),
    ("5000001", "UNALLOCATED_NUMBER", "404", ["CHANNEL_OUTGOING", "CHANNEL_CREATE", "CHANNEL_HANGUP",
                                              "CHANNEL_HANGUP_COMPLETE", "CHANNEL_DESTROY"]),
    ("6000001", "NORMAL_TEMPORARY_FAILURE", "503", ["CHANNEL_OUTGOING", "CHANNEL_CREATE", "CHANNEL_HANGUP",
                                                    "CHANNEL_HANGUP_COMPLETE", "CHANNEL_DESTROY"]),
    ("4000001", "CALL_REJECTED", "603", ["CHANNEL_OUTGOING", "CHANNEL_CREATE", "CHANNEL_PROGRESS",
                                         "CHANNEL_HANGUP", "CHANNEL_HANGUP_COMPLETE", "CHANNEL_DESTROY"]),
])
def test_refused_outcomes(esl, number, cause, sip_status, sequence):
    esl.send(SUBSCRIBE)
    leg, job = originate(esl, number)
    assert job_body(esl, job) == f"-ERR {cause}"
    assert wait_destroyed(esl, leg) == sequence
    hangup = channel_events(esl, leg)[-3]
    assert hangup["Hangup-Cause"] == cause and hangup["variable_sip_term_status"] == sip_status
    assert hangup["variable_sip_hangup_disposition"] == "recv_refuse"
    complete = channel_events(esl, leg)[-2]
    assert complete["variable_hangup_cause"] == cause and complete["variable_billsec"] == "0"


def test_no_answer_hits_originate_timeout(esl):
    esl.send(SUBSCRIBE)
    leg, job = originate(esl, "3000001", ",originate_timeout=1")
    assert job_body(esl, job, timeout=5) == "-ERR NO_ANSWER"
    assert wait_destroyed(esl, leg) == ["CHANNEL_OUTGOING", "CHANNEL_CREATE", "CHANNEL_PROGRESS", "CHANNEL_HANGUP",
                                        "CHANNEL_HANGUP_COMPLETE", "CHANNEL_DESTROY"]
    complete = channel_events(esl, leg)[-2]
    assert complete["Hangup-Cause"] == "NO_ANSWER"
    assert complete["variable_sip_hangup_disposition"] == "send_cancel"


def test_answered_human_hangs_up_after_patience(esl):
    esl.send(SUBSCRIBE)
    leg, job = originate(esl, "1000001")
    assert job_body(esl, job) == f"+OK {leg}"
    sequence = wait_destroyed(esl, leg)
    assert sequence == ANSWERED_START + ["CHANNEL_HANGUP", "CHANNEL_EXECUTE_COMPLETE",
                                         "CHANNEL_HANGUP_COMPLETE", "CHANNEL_DESTROY"]
    events = channel_events(esl, leg)
    for event in events[1:]:  # every event after CHANNEL_OUTGOING carries the dialer's tags
        assert event["variable_dialer_attempt_id"] == "77" and event["variable_dialer_campaign_id"] == "5"
        assert event["variable_origination_uuid"] == leg
    assert events[-2]["variable_sip_hangup_disposition"] == "recv_bye"
    assert events[-2]["Hangup-Cause"] == "NORMAL_CLEARING"


def test_early_media_leg_sends_progress_media(esl):
    esl.send(SUBSCRIBE)
    leg, job = originate(esl, "8000001")
    job_body(esl, job)
    assert names(esl, leg)[:4] == ["CHANNEL_OUTGOING", "CHANNEL_CREATE", "CHANNEL_PROGRESS_MEDIA", "CHANNEL_ANSWER"]
    esl.send(f"api uuid_kill {leg}")
    wait_destroyed(esl, leg)


def test_api_originate_blocks_until_the_outcome(esl):
    assert esl.send("api originate sofia/gateway/carrier/2000002 &park()").data == "-ERR USER_BUSY\n"
    leg = str(uuidlib.uuid4())
    reply = esl.send(f"api originate {{origination_uuid={leg}}}sofia/internal/1000002@127.0.0.1 &park()")
    assert reply.data == f"+OK {leg}\n"
    assert esl.send(f"api uuid_exists {leg}").data == "true"
    assert esl.send(f"api uuid_getvar {leg} origination_uuid").data == leg
    assert esl.send(f"api uuid_setvar {leg} dialer_node n1").data == "+OK\n"
    assert esl.send(f"api uuid_getvar {leg} dialer_node").data == "n1"
    assert esl.send(f"api uuid_getvar {leg} nothing_here").data == "_undef_"
    assert esl.send(f"api uuid_answer {leg}").data == "+OK\n"
    assert esl.send(f"api uuid_kill {leg}").data == "+OK\n"


def test_uuid_kill_while_ringing_reports_the_cause(esl):
    esl.send(SUBSCRIBE)
    leg, job = originate(esl, "3000002", ",originate_timeout=30")
    wait_for(esl, lambda h: h.get("Event-Name") == "CHANNEL_PROGRESS" and h.get("Unique-ID") == leg)
    assert esl.send(f"api uuid_kill {leg} ORIGINATOR_CANCEL").data == "+OK\n"
    assert job_body(esl, job) == "-ERR ORIGINATOR_CANCEL"
    assert wait_destroyed(esl, leg)[-3:] == ["CHANNEL_HANGUP", "CHANNEL_HANGUP_COMPLETE", "CHANNEL_DESTROY"]
    assert channel_events(esl, leg)[-1]["Hangup-Cause"] == "ORIGINATOR_CANCEL"


def test_agent_answers_after_delay_and_bridge_with_park_after_bridge(esl):
    esl.send(SUBSCRIBE)
    customer, job = originate(esl, "1100001")  # talks 0.2 s once bridged, then hangs up
    assert job_body(esl, job) == f"+OK {customer}"
    agent = str(uuidlib.uuid4())
    reply = esl.send(f"api originate {{origination_uuid={agent},park_after_bridge=true}}user/1001@dialer &park()")
    assert reply.data == f"+OK {agent}\n"
    assert esl.send(f"api uuid_bridge {customer} {agent}").data == f"+OK {agent}\n"
    wait_destroyed(esl, customer)
    assert names(esl, customer)[-5:] == ["CHANNEL_BRIDGE", "CHANNEL_HANGUP", "CHANNEL_UNBRIDGE",
                                         "CHANNEL_HANGUP_COMPLETE", "CHANNEL_DESTROY"]
    parked = wait_for(esl, lambda h: h.get("Event-Name") == "CHANNEL_PARK" and h.get("Unique-ID") == agent
                      and h.get("Channel-State") == "CS_PARK")
    assert parked["variable_last_bridge_to"] == customer
    assert esl.send(f"api uuid_exists {agent}").data == "true"
    esl.send(f"api uuid_kill {agent}")
    assert wait_destroyed(esl, agent)[-3:] == ["CHANNEL_HANGUP", "CHANNEL_HANGUP_COMPLETE", "CHANNEL_DESTROY"]


def test_bridge_without_park_after_bridge_hangs_the_agent_up(esl):
    esl.send(SUBSCRIBE)
    customer, job = originate(esl, "1000003")
    job_body(esl, job)
    agent = str(uuidlib.uuid4())
    esl.send(f"api originate {{origination_uuid={agent}}}user/1002@dialer &park()")
    esl.send(f"api uuid_bridge {customer} {agent}")
    wait_for(esl, lambda h: h.get("Event-Name") == "CHANNEL_BRIDGE")
    esl.send(f"api uuid_kill {customer} NORMAL_CLEARING")
    assert wait_destroyed(esl, agent)[-3:] == ["CHANNEL_HANGUP", "CHANNEL_HANGUP_COMPLETE", "CHANNEL_DESTROY"]
    assert channel_events(esl, agent)[-1]["variable_bridge_hangup_cause"] == "NORMAL_CLEARING"


def test_dtmf_pressed_by_a_human(esl):
    esl.send(SUBSCRIBE)
    leg, job = originate(esl, "1200001")
    job_body(esl, job)
    wait_for(esl, lambda h: h.get("Event-Name") == "DTMF" and h.get("DTMF-Digit") == "2")
    digits = [h["DTMF-Digit"] for h in channel_events(esl, leg) if h["Event-Name"] == "DTMF"]
    assert digits == ["4", "2"]
    esl.send(f"api uuid_kill {leg}")


def test_playback_app_hangs_up_when_the_file_ends(esl, tmp_path):
    esl.send(SUBSCRIBE)
    leg, job = originate(esl, "1000004", app="&playback(silence_stream://300)")
    job_body(esl, job)
    sequence = wait_destroyed(esl, leg)
    assert sequence[4:] == ["CHANNEL_EXECUTE", "PLAYBACK_START", "PLAYBACK_STOP", "CHANNEL_EXECUTE_COMPLETE",
                            "CHANNEL_HANGUP", "CHANNEL_HANGUP_COMPLETE", "CHANNEL_DESTROY"]
    stop = [h for h in channel_events(esl, leg) if h["Event-Name"] == "PLAYBACK_STOP"][0]
    assert stop["Playback-Status"] == "done"


def test_broadcast_break_and_transfer_inline(esl):
    esl.send(SUBSCRIBE)
    leg, job = originate(esl, "1000005")
    job_body(esl, job)
    assert esl.send(f"api uuid_broadcast {leg} silence_stream://-1 aleg").data == "+OK Message sent\n"
    wait_for(esl, lambda h: h.get("Event-Name") == "PLAYBACK_START" and h.get("Unique-ID") == leg)
    assert esl.send(f"api uuid_break {leg}").data == "+OK\n"
    stop = wait_for(esl, lambda h: h.get("Event-Name") == "PLAYBACK_STOP" and h.get("Unique-ID") == leg)
    assert stop["Playback-Status"] == "break"
    assert esl.send(f"api uuid_transfer {leg} hangup:CALL_REJECTED inline").data == "+OK\n"
    wait_destroyed(esl, leg)
    assert channel_events(esl, leg)[-1]["Hangup-Cause"] == "CALL_REJECTED"


def test_show_channels_lists_live_calls(esl):
    esl.send(SUBSCRIBE)
    leg, job = originate(esl, "1000006")
    job_body(esl, job)
    plain = esl.send("api show channels").data
    assert plain.startswith("uuid,direction,created,") and plain.endswith("\n\n1 total.\n") and leg in plain
    rows = __import__("json").loads(esl.send("api show channels as json").data)["rows"]
    assert rows[0]["uuid"] == leg and rows[0]["application"] == "park" and rows[0]["callstate"] == "ACTIVE"
    assert esl.send("api hupall MANAGER_REQUEST dialer_attempt_id 77").data == \
        "+OK hangup all channels matching [dialer_attempt_id]=[77] with cause: MANAGER_REQUEST\n"
    wait_destroyed(esl, leg)
    assert esl.send("api show channels").data == "\n0 total.\n"


def test_client_disconnect_mid_call_leaves_the_call_up(sim, esl):
    import greenswitch

    leg, job = originate(esl, "1000007")
    gevent.sleep(0.3)
    esl.sock.close()  # vanish without `exit`
    gevent.sleep(0.2)
    assert sim.switch.find(leg) is not None
    other = greenswitch.InboundESL(*sim.address, "ClueCon")
    other.connect()
    assert other.send(f"api uuid_exists {leg}").data == "true"
    assert other.send(f"api uuid_kill {leg}").data == "+OK\n"
    other.stop()


def test_sendmsg_hangup(esl):
    esl.send(SUBSCRIBE)
    leg, job = originate(esl, "1000008")
    job_body(esl, job)
    reply = esl.send(f"sendmsg {leg}\ncall-command: hangup\nhangup-cause: USER_BUSY")
    assert reply.data == "+OK"
    wait_destroyed(esl, leg)
    assert channel_events(esl, leg)[-1]["Hangup-Cause"] == "USER_BUSY"
    assert esl.send("sendmsg 00000000-0000-0000-0000-000000000000\ncall-command: hangup").data == \
        "-ERR invalid session id [00000000-0000-0000-0000-000000000000]"


def test_bridge_app_calls_the_agent_and_bridges(esl):
    esl.send(SUBSCRIBE)
    customer, job = originate(esl, "1000009", app="&bridge(user/1003@dialer)")
    job_body(esl, job)
    bridge = wait_for(esl, lambda h: h.get("Event-Name") == "CHANNEL_BRIDGE" and h.get("Unique-ID") == customer)
    agent = bridge["Bridge-B-Unique-ID"]
    assert names(esl, agent)[:4] == ["CHANNEL_OUTGOING", "CHANNEL_CREATE", "CHANNEL_PROGRESS", "CHANNEL_ANSWER"]
    esl.send(f"api uuid_kill {agent}")
    wait_destroyed(esl, customer)  # the bridge app ends with the agent: nothing left to run


def test_bridge_app_to_an_unregistered_agent_fails_the_call(esl):
    esl.send(SUBSCRIBE)
    customer, job = originate(esl, "1000010", app="&bridge(user/1099@dialer)")
    job_body(esl, job)
    wait_destroyed(esl, customer)
    assert channel_events(esl, customer)[-1]["Hangup-Cause"] == "USER_NOT_REGISTERED"


def test_echo_app_runs_until_the_callee_leaves(esl):
    esl.send(SUBSCRIBE)
    leg, job = originate(esl, "1100002", app="&echo()")
    job_body(esl, job)
    sequence = wait_destroyed(esl, leg)
    assert sequence[4:] == ["CHANNEL_EXECUTE", "CHANNEL_HANGUP", "CHANNEL_EXECUTE_COMPLETE",
                            "CHANNEL_HANGUP_COMPLETE", "CHANNEL_DESTROY"]
    assert channel_events(esl, leg)[4]["Application"] == "echo"


def test_agent_with_hangup_after_leaves_by_itself(esl):
    esl.send(SUBSCRIBE)
    agent = str(uuidlib.uuid4())
    assert esl.send(f"api originate {{origination_uuid={agent}}}user/1010@dialer &park()").data == f"+OK {agent}\n"
    assert wait_destroyed(esl, agent) == ANSWERED_START + ["CHANNEL_HANGUP", "CHANNEL_EXECUTE_COMPLETE",
                                                           "CHANNEL_HANGUP_COMPLETE", "CHANNEL_DESTROY"]
    complete = channel_events(esl, agent)[-2]
    assert complete["Hangup-Cause"] == "NORMAL_CLEARING" and complete["variable_sip_hangup_disposition"] == "recv_bye"
