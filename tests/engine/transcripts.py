"""Real FreeSWITCH 1.11.1 Event Socket transcripts (tests/fixtures/freeswitch): split into
what the client sent and what the switch sent, and the events in order.

The capture normalised host names after the fact, so the switch's Content-Length values
are a few bytes off; frames are therefore cut where the next frame starts, and
``wire`` re-frames them with true lengths for a replaying server.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from engine.switch.event import Event, parse_event

FIXTURES = Path(__file__).parent.parent / "fixtures" / "freeswitch"
_COMMAND = re.compile(rb">>> ([^\n]*)\n\n")


@dataclass(frozen=True)
class Transcript:
    commands: list[str]  # what the client sent, in order
    chunks: list[bytes]  # chunks[0] before the first command; chunks[i+1] after commands[i]


def load(name: str) -> Transcript:
    raw = (FIXTURES / name).read_bytes()
    commands, chunks, start = [], [], 0
    for match in _COMMAND.finditer(raw):
        chunks.append(raw[start:match.start()])
        commands.append(match.group(1).decode())
        start = match.end()
    chunks.append(raw[start:])
    return Transcript(commands, chunks)


_FRAME_START = re.compile(
    rb"(?:(?<=\n)|^)(?:Content-Length: \d+\n)?Content-Type: (?:auth/request|command/reply|"
    rb"api/response|text/event-plain|text/disconnect-notice)\n")


def frames(data: bytes) -> list[tuple[dict[str, str], bytes]]:
    """Split switch output into (outer headers, payload) frames."""
    starts = [m.start() for m in _FRAME_START.finditer(data)] + [len(data)]
    out = []
    for start, end in zip(starts, starts[1:]):
        head_end = data.index(b"\n\n", start)
        headers = dict(line.split(": ", 1)
                       for line in data[start:head_end].decode().split("\n"))
        out.append((headers, data[head_end + 2:end] if "Content-Length" in headers else b""))
    return out


def wire(data: bytes) -> bytes:
    """The switch output re-framed with true Content-Length values."""
    out = b""
    for headers, payload in frames(data):
        if "Content-Length" in headers:
            headers["Content-Length"] = str(len(payload))
        out += "".join(f"{k}: {v}\n" for k, v in headers.items()).encode() + b"\n" + payload
    return out


def events(name: str) -> list[Event]:
    """Every text/event-plain event of a transcript, parsed, in order."""
    transcript = load(name)
    return [parse_event(payload)
            for chunk in transcript.chunks for headers, payload in frames(chunk)
            if headers.get("Content-Type") == "text/event-plain"]
