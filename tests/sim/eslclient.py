"""A raw-socket ESL client for tests where exact bytes and ordering matter."""

from __future__ import annotations

from gevent import socket
import time

from tests.sim.transcript import Message, parse_stream


class RawEsl:
    """Send commands, read messages; everything is kept in `received` for later inspection."""

    def __init__(self, address: tuple[str, int], timeout: float = 10.0) -> None:
        self.sock = socket.create_connection(address, timeout=timeout)
        self.buffer = b""
        self.received: list[Message] = []
        self._cursor = 0
        self.closed = False

    def send(self, command: str) -> None:
        self.sock.sendall(command.encode() + b"\n\n")

    def _pump(self, deadline: float) -> bool:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or self.closed:
            return False
        self.sock.settimeout(remaining)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            return False
        if not data:
            self.closed = True
            return False
        self.buffer += data
        exchanges, self.buffer = parse_stream(self.buffer)
        self.received += exchanges[0].messages
        return True

    def next(self, predicate=lambda m: True, timeout: float = 10.0) -> Message:
        """The next unread message matching `predicate` (earlier unmatched ones stay unread)."""
        deadline = time.monotonic() + timeout
        while True:
            for index in range(self._cursor, len(self.received)):
                message = self.received[index]
                if predicate(message) and not getattr(message, "_taken", False):
                    message._taken = True
                    return message
            if not self._pump(deadline):
                raise TimeoutError("no matching message")

    def reply(self, timeout: float = 10.0) -> Message:
        return self.next(lambda m: m.content_type in ("command/reply", "api/response"), timeout)

    def command(self, command: str) -> Message:
        self.send(command)
        return self.reply()

    def events(self, count: int, timeout: float = 10.0, predicate=lambda m: True) -> list[Message]:
        return [self.next(lambda m: m.content_type.startswith("text/event") and predicate(m), timeout)
                for _ in range(count)]

    def drain(self, seconds: float) -> list[Message]:
        """Everything unread that arrives within `seconds`."""
        deadline = time.monotonic() + seconds
        while self._pump(deadline):
            pass
        out = [m for m in self.received[self._cursor:] if not getattr(m, "_taken", False)]
        for m in out:
            m._taken = True
        return out

    def read_until(self, done, timeout: float = 10.0) -> None:
        """Keep reading until `done()` holds."""
        deadline = time.monotonic() + timeout
        while not done():
            if not self._pump(deadline):
                raise TimeoutError("the condition did not hold in time")

    def close(self) -> None:
        self.sock.close()
