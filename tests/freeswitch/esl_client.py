"""A plain greenswitch inbound client plus an event log the smoke tests wait on."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import gevent
import greenswitch

from tests.freeswitch.switch import SwitchInfo

# The events a dialer engine subscribes to (same list as the shared transcripts).
DIALER_EVENTS = (
    "CHANNEL_CREATE CHANNEL_OUTGOING CHANNEL_PROGRESS CHANNEL_PROGRESS_MEDIA CHANNEL_ANSWER CHANNEL_PARK "
    "CHANNEL_EXECUTE CHANNEL_EXECUTE_COMPLETE CHANNEL_BRIDGE CHANNEL_UNBRIDGE CHANNEL_HANGUP "
    "CHANNEL_HANGUP_COMPLETE CHANNEL_DESTROY RECORD_START RECORD_STOP PLAYBACK_START PLAYBACK_STOP "
    "BACKGROUND_JOB DTMF"
)

Headers = dict[str, str]


class DialerEsl:
    """greenswitch InboundESL subscribed to DIALER_EVENTS, keeping every event's headers in order."""

    def __init__(self, info: SwitchInfo, password: str | None = None) -> None:
        self.client = greenswitch.InboundESL(info.host, info.esl_port, password or info.esl_password)
        self.events: list[Headers] = []

    def connect(self) -> DialerEsl:
        self.client.connect()
        self.client.register_handle("*", lambda event: self.events.append(dict(event.headers)))
        reply = self.client.send(f"event plain {DIALER_EVENTS}")
        assert reply.data == "+OK event listener enabled plain", reply.data
        return self

    def close(self) -> None:
        self.client.stop()

    def api(self, command: str) -> str:
        return self.client.send(f"api {command}").data

    def bgapi(self, command: str) -> str:
        """Send ``bgapi``; return the Job-UUID from the command/reply."""
        reply = self.client.send(f"bgapi {command}")
        assert reply.data.startswith("+OK Job-UUID: "), reply.data
        return reply.headers["Job-UUID"]

    def originate_parked(self, variables: str, dial_string: str) -> str:
        """``bgapi originate {origination_uuid=...,<variables>}<dial_string> &park()``; wait for +OK
        and CHANNEL_PARK; return the channel uuid."""
        call = str(uuid.uuid4())
        prefix = ",".join(v for v in (f"origination_uuid={call}", variables) if v)
        job = self.bgapi(f"originate {{{prefix}}}{dial_string} &park()")
        result = self.job_result(job)
        assert result == f"+OK {call}", result
        self.wait_event("CHANNEL_PARK", call)
        return call

    def job_result(self, job_uuid: str, timeout_s: float = 20.0) -> str:
        """The body of the BACKGROUND_JOB event for *job_uuid* (e.g. ``+OK <uuid>``, ``-ERR USER_BUSY``).

        greenswitch folds an event's body into its last header (Content-Length) after a blank line.
        """
        event = self.wait_for(lambda e: e.get("Event-Name") == "BACKGROUND_JOB" and e.get("Job-UUID") == job_uuid, timeout_s)
        return event["Content-Length"].partition("\n\n")[2].strip()

    def wait_event(self, name: str, uuid: str, timeout_s: float = 20.0, after: int = 0, **headers: str) -> Headers:
        """First event *name* of channel *uuid* at index >= *after* whose headers include *headers*."""

        def matches(event: Headers) -> bool:
            return (
                event.get("Event-Name") == name
                and event.get("Unique-ID") == uuid
                and all(event.get(k) == v for k, v in headers.items())
            )

        return self.wait_for(matches, timeout_s, after)

    def wait_for(self, predicate: Callable[[Headers], bool], timeout_s: float, after: int = 0) -> Headers:
        deadline = time.monotonic() + timeout_s
        while True:
            for event in self.events[after:]:
                if predicate(event):
                    return event
            if time.monotonic() > deadline:
                names = [(e.get("Event-Name"), e.get("Unique-ID")) for e in self.events[after:]]
                raise TimeoutError(f"no matching event within {timeout_s} s; saw {names}")
            gevent.sleep(0.02)

    def names_for(self, uuid: str) -> list[str]:
        """Event names received so far for channel *uuid*, in order."""
        return [e["Event-Name"] for e in self.events if e.get("Unique-ID") == uuid]
