"""Record, from a real FreeSWITCH, a ``uuid_bridge`` that lands while the leg's ``originate``
is still running: the originate returns ``-ERR ORIGINATOR_CANCEL`` and the leg is bridged.

The window is short: on the project's FreeSWITCH 1.11.1 build a bridge sent the moment the
client read CHANNEL_ANSWER beat the originate thread in 1 of 3 tries (0 of 40 in another run),
and one that reached the switch just before the answer event reached the client won in 2 of 2. So the bridge is sent a set time after CHANNEL_PROGRESS (the far end answers
200 ms after its 180 Ringing), stepping that time until a try is cancelled; that try's
transcript is written in the format of tests/fixtures/freeswitch-recorded/. Usage:

    FREESWITCH_BIN=/opt/freeswitch/bin/freeswitch .venv/bin/python -m tests.sim.record_originator_cancel
"""

from __future__ import annotations

import argparse
import time
import uuid
from pathlib import Path

from tests.freeswitch.record_transcripts import (
    ESL_PASSWORD,
    Phones,
    Transcript,
    Until,
    bg_job,
    normaliser,
    originate,
    phones_for,
    recording_switch,
    subscribe,
)
from tests.freeswitch.switch import SwitchInfo, find_freeswitch

DEFAULT_OUT = Path(__file__).resolve().parent / "fixtures" / "originator_cancel.txt"


def bridge_at_answer(t: Transcript, phones: Phones, after_progress_s: float) -> bool:
    """One try; True when the originate was cancelled."""
    customer, agent = str(uuid.uuid4()), str(uuid.uuid4())
    subscribe(t)
    t.step(originate(agent, "dialer_agent=1001,park_after_bridge=true", f"sofia/agents/{phones.speech().uri('agent')}"),
           bg_job(("CHANNEL_PARK", agent)))
    t.step(originate(customer, "dialer_attempt=42", f"sofia/trunk/{phones.speech().uri('cust')}"),
           Until("command/reply", (("CHANNEL_PROGRESS", customer),)))
    time.sleep(after_progress_s)
    frames = t.step(f"api uuid_bridge {customer} {agent}",
                    Until("api/response", (("BACKGROUND_JOB", None), ("CHANNEL_BRIDGE", customer))))
    job = next(f.event_body() for f in frames if f.event_headers().get("Event-Name") == "BACKGROUND_JOB")
    t.step(f"api uuid_kill {customer} NORMAL_CLEARING",
           Until("api/response", (("CHANNEL_DESTROY", customer), ("CHANNEL_PARK", agent))))
    t.step(f"api uuid_kill {agent}", Until("api/response", (("CHANNEL_DESTROY", agent),)))
    return job.startswith("-ERR ORIGINATOR_CANCEL")


def record(switch: SwitchInfo, workdir: Path, speech_pcap: Path, tries: int) -> bytes:
    for attempt in range(tries):
        transcript = Transcript(switch, normaliser(switch), ESL_PASSWORD)
        after_progress_s = 0.194 + 0.002 * (attempt % 8)
        with phones_for(switch, workdir / f"try{attempt}", speech_pcap) as phones:
            cancelled = bridge_at_answer(transcript, phones, after_progress_s)
            data = transcript.finish()
        if cancelled:
            return data
    raise SystemExit(f"no originate was cancelled in {tries} tries")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--tries", type=int, default=40)
    args = parser.parse_args()
    binary = find_freeswitch()
    if binary is None:
        raise SystemExit("no FreeSWITCH binary: set FREESWITCH_BIN or put freeswitch on PATH")
    with recording_switch(binary, "fs-cancel") as (switch, base, speech_pcap):
        data = record(switch, base, speech_pcap, args.tries)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(data)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
