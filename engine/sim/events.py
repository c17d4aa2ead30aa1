"""Events as FreeSWITCH builds them: core headers, channel and caller-profile headers, variables."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from engine.clock import Clock
from engine.sim import wire

if TYPE_CHECKING:
    from engine.sim.channel import Channel

# Event name -> (Event-Calling-File, Event-Calling-Function, Event-Calling-Line-Number), as 1.11.1.
CALLING_SITES: dict[str, tuple[str, str, int]] = {
    "CHANNEL_OUTGOING": ("switch_core_session.c", "switch_core_session_outgoing_channel", 768),
    "CHANNEL_CREATE": ("switch_core_state_machine.c", "switch_core_session_run", 626),
    "CHANNEL_PROGRESS": ("switch_channel.c", "switch_channel_perform_mark_ring_ready_value", 3507),
    "CHANNEL_PROGRESS_MEDIA": ("switch_channel.c", "switch_channel_perform_mark_pre_answered", 3692),
    "CHANNEL_ANSWER": ("switch_channel.c", "switch_channel_perform_mark_answered", 3848),
    "CHANNEL_EXECUTE": ("switch_core_session.c", "switch_core_session_exec", 2949),
    "CHANNEL_EXECUTE_COMPLETE": ("switch_core_session.c", "switch_core_session_exec", 2972),
    "CHANNEL_PARK": ("switch_ivr.c", "switch_ivr_park", 1002),
    "CHANNEL_BRIDGE": ("switch_ivr_bridge.c", "switch_ivr_multi_threaded_bridge", 1689),
    "CHANNEL_UNBRIDGE": ("switch_ivr_bridge.c", "switch_ivr_multi_threaded_bridge", 1879),
    "CHANNEL_HANGUP": ("switch_channel.c", "switch_channel_perform_hangup", 3447),
    "CHANNEL_HANGUP_COMPLETE": ("switch_core_state_machine.c", "switch_core_session_reporting_state", 943),
    "CHANNEL_DESTROY": ("switch_core_session.c", "switch_core_session_perform_destroy", 1588),
    "PLAYBACK_START": ("switch_ivr_play_say.c", "switch_ivr_play_file", 1649),
    "PLAYBACK_STOP": ("switch_ivr_play_say.c", "switch_ivr_play_file", 2023),
    "RECORD_START": ("switch_ivr_async.c", "record_callback", 1482),
    "RECORD_STOP": ("switch_ivr_async.c", "send_record_stop_event", 1241),
    "DTMF": ("switch_channel.c", "switch_channel_dequeue_dtmf", 693),
    "BACKGROUND_JOB": ("mod_event_socket.c", "api_exec", 1569),
    "HEARTBEAT": ("switch_core.c", "send_heartbeat", 104),
}

PROFILE_TIMES = ("Profile-Created-Time", "Channel-Created-Time", "Channel-Answered-Time",
                 "Channel-Progress-Time", "Channel-Progress-Media-Time", "Channel-Hangup-Time",
                 "Channel-Transfer-Time", "Channel-Resurrect-Time", "Channel-Bridged-Time",
                 "Channel-Last-Hold", "Channel-Hold-Accum")


@dataclass(slots=True)
class Event:
    """One fired event; serialised lazily and at most once per format."""

    name: str
    headers: list[tuple[str, str]]  # the headers before the channel variables
    body: str | None = None
    channel_uuid: str | None = None
    subclass: str | None = None
    variables: dict[str, str] | None = None  # a snapshot, sent as `variable_*` after `headers`
    extra: list[tuple[str, str]] = field(default_factory=list)  # event-specific, sent last
    plain_lines: str | None = None  # all headers already URL-encoded, when the builder had them
    _wire: dict[str, bytes] = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key == name:
                return value
        if self.variables and name.startswith("variable_") and name[9:] in self.variables:
            return self.variables[name[9:]]
        for key, value in self.extra:
            if key == name:
                return value
        return None

    def all_headers(self) -> list[tuple[str, str]]:
        """Every header in wire order."""
        variables = [(f"variable_{k}", v) for k, v in self.variables.items()] if self.variables else []
        return self.headers + variables + self.extra

    def encoded(self, fmt: str) -> bytes:
        """The message for a listener in `plain` or `json` format."""
        cached = self._wire.get(fmt)
        if cached is None:
            if fmt == "json":
                cached = wire.event_json(self.all_headers(), self.body)
            else:
                cached = wire.event_plain(self.all_headers() if self.plain_lines is None else [],
                                          self.body, self.plain_lines)
            self._wire[fmt] = cached
        return cached


def micros(moment: datetime) -> int:
    """Microseconds since the epoch, FreeSWITCH's time unit."""
    return int(moment.timestamp() * 1_000_000)


class EventFactory:
    """Stamps events with the switch's identity, the date and a global sequence number."""

    def __init__(self, clock: Clock, core_uuid: str, hostname: str) -> None:
        self.clock = clock
        self.core_uuid = core_uuid
        self.hostname = hostname
        self._sequence = itertools.count(1)
        self._date_second = -1
        self._date_texts = ("", "")

    def _dates(self, now: datetime) -> tuple[str, str]:
        second = int(now.timestamp())
        if second != self._date_second:
            self._date_second = second
            self._date_texts = (now.strftime("%Y-%m-%d %H:%M:%S"), now.strftime("%a, %d %b %Y %H:%M:%S GMT"))
        return self._date_texts

    def core_headers(self, name: str) -> list[tuple[str, str]]:
        now = self.clock.now().astimezone(timezone.utc)
        local, gmt = self._dates(now)
        calling_file, function, line = CALLING_SITES.get(name, ("switch_event.c", "switch_event_fire", 0))
        return [
            ("Event-Name", name), ("Core-UUID", self.core_uuid),
            ("FreeSWITCH-Hostname", self.hostname), ("FreeSWITCH-Switchname", self.hostname),
            ("FreeSWITCH-IPv4", "127.0.0.1"), ("FreeSWITCH-IPv6", "::1"),
            ("Event-Date-Local", local), ("Event-Date-GMT", gmt),
            ("Event-Date-Timestamp", str(micros(now))),
            ("Event-Calling-File", calling_file), ("Event-Calling-Function", function),
            ("Event-Calling-Line-Number", str(line)),
            ("Event-Sequence", str(next(self._sequence))),
        ]

    def plain(self, name: str, extra: list[tuple[str, str]], body: str | None = None) -> Event:
        """A non-channel event (BACKGROUND_JOB, HEARTBEAT, ...)."""
        return Event(name, self.core_headers(name) + extra, body)

    def channel(self, name: str, channel: Channel, extra: list[tuple[str, str]] | None = None,
                leading_cause: bool = False) -> Event:
        """A channel event: core, channel, profile, other-leg, variables, then event-specific headers."""
        headers = self.core_headers(name)
        if leading_cause:
            headers.append(("Hangup-Cause", channel.hangup_cause or "NONE"))
        headers += channel_headers(channel)
        lines = wire.header_lines(headers) + channel.encoded_variables()
        if extra:
            lines += wire.header_lines(extra)
        return Event(name, headers, channel_uuid=channel.uuid, variables=dict(channel.variables),
                     extra=extra or [], plain_lines=lines)


def profile_headers(prefix: str, channel: Channel, with_index: bool) -> list[tuple[str, str]]:
    """The caller-profile block (`Caller-*` or `Other-Leg-*`)."""
    p = channel.profile
    out = [(f"{prefix}-Direction", channel.direction),
           (f"{prefix}-Logical-Direction", p.logical_direction)]
    if p.caller_id_name is not None:
        out.append((f"{prefix}-Caller-ID-Name", p.caller_id_name))
    out += [(f"{prefix}-Caller-ID-Number", p.caller_id_number),
            (f"{prefix}-Orig-Caller-ID-Number", p.orig_caller_id_number)]
    if p.callee_id_name is not None:
        out.append((f"{prefix}-Callee-ID-Name", p.callee_id_name))
    out.append((f"{prefix}-Callee-ID-Number", p.callee_id_number))
    if p.network_addr is not None:
        out.append((f"{prefix}-Network-Addr", p.network_addr))
    out += [(f"{prefix}-ANI", p.ani), (f"{prefix}-Destination-Number", p.destination_number),
            (f"{prefix}-Unique-ID", channel.uuid), (f"{prefix}-Source", "src/switch_ivr_originate.c")]
    if p.transfer_source is not None and with_index:
        out.append((f"{prefix}-Transfer-Source", p.transfer_source))
    out += [(f"{prefix}-Context", "default"), (f"{prefix}-Channel-Name", channel.name)]
    if with_index:
        out.append((f"{prefix}-Profile-Index", str(p.index)))
    out += [(f"{prefix}-{key}", str(p.times.get(key, 0))) for key in PROFILE_TIMES]
    out += [(f"{prefix}-Screen-Bit", "true"), (f"{prefix}-Privacy-Hide-Name", "false"),
            (f"{prefix}-Privacy-Hide-Number", "false")]
    return out


def channel_headers(channel: Channel) -> list[tuple[str, str]]:
    """Channel-*, Answer-State, Hangup-Cause, codec, Caller-* and Other-Leg-* headers."""
    out = [
        ("Channel-State", channel.state), ("Channel-Call-State", channel.call_state),
        ("Channel-State-Number", str(channel.state_number)), ("Channel-Name", channel.name),
        ("Unique-ID", channel.uuid), ("Call-Direction", channel.direction),
        ("Presence-Call-Direction", channel.direction),
        ("Channel-HIT-Dialplan", "true" if channel.hit_dialplan else "false"),
        ("Channel-Call-UUID", channel.call_uuid), ("Answer-State", channel.answer_state),
    ]
    if channel.hangup_cause:
        out.append(("Hangup-Cause", channel.hangup_cause))
    if channel.codec_ready:
        out += [("Channel-Read-Codec-Name", "PCMA"), ("Channel-Read-Codec-Rate", "8000"),
                ("Channel-Read-Codec-Bit-Rate", "64000"), ("Channel-Write-Codec-Name", "PCMA"),
                ("Channel-Write-Codec-Rate", "8000"), ("Channel-Write-Codec-Bit-Rate", "64000")]
    out += profile_headers("Caller", channel, with_index=True)
    other = channel.other_leg
    if other is not None:
        out.append(("Other-Type", channel.other_type))
        out += profile_headers("Other-Leg", other, with_index=False)
    return out
