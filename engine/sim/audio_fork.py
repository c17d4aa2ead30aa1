"""`uuid_audio_fork`: mod_audio_fork's stream of a leg's audio to a websocket, for a simulated
switch that has the module loaded (``SwitchSimulator(modules=("mod_audio_fork",))``).

Like the module (drachtio-freeswitch-modules, its README and replies): ``start`` answers
``+OK Success`` at once and connects afterwards, asking for the ``audio.drachtio.org``
subprotocol; it sends the metadata (when given) as one text message, then what the leg sends us
as binary 16-bit little-endian messages, until ``stop`` or the hangup closes the websocket. One
stream per media bug name (default ``audio_fork``). The simulator knows ``start`` and ``stop``
and streams ``mono`` at 8 kHz only; other actions, mixes and rates are refused with
``-ERR Operation Failed``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import gevent
from gevent import socket
from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Request,
    TextMessage,
)

from engine.sim.channel import Phase

if TYPE_CHECKING:
    from engine.sim.channel import Channel
    from engine.sim.switch import Switch

log = logging.getLogger(__name__)

MODULE = "mod_audio_fork"
DEFAULT_BUG = "audio_fork"
SUBPROTOCOL = "audio.drachtio.org"
USAGE = ("-USAGE: <uuid> [start | stop | send_text | pause | resume | graceful-shutdown ] "
         "[wss-url | path] [mono | mixed | stereo] [8000 | 16000 | 24000 | 32000 | 64000] "
         "[bugname] [metadata]\n")
OK, FAILED = "+OK Success\n", "-ERR Operation Failed\n"


class AudioForker:
    """One media bug: connects to ``url`` and sends the leg's received audio every ``tick``;
    it leaves ``forks`` (the switch's, by (uuid, bug)) when its websocket closes."""

    def __init__(self, channel: Channel, bug: str, url: str, metadata: str | None, tick: float,
                 forks: dict[tuple[str, str], AudioForker]) -> None:
        self.channel = channel
        self.key = (channel.uuid, bug)
        self.url = urlsplit(url)
        self.metadata = metadata
        self.tick = tick
        self._forks = forks
        self._forks[self.key] = self
        self._stopping = False
        self._greenlet = gevent.spawn(self._run)

    def stop(self) -> None:
        """Close the websocket after the audio so far (``uuid_audio_fork stop`` or hangup)."""
        self._stopping = True

    def _run(self) -> None:
        try:
            self._connect_and_stream()
        finally:
            if self._forks.get(self.key) is self:
                del self._forks[self.key]

    def _connect_and_stream(self) -> None:
        try:
            sock = socket.create_connection((self.url.hostname, self.url.port or 80), timeout=5)
        except OSError as exc:
            log.warning("%s %s: cannot connect to %s: %s", MODULE, self.channel.uuid,
                        self.url.geturl(), exc)
            return
        ws = WSConnection(ConnectionType.CLIENT)
        try:
            sock.sendall(ws.send(Request(host=self.url.netloc, target=self.url.path or "/",
                                         subprotocols=[SUBPROTOCOL])))
            ws.receive_data(sock.recv(65536) or None)
            if not any(isinstance(event, AcceptConnection) for event in ws.events()):
                log.warning("%s %s: %s refused the websocket", MODULE, self.channel.uuid,
                            self.url.geturl())
                return
            if self.metadata:
                sock.sendall(ws.send(TextMessage(data=self.metadata)))
            self._stream(sock, ws)
            sock.sendall(ws.send(CloseConnection(code=1000)))
        except OSError as exc:
            log.warning("%s %s: stream to %s broke: %s", MODULE, self.channel.uuid,
                        self.url.geturl(), exc)
        finally:
            sock.close()

    def _stream(self, sock: socket.socket, ws: WSConnection) -> None:
        media = self.channel.media
        position = media.now()
        while True:
            done = self._stopping or self.channel.phase is Phase.HUNGUP
            end = media.now()
            if end > position:
                samples = media.audio.render_received(position, end)
                sock.sendall(ws.send(BytesMessage(data=samples.astype("<i2").tobytes())))
                position = end
            if done:
                return
            gevent.sleep(self.tick)


def uuid_audio_fork(switch: Switch, arg: str) -> str:
    """The api command, as the module parses it: ``<uuid> start <url> <mix> <rate> [bug]
    [metadata]`` (a 6th word starting with ``{`` or ``[`` is metadata) or ``<uuid> stop [bug]``."""
    argv = arg.split(" ", 6)
    if len(argv) < 2 or (argv[1] == "start" and len(argv) < 4):
        return USAGE
    channel = switch.find(argv[0])
    if channel is None:
        return FAILED
    action = argv[1].lower()
    if action == "stop":
        bug = argv[2] if len(argv) > 2 and argv[2][:1] not in ("{", "[") else DEFAULT_BUG
        forker = switch.audio_forks.pop((channel.uuid, bug), None)
        if forker is None:
            return FAILED
        forker.stop()
        return OK
    if action != "start" or len(argv) < 5:
        return FAILED
    bug, metadata = DEFAULT_BUG, None
    if len(argv) > 6:
        bug, metadata = argv[5], argv[6]
    elif len(argv) > 5:
        bug, metadata = (DEFAULT_BUG, argv[5]) if argv[5][:1] in ("{", "[") else (argv[5], None)
    ringing_with_media = channel.phase is Phase.RINGING and channel.call_state == "EARLY"
    if (argv[3], argv[4]) not in (("mono", "8k"), ("mono", "8000")) \
            or urlsplit(argv[2]).scheme not in ("ws", "wss") \
            or (channel.phase not in (Phase.ANSWERED, Phase.BRIDGED) and not ringing_with_media) \
            or (channel.uuid, bug) in switch.audio_forks:
        return FAILED
    AudioForker(channel, bug, argv[2], metadata, switch.record_tick, switch.audio_forks)
    return OK
