"""Waiting on events gathered by a greenswitch client."""

from __future__ import annotations

import gevent


def wait_for(client, predicate, timeout: float = 10.0):
    """The first event (headers) satisfying `predicate`, waiting up to `timeout` seconds."""
    with gevent.Timeout(timeout, TimeoutError(f"no such event within {timeout}s")):
        while True:
            for event in client.events:
                if predicate(event.headers):
                    return event.headers
            gevent.sleep(0.01)


def channel_events(client, uuid: str) -> list[dict[str, str]]:
    return [e.headers for e in client.events if e.headers.get("Unique-ID") == uuid]


def names(client, uuid: str) -> list[str]:
    return [h["Event-Name"] for h in channel_events(client, uuid)]


def wait_destroyed(client, uuid: str, timeout: float = 10.0) -> list[str]:
    wait_for(client, lambda h: h.get("Event-Name") == "CHANNEL_DESTROY" and h.get("Unique-ID") == uuid, timeout)
    return names(client, uuid)


def job_body(client, job_uuid: str, timeout: float = 10.0) -> str:
    """The body of the BACKGROUND_JOB for `job_uuid`, stripped (greenswitch folds it into the last header)."""
    event = wait_for(client, lambda h: h.get("Event-Name") == "BACKGROUND_JOB" and h.get("Job-UUID") == job_uuid,
                     timeout)
    return event["Content-Length"].split("\n\n", 1)[1]
