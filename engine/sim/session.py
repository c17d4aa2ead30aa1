"""One inbound Event Socket connection: authentication, command dispatch, and its bounded event queue."""

from __future__ import annotations

import logging
import uuid as uuidlib
from collections import deque

import gevent
from gevent.event import Event as Flag
from gevent.event import AsyncResult

from engine.sim import wire
from engine.sim.commands import run_api
from engine.sim.events import Event
from engine.sim.subscription import Subscription
from engine.sim.switch import Switch

log = logging.getLogger(__name__)
MAX_QUEUE_LEN = 100_000  # FreeSWITCH's per-listener event queue
MAX_MISSED = 500         # events a listener may lose before FreeSWITCH drops it


class EslSession:
    """Serves one client socket until it exits, fails auth, disconnects or is dropped."""

    def __init__(self, switch: Switch, sock, password: str, queue_limit: int | None = MAX_QUEUE_LEN,
                 max_missed: int = MAX_MISSED) -> None:
        self.switch = switch
        self.sock = sock
        self.password = password
        self.queue_limit = queue_limit
        self.max_missed = max_missed
        self.authed = False
        self.running = True
        self.subscription = Subscription()
        self.lost_events = 0
        self._out: deque[tuple[bytes, bool]] = deque()
        self._queued_events = 0
        self._wake = Flag()
        self._writer: gevent.Greenlet | None = None

    # ---- output -------------------------------------------------------------------------
    def send(self, data: bytes) -> None:
        """Queue a reply (never dropped)."""
        self._out.append((data, False))
        self._wake.set()

    def offer(self, event: Event) -> None:
        """Called by the switch for every fired event."""
        if not self.running or not self.subscription.wants(event):
            return
        if self.queue_limit is not None and self._queued_events >= self.queue_limit:
            self.lost_events += 1
            if self.lost_events == 1 or self.lost_events % 100 == 0:
                log.error("Event enqueue ERROR | [%s] Queue Len: %d/%d (lost %d)", event.name,
                          self._queued_events, self.queue_limit, self.lost_events)
            if self.lost_events > self.max_missed:
                log.error("Killing listener because of too many lost events. Lost [%d] Queue size[%d/%d]",
                          self.lost_events, self._queued_events, self.queue_limit)
                self.close()
            return
        self._out.append((event.encoded(self.subscription.fmt), True))
        self._queued_events += 1
        self._wake.set()

    def _write_loop(self) -> None:
        while self.running or self._out:
            if not self._out:
                self._wake.clear()
                self._wake.wait()
                continue
            chunk, events = [], 0
            while self._out and len(chunk) < 256:
                data, is_event = self._out.popleft()
                chunk.append(data)
                events += is_event
            self._queued_events -= events
            try:
                self.sock.sendall(b"".join(chunk))
            except OSError:
                self.running = False
                self._out.clear()
                return

    # ---- lifecycle ----------------------------------------------------------------------
    def serve(self) -> None:
        self.switch.subscribe(self)
        self._writer = gevent.spawn(self._write_loop)
        self.send(wire.AUTH_REQUEST)
        reader = wire.CommandReader()
        try:
            while self.running:
                data = self.sock.recv(65536)
                if not data:
                    break
                for line, extra in reader.feed(data):
                    self.handle(line, extra)
                    if not self.running:
                        break
        except (OSError, ValueError) as exc:
            log.info("ESL client dropped: %s", exc)
        finally:
            self.finish()

    def close(self) -> None:
        """Stop at once (FreeSWITCH's kill_listener): queued output is discarded."""
        self.running = False
        self._out.clear()
        self._wake.set()
        try:
            self.sock.close()
        except OSError:
            pass

    def finish(self) -> None:
        """The connection ends: a disconnect notice if we are still up, flush, close."""
        self.switch.unsubscribe(self)
        if self.running:
            self.send(wire.disconnect_notice())
        self.running = False
        self._wake.set()
        if self._writer is not None:
            self._writer.join(timeout=2)
        try:
            self.sock.close()
        except OSError:
            pass

    def _end(self, reply: str) -> None:
        """Reply, send the disconnect notice, then close (exit and failed auth)."""
        self.send(wire.command_reply(reply))
        self.send(wire.disconnect_notice())
        self.switch.unsubscribe(self)
        self.running = False
        self._wake.set()

    # ---- commands -----------------------------------------------------------------------
    def handle(self, line: str, extra: dict[str, str]) -> None:
        lower = line.lower()
        if lower.startswith(("exit", "...")):
            self._end("+OK bye")
            return
        if not self.authed:
            self._handle_unauthed(line, lower)
            return
        word, _, rest = line.partition(" ")
        word = word.lower()
        if word == "api":
            self._api(rest)
        elif word == "bgapi":
            self._bgapi(rest, extra.get("job-uuid"))
        elif word == "sendmsg":
            self.send(wire.command_reply(self._sendmsg(rest.strip() or extra.get("session-id", ""), extra)))
        else:
            self.send(wire.command_reply(self._control(word, rest)))

    def _handle_unauthed(self, line: str, lower: str) -> None:
        if lower.startswith("auth "):
            if line[5:].strip() == self.password:
                self.authed = True
                self.send(wire.command_reply("+OK accepted"))
            else:
                self._end("-ERR invalid")
        elif lower.startswith("userauth "):
            self._end("-ERR invalid")
        else:
            self.send(wire.command_reply("-ERR command not found"))

    def _control(self, word: str, rest: str) -> str:
        sub = self.subscription
        if word == "event":
            return sub.event(rest.split())
        if word == "nixevent":
            return sub.nixevent(rest.split())
        if word == "noevents":
            return sub.noevents()
        if word == "filter":
            return sub.filter(rest)
        if word == "myevents" and rest.strip():
            return sub.myevents(rest, self.switch.find(rest.split()[0]) is not None)
        if word in ("linger", "nolinger"):  # accepted as FreeSWITCH does; an inbound socket never closes on hangup
            if sub.session_uuid is None:
                return "-ERR not controlling a session"
            if word == "nolinger":
                return "+OK will not linger"
            return f"+OK will linger {rest.strip()} seconds" if rest.strip() else "+OK will linger"
        if word == "log":
            level = rest.strip() or "debug"
            return f"+OK log level {level} [7]"
        if word == "nolog":
            return "-ERR not loging"
        return "-ERR command not found"

    def _api(self, rest: str) -> None:
        name, _, arg = rest.strip().partition(" ")
        result = AsyncResult()
        run_api(self.switch, name, arg, result.set)
        self.send(wire.api_response(result.get()))

    def _bgapi(self, rest: str, job_uuid: str | None) -> None:
        name, _, arg = rest.strip().partition(" ")
        job = job_uuid or str(uuidlib.uuid4())
        self.send(wire.bgapi_reply(job))
        headers = [("Job-UUID", job), ("Job-Command", name)] + ([("Job-Command-Arg", arg)] if arg else [])

        def deliver(body: str) -> None:
            self.switch.fire(self.switch.events.plain("BACKGROUND_JOB", headers, body))

        gevent.spawn(run_api, self.switch, name, arg, deliver)

    def _sendmsg(self, uuid: str, extra: dict[str, str]) -> str:
        """`sendmsg <uuid>` with call-command hangup or execute (playback, park, hangup)."""
        channel = self.switch.find(uuid)
        if channel is None:
            return f"-ERR invalid session id [{uuid}]"
        command = extra.get("call-command", "").lower()
        if command == "hangup":
            gevent.spawn(channel.hangup, extra.get("hangup-cause", "NORMAL_CLEARING").upper())
        elif command == "execute":
            app, arg = extra.get("execute-app-name", ""), extra.get("execute-app-arg", "")
            if app == "playback":
                gevent.spawn(channel.play, arg)
            elif app == "park":
                gevent.spawn(channel.park)
            elif app == "hangup":
                gevent.spawn(channel.hangup, (arg or "NORMAL_CLEARING").upper())
            else:
                gevent.spawn(channel.execute, app, arg)
        return "+OK"
