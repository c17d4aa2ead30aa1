"""A parsed Event Socket event (``text/event-plain``), with URL-decoded header values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from urllib.parse import unquote

_VAR_PREFIX = "variable_"


@dataclass(frozen=True)
class Event:
    """One event: its headers (values decoded) and its body (e.g. a BACKGROUND_JOB result)."""

    headers: Mapping[str, str]
    body: str = ""
    received_mono: float = 0.0  # when the engine read it off the socket (monotonic seconds)

    @property
    def variables(self) -> Mapping[str, str]:
        """Channel variables (``variable_*`` headers) without the prefix."""
        return MappingProxyType({
            key[len(_VAR_PREFIX):]: value
            for key, value in self.headers.items()
            if key.startswith(_VAR_PREFIX)
        })

    @property
    def name(self) -> str:
        """``Event-Name``; for CUSTOM events the subclass (``sofia::register``)."""
        name = self.headers.get("Event-Name", "")
        return self.headers.get("Event-Subclass", name) if name == "CUSTOM" else name

    @property
    def unique_id(self) -> str | None:
        """The channel the event is about (``Unique-ID``), if any."""
        return self.headers.get("Unique-ID")

    @property
    def job_uuid(self) -> str | None:
        return self.headers.get("Job-UUID")

    @property
    def other_leg(self) -> str | None:
        """The far leg of a bridge (``Other-Leg-Unique-ID``)."""
        return self.headers.get("Other-Leg-Unique-ID")

    @property
    def hangup_cause(self) -> str | None:
        return self.headers.get("Hangup-Cause") or self.var("hangup_cause")

    @property
    def sip_code(self) -> int | None:
        """The final SIP status of the leg (``sip_term_status``), when the switch gave one."""
        raw = self.var("sip_term_status") or self.var("sip_invite_failure_status")
        return int(raw) if raw and raw.isdigit() else None

    @property
    def timestamp_us(self) -> int | None:
        """The switch's own time of the event, microseconds since the epoch."""
        raw = self.headers.get("Event-Date-Timestamp", "")
        return int(raw) if raw.isdigit() else None

    def get(self, header: str, default: str | None = None) -> str | None:
        return self.headers.get(header, default)

    def var(self, name: str, default: str | None = None) -> str | None:
        """A channel variable by its name without the ``variable_`` prefix."""
        return self.headers.get(_VAR_PREFIX + name, default)


class EventParseError(ValueError):
    """An event block that is not ``Name: value`` lines; the message quotes the bad line."""


def parse_headers(block: str) -> dict[str, str]:
    """Parse ``Name: url-encoded value`` lines; decode each value separately.

    Decoding per value (not the whole block) keeps values that contain encoded
    newlines or ``": "`` (SDP, ``Job-Command-Arg``) in one piece.
    """
    headers: dict[str, str] = {}
    for number, line in enumerate(block.split("\n"), start=1):
        name, sep, value = line.partition(": ")
        if sep:
            headers[name] = unquote(value) if "%" in value else value
        elif line.endswith(":"):  # a header with an empty value
            headers[line[:-1]] = ""
        elif line.strip():
            raise EventParseError(f"event header line {number} has no ': ': {line[:80]!r}")
    return headers


def parse_event(raw: bytes, received_mono: float = 0.0) -> Event:
    """Parse the payload of a ``text/event-plain`` frame: headers, blank line, optional body."""
    head, _, rest = raw.partition(b"\n\n")
    headers = parse_headers(head.decode("utf-8", "replace"))
    length = headers.get("Content-Length")
    body = rest[: int(length)] if length and length.isdigit() else rest
    return Event(headers=headers, body=body.decode("utf-8", "replace"),
                 received_mono=received_mono)
