"""ESL framing: the bytes a FreeSWITCH inbound Event Socket puts on the wire."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Sequence

Headers = Sequence[tuple[str, str]]

AUTH_REQUEST = b"Content-Type: auth/request\n\n"
DISCONNECT_TEXT = "Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n"

# Characters switch_url_encode escapes (besides control and non-ASCII bytes).
_UNSAFE = frozenset(b"\r\n \"#%&+:;<=>?@[\\]^`{|}")
_ENCODE_TABLE = [
    chr(b) if (0x20 < b < 0x7F and b not in _UNSAFE) else f"%{b:02X}" for b in range(256)
]
_ASCII_TRANSLATION = {b: _ENCODE_TABLE[b] for b in range(128) if _ENCODE_TABLE[b] != chr(b)}


_NEEDS_ENCODING = re.compile(r'[^!-~]|["#%&+:;<=>?@\[\\\]^`{|}]')


@functools.lru_cache(maxsize=1 << 16)
def url_encode(value: str) -> str:
    """Encode a header value the way FreeSWITCH does in text/event-plain (memoised: values repeat)."""
    if _NEEDS_ENCODING.search(value) is None:
        return value
    if value.isascii():
        return value.translate(_ASCII_TRANSLATION)
    return "".join(_ENCODE_TABLE[b] for b in value.encode("utf-8"))


def command_reply(text: str) -> bytes:
    """A `command/reply` with a Reply-Text header."""
    return f"Content-Type: command/reply\nReply-Text: {text}\n\n".encode()


def bgapi_reply(job_uuid: str) -> bytes:
    """The immediate reply to `bgapi`, carrying the Job-UUID twice as FreeSWITCH does."""
    return (f"Content-Type: command/reply\nReply-Text: +OK Job-UUID: {job_uuid}\n"
            f"Job-UUID: {job_uuid}\n\n").encode()


def api_response(body: str) -> bytes:
    """An `api/response` with its Content-Length body."""
    data = body.encode("utf-8")
    return b"Content-Type: api/response\nContent-Length: %d\n\n" % len(data) + data


def disconnect_notice() -> bytes:
    """The notice FreeSWITCH sends before it closes a listener's socket."""
    data = DISCONNECT_TEXT.encode()
    return b"Content-Type: text/disconnect-notice\nContent-Length: %d\n\n" % len(data) + data


def header_lines(headers: Headers) -> str:
    """`Name: value` lines with URL-encoded values."""
    return "".join([f"{name}: {url_encode(value)}\n" for name, value in headers])


def event_plain(headers: Headers, body: str | None = None, encoded_lines: str | None = None) -> bytes:
    """A `text/event-plain` message: URL-encoded headers, then an optional body.

    `encoded_lines` may carry the headers already encoded (see `header_lines`)."""
    text = encoded_lines if encoded_lines is not None else header_lines(headers)
    if body:
        raw_body = body.encode("utf-8")
        payload = (text + f"Content-Length: {len(raw_body)}\n\n").encode("utf-8") + raw_body
    else:
        payload = (text + "\n").encode("utf-8")
    return b"Content-Length: %d\nContent-Type: text/event-plain\n\n" % len(payload) + payload


def event_json(headers: Headers, body: str | None = None) -> bytes:
    """A `text/event-json` message: one JSON object, the body under `_body`."""
    obj: dict[str, str] = {}
    for name, value in headers:
        obj.setdefault(name, value)
    if body:
        obj["Content-Length"] = str(len(body.encode("utf-8")))
        obj["_body"] = body
    payload = json.dumps(obj, ensure_ascii=False).encode("utf-8")
    return b"Content-Length: %d\nContent-Type: text/event-json\n\n" % len(payload) + payload


class CommandReader:
    """Splits a client's byte stream into commands: a first line plus header lines, ended by a blank line."""

    def __init__(self, max_bytes: int = 1 << 20) -> None:
        self._buffer = b""
        self._max_bytes = max_bytes

    def feed(self, data: bytes) -> list[tuple[str, dict[str, str]]]:
        """Add bytes; return the complete commands now available (command line, extra headers)."""
        buffer = (self._buffer + data).replace(b"\r\n", b"\n")
        if buffer.endswith(b"\r"):  # a CRLF split across reads
            buffer, self._buffer = buffer[:-1], b"\r"
        else:
            self._buffer = b""
        *blocks, rest = buffer.split(b"\n\n")
        self._buffer = rest + self._buffer
        if len(self._buffer) > self._max_bytes:
            raise ValueError("command too long")
        commands = []
        for block in blocks:
            lines = block.decode("utf-8", errors="replace").split("\n")
            while lines and not lines[0].strip():
                lines.pop(0)
            if not lines:
                continue
            extra = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                extra[name.strip().lower()] = value.strip()
            commands.append((lines[0].strip(), extra))
        return commands
