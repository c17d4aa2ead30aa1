"""Frames streamed by FreeSWITCH's mod_audio_fork to a loopback websocket server.

``uuid_audio_fork <uuid> start ws://127.0.0.1:<port>/<uuid>/<bug> mono 8k <bug>
{"stream":"<uuid>/<bug>"}`` makes a switch with the (separately built) module attach a media
bug named ``<bug>`` (one call may have two: ringing and answered), open a websocket to that
path, send the JSON metadata as one text message, then what the customer says as binary
messages of 16-bit little-endian 8 kHz samples, each holding whatever its sender thread had
buffered (not whole 20 ms frames). `AudioForkServer` accepts the connections of the streams it
was told to `expect`; `ForkStream.frames()` yields a stream's 20 ms frames as they arrive, the
way `engine.amd.source.RawTailer` does for a recording.

A connection that breaks the protocol (not a websocket handshake, a path that names no
expected stream, metadata that is not a JSON object naming the stream, audio before the
metadata) is refused or closed, and the problem is logged and kept in ``ForkStream.error``.
The websocket protocol itself is wsproto's; sockets and waiting are gevent's.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Iterator

import gevent
import gevent.event
import gevent.queue
import numpy as np
from gevent.server import StreamServer
from wsproto import ConnectionType, WSConnection
from wsproto.connection import ConnectionState
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Ping,
    RejectConnection,
    Request,
    TextMessage,
)
from wsproto.frame_protocol import CloseReason
from wsproto.utilities import RemoteProtocolError

from engine.amd.frames import FRAME_BYTES, split_frames

log = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"
SUBPROTOCOL = "audio.drachtio.org"  # what the module asks for unless told otherwise
RECV_BYTES = 65536


class AudioForkError(ValueError):
    """A connection that does not speak mod_audio_fork's protocol (the message says how);
    ``status`` is the HTTP status that refuses it while the handshake is not yet accepted."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def stream_name(uuid: str, bug: str) -> str:
    """A stream's name: its path on the server and the ``stream`` of its metadata."""
    return f"{uuid}/{bug}"


def fork_command(uuid: str, bug: str, url: str) -> str:
    """The api command that streams the customer's audio (mono, 8 kHz) of ``uuid`` to ``url``
    through a media bug named ``bug``."""
    metadata = json.dumps({"stream": stream_name(uuid, bug)}, separators=(",", ":"))
    return f"uuid_audio_fork {uuid} start {url} mono 8k {bug} {metadata}"


class ForkStream:
    """One stream: bytes in from the connection, 20 ms frames out to the detector."""

    def __init__(self, name: str, timeout_s: float = 1.0) -> None:
        self.name = name
        self.timeout_s = timeout_s  # no audio for this long: the call ended or the stream stalled
        self.connected = gevent.event.Event()  # the metadata has arrived
        self.error: str | None = None
        self._queue: gevent.queue.Queue[bytes | None] = gevent.queue.Queue()
        self._heard = bytearray()
        self._ended = False

    def feed(self, data: bytes) -> None:
        if not self._ended:
            self._queue.put(data)

    def end(self, error: str | None = None) -> None:
        """No more audio: the connection closed, broke the protocol (``error``), or stop()."""
        if error is not None and self.error is None:
            self.error = error
        if not self._ended:
            self._ended = True
            self._queue.put(None)

    def stop(self) -> None:
        """End the iteration after the frames already received (e.g. when the call hangs up)."""
        self.end()

    def wait_connected(self, timeout_s: float) -> bool:
        """True once the switch has connected and sent its metadata within ``timeout_s``."""
        return self.connected.wait(timeout_s)

    def frames(self) -> Iterator[np.ndarray]:
        """Yield frames as they arrive, until the end or ``timeout_s`` without audio."""
        pending = b""
        while True:
            try:
                chunk = self._queue.get(timeout=self.timeout_s)
            except gevent.queue.Empty:
                return
            if chunk is None:
                return
            self._heard += chunk
            pending += chunk
            usable = len(pending) // FRAME_BYTES * FRAME_BYTES
            yield from split_frames(np.frombuffer(pending[:usable], dtype="<i2").astype(np.int16))
            pending = pending[usable:]

    def heard(self) -> np.ndarray:
        """All the audio that frames() has read so far (kept for AMD review samples)."""
        usable = len(self._heard) // 2 * 2
        return np.frombuffer(bytes(self._heard[:usable]), dtype="<i2").astype(np.int16)


class AudioForkServer:
    """A websocket server on loopback taking the mod_audio_fork streams it expects."""

    def __init__(self, host: str = LOOPBACK, port: int = 0) -> None:
        self._server = StreamServer((host, port), self._serve)
        self._streams: dict[str, ForkStream] = {}
        self._attached: set[str] = set()  # streams whose connection is open

    def start(self) -> AudioForkServer:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop(timeout=1)
        for stream in self._streams.values():
            stream.end()

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._server.address[:2]
        return host, port

    def url(self, name: str) -> str:
        host, port = self.address
        return f"ws://{host}:{port}/{name}"

    def expect(self, name: str, timeout_s: float = 1.0) -> ForkStream:
        """A stream that the switch's connection to ``/<name>`` will feed."""
        stream = self._streams[name] = ForkStream(name, timeout_s)
        return stream

    def release(self, name: str) -> None:
        """Forget the stream: it ends, later audio of its connection is dropped."""
        stream = self._streams.pop(name, None)
        if stream is not None:
            stream.end()

    def attach(self, name: str) -> ForkStream:
        """The expected stream of a connection to ``/<name>``; one connection per stream."""
        stream = self._streams.get(name)
        if stream is None:
            raise AudioForkError(f"path '/{name}' names no stream waiting for audio", 404)
        if name in self._attached:
            raise AudioForkError(f"stream {name} is already connected", 409)
        self._attached.add(name)
        return stream

    def detach(self, name: str) -> None:
        self._attached.discard(name)

    def expects(self, stream: ForkStream) -> bool:
        """Whether ``stream`` is still wanted (not released)."""
        return self._streams.get(stream.name) is stream

    # --- one connection -------------------------------------------------------------------

    def _serve(self, sock, address) -> None:  # type: ignore[no-untyped-def]
        peer = f"{address[0]}:{address[1]}"
        session = _Session(self, WSConnection(ConnectionType.SERVER))
        try:
            while session.ws.state is not ConnectionState.CLOSED:
                data = sock.recv(RECV_BYTES)
                session.ws.receive_data(data or None)
                for event in session.ws.events():
                    sock.sendall(session.handle(event))
                if not data:
                    break
        except AudioForkError as exc:
            log.warning("audio fork connection from %s: %s", peer, exc)
            session.fail(str(exc))
            _send_quietly(sock, session.refusal(exc))
        except RemoteProtocolError as exc:
            log.warning("audio fork connection from %s: not a websocket: %s", peer, exc)
            session.fail(f"not a websocket: {exc}")
            if exc.event_hint is not None:
                _send_quietly(sock, session.ws.send(exc.event_hint))
        except OSError as exc:
            session.fail(f"connection lost: {exc}")
        finally:
            session.finish()
            sock.close()


class _Session:
    """The state of one websocket connection: handshake, metadata, then audio."""

    def __init__(self, server: AudioForkServer, ws: WSConnection) -> None:
        self.server = server
        self.ws = ws
        self.stream: ForkStream | None = None
        self.name: str | None = None
        self.metadata = False
        self._text = ""

    def handle(self, event: object) -> bytes:
        """Act on one websocket event; the bytes to send back."""
        if isinstance(event, Request):
            return self._accept(event)
        if isinstance(event, TextMessage):
            self._text += event.data
            if event.message_finished:
                text, self._text = self._text, ""
                self._on_text(text)
            return b""
        if isinstance(event, BytesMessage):
            if not self.metadata:
                raise AudioForkError(f"stream {self.name}: audio before the metadata text message")
            if self.stream is not None and self.server.expects(self.stream):
                self.stream.feed(bytes(event.data))
            return b""
        if isinstance(event, Ping):
            return self.ws.send(event.response())
        if isinstance(event, CloseConnection) and self.ws.state is ConnectionState.REMOTE_CLOSING:
            return self.ws.send(event.response())
        return b""

    def _accept(self, request: Request) -> bytes:
        name = request.target.strip("/")
        self.stream = self.server.attach(name)
        self.name = name
        subprotocol = SUBPROTOCOL if SUBPROTOCOL in request.subprotocols else None
        return self.ws.send(AcceptConnection(subprotocol=subprotocol))

    def _on_text(self, text: str) -> None:
        if self.metadata:  # a later send_text / final stop text: not audio, nothing to do
            log.debug("stream %s: audio fork text %r", self.name, text[:200])
            return
        try:
            metadata = json.loads(text)
        except json.JSONDecodeError as exc:
            raise AudioForkError(f"stream {self.name}: metadata is not JSON ({exc.msg} at "
                                 f"character {exc.pos}): {text[:80]!r}") from None
        if not isinstance(metadata, dict) or metadata.get("stream") != self.name:
            raise AudioForkError(f"stream {self.name}: metadata must be a JSON object with "
                                 f"\"stream\": {self.name!r}, got {text[:80]!r}")
        self.metadata = True
        assert self.stream is not None
        self.stream.connected.set()

    def refusal(self, error: AudioForkError) -> bytes:
        """What ends a connection that broke the protocol: an HTTP status before the handshake
        is accepted, a websocket close (policy violation) after."""
        if self.ws.state is ConnectionState.CONNECTING:
            return self.ws.send(RejectConnection(status_code=error.status, has_body=False))
        if self.ws.state is ConnectionState.OPEN:
            return self.ws.send(CloseConnection(code=CloseReason.POLICY_VIOLATION,
                                                reason=str(error)[:120]))
        return b""

    def fail(self, error: str) -> None:
        if self.stream is not None:
            self.stream.end(error)

    def finish(self) -> None:
        if self.name is not None:
            self.server.detach(self.name)
        if self.stream is not None:
            self.stream.end()


def _send_quietly(sock, data: bytes) -> None:  # type: ignore[no-untyped-def]
    """Send a last message to a peer that may already be gone."""
    try:
        sock.sendall(data)
    except OSError:
        pass


@functools.cache
def shared_server() -> AudioForkServer:
    """The process's one server, started on a free loopback port on first use."""
    return AudioForkServer().start()
