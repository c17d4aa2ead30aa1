"""A minimal blocking Event Socket client that keeps every frame's raw bytes.

Used to stop the test switch and to record wire transcripts; the smoke tests use greenswitch.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from urllib.parse import unquote


@dataclass(frozen=True)
class Frame:
    """One frame as the switch sent it: header block, blank line, optional body."""

    raw: bytes
    headers: dict[str, str]
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "")

    def event_headers(self) -> dict[str, str]:
        """Headers of a ``text/event-plain`` body, URL-decoded (empty for other frames)."""
        if self.content_type != "text/event-plain":
            return {}
        head = self.body.split(b"\n\n", 1)[0].decode()
        return {k: unquote(v) for k, _, v in (line.partition(": ") for line in head.splitlines())}

    def event_body(self) -> str:
        """The text after an event's own blank line, e.g. a BACKGROUND_JOB result."""
        parts = self.body.split(b"\n\n", 1)
        return parts[1].decode() if len(parts) == 2 else ""


class RawEsl:
    """Blocking inbound Event Socket connection that reads whole frames."""

    def __init__(self, host: str, port: int, timeout_s: float = 10.0) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout_s)
        self._reader = self.sock.makefile("rb")

    def send(self, command: str) -> bytes:
        """Send one command; return the exact bytes written."""
        data = f"{command}\n\n".encode()
        self.sock.sendall(data)
        return data

    def read_frame(self) -> Frame:
        head = b""
        while True:
            line = self._reader.readline()
            if not line:
                raise ConnectionError("Event Socket closed the connection")
            head += line
            if line == b"\n":
                break
        headers = dict(line.partition(": ")[::2] for line in head.decode().splitlines() if line)
        length = int(headers.get("Content-Length", "0"))
        body = self._reader.read(length) if length else b""
        return Frame(raw=head + body, headers=headers, body=body)

    def close(self) -> None:
        self._reader.close()
        self.sock.close()


def esl_api(host: str, port: int, password: str, command: str, timeout_s: float = 10.0) -> str:
    """Run one blocking ``api`` command on a fresh connection; return the reply body."""
    conn = RawEsl(host, port, timeout_s)
    try:
        conn.read_frame()
        conn.send(f"auth {password}")
        reply = conn.read_frame()
        if reply.headers.get("Reply-Text") != "+OK accepted":
            raise ConnectionError(f"Event Socket refused the password: {reply.headers.get('Reply-Text')}")
        conn.send(f"api {command}")
        while True:
            frame = conn.read_frame()
            if frame.content_type == "api/response":
                return frame.body.decode()
    finally:
        conn.close()
