"""A parsed Event Socket event (``text/event-plain``), with URL-decoded header values.

Parsing is on the engine's hot path: a FreeSWITCH event carries 100-250 headers and
the engine reads a handful. So a well-formed block (as many ``": "`` as lines, no
empty value: values are URL-encoded, so the separator is the only one) is kept as
text, a header is found when it is read and URL-decoded then (``EncodedHeaders``);
the block is split into all its headers only when something iterates them. Any other
block is split and checked line by line at once, and a line that is not a header
raises ``EventParseError`` naming it. (A block where one value carries a raw ``": "``
and another line none passes the count: its bad line is then ignored, not named.)
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from urllib.parse import unquote

_VAR_PREFIX = "variable_"


def _decode(raw: str) -> str:
    return unquote(raw) if "%" in raw else raw


class EncodedHeaders(Mapping[str, str]):
    """Header values as the switch sent them (URL-encoded), decoded on each read.

    Built from a block of ``Name: value`` lines; a header is looked up in the text
    (the last line of that name wins, as in a dict) until the headers are iterated,
    which splits the block once. ``index`` gives them already split.
    """

    __slots__ = ("_index", "_text")

    def __init__(self, block: str, index: dict[str, str] | None = None) -> None:
        self._text = f"\n{block}\n"
        self._index = index

    def _raw(self, name: str) -> str | None:
        if self._index is not None:
            return self._index.get(name)
        key = f"\n{name}: "
        at = self._text.rfind(key)
        if at < 0:
            return None
        start = at + len(key)
        return self._text[start:self._text.index("\n", start)]

    def _all(self) -> dict[str, str]:
        if self._index is None:
            self._index = split_headers(self._text[1:-1])
        return self._index

    def __getitem__(self, name: str) -> str:
        raw = self._raw(name)
        if raw is None:
            raise KeyError(name)
        return _decode(raw)

    def get(self, name: str, default: str | None = None) -> str | None:  # type: ignore[override]
        raw = self._raw(name)
        return default if raw is None else _decode(raw)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._raw(name) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())

    def __repr__(self) -> str:
        return f"EncodedHeaders({dict(self)!r})"


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


def split_headers(block: str) -> dict[str, str]:
    """Split ``Name: url-encoded value`` lines into ``name -> raw value`` (not decoded).

    Values are decoded one by one on reading (``EncodedHeaders``), never the whole
    block, so values that contain encoded newlines or ``": "`` (SDP,
    ``Job-Command-Arg``) stay in one piece. A later header of the same name wins.
    """
    lines = block.split("\n")
    parts = [line.partition(": ") for line in lines]
    fast = {name: value for name, sep, value in parts if sep}
    if len(fast) == len(parts):  # the usual case: every line a header, no name twice
        return fast
    headers: dict[str, str] = {}
    for number, (line, (name, sep, value)) in enumerate(zip(lines, parts), start=1):
        if sep:
            headers[name] = value
        elif line.endswith(":"):  # a header with an empty value
            headers[line[:-1]] = ""
        elif line.strip():
            raise EventParseError(f"event header line {number} has no ': ': {line[:80]!r}")
    return headers


def parse_event(raw: bytes, received_mono: float = 0.0) -> Event:
    """Parse the payload of a ``text/event-plain`` frame: headers, blank line, optional body."""
    head, _, rest = raw.partition(b"\n\n")
    block = head.decode("utf-8", "replace")
    well_formed = block.count("\n") + 1 == block.count(": ") and ":\n" not in f"{block}\n"
    headers = EncodedHeaders(block, None if well_formed else split_headers(block))
    length = headers.get("Content-Length")
    body = rest[: int(length)] if length and length.isdigit() else rest
    return Event(headers=headers, body=body.decode("utf-8", "replace"),
                 received_mono=received_mono)
