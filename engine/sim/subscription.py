"""Which events a listener gets: `event`, `nixevent`, `noevents`, `filter`, `myevents`, as FreeSWITCH decides."""

from __future__ import annotations

import re

from engine.sim.events import Event

EVENT_NAMES = frozenset("""
CUSTOM CLONE CHANNEL_CREATE CHANNEL_DESTROY CHANNEL_STATE CHANNEL_CALLSTATE CHANNEL_ANSWER
CHANNEL_HANGUP CHANNEL_HANGUP_COMPLETE CHANNEL_EXECUTE CHANNEL_EXECUTE_COMPLETE CHANNEL_HOLD
CHANNEL_UNHOLD CHANNEL_BRIDGE CHANNEL_UNBRIDGE CHANNEL_PROGRESS CHANNEL_PROGRESS_MEDIA
CHANNEL_OUTGOING CHANNEL_PARK CHANNEL_UNPARK CHANNEL_APPLICATION CHANNEL_ORIGINATE CHANNEL_UUID API
LOG INBOUND_CHAN OUTBOUND_CHAN STARTUP SHUTDOWN PUBLISH UNPUBLISH TALK NOTALK SESSION_CRASH
MODULE_LOAD MODULE_UNLOAD DTMF MESSAGE PRESENCE_IN NOTIFY_IN PRESENCE_OUT PRESENCE_PROBE
MESSAGE_WAITING MESSAGE_QUERY ROSTER CODEC BACKGROUND_JOB DETECTED_SPEECH DETECTED_TONE
PRIVATE_COMMAND HEARTBEAT TRAP ADD_SCHEDULE DEL_SCHEDULE EXE_SCHEDULE RE_SCHEDULE RELOADXML NOTIFY
PHONE_FEATURE PHONE_FEATURE_SUBSCRIBE SEND_MESSAGE RECV_MESSAGE REQUEST_PARAMS CHANNEL_DATA GENERAL
COMMAND SESSION_HEARTBEAT CLIENT_DISCONNECTED SERVER_DISCONNECTED SEND_INFO RECV_INFO
RECV_RTCP_MESSAGE SEND_RTCP_MESSAGE CALL_SECURE NAT RECORD_START RECORD_STOP PLAYBACK_START
PLAYBACK_STOP CALL_UPDATE FAILURE SOCKET_DATA MEDIA_BUG_START MEDIA_BUG_STOP CONFERENCE_DATA_QUERY
CONFERENCE_DATA CALL_SETUP_REQ CALL_SETUP_RESULT CALL_DETAIL DEVICE_STATE TEXT SHUTDOWN_REQUESTED ALL
""".split())

MYEVENTS = frozenset("""
CHANNEL_ANSWER CHANNEL_APPLICATION CHANNEL_BRIDGE CHANNEL_CREATE CHANNEL_DATA CHANNEL_DESTROY
CHANNEL_EXECUTE CHANNEL_EXECUTE_COMPLETE CHANNEL_HANGUP CHANNEL_HANGUP_COMPLETE CHANNEL_ORIGINATE
CHANNEL_UUID CHANNEL_OUTGOING CHANNEL_PARK CHANNEL_PROGRESS CHANNEL_PROGRESS_MEDIA CHANNEL_STATE
CHANNEL_UNBRIDGE CHANNEL_UNPARK DETECTED_SPEECH DTMF NOTALK TALK
""".split())


def event_name(word: str) -> str | None:
    """FreeSWITCH's switch_name_event: a known name (case-insensitive, optional SWITCH_EVENT_ prefix)."""
    name = word.upper().removeprefix("SWITCH_EVENT_")
    return name if name in EVENT_NAMES else None


class Subscription:
    """One listener's event selection and filters."""

    def __init__(self) -> None:
        self.enabled = False
        self.fmt = "plain"
        self.names: set[str] = set()
        self.subclasses: set[str] = set()
        self.filters: list[tuple[str, str]] = []
        self.session_uuid: str | None = None

    # ---- commands ------------------------------------------------------------------------
    @staticmethod
    def _keywords(words: list[str]) -> list[tuple[str, str]]:
        """("event", NAME) for known event names, then ("custom", subclass) for words after CUSTOM."""
        out, custom = [], False
        for word in words:
            if custom:
                out.append(("custom", word))
                continue
            name = event_name(word)
            if name is not None:
                out.append(("event", name))
                custom = name == "CUSTOM"
        return out

    def event(self, words: list[str]) -> str:
        """`event [plain|json|xml] NAME ... [CUSTOM sub ...]`."""
        if words and words[0].lower() in ("plain", "json", "xml"):
            self.fmt = words[0].lower()
            words = words[1:]
        keywords = self._keywords(words)
        if not any(kind == "event" for kind, _ in keywords):
            return "-ERR no keywords supplied"
        for kind, value in keywords:
            if kind == "custom":
                self.subclasses.add(value)
            elif value == "ALL":
                self.names |= EVENT_NAMES
            else:
                self.names.add(value)
        self.enabled = True
        return f"+OK event listener enabled {self.fmt}"

    def nixevent(self, words: list[str]) -> str:
        keywords = self._keywords(words)
        if not any(kind == "event" for kind, _ in keywords):
            return "-ERR no keywords supplied"
        for kind, value in keywords:
            if kind == "custom":
                self.subclasses.discard(value)
            elif value == "ALL":
                self.names.clear()
            elif value != "CUSTOM":
                self.names.discard("ALL")
                self.names.discard(value)
        self.enabled = True
        return "+OK events nixed"

    def noevents(self) -> str:
        if not self.enabled:
            return "-ERR not listening for events"
        self.enabled = False
        self.names.clear()
        self.subclasses.clear()
        return "+OK no longer listening for events"

    def filter(self, rest: str) -> str:
        """`filter <header> <value>`, `filter delete <header> [<value>]`, `filter delete all`."""
        header, _, value = rest.strip().partition(" ")
        if header.lower() == "delete" and value:
            header, _, value = value.partition(" ")
            if header.lower() == "all":
                self.filters.clear()
            else:
                self.filters = [(h, v) for h, v in self.filters
                                if not (h.lower() == header.lower() and (not value or v == value))]
            return f"+OK filter deleted. [{header}][{value}]"
        if not value:
            return "-ERR invalid syntax"
        if header.lower() == "add":
            header, _, value = value.partition(" ")
        self.filters.append((header, value))
        return f"+OK filter added. [{header}]=[{value}]"

    def myevents(self, rest: str, exists: bool) -> str:
        """`myevents <uuid> [plain|json]`: this listener follows one channel."""
        if self.session_uuid is not None:
            return "-ERR aready enabled."
        uuid, _, fmt = rest.strip().partition(" ")
        if not exists and fmt:
            return "-ERR invalid uuid"
        self.session_uuid = uuid
        self.names |= MYEVENTS
        self.enabled = True
        if fmt.lower() in ("plain", "json"):
            self.fmt = fmt.lower()
        elif "json" in rest.lower():
            self.fmt = "json"
        return "+OK Events Enabled"

    # ---- matching --------------------------------------------------------------------------
    def wants(self, event: Event) -> bool:
        if not self.enabled:
            return False
        if event.name == "CUSTOM":
            send = "ALL" in self.names or event.subclass in self.subclasses
        else:
            send = event.name in self.names
        if send and self.session_uuid is not None:
            send = event.channel_uuid == self.session_uuid
        if send and self.filters:
            send = self._passes_filters(event)
        return send

    def _passes_filters(self, event: Event) -> bool:
        send = False
        for header, raw in self.filters:
            value = event.header(header)
            if value is None:
                continue
            positive = True
            wanted = raw.lstrip()
            while wanted[:1] in ("+", "-"):
                positive = wanted[0] == "+"
                wanted = wanted[1:].lstrip()
            if send and positive:
                continue
            if wanted.startswith("/"):
                matched = re.search(wanted.strip("/"), value) is not None
            else:
                matched = value.lower() == wanted.lower()
            if matched:
                if not positive:
                    return False
                send = True
        return send
