"""The lazily decoding event parser against a plain reference parse of every recorded event."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import pytest

from engine.switch.event import (
    EncodedHeaders,
    EventParseError,
    parse_event,
    split_headers,
)

from .transcripts import frames

FIXTURES = Path(__file__).parent.parent / "fixtures"
TRANSCRIPTS = sorted((FIXTURES / "freeswitch").glob("*.txt")) + sorted(
    (FIXTURES / "freeswitch-recorded").glob("*.txt"))
_COMMAND = re.compile(rb">>> [^\n]*\n\n")  # a line the client sent


def reference(raw: bytes) -> tuple[dict[str, str], str]:
    """Every header decoded at once, line by line: what the engine parsed before."""
    head, _, rest = raw.partition(b"\n\n")
    headers = {}
    for line in head.decode("utf-8", "replace").split("\n"):
        name, sep, value = line.partition(": ")
        if sep:
            headers[name] = unquote(value)
        elif line.endswith(":"):
            headers[line[:-1]] = ""
    length = headers.get("Content-Length")
    body = rest[: int(length)] if length and length.isdigit() else rest
    return headers, body.decode("utf-8", "replace")


def payloads(path: Path) -> list[bytes]:
    """The text/event-plain payloads of a transcript, what the client sent left out."""
    return [payload for chunk in _COMMAND.split(path.read_bytes())
            for headers, payload in frames(chunk)
            if headers.get("Content-Type") == "text/event-plain"]


def test_every_transcript_has_events() -> None:
    assert len(TRANSCRIPTS) >= 5
    assert sum(len(payloads(path)) for path in TRANSCRIPTS) > 50


@pytest.mark.parametrize("path", TRANSCRIPTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_equivalent_to_decoding_everything(path: Path) -> None:
    for raw in payloads(path):
        expected_headers, expected_body = reference(raw)
        event = parse_event(raw)
        assert dict(event.headers) == expected_headers
        assert list(event.headers) == list(expected_headers)
        assert event.body == expected_body
        for name, value in expected_headers.items():
            assert event.get(name) == value and event.headers[name] == value
        assert dict(event.variables) == {
            name.removeprefix("variable_"): value for name, value in expected_headers.items()
            if name.startswith("variable_")}


@pytest.mark.parametrize("split", [False, True], ids=["looked-up", "split"])
def test_values_are_decoded_on_reading(split: bool) -> None:
    block = "A: x%20y\nB: plain\nC: \nAB: z\nA: last"
    headers = EncodedHeaders(block, split_headers(block) if split else None)
    assert headers["A"] == "last" and headers.get("B") == "plain" and headers.get("C") == ""
    assert headers["AB"] == "z" and headers.get("b") is None  # whole names, case kept
    assert headers.get("missing") is None and headers.get("missing", "d") == "d"
    assert "A" in headers and "missing" not in headers and 1 not in headers
    with pytest.raises(KeyError):
        headers["missing"]
    assert list(headers) == ["A", "B", "C", "AB"] and len(headers) == 4


def test_empty_values_repeated_headers_and_trailing_blank_line() -> None:
    event = parse_event(b"Event-Name: DTMF\nDTMF-Digit: 1\nEmpty:\nDTMF-Digit: %23\n \n\nbody")
    assert event.name == "DTMF"
    assert event.get("DTMF-Digit") == "#"  # a later header of the same name wins
    assert event.get("Empty") == ""
    assert event.body == "body"


def test_a_malformed_line_after_good_ones_is_named() -> None:
    with pytest.raises(EventParseError, match=r"line 3 .*'garbage'"):
        parse_event(b"Event-Name: CHANNEL_ANSWER\nUnique-ID: u1\ngarbage\n\n")


def test_a_value_with_a_raw_separator_is_split_line_by_line() -> None:
    event = parse_event(b"Event-Name: CUSTOM\nEvent-Subclass: a: b\nEmpty:\n\n")
    assert event.name == "a: b" and event.get("Empty") == ""
