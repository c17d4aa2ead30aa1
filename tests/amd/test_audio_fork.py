"""The mod_audio_fork websocket source: a loopback client plays the module's part (handshake
with its subprotocol, the metadata text message, then binary messages of L16 audio cut at
arbitrary points) and the server hands the call's 20 ms frames to the detector."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import gevent
import numpy as np
import pytest
from gevent import socket
from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Ping,
    Pong,
    RejectConnection,
    Request,
    TextMessage,
)

from engine.amd.audio_fork import (
    SUBPROTOCOL,
    AudioForkServer,
    fork_command,
    stream_name,
)
from engine.amd.frames import FRAME_SAMPLES

NAME = stream_name("1b4f7a2e-0000-4000-8000-000000000001", "dialer_amd")


class ModuleClient:
    """What mod_audio_fork does on its side of the websocket."""

    def __init__(self, server: AudioForkServer, path: str = f"/{NAME}") -> None:
        self.sock = socket.create_connection(server.address)
        self.ws = WSConnection(ConnectionType.CLIENT)
        self.sock.sendall(self.ws.send(Request(host="127.0.0.1", target=path,
                                               subprotocols=[SUBPROTOCOL])))
        self.handshake = self.receive()[0]

    def receive(self) -> list[object]:
        """The events of what the server sends next (an empty list: it closed the socket)."""
        data = self.sock.recv(65536)
        self.ws.receive_data(data or None)
        return list(self.ws.events())

    def text(self, text: str, finished: bool = True) -> None:
        self.sock.sendall(self.ws.send(TextMessage(data=text, message_finished=finished)))

    def metadata(self, name: str = NAME) -> None:
        self.text(json.dumps({"stream": name}))

    def audio(self, data: bytes) -> None:
        self.sock.sendall(self.ws.send(BytesMessage(data=data)))

    def close(self) -> list[object]:
        self.sock.sendall(self.ws.send(CloseConnection(code=1000)))
        events = self.receive()
        self.sock.close()
        return events


@pytest.fixture
def server() -> Iterator[AudioForkServer]:
    srv = AudioForkServer().start()
    yield srv
    srv.stop()


def ramp(samples: int) -> np.ndarray:
    return (np.arange(samples) * 37 % 20000 - 10000).astype(np.int16)


def test_metadata_then_binary_audio_gives_whole_frames(server: AudioForkServer) -> None:
    stream = server.expect(NAME)
    audio = ramp(FRAME_SAMPLES * 5 + 40)  # 5 frames and a partial one
    data = audio.astype("<i2").tobytes()
    client = ModuleClient(server)
    assert client.handshake == AcceptConnection(subprotocol=SUBPROTOCOL)
    client.metadata()
    assert stream.wait_connected(2)
    for start, end in [(0, 333), (333, 334), (334, 1601), (1601, len(data))]:  # odd cuts
        client.audio(data[start:end])
    closed = client.close()
    frames = list(stream.frames())
    assert closed[0].code == 1000
    assert len(frames) == 5 and all(f.dtype == np.int16 for f in frames)
    np.testing.assert_array_equal(np.concatenate(frames), audio[:FRAME_SAMPLES * 5])
    np.testing.assert_array_equal(stream.heard(), audio)
    assert stream.error is None


def test_frames_arrive_while_the_call_goes_on(server: AudioForkServer) -> None:
    stream = server.expect(NAME)
    client = ModuleClient(server)
    client.metadata()
    frames = stream.frames()
    client.audio(ramp(FRAME_SAMPLES).tobytes())
    np.testing.assert_array_equal(next(frames), ramp(FRAME_SAMPLES))  # before any close
    client.close()
    assert list(frames) == []


def test_metadata_split_over_fragments_and_later_texts_ignored(server: AudioForkServer) -> None:
    stream = server.expect(NAME)
    client = ModuleClient(server)
    text = json.dumps({"stream": NAME})
    client.text(text[:7], finished=False)
    client.text(text[7:])
    client.text('{"event": "dtmf"}')  # uuid_audio_fork ... send_text
    client.audio(ramp(FRAME_SAMPLES).tobytes())
    client.close()
    assert len(list(stream.frames())) == 1 and stream.error is None


def test_ping_is_answered(server: AudioForkServer) -> None:
    server.expect(NAME)
    client = ModuleClient(server)
    client.metadata()
    client.sock.sendall(client.ws.send(Ping(payload=b"hi")))
    assert client.receive() == [Pong(payload=b"hi")]
    client.close()


def test_unknown_path_refused_with_404(server: AudioForkServer,
                                       caplog: pytest.LogCaptureFixture) -> None:
    server.expect(NAME)
    with caplog.at_level(logging.WARNING, "engine.amd.audio_fork"):
        client = ModuleClient(server, "/someone-else/dialer_amd")
    assert isinstance(client.handshake, RejectConnection) and client.handshake.status_code == 404
    assert "path '/someone-else/dialer_amd' names no stream waiting for audio" in caplog.text


def test_second_connection_for_a_stream_refused_with_409(server: AudioForkServer) -> None:
    server.expect(NAME)
    first = ModuleClient(server)
    first.metadata()
    second = ModuleClient(server)
    assert isinstance(second.handshake, RejectConnection) and second.handshake.status_code == 409
    first.close()


@pytest.mark.parametrize(("send", "problem"), [
    (lambda c: c.text("stream=abc"), "metadata is not JSON (Expecting value at character 0)"),
    (lambda c: c.text('["stream"]'), "metadata must be a JSON object with \"stream\""),
    (lambda c: c.metadata("other/dialer_amd"), "metadata must be a JSON object with \"stream\""),
    (lambda c: c.audio(b"\x00\x01" * 160), "audio before the metadata text message"),
])
def test_malformed_stream_closed_with_a_clear_error(server: AudioForkServer, send, problem: str,  # type: ignore[no-untyped-def]
                                                    caplog: pytest.LogCaptureFixture) -> None:
    stream = server.expect(NAME)
    client = ModuleClient(server)
    with caplog.at_level(logging.WARNING, "engine.amd.audio_fork"):
        send(client)
        events = client.receive()
    assert isinstance(events[0], CloseConnection) and events[0].code == 1008
    assert problem in events[0].reason
    assert list(stream.frames()) == []
    assert stream.error is not None and problem in stream.error
    assert f"stream {NAME}: {problem}" in caplog.text


def test_not_a_websocket_gets_400(server: AudioForkServer,
                                  caplog: pytest.LogCaptureFixture) -> None:
    server.expect(NAME)
    sock = socket.create_connection(server.address)
    with caplog.at_level(logging.WARNING, "engine.amd.audio_fork"):
        sock.sendall(f"GET /{NAME} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        reply = sock.recv(4096)
    sock.close()
    assert reply.startswith(b"HTTP/1.1 400")
    assert "not a websocket" in caplog.text


def test_no_audio_within_the_timeout_ends_the_frames(server: AudioForkServer) -> None:
    stream = server.expect(NAME, timeout_s=0.05)
    client = ModuleClient(server)
    client.metadata()
    assert list(stream.frames()) == []
    client.close()


def test_never_connected(server: AudioForkServer) -> None:
    stream = server.expect(NAME, timeout_s=0.05)
    assert not stream.wait_connected(0.05)
    assert list(stream.frames()) == []


def test_stop_ends_the_frames_and_release_drops_later_audio(server: AudioForkServer) -> None:
    stream = server.expect(NAME)
    client = ModuleClient(server)
    client.metadata()
    client.audio(ramp(FRAME_SAMPLES).tobytes())
    frames = stream.frames()
    assert next(frames) is not None
    stream.stop()
    server.release(NAME)
    client.audio(ramp(FRAME_SAMPLES).tobytes())
    gevent.sleep(0.05)
    assert list(frames) == []
    assert len(stream.heard()) == FRAME_SAMPLES
    client.close()


def test_fork_command_names_bug_url_and_metadata() -> None:
    assert fork_command("u-1", "dialer_amd", "ws://127.0.0.1:9/u-1/dialer_amd") == (
        'uuid_audio_fork u-1 start ws://127.0.0.1:9/u-1/dialer_amd mono 8k dialer_amd '
        '{"stream":"u-1/dialer_amd"}')
