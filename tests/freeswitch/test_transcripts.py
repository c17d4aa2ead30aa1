"""The recorded fixtures in tests/fixtures/freeswitch-recorded/ still match this switch and
freeswitch_conf/: a fresh recording of the busy sequence has the same replies, the same events
in the same order (a background job's result aside) and the same header names per event."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.freeswitch.raw_esl import esl_api
from tests.freeswitch.record_transcripts import DEFAULT_OUT, parse_transcript, record
from tests.freeswitch.switch import SwitchInfo

pytestmark = pytest.mark.freeswitch


def wait_until_idle(switch: SwitchInfo, timeout_s: float = 20.0) -> None:
    """Wait until earlier tests' channels are gone, so none of their events reach the transcript."""
    deadline = time.monotonic() + timeout_s
    while json.loads(esl_api(switch.host, switch.esl_port, switch.esl_password, "show channels as json"))["row_count"]:
        assert time.monotonic() < deadline, "channels from earlier tests are still up"
        time.sleep(0.2)


def _channel_order(items: list) -> list:  # type: ignore[type-arg]
    """All but BACKGROUND_JOB, then the jobs: FreeSWITCH sends a job's result from its own
    thread, so where it falls among the channel's events races from run to run (seen: before
    or after CHANNEL_DESTROY for a busy callee)."""
    return ([item for item in items if item[1] != "BACKGROUND_JOB"]
            + [item for item in items if item[1] == "BACKGROUND_JOB"])


def test_fresh_busy_transcript_matches_the_recorded_fixture(switch: SwitchInfo, audio_dir: Path, tmp_path: Path) -> None:
    wait_until_idle(switch)
    fresh = _channel_order(parse_transcript(
        record(switch, "busy", switch.esl_password, tmp_path, audio_dir / "speech.pcap")))
    fixture = _channel_order(parse_transcript((DEFAULT_OUT / "busy.txt").read_bytes()))
    assert [item[:2] for item in fresh] == [item[:2] for item in fixture]
    for (kind, name, headers), (_, _, expected) in zip(fresh, fixture):
        if kind != "sent":
            only_fresh, only_fixture = sorted(headers - expected), sorted(expected - headers)
            assert headers == expected, f"{name}: only fresh {only_fresh}, only fixture {only_fixture}"
