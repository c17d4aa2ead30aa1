"""Read-only uuid_record to a raw .r8 file: the caller's audio must reach the file while the call
is live (what streaming AMD relies on). Prints the measured delay; speed itself is not asserted."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.freeswitch.esl_client import DialerEsl
from tests.freeswitch.record_delay import RESOLUTION_S, SETTINGS, measure_once, write_onset_pcap
from tests.freeswitch.sipp import SippAgent
from tests.freeswitch.switch import SwitchInfo

pytestmark = pytest.mark.freeswitch


@pytest.mark.parametrize("label", list(SETTINGS))
def test_r8_recording_receives_live_audio(label: str, esl: DialerEsl, switch: SwitchInfo, tmp_path: Path) -> None:
    write_onset_pcap(tmp_path / "audio.pcap")
    phone = SippAgent("uas_answer.xml", tmp_path).start()
    try:
        delay = measure_once(esl, phone, switch, SETTINGS[label])
    finally:
        phone.stop()
    print(f"uuid_record .r8 delay, {label}: {delay * 1000:.1f} ms")
    assert delay > -RESOLUTION_S, "the onset cannot reach the file before sipp sent it"
