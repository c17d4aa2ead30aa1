"""The switch core: channels, the event bus to listeners, counters, and the world it simulates."""

from __future__ import annotations

import itertools
import random
import uuid as uuidlib
from collections import Counter
from collections.abc import Callable, Collection
from typing import Protocol

import gevent

from engine.clock import Clock
from engine.sim.audio import ClipLibrary
from engine.sim.audio_fork import AudioForker
from engine.sim.channel import Channel
from engine.sim.dialstring import OriginateRequest
from engine.sim.events import Event, EventFactory
from engine.sim.media import MediaPlane
from engine.sim.originate import Origination
from engine.sim.recorder import SUPPORTED_SUFFIXES, Mode, Recorder
from engine.sim.scenario import Scenario

HEARTBEAT_SECONDS = 20.0
# FreeSWITCH's originate thread returns its result about 20 ms after the leg's CHANNEL_ANSWER
# (measured on 1.11.1 by the client: 19.6-20.2 ms over 20 calls); a bridge in that window
# cancels the originate (``engine.sim.originate``). The simulator draws each delay from its
# seeded generator within +-JITTER.
ORIGINATE_RETURN_S = 0.020
ORIGINATE_RETURN_JITTER_S = 0.0005


class Subscriber(Protocol):
    def offer(self, event: Event) -> None: ...


class RecordingRefused(Exception):
    """`uuid_record start` on a file type FreeSWITCH would not open."""


class Switch:
    """Everything that is not one client connection: FreeSWITCH's core, as far as a dialer sees it."""

    def __init__(self, scenario: Scenario, clock: Clock, *, seed: int | None = None,
                 hostname: str = "sim", clip_cache: str | None = None, record_tick: float = 0.1,
                 heartbeat_seconds: float | None = HEARTBEAT_SECONDS, max_sessions: int = 5000,
                 modules: Collection[str] = (), originate_return_s: float = ORIGINATE_RETURN_S) -> None:
        if originate_return_s < 0:
            raise ValueError(f"originate_return_s must be >= 0, got {originate_return_s}")
        self.scenario = scenario
        self.modules = frozenset(modules)  # optional modules loaded, e.g. "mod_audio_fork"
        self.audio_forks: dict[tuple[str, str], AudioForker] = {}  # by (uuid, media bug)
        self.clock = clock
        self.seed = scenario.seed if seed is None else seed
        self.hostname = hostname
        self.core_uuid = str(uuidlib.uuid4())
        self.events = EventFactory(clock, self.core_uuid, hostname)
        self.rng = random.Random(self.seed)
        self.media = MediaPlane(clock, ClipLibrary(clip_cache, scenario.language))
        self.record_tick = record_tick
        self.originate_return_s = originate_return_s
        self.max_sessions = max_sessions
        self._created_per_second: Counter[int] = Counter()
        self.channels: dict[str, Channel] = {}
        self.subscribers: list[Subscriber] = []
        self.started = clock.monotonic()
        self.sessions_since_start = 0
        self.peak_channels = 0
        self.events_fired = 0
        self._session_ids = itertools.count(1)
        self._media_ports = itertools.cycle(range(16384, 32768, 2))
        self._dials: Counter[str] = Counter()
        self.hash_store: dict[str, str] = {}  # mod_hash's `hash` api: "<realm>_<key>" -> value
        self._heartbeat = (gevent.spawn(self._heartbeats, heartbeat_seconds)
                           if heartbeat_seconds else None)

    # ---- bus ---------------------------------------------------------------------------
    def subscribe(self, subscriber: Subscriber) -> None:
        self.subscribers.append(subscriber)

    def unsubscribe(self, subscriber: Subscriber) -> None:
        if subscriber in self.subscribers:
            self.subscribers.remove(subscriber)

    def fire(self, event: Event) -> None:
        self.events_fired += 1
        for subscriber in list(self.subscribers):
            subscriber.offer(event)

    def _heartbeats(self, every: float) -> None:
        while True:
            gevent.sleep(every)
            self.fire(self.events.plain("HEARTBEAT", self.heartbeat_headers()))

    def heartbeat_headers(self) -> list[tuple[str, str]]:
        last, peak_rate = self.session_rates()
        uptime_ms = int((self.clock.monotonic() - self.started) * 1000)
        return [("Event-Info", "System Ready"), ("Up-Time", self.uptime_text()),
                ("FreeSWITCH-Version", "1.11.1-release~64bit"), ("Uptime-msec", str(uptime_ms)),
                ("Session-Count", str(len(self.channels))), ("Max-Sessions", str(self.max_sessions)),
                ("Session-Per-Sec", "1000"), ("Session-Per-Sec-Last", str(last)),
                ("Session-Per-Sec-Max", str(peak_rate)), ("Session-Per-Sec-FiveMin", str(peak_rate)),
                ("Session-Since-Startup", str(self.sessions_since_start)),
                ("Session-Peak-Max", str(self.peak_channels)),
                ("Session-Peak-FiveMin", str(self.peak_channels)), ("Idle-CPU", "99.000000")]

    def uptime_text(self) -> str:
        total_us = int((self.clock.monotonic() - self.started) * 1_000_000)
        seconds, us = divmod(total_us, 1_000_000)
        minutes, sec = divmod(seconds, 60)
        hours, minute = divmod(minutes, 60)
        days, hour = divmod(hours, 24)
        years, day = divmod(days, 365)
        return (f"{years} years, {day} days, {hour} hours, {minute} minutes, {sec} seconds, "
                f"{us // 1000} milliseconds, {us % 1000} microseconds")

    # ---- channels ------------------------------------------------------------------------
    def register(self, channel: Channel) -> None:
        self.channels[channel.uuid] = channel
        self.sessions_since_start += 1
        self.peak_channels = max(self.peak_channels, len(self.channels))
        second = int(self.clock.monotonic())
        self._created_per_second[second] += 1
        if len(self._created_per_second) > 300:
            del self._created_per_second[min(self._created_per_second)]

    def session_rates(self) -> tuple[int, int]:
        """Sessions created in the last whole second, and the peak per second (last 5 minutes)."""
        last = self._created_per_second.get(int(self.clock.monotonic()) - 1, 0)
        return last, max(self._created_per_second.values(), default=0)

    def forget(self, channel: Channel) -> None:
        self.channels.pop(channel.uuid, None)

    def find(self, uuid: str) -> Channel | None:
        return self.channels.get(uuid)

    def next_session_id(self) -> int:
        return next(self._session_ids)

    def next_media_port(self) -> int:
        return next(self._media_ports)

    def originate_return_delay(self) -> float:
        """How long after CHANNEL_ANSWER an originate returns (0 when configured so)."""
        if not self.originate_return_s:
            return 0.0
        jitter = min(ORIGINATE_RETURN_JITTER_S, self.originate_return_s)
        return self.originate_return_s + self.rng.uniform(-jitter, jitter)

    def call_rng(self, number: str) -> random.Random:
        """A generator for one dial of `number`: same seed, number and attempt -> same fate."""
        self._dials[number] += 1
        return random.Random(f"{self.seed}:{number}:{self._dials[number]}")

    def originate(self, request: OriginateRequest, deliver: Callable[[str], None]) -> gevent.Greenlet:
        """Start an originate; `deliver` receives the api reply text."""
        return gevent.spawn(Origination(self, request, deliver).run)

    def start_recorder(self, channel: Channel, path: str, limit_seconds: int) -> Recorder:
        if not path.lower().endswith(SUPPORTED_SUFFIXES):
            raise RecordingRefused(path)
        buffered = channel.variables.get("enable_file_write_buffering", "true").lower() not in ("false", "no", "off", "0")
        return Recorder(channel.media, path, Mode.from_variables(channel.variables), limit_seconds,
                        self.record_tick, buffered)

    def hangup_all(self, cause: str, match: tuple[str, str] | None = None) -> int:
        victims = [c for c in self.channels.values()
                   if match is None or c.variables.get(match[0]) == match[1]]
        for channel in victims:
            channel.hangup(cause)
        return len(victims)

    def close(self) -> None:
        """Hang every channel up and stop background work."""
        self.hangup_all("SYSTEM_SHUTDOWN")
        if self._heartbeat is not None:
            self._heartbeat.kill(block=False)
