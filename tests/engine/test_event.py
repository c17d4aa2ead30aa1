"""Parsing real FreeSWITCH 1.11.1 events (tests/fixtures/freeswitch)."""

from __future__ import annotations

import pytest

from engine.switch.event import EventParseError, parse_event

from .transcripts import events


def test_busy_transcript_order_and_fields() -> None:
    evs = events("busy.txt")
    assert [e.name for e in evs] == [
        "CHANNEL_OUTGOING", "CHANNEL_CREATE", "CHANNEL_HANGUP", "CHANNEL_HANGUP_COMPLETE",
        "BACKGROUND_JOB", "CHANNEL_DESTROY"]
    hangup = evs[2]
    assert hangup.unique_id == "8e2a5bbb-0d03-44d5-a1a5-1e65a0df2952"
    assert hangup.hangup_cause == "USER_BUSY"
    assert hangup.sip_code == 486
    assert hangup.var("sip_invite_failure_phrase") == "Busy Here"  # %20 decoded
    assert hangup.get("Channel-Name") == "sofia/internal/b@127.0.0.1:5193"
    assert hangup.timestamp_us == 1795423691539956


def test_background_job_body_and_encoded_command_arg() -> None:
    job = events("busy.txt")[4]
    assert job.job_uuid == "e8db4b1d-f726-4439-9d0c-4927d050d16f"
    assert job.body == "-ERR USER_BUSY\n"
    assert job.get("Job-Command-Arg") == (
        "{origination_uuid=8e2a5bbb-0d03-44d5-a1a5-1e65a0df2952}sofia/internal/b@127.0.0.1:5193 &park()")


def test_values_with_encoded_newlines_stay_one_header() -> None:
    create = events("busy.txt")[1]
    sdp = create.var("rtp_local_sdp_str")
    assert sdp is not None and sdp.startswith("v=0\r\no=FreeSWITCH") and "m=audio 20752" in sdp
    assert create.var("sip_profile_name") == "internal"  # the header after it is intact


def test_bridge_event_names_the_other_leg() -> None:
    bridge = next(e for e in events("answered_park_record_bridge_kill.txt")
                  if e.name == "CHANNEL_BRIDGE")
    assert bridge.unique_id == "0aa39ba9-22f9-446b-a1a6-6da736623fc8"
    assert bridge.other_leg == "c3bdbce0-20bf-4d03-91c3-2a9ae7b98928"


def test_custom_event_name_is_its_subclass() -> None:
    event = parse_event(b"Event-Name: CUSTOM\nEvent-Subclass: sofia%3A%3Aregister\n\n")
    assert event.name == "sofia::register"
    assert event.unique_id is None and event.sip_code is None


def test_malformed_header_line_is_named() -> None:
    with pytest.raises(EventParseError, match="line 2"):
        parse_event(b"Event-Name: CHANNEL_ANSWER\nthis is not a header\n\n")
