"""Delay of a read-only ``uuid_record`` to a raw ``.r8`` file: from the moment sipp sends a tone
onset until the onset's samples are visible in the file (what live AMD reading the file sees).

The far end plays ONSET_S of silence then a tone, starting when the ACK reaches it (sipp logs
that moment with -trace_msg), so the onset leaves sipp at that time + ONSET_S. The file is
polled every millisecond. Run as a script to print the figures over several calls:

    FREESWITCH_BIN=/opt/freeswitch/bin/freeswitch .venv/bin/python -m tests.freeswitch.record_delay --calls 10
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from tests.freeswitch.audio import ULAW_SILENCE, SAMPLE_RATE, tone_ulaw, write_rtp_pcap
from tests.freeswitch.esl_client import DialerEsl
from tests.freeswitch.sipp import SippAgent
from tests.freeswitch.switch import FreeSwitchProcess, SwitchInfo, find_freeswitch

ONSET_S = 1.0
RESOLUTION_S = 0.02  # one RTP packet: the measurement cannot place the onset more precisely
SETTINGS = {
    "default (64 KB write buffer)": {},
    "enable_file_write_buffering=false": {"enable_file_write_buffering": "false"},
}
ONSET_LEVEL = 3000  # int16 amplitude; the tone peaks near 16000, silence is 0
BYTES_PER_SAMPLE = 2  # .r8 is 16-bit signed linear at 8 kHz


def write_onset_pcap(path: Path) -> Path:
    return write_rtp_pcap(ULAW_SILENCE * int(SAMPLE_RATE * ONSET_S) + tone_ulaw(1000.0, 2.0), path)


def measure_once(esl: DialerEsl, phone: SippAgent, switch: SwitchInfo, settings: dict[str, str]) -> float:
    """Seconds from the onset leaving sipp to its first samples being readable in the .r8 file,
    with the recording channel variables *settings* set before ``uuid_record``."""
    call = esl.originate_parked("", f"sofia/trunk/{phone.uri('delay')}")
    path = switch.recordings_dir / f"delay_{call}.r8"
    for name, value in {"RECORD_READ_ONLY": "true", **settings}.items():
        assert esl.api(f"uuid_setvar {call} {name} {value}").startswith("+OK")
    assert esl.api(f"uuid_record {call} start {path}").startswith("+OK")
    try:
        visible_at = wait_for_onset(path, timeout_s=ONSET_S + 5.0)
    finally:
        esl.api(f"uuid_kill {call}")
    sent_at = phone.ack_received_at()
    if sent_at is None:
        raise RuntimeError(f"sipp logged no ACK in {phone.workdir}")
    return visible_at - (sent_at + ONSET_S)


def wait_for_onset(path: Path, timeout_s: float) -> float:
    """Wall-clock time at which a sample louder than ONSET_LEVEL first became readable in *path*."""
    deadline = time.monotonic() + timeout_s
    offset = 0
    while time.monotonic() < deadline:
        if path.exists():
            with path.open("rb") as f:
                f.seek(offset)
                chunk = f.read()
            now = time.time()
            usable = len(chunk) - len(chunk) % BYTES_PER_SAMPLE
            samples = np.frombuffer(chunk[:usable], dtype="<i2")
            if samples.size and np.abs(samples.astype(np.int32)).max() > ONSET_LEVEL:
                return now
            offset += usable
        time.sleep(0.001)
    raise TimeoutError(f"no tone onset appeared in {path} within {timeout_s} s")


@contextmanager
def measuring_switch(prefix: str) -> Iterator[tuple[SwitchInfo, DialerEsl, Path]]:
    """A FreeSWITCH with the project's configuration in a temporary directory, its ESL client
    and that directory (for sipp far ends): what a delay measurement runs against."""
    binary = find_freeswitch()
    if binary is None:
        raise SystemExit("no FreeSWITCH binary: set FREESWITCH_BIN or put freeswitch on PATH")
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        base = Path(tmp)
        process = FreeSwitchProcess(binary, base / "switch")
        switch = process.start()
        esl = DialerEsl(switch).connect()
        try:
            yield switch, esl, base
        finally:
            esl.close()
            process.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=5, help="measured calls per setting")
    args = parser.parse_args()
    with measuring_switch("r8delay") as (switch, esl, base):
        for label, settings in SETTINGS.items():
            ms = sorted(measure_calls(esl, switch, settings, base / label, args.calls))
            print(f"uuid_record .r8 delay, {label}, {len(ms)} calls: median {statistics.median(ms):.1f} ms, "
                  f"min {ms[0]:.1f} ms, max {ms[-1]:.1f} ms")  # fmt: skip


def measure_calls(esl: DialerEsl, switch: SwitchInfo, settings: dict[str, str], workdir: Path, calls: int) -> list[float]:
    """Delays in milliseconds over *calls* calls, each to a fresh sipp far end."""
    delays = []
    for n in range(calls):
        phone_dir = workdir / f"sipp{n}"
        phone_dir.mkdir(parents=True)
        write_onset_pcap(phone_dir / "audio.pcap")
        phone = SippAgent("uas_answer.xml", phone_dir).start()
        try:
            delays.append(measure_once(esl, phone, switch, settings) * 1000)
        finally:
            phone.stop()
    return delays


if __name__ == "__main__":
    main()
