"""Delay from the customer's audio at a real FreeSWITCH to the 20 ms frame in the engine, for
both AMD sources: the read-only ``uuid_record`` file tailed by ``RecordTap`` (with
``enable_file_write_buffering=false``, as the engine sets it) and mod_audio_fork's websocket
stream read by ``ForkTap``.

A sipp far end plays 1 s of silence then a tone, starting when the ACK reaches it (sipp logs
that moment); the delay is the time the engine's tap yields the first loud frame minus the
moment the onset left sipp. Needs FreeSWITCH (FREESWITCH_BIN or /opt/freeswitch), sipp, and
for the stream mod_audio_fork.so in FreeSWITCH's module folder (docs/amd.md). Prints median,
min and max per source:

    FREESWITCH_BIN=/opt/freeswitch/bin/freeswitch .venv/bin/python scripts/bench_amd_source_delay.py --calls 10
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import gevent
import numpy as np

from engine.amd.audio_fork import AudioForkServer
from engine.amd.source import AudioTap, ForkTap, RawTailer, RecordTap
from tests.freeswitch.esl_client import DialerEsl
from tests.freeswitch.record_delay import ONSET_LEVEL, ONSET_S, measuring_switch, write_onset_pcap
from tests.freeswitch.sipp import SippAgent
from tests.freeswitch.switch import SwitchInfo

SOURCES = ("record", "audio_fork")


def esl_api(esl: DialerEsl):  # type: ignore[no-untyped-def]
    """The taps' api callable over a test Event Socket client."""
    def api(command: str) -> str | None:
        reply = esl.api(command).strip()
        return reply if reply.startswith(("-ERR", "-USAGE")) else None
    return api


def open_tap(source: str, esl: DialerEsl, call: str, workdir: Path,
             server: AudioForkServer) -> AudioTap:
    if source == "audio_fork":
        return ForkTap(call, "bench", server, esl_api(esl))
    path = workdir / f"{call}.r8"
    return RecordTap(call, path, esl_api(esl), RawTailer(path, sleep=gevent.sleep))


def measure_once(source: str, esl: DialerEsl, phone: SippAgent, workdir: Path,
                 server: AudioForkServer) -> float:
    """Seconds from the onset leaving sipp to its first loud frame out of the tap."""
    call = esl.originate_parked("enable_file_write_buffering=false",
                                f"sofia/trunk/{phone.uri('delay')}")
    tap = open_tap(source, esl, call, workdir, server)
    try:
        error = tap.start()
        if error is not None:
            raise RuntimeError(f"{source}: the switch refused: {error}")
        heard_at = next((time.time() for frame in tap.frames()
                         if np.abs(frame.astype(np.int32)).max() > ONSET_LEVEL), None)
    finally:
        esl.api(f"uuid_kill {call}")
        tap.finish()
        tap.discard()
    sent_at = phone.ack_received_at()
    if heard_at is None or sent_at is None:
        raise RuntimeError(f"{source}: no onset heard or no ACK logged in {phone.workdir}")
    return heard_at - (sent_at + ONSET_S)


def measure_calls(source: str, esl: DialerEsl, switch: SwitchInfo, base: Path, calls: int,
                  server: AudioForkServer) -> list[float]:
    delays = []
    for n in range(calls):
        workdir = base / source / f"call{n}"
        workdir.mkdir(parents=True)
        write_onset_pcap(workdir / "audio.pcap")
        phone = SippAgent("uas_answer.xml", workdir).start()
        try:
            delays.append(measure_once(source, esl, phone, switch.recordings_dir, server) * 1000)
        finally:
            phone.stop()
    return delays


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=5, help="measured calls per source")
    args = parser.parse_args()
    server = AudioForkServer().start()
    try:
        with measuring_switch("amdsrc") as (switch, esl, base):
            for source in SOURCES:
                ms = sorted(measure_calls(source, esl, switch, base, args.calls, server))
                print(f"AMD source {source}, {len(ms)} calls: audio at the switch to frame in the "
                      f"engine: median {statistics.median(ms):.1f} ms, min {ms[0]:.1f} ms, "
                      f"max {ms[-1]:.1f} ms")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
