"""Record Event Socket transcripts from a real FreeSWITCH started with freeswitch_conf/.

Replays the command sequences of the shared reference transcripts (answered + record + bridge +
kill, busy, no answer, unreachable, api replies) against sipp far ends and writes what the
switch sent, byte for byte, in the same format: ``>>> `` + the command the client sent, raw
frames otherwise. Hostname, the switch's own IPv4/IPv6 and the recordings directory are
normalised (``fs1``, 127.0.0.1, ``::1``, /var/lib/dialer/recordings/) and the Content-Length of
each frame whose body that changed is recomputed. Usage:

    FREESWITCH_BIN=/opt/freeswitch/bin/freeswitch .venv/bin/python -m tests.freeswitch.record_transcripts
"""

from __future__ import annotations

import argparse
import re
import socket
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.freeswitch.audio import speech_ulaw, write_rtp_pcap
from tests.freeswitch.esl_client import DIALER_EVENTS
from tests.freeswitch.raw_esl import Frame, RawEsl
from tests.freeswitch.sipp import SippAgent
from tests.freeswitch.switch import (
    REPO_ROOT,
    FreeSwitchProcess,
    SwitchInfo,
    find_freeswitch,
    free_port,
)

DEFAULT_OUT = REPO_ROOT / "tests" / "fixtures" / "freeswitch-recorded"
RECORDINGS_PLACEHOLDER = "/var/lib/dialer/recordings/"
ESL_PASSWORD = "dialer-recorder"
BRIDGED_S = 2.0
UUID_PATTERN = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


@dataclass(frozen=True)
class Until:
    """When a step is complete: its reply arrived and every (Event-Name, Unique-ID) was seen."""

    reply: str  # "command/reply" or "api/response"
    events: tuple[tuple[str, str | None], ...] = ()  # Unique-ID None: any

    def met(self, frames: list[Frame]) -> bool:
        if not any(f.content_type == self.reply for f in frames):
            return False
        seen = [(h.get("Event-Name"), h.get("Unique-ID")) for h in (f.event_headers() for f in frames)]
        return all(
            any(name == wanted and (uuid_ is None or got == uuid_) for name, got in seen) for wanted, uuid_ in self.events
        )


def bg_job(*events: tuple[str, str]) -> Until:
    """A bgapi step: done once the BACKGROUND_JOB and the given channel events arrived."""
    return Until("command/reply", (("BACKGROUND_JOB", None), *events))


class Transcript:
    """Drives one Event Socket connection and keeps the normalised transcript bytes."""

    def __init__(self, switch: SwitchInfo, normalise: Callable[[bytes], bytes], password: str) -> None:
        self.conn = RawEsl(switch.host, switch.esl_port, timeout_s=30.0)
        self.normalise = normalise
        self.password = password
        self.data = bytearray()
        self._keep(self.conn.read_frame())

    def step(self, command: str, until: Until) -> list[Frame]:
        self.data += b">>> " + self.conn.send(command)
        frames: list[Frame] = []
        while not until.met(frames):
            frame = self.conn.read_frame()
            frames.append(frame)
            self._keep(frame)
        return frames

    def finish(self) -> bytes:
        """Send ``exit`` and keep everything up to the switch closing the socket."""
        self.data += b">>> " + self.conn.send("exit")
        try:
            while True:
                self._keep(self.conn.read_frame())
        except ConnectionError:
            pass
        self.conn.close()
        return bytes(self.data)

    def _keep(self, frame: Frame) -> None:
        body = self.normalise(frame.body)
        head = frame.raw[: len(frame.raw) - len(frame.body)]
        if body != frame.body:
            head = re.sub(rb"Content-Length: \d+", b"Content-Length: %d" % len(body), head)
        self.data += self.normalise(head) + body


def normaliser(switch: SwitchInfo) -> Callable[[bytes], bytes]:
    hostname = re.escape(socket.gethostname().encode())
    recordings = str(switch.recordings_dir).encode() + b"/"
    rules = [
        (re.compile(rb"^(FreeSWITCH-(?:Hostname|Switchname)): " + hostname + rb"$", re.M), rb"\1: fs1"),
        (re.compile(rb"^FreeSWITCH-IPv4: .*$", re.M), b"FreeSWITCH-IPv4: 127.0.0.1"),
        (re.compile(rb"^FreeSWITCH-IPv6: .*$", re.M), b"FreeSWITCH-IPv6: %3A%3A1"),
        (re.compile(rb'"hostname":"' + hostname + rb'"'), b'"hostname":"fs1"'),
        (re.compile(re.escape(recordings)), RECORDINGS_PLACEHOLDER.encode()),
    ]

    def apply(data: bytes) -> bytes:
        for pattern, replacement in rules:
            data = pattern.sub(replacement, data)
        return data

    return apply


def subscribe(t: Transcript) -> None:
    t.step(f"auth {t.password}", Until("command/reply"))
    t.step(f"event plain {DIALER_EVENTS}", Until("command/reply"))


def originate(call: str, variables: str, dial: str) -> str:
    prefix = ",".join(v for v in (f"origination_uuid={call}", variables) if v)
    return f"bgapi originate {{{prefix}}}{dial} &park()"


def answered_park_record_bridge_kill(t: Transcript, phones: Phones) -> None:
    customer, agent = str(uuid.uuid4()), str(uuid.uuid4())
    subscribe(t)
    t.step(
        originate(customer, "dialer_attempt=42,RECORD_STEREO=true", f"sofia/trunk/{phones.speech().uri('cust')}"),
        bg_job(("CHANNEL_PARK", customer)),
    )
    t.step(
        f"api uuid_record {customer} start {phones.switch.recordings_dir}/rec_{customer}.wav",
        Until("api/response", (("RECORD_START", customer),)),
    )
    t.step(
        originate(agent, "dialer_agent=1001,park_after_bridge=true", f"sofia/agents/{phones.speech().uri('agent')}"),
        bg_job(("CHANNEL_PARK", agent)),
    )
    t.step(f"api uuid_bridge {customer} {agent}", Until("api/response", (("CHANNEL_BRIDGE", customer),)))
    time.sleep(BRIDGED_S)  # customer and agent talk; the switch sends no events meanwhile
    t.step(
        f"api uuid_kill {customer} NORMAL_CLEARING",
        Until("api/response", (("CHANNEL_DESTROY", customer), ("CHANNEL_PARK", agent))),
    )
    t.step(f"api uuid_kill {agent}", Until("api/response", (("CHANNEL_DESTROY", agent),)))


def busy(t: Transcript, phones: Phones) -> None:
    call = str(uuid.uuid4())
    subscribe(t)
    t.step(originate(call, "", f"sofia/trunk/{phones.start('uas_busy.xml').uri('b')}"), bg_job(("CHANNEL_DESTROY", call)))


def no_answer_timeout(t: Transcript, phones: Phones) -> None:
    call = str(uuid.uuid4())
    subscribe(t)
    dial = f"sofia/trunk/{phones.start('uas_no_answer.xml').uri('n')}"
    t.step(originate(call, "originate_timeout=4", dial), bg_job(("CHANNEL_DESTROY", call)))


def unreachable(t: Transcript, phones: Phones) -> None:
    call = str(uuid.uuid4())
    subscribe(t)
    dial = f"sofia/trunk/u@127.0.0.1:{free_port()}"
    t.step(originate(call, "originate_timeout=4", dial), bg_job(("CHANNEL_DESTROY", call)))


def api_replies(t: Transcript, phones: Phones) -> None:
    call = str(uuid.uuid4())
    reply = Until("api/response")
    subscribe(t)
    t.step("api no_such_command", reply)
    t.step(f"api uuid_kill {uuid.uuid4()}", reply)
    t.step(f"api uuid_bridge {uuid.uuid4()} {uuid.uuid4()}", reply)
    t.step("api status", reply)
    t.step("api show channels", reply)
    t.step("api show channels as json", reply)
    t.step(originate(call, "", f"sofia/trunk/{phones.speech().uri('c')}"), bg_job(("CHANNEL_PARK", call)))
    t.step("api show channels as json", reply)
    t.step(f"api uuid_getvar {call} origination_uuid", reply)
    t.step(f"api uuid_setvar {call} foo bar", reply)
    t.step(f"api uuid_exists {call}", reply)
    t.step(f"api uuid_broadcast {call} silence_stream://-1 aleg", Until("api/response", (("PLAYBACK_START", call),)))
    t.step(f"api uuid_break {call}", Until("api/response", (("PLAYBACK_STOP", call), ("CHANNEL_EXECUTE_COMPLETE", call))))
    t.step(f"api uuid_kill {call} USER_BUSY", Until("api/response", (("CHANNEL_DESTROY", call),)))
    t.step(f"api uuid_exists {call}", reply)


# api_replies first: it expects "show channels" to be empty, and the core database that backs
# "show channels" lists a finished call for up to ~0.5 s after its CHANNEL_DESTROY.
SCENARIOS: dict[str, Callable[[Transcript, Phones], None]] = {
    "api_replies": api_replies,
    "answered_park_record_bridge_kill": answered_park_record_bridge_kill,
    "busy": busy,
    "no_answer_timeout": no_answer_timeout,
    "unreachable": unreachable,
}


@dataclass
class Phones:
    """sipp far ends for one scenario, each in its own directory under *workdir*."""

    switch: SwitchInfo
    workdir: Path
    speech_pcap: Path
    started: list[SippAgent]

    def start(self, scenario: str, audio: Path | None = None) -> SippAgent:
        phone_dir = self.workdir / f"sipp{len(self.started)}"
        phone_dir.mkdir(parents=True)
        if audio is not None:
            (phone_dir / "audio.pcap").symlink_to(audio)
        phone = SippAgent(scenario, phone_dir)
        self.started.append(phone)
        return phone.start()

    def speech(self) -> SippAgent:
        return self.start("uas_answer.xml", self.speech_pcap)


@contextmanager
def phones_for(switch: SwitchInfo, workdir: Path, speech_pcap: Path) -> Iterator[Phones]:
    phones = Phones(switch, workdir, speech_pcap, [])
    try:
        yield phones
    finally:
        for phone in phones.started:
            phone.stop()


def record(switch: SwitchInfo, name: str, password: str, workdir: Path, speech_pcap: Path) -> bytes:
    """Run scenario *name* on a fresh Event Socket connection; return the transcript bytes."""
    transcript = Transcript(switch, normaliser(switch), password)
    with phones_for(switch, workdir, speech_pcap) as phones:
        SCENARIOS[name](transcript, phones)
        return transcript.finish()


@contextmanager
def recording_switch(binary: str, prefix: str) -> Iterator[tuple[SwitchInfo, Path, Path]]:
    """A FreeSWITCH started from freeswitch_conf/ in a temporary directory, for recording:
    yields (switch, work directory, the far end's speech pcap); stops it afterwards."""
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        base = Path(tmp)
        speech_pcap = write_rtp_pcap(speech_ulaw("Hello, who is calling?", base), base / "speech.pcap")
        process = FreeSwitchProcess(binary, base / "switch", esl_password=ESL_PASSWORD)
        switch = process.start()
        try:
            yield switch, base, speech_pcap
        finally:
            process.stop()


def record_all(binary: str, out_dir: Path, names: list[str]) -> list[Path]:
    """Start a switch, record each named scenario into out_dir/<name>.txt, stop the switch."""
    written = []
    with recording_switch(binary, "fs-transcripts") as (switch, base, speech_pcap):
        for name in names:
            path = out_dir / f"{name}.txt"
            path.write_bytes(record(switch, name, ESL_PASSWORD, base / name, speech_pcap))
            written.append(path)
    return written


def parse_transcript(data: bytes) -> list[tuple[str, str, frozenset[str]]]:
    """(kind, what, header names) per item: ("sent", command verb, {}), ("event", Event-Name,
    headers), or (Content-Type, reply text or first body line, {})."""
    items: list[tuple[str, str, frozenset[str]]] = []
    pos = 0
    while pos < len(data):
        end = data.index(b"\n\n", pos)
        head = data[pos:end].decode()
        pos = end + 2
        if head.startswith(">>> "):
            items.append(("sent", head[4:].split(" ", 1)[0], frozenset()))
            continue
        headers = dict(line.partition(": ")[::2] for line in head.splitlines())
        body = data[pos : pos + int(headers.get("Content-Length", "0"))]
        pos += len(body)
        frame = Frame(raw=b"", headers=headers, body=body)
        if event := frame.event_headers():
            items.append(("event", event["Event-Name"], frozenset(event)))
        else:
            text = headers.get("Reply-Text") or body.decode().partition("\n")[0]
            items.append((frame.content_type, re.sub(UUID_PATTERN, "<uuid>", text), frozenset()))
    return items


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="directory for the .txt transcripts")
    parser.add_argument("names", nargs="*", help=f"scenarios to record (default: all): {', '.join(SCENARIOS)}")
    args = parser.parse_args()
    unknown = [name for name in args.names if name not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(unknown)}; known: {', '.join(SCENARIOS)}")
    binary = find_freeswitch()
    if binary is None:
        raise SystemExit("no FreeSWITCH binary: set FREESWITCH_BIN or put freeswitch on PATH")
    args.out.mkdir(parents=True, exist_ok=True)
    for path in record_all(binary, args.out, args.names or list(SCENARIOS)):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
