"""A TCP server that replays a real switch's side of a transcript, one chunk per command."""

from __future__ import annotations

import gevent
from gevent.server import StreamServer

from .transcripts import Transcript, wire

CLOSE = None  # a chunk that closes the socket instead of answering


class ReplayServer:
    def __init__(self, transcript: Transcript) -> None:
        self.chunks: list[bytes | None] = list(transcript.chunks)
        self.received: list[str] = []
        self.connections = 0
        self._sockets: list = []  # type: ignore[type-arg]
        self._server = StreamServer(("127.0.0.1", 0), self._handle)

    def start(self) -> ReplayServer:
        self._server.start()
        return self

    @property
    def port(self) -> int:
        return self._server.server_port

    def stop(self) -> None:
        self.drop_all()
        self._server.stop()

    def drop_all(self) -> None:
        """Close every client socket, as a crashed switch or a broken network would."""
        for sock in self._sockets:
            try:
                sock.close()
            except OSError:
                pass
        self._sockets.clear()

    def _handle(self, sock, _address) -> None:  # type: ignore[no-untyped-def]
        self.connections += 1
        self._sockets.append(sock)
        reader = sock.makefile("rb")
        sock.sendall(wire(self.chunks[0]))  # type: ignore[arg-type]
        for chunk in self.chunks[1:]:
            command = self._read_command(reader)
            if command is None:
                return
            self.received.append(command)
            if chunk is CLOSE:
                sock.close()
                return
            sock.sendall(wire(chunk))
        while self._read_command(reader) is not None:  # past the script: stay silent
            gevent.sleep(0)

    @staticmethod
    def _read_command(reader) -> str | None:  # type: ignore[no-untyped-def]
        lines = []
        while True:
            try:
                line = reader.readline()
            except OSError:
                return None
            if not line:
                return None
            if line == b"\n":
                if lines:
                    return "".join(lines)
                continue
            lines.append(line.decode())
