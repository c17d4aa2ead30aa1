"""`SwitchSimulator`: the TCP server a dialer connects to exactly as to FreeSWITCH's mod_event_socket."""

from __future__ import annotations

import logging
from collections.abc import Collection

import gevent
from gevent.server import StreamServer

from engine.clock import Clock, SystemClock
from engine.sim.channel import Channel
from engine.sim.inbound import call_in
from engine.sim.scenario import IncomingCall, Scenario, default_scenario
from engine.sim.session import MAX_MISSED, MAX_QUEUE_LEN, EslSession
from engine.sim.switch import ORIGINATE_RETURN_S, Switch

log = logging.getLogger(__name__)


class SwitchSimulator:
    """A simulated FreeSWITCH: `start()`, connect to `.address`, `stop()`.

    `event_queue_limit` bounds each listener's event queue like FreeSWITCH's (100,000); a
    listener that does not read loses events past it and is dropped after `max_missed` losses.
    None makes the queue unbounded. `time_scale` in the scenario speeds the world up for tests.
    `originate_return_s`: how long after an answer the originate returns (FreeSWITCH: ~20 ms);
    a `uuid_bridge` of the leg meanwhile cancels the originate. Not scaled by `time_scale`.
    """

    def __init__(self, scenario: Scenario | None = None, host: str = "127.0.0.1", port: int = 0,
                 password: str = "ClueCon", seed: int | None = None, clock: Clock | None = None,
                 event_queue_limit: int | None = MAX_QUEUE_LEN, max_missed: int = MAX_MISSED,
                 hostname: str = "sim", clip_cache: str | None = None, record_tick: float = 0.1,
                 heartbeat_seconds: float | None = 20.0, modules: Collection[str] = (),
                 originate_return_s: float = ORIGINATE_RETURN_S) -> None:
        self.scenario = scenario or default_scenario()
        self.password = password
        self.event_queue_limit = event_queue_limit
        self.max_missed = max_missed
        self.switch = Switch(self.scenario, clock or SystemClock(), seed=seed, hostname=hostname,
                             clip_cache=clip_cache, record_tick=record_tick,
                             heartbeat_seconds=heartbeat_seconds, modules=modules,
                             originate_return_s=originate_return_s)
        self.sessions: set[EslSession] = set()
        self._server = StreamServer((host, port), self._handle)
        self._scheduled: list[gevent.Greenlet] = []  # the scenario's inbound calls

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._server.address[:2]
        return host, port

    def start(self) -> SwitchSimulator:
        self.switch.media.library.warm_up()
        self._server.start()
        self._scheduled = [gevent.spawn_later(call.at, call_in, self.switch, call)
                           for call in self.scenario.inbound]
        log.info("switch simulator listening on %s:%d", *self.address)
        return self

    def call_in(self, call: IncomingCall) -> Channel:
        """A customer calls into the switch now (see ``engine.sim.inbound``)."""
        return call_in(self.switch, call)

    def stop(self) -> None:
        """Stop listening, drop every client, hang up every call."""
        self._server.stop(timeout=1)
        gevent.killall(self._scheduled, block=False)
        for session in list(self.sessions):
            session.close()
        self.switch.close()

    def __enter__(self) -> SwitchSimulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _handle(self, sock, address) -> None:
        session = EslSession(self.switch, sock, self.password, self.event_queue_limit, self.max_missed)
        self.sessions.add(session)
        try:
            session.serve()
        finally:
            self.sessions.discard(session)
