"""Reading ESL byte streams: the recorded FreeSWITCH transcripts and live simulator sockets alike."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

REPO = Path(__file__).resolve().parents[2]
_STARTS = (b">>> ", b"Content-Type: ", b"Content-Length: ")


@dataclass
class Message:
    """One server message: its envelope headers, body, and (for events) the decoded event headers."""

    headers: dict[str, str]
    body: bytes = b""
    event: list[tuple[str, str]] = field(default_factory=list)
    event_body: str = ""

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "")

    @property
    def name(self) -> str | None:
        return dict(self.event).get("Event-Name") if self.event else None

    def get(self, header: str) -> str | None:
        return dict(self.event).get(header)


@dataclass
class Exchange:
    """A client command and every server message until the next command."""

    command: str | None
    messages: list[Message]


def transcripts_dir(folder: str = "freeswitch") -> Path:
    """tests/fixtures/<folder>; for the shared reference set also ../shared/freeswitch-transcripts
    (from the repository root) or $DIALER_FS_TRANSCRIPTS."""
    candidates = [REPO / "tests" / "fixtures" / folder]
    if folder == "freeswitch":
        candidates += [REPO.parent / "shared" / "freeswitch-transcripts",
                       Path(os.environ.get("DIALER_FS_TRANSCRIPTS", "/nonexistent"))]
    for candidate in candidates:
        if candidate.is_dir() and any(candidate.glob("*.txt")):
            return candidate
    raise FileNotFoundError(f"no FreeSWITCH transcripts found for {folder}")


def parse_event(payload: bytes) -> tuple[list[tuple[str, str]], str]:
    """A text/event-plain payload: URL-decoded headers in order, then the body after Content-Length."""
    head, _, rest = payload.partition(b"\n\n")
    headers = []
    for line in head.decode().split("\n"):
        if line:
            name, _, value = line.partition(": ")
            headers.append((name, unquote(value)))
    return headers, rest.decode()


def _resync(data: bytes, pos: int) -> int:
    """The transcripts' hostnames were normalised after capture, so some Content-Lengths are off
    by a few bytes: snap to the nearest message start."""
    if pos >= len(data) or any(data.startswith(s, pos) for s in _STARTS):
        return pos
    for delta in range(1, 80):
        for q in (pos - delta, pos + delta):
            if 0 < q < len(data) and any(data.startswith(s, q) for s in _STARTS):
                return q
    return pos


def parse_stream(data: bytes, tolerant: bool = False) -> tuple[list[Exchange], bytes]:
    """Split a byte stream into exchanges; returns the unparsed tail (an incomplete message)."""
    exchanges = [Exchange(None, [])]
    i = 0
    while i < len(data):
        if data.startswith(b">>> ", i):
            end = data.index(b"\n", i)
            exchanges.append(Exchange(data[i + 4:end].decode(), []))
            i = end + 1
            while data.startswith(b"\n", i):
                i += 1
            continue
        end = data.find(b"\n\n", i)
        if end < 0:
            break
        envelope = dict(line.split(": ", 1) for line in data[i:end].decode().split("\n"))
        start = end + 2
        length = int(envelope.get("Content-Length", 0))
        if envelope.get("Content-Type", "").startswith("text/event-plain"):
            head_end = data.find(b"\n\n", start)
            if head_end < 0:
                break
            inner = re.search(rb"^Content-Length: (\d+)$", data[start:head_end], re.M)
            stop = (head_end + 2 + int(inner.group(1))) if inner else head_end + 2
            if not tolerant:
                stop = start + length
        else:
            stop = _resync(data, start + length) if tolerant else start + length
        if stop > len(data):
            break
        message = Message(envelope, data[start:stop])
        if message.content_type == "text/event-plain":
            message.event, message.event_body = parse_event(message.body)
        exchanges[-1].messages.append(message)
        i = stop
    return exchanges, data[i:]


def load_transcript(name: str, folder: str = "freeswitch") -> list[Exchange]:
    return parse_stream((transcripts_dir(folder) / name).read_bytes(), tolerant=True)[0]
