"""One inbound Event Socket connection per switch node, kept up with reconnects.

greenswitch speaks the wire protocol; this module adds what a dialer needs on top:
timeouts on every command, per-value URL decoding of events, a reader greenlet
that only parses and enqueues (a listener that falls behind is dropped by
FreeSWITCH), ``bgapi`` results correlated by Job-UUID, failing every waiting
command when the socket dies, and reconnects with exponential backoff and jitter
followed by an ``on_connected`` hook (reconciliation).
"""

from __future__ import annotations

import logging
import random
import time
import uuid as uuidlib
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import gevent
import gevent.event
import gevent.lock
import gevent.queue
import gevent.socket
from greenswitch.esl import InboundESL, NotConnectedError

from engine.config import SwitchNode

from .event import Event, EventParseError, parse_event

log = logging.getLogger(__name__)

# The events the engine acts on (calls.py, agents.py handlers); nothing else is subscribed.
ENGINE_EVENTS: tuple[str, ...] = (
    "CHANNEL_PROGRESS", "CHANNEL_PROGRESS_MEDIA", "CHANNEL_ANSWER", "CHANNEL_BRIDGE",
    "CHANNEL_HANGUP", "CHANNEL_EXECUTE_COMPLETE", "DTMF", "BACKGROUND_JOB",
    "CHANNEL_PARK",  # inbound callbacks parked by freeswitch_conf (engine/runner/inbound.py)
)


class SwitchError(RuntimeError):
    """The switch answered ``-ERR ...``; the message carries the command and the reply."""


class SwitchUnavailable(NotConnectedError):
    """The node is not connected now, or the connection died while waiting."""


@dataclass
class Backoff:
    """Exponential backoff with equal jitter: the n-th retry waits in [d/2, d], d = base*2^n."""

    base_s: float = 0.5
    cap_s: float = 30.0
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, failures: int) -> float:
        ceiling = min(self.cap_s, self.base_s * (2 ** min(failures, 30)))
        return ceiling / 2 + self.rng.uniform(0, ceiling / 2)


@dataclass(frozen=True)
class PendingJob:
    """A ``bgapi`` sent and not yet confirmed."""

    job_id: str
    command: str
    sent: gevent.event.AsyncResult  # the command reply
    result: gevent.event.AsyncResult  # the BACKGROUND_JOB body


class _Protocol(InboundESL):
    """greenswitch's inbound protocol with our event parser and fail-fast on disconnect."""

    def __init__(self, node: SwitchNode, sink: Callable[[Event], None], timeout: float) -> None:
        super().__init__(node.host, node.port, node.password, timeout=timeout)
        self._sink = sink
        self._send_lock = gevent.lock.Semaphore()
        self.lost = gevent.event.Event()
        self.sock = None

    def open(self) -> None:
        """Connect, wait for the auth request and authenticate, all within the timeout."""
        self.sock = gevent.socket.create_connection((self.host, self.port), timeout=self.timeout)
        self.sock.settimeout(None)
        self.sock_file = self.sock.makefile("rb")
        self.connected = True
        self._receive_events_greenlet = gevent.spawn(self.receive_events)
        if not self._auth_request_event.wait(self.timeout) or not self.connected:
            raise SwitchUnavailable(f"{self.host}:{self.port} sent no auth request")
        reply = self.request(f"auth {self.password}").get(timeout=self.timeout)
        if reply.headers.get("Reply-Text", "") != "+OK accepted":
            raise SwitchError(f"{self.host}:{self.port} refused the password")

    def request(self, data: str) -> gevent.event.AsyncResult:
        """Send one command; the result is the reply frame (replies come back in order)."""
        if not self.connected:
            raise SwitchUnavailable(f"{self.host}:{self.port} is not connected")
        result = gevent.event.AsyncResult()
        with self._send_lock:
            self._commands_sent.append(result)
            self.sock.sendall((data + "\n\n").encode("utf-8"))
        return result

    def handle_event(self, event) -> None:  # type: ignore[no-untyped-def]
        if event.headers.get("Content-Type") == "text/event-plain":
            payload = self._read_exactly(int(event.headers["Content-Length"]))
            try:
                self._sink(parse_event(payload, time.monotonic()))
            except EventParseError as exc:  # the frame was read whole: the stream stays in step
                log.error("%s:%s sent a malformed event: %s", self.host, self.port, exc)
        else:
            super().handle_event(event)

    def _read_exactly(self, length: int) -> bytes:
        data = self.sock_file.read(length)
        while len(data) < length:
            more = self.sock_file.read(length - len(data))
            if not more:
                raise ConnectionError("socket closed inside an event")
            data += more
        return data

    def receive_events(self) -> None:
        try:
            super().receive_events()
        except Exception:  # a malformed frame: drop the connection, reconnect cleanly
            log.exception("ESL reader of %s:%s failed", self.host, self.port)
        finally:
            self.connected = False
            pending, self._commands_sent = self._commands_sent, []
            for result in pending:
                result.set_exception(SwitchUnavailable("connection lost"))
            self._auth_request_event.set()
            self.lost.set()

    def close(self) -> None:
        self._run = False
        self.connected = False
        if self.sock is not None:
            self.sock.close()


class SwitchConnection:
    """A supervised connection to one node.

    ``handler(connection, event)`` runs in one dispatcher greenlet, in event order.
    ``on_connected(connection)`` runs after every (re)connect and subscription;
    events that arrive meanwhile stay queued and are dispatched after it returns,
    so reconciliation sees no event it could miss or race with.
    """

    def __init__(
        self, node: SwitchNode, handler: Callable[[SwitchConnection, Event], None], *,
        on_connected: Callable[[SwitchConnection], None] | None = None,
        events: Iterable[str] = ENGINE_EVENTS, backoff: Backoff | None = None,
        timeout_s: float = 5.0,
    ) -> None:
        self.node = node
        self._handler = handler
        self._on_connected = on_connected
        self._events = tuple(events)
        self._backoff = backoff or Backoff()
        self._timeout = timeout_s
        self._queue: gevent.queue.Queue[Event | None] = gevent.queue.Queue()
        self._jobs: dict[str, gevent.event.AsyncResult] = {}
        self._early_jobs: OrderedDict[str, Event] = OrderedDict()
        self._protocol: _Protocol | None = None
        self._up = gevent.event.Event()
        self._dispatch_open = gevent.event.Event()
        self._stopping = False
        self._greenlets: list[gevent.Greenlet] = []
        self.connects = 0  # successful connections so far (1 = first, 2+ = reconnects)

    @property
    def name(self) -> str:
        return self.node.name

    @property
    def is_up(self) -> bool:
        """Connected, subscribed and reconciled (``on_connected`` has returned)."""
        return self._up.is_set()

    def start(self) -> None:
        self._greenlets = [gevent.spawn(self._supervise), gevent.spawn(self._dispatch)]

    def stop(self) -> None:
        self._stopping = True
        if self._protocol is not None:
            self._protocol.close()
        self._queue.put(None)
        self._dispatch_open.set()
        gevent.killall(self._greenlets, timeout=self._timeout)
        self._up.clear()

    @property
    def backlog(self) -> int:
        """Events read but not yet handled."""
        return self._queue.qsize()

    def wait_up(self, timeout: float | None = None) -> bool:
        return self._up.wait(timeout)

    def drop(self) -> None:
        """Close the socket as a network failure would; the supervisor reconnects."""
        if self._protocol is not None:
            self._protocol.close()

    # --- commands -------------------------------------------------------------------------

    def _protocol_or_raise(self) -> _Protocol:
        protocol = self._protocol
        if protocol is None or not protocol.connected:
            raise SwitchUnavailable(f"switch {self.name} is not connected")
        return protocol

    def api(self, command: str, timeout: float | None = None) -> str:
        """Run ``api COMMAND``; return the reply body; ``-ERR`` raises SwitchError."""
        return self._api_body(command, self.api_send(command), timeout)

    def api_send(self, command: str) -> gevent.event.AsyncResult:
        """Send ``api COMMAND`` now without waiting; pass the result to ``api_result``."""
        return self._protocol_or_raise().request(f"api {command}")

    def api_result(self, command: str, sent: gevent.event.AsyncResult,
                   timeout: float | None = None) -> str:
        """Wait for the reply of an ``api_send`` (as ``api`` does)."""
        return self._api_body(command, sent, timeout)

    def _api_body(self, command: str, sent: gevent.event.AsyncResult,
                  timeout: float | None) -> str:
        frame = sent.get(timeout=timeout or self._timeout)
        body = (getattr(frame, "data", "") or "").strip()
        if body.startswith(("-ERR", "-USAGE")):
            raise SwitchError(f"{self.name}: api {command.split()[0]}: {body}")
        return body

    def bgapi(self, command: str) -> gevent.event.AsyncResult:
        """Run ``bgapi COMMAND``; the returned result gets the BACKGROUND_JOB body."""
        return self.bgapi_confirm(self.bgapi_send(command))

    def bgapi_send(self, command: str) -> PendingJob:
        """Send ``bgapi COMMAND`` now; ``bgapi_confirm`` waits for the switch to accept it.

        Sending several before confirming any pipelines them on the socket. The engine
        proposes the Job-UUID (FreeSWITCH honours a ``Job-UUID`` header); if the switch
        chose its own, the reply's id is used instead.
        """
        protocol = self._protocol_or_raise()
        job_id = str(uuidlib.uuid4())
        result = gevent.event.AsyncResult()
        self._jobs[job_id] = result
        try:
            sent = protocol.request(f"bgapi {command}\nJob-UUID: {job_id}")
        except BaseException:
            self._jobs.pop(job_id, None)
            raise
        return PendingJob(job_id, command, sent, result)

    def bgapi_confirm(self, pending: PendingJob) -> gevent.event.AsyncResult:
        """The switch's acceptance of a sent ``bgapi``; ``-ERR`` raises SwitchError."""
        try:
            frame = pending.sent.get(timeout=self._timeout)
        except BaseException:
            self._jobs.pop(pending.job_id, None)
            raise
        reply = frame.headers.get("Reply-Text", "")
        if not reply.startswith("+OK"):
            self._jobs.pop(pending.job_id, None)
            raise SwitchError(f"{self.name}: bgapi {pending.command.split()[0]}: {reply}")
        actual = frame.headers.get("Job-UUID") or reply.rpartition(" ")[2]
        if actual and actual != pending.job_id and pending.job_id in self._jobs:
            self._jobs[actual] = self._jobs.pop(pending.job_id)
        early = self._early_jobs.pop(actual, None)
        if early is not None:
            self._resolve_job(early)
        return pending.result

    # --- internals ------------------------------------------------------------------------

    def _resolve_job(self, event: Event) -> None:
        result = self._jobs.pop(event.job_uuid or "", None)
        if result is not None:
            result.set(event.body)
            return
        self._early_jobs[event.job_uuid or ""] = event  # its bgapi reply is still on the way
        while len(self._early_jobs) > 256:  # other clients' jobs: keep only the newest
            self._early_jobs.popitem(last=False)

    def _dispatch(self) -> None:
        while True:
            event = self._queue.get()
            if event is None:
                return
            self._dispatch_open.wait()
            if event.name == "BACKGROUND_JOB":
                self._resolve_job(event)
                continue
            try:
                self._handler(self, event)
            except Exception:
                log.exception("handler failed on %s for %s", event.name, event.unique_id)

    def _supervise(self) -> None:
        failures = 0
        while not self._stopping:
            try:
                self._connect()
            except (OSError, NotConnectedError, SwitchError, gevent.Timeout) as exc:
                delay = self._backoff.delay(failures)
                failures += 1
                log.warning("switch %s: %s; retrying in %.1f s", self.name, exc, delay)
                gevent.sleep(delay)
                continue
            failures = 0
            assert self._protocol is not None
            self._protocol.lost.wait()
            self._up.clear()
            self._dispatch_open.clear()
            if not self._stopping:
                for job_id in list(self._jobs):
                    self._jobs.pop(job_id).set_exception(SwitchUnavailable("connection lost"))
                delay = self._backoff.delay(0)  # a switch that just dropped us may be restarting
                log.warning("switch %s: connection lost; reconnecting in %.2f s", self.name, delay)
                gevent.sleep(delay)

    def _connect(self) -> None:
        if self._protocol is not None:
            self._protocol.close()
        protocol = _Protocol(self.node, self._queue.put, self._timeout)
        self._protocol = protocol
        try:
            protocol.open()
            reply = protocol.request("event plain " + " ".join(self._events)).get(
                timeout=self._timeout)
            if not reply.headers.get("Reply-Text", "").startswith("+OK"):
                raise SwitchError(f"switch {self.name} refused the event subscription")
        except BaseException:
            protocol.close()
            raise
        self.connects += 1
        log.info("switch %s: connected (%s:%s)", self.name, self.node.host, self.node.port)
        try:
            if self._on_connected is not None:
                self._on_connected(self)
        except Exception:
            log.exception("switch %s: on_connected hook failed", self.name)
        finally:
            self._dispatch_open.set()
            self._up.set()
