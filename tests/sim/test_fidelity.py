"""Fidelity: replay the client side of real FreeSWITCH 1.11.1 transcripts against the simulator and compare
reply texts, the event sequence per channel, and the header names of every event."""

from __future__ import annotations

import json
import re

import pytest

from engine.sim.scenario import scenario_from_dict
from engine.sim.server import SwitchSimulator
from tests.sim.eslclient import RawEsl
from tests.sim.transcript import Exchange, Message, load_transcript

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

# The far ends the transcripts dialled (sipp user agents), as simulator rules.
FIDELITY_WORLD = {
    "time_scale": 0.05,
    "defaults": {"outcomes": {"human": 1}, "patience": 100_000, "talk": 100_000, "early_media": 0,
                 "ring": 4, "post_dial_delay": 1, "dtmf": None},
    "rules": [{"prefix": "b", "outcomes": {"busy": 1}}, {"prefix": "n", "outcomes": {"no_answer": 1}},
              {"prefix": "u", "outcomes": {"network_failure": 1}}],
}

# Deliberate differences in header names, per event name: {event: {(header, why), ...}}. None today:
# every event of every transcript carries exactly FreeSWITCH's header names (docs/simulator.md lists
# the differences in values).
DELIBERATE: dict[str, set[tuple[str, str]]] = {}


def normalise_reply(command: str, text: str) -> object:
    """Reply text with identifiers, clocks and counters blanked."""
    if command == "api show channels as json" and text.startswith('{"row_count":1'):
        data = json.loads(text)
        for row in data["rows"]:  # identifiers, clocks, and the codec the far end chose
            for key in ("uuid", "created", "created_epoch", "hostname", "call_uuid", "read_codec",
                        "write_codec"):
                row[key] = "*"
        return data
    if command == "api status":
        return re.sub(r"\d+(\.\d+)?", "N", text)
    return UUID.sub("<uuid>", text)


def channel_key(message: Message) -> str:
    """The channel an event belongs to; a BACKGROUND_JOB belongs to the leg its originate named."""
    if message.name == "BACKGROUND_JOB":
        match = re.search(r"origination_uuid=([0-9a-f-]+)", message.get("Job-Command-Arg") or "")
        return match.group(1) if match else "job"
    return message.get("Unique-ID") or message.name or "?"


def per_channel(events: list[Message]) -> dict[str, list[Message]]:
    """Events grouped by channel, in arrival order. Across channels FreeSWITCH's threads race
    (the two legs of a uuid_bridge report in either order), so only per-channel order is compared."""
    grouped: dict[str, list[Message]] = {}
    for event in events:
        grouped.setdefault(channel_key(event), []).append(event)
    return grouped


@pytest.fixture()
def make_simulator():
    started = []

    def make(password: str, **options) -> SwitchSimulator:
        sim = SwitchSimulator(scenario_from_dict(FIDELITY_WORLD, "fidelity"), hostname="fs1",
                              password=password, heartbeat_seconds=None, **options).start()
        started.append(sim)
        return sim

    yield make
    for sim in started:
        sim.stop()


def replay(sim: SwitchSimulator, exchanges: list[Exchange]) -> list[tuple[Exchange, list[Message]]]:
    """Send each recorded command; collect the reply and as many events as the switch sent then."""
    client = RawEsl(sim.address)
    got = [(exchanges[0], [client.next()])]
    for exchange in exchanges[1:]:
        expected_events = sum(m.content_type.startswith("text/event") for m in exchange.messages)
        client.send(exchange.command)
        messages = [client.reply()]
        messages += client.events(expected_events, timeout=15)
        if exchange.command == "exit":
            messages.append(client.next(lambda m: m.content_type == "text/disconnect-notice"))
        got.append((exchange, messages))
    client.close()
    return got


NAMES = ["api_replies.txt", "busy.txt", "unreachable.txt", "answered_park_record_bridge_kill.txt",
         "no_answer_timeout.txt"]
# The shared reference transcripts, and the same sequences recorded from the project's own
# FreeSWITCH build (tests/freeswitch/record_transcripts.py; other profile names and codec).
TRANSCRIPTS = [(folder, name) for folder in ("freeswitch", "freeswitch-recorded") for name in NAMES]


@pytest.mark.parametrize("folder, name", TRANSCRIPTS)
def test_replay_matches_freeswitch(make_simulator, tmp_path, folder, name):
    exchanges = load_transcript(name, folder)
    password = next(e.command[5:] for e in exchanges if e.command and e.command.startswith("auth "))
    simulator = make_simulator(password)
    for exchange in exchanges:  # write recordings under tmp, wherever the original went
        if exchange.command:
            exchange.command = re.sub(r"(uuid_record \S+ start )\S*/", rf"\g<1>{tmp_path}/", exchange.command)
    results = replay(simulator, exchanges)
    reply_diffs, order_diffs, header_diffs = [], [], []
    for exchange, messages in results:
        compare(exchange.command or "", exchange.messages, messages, reply_diffs, order_diffs, header_diffs)
    assert not reply_diffs, reply_diffs
    assert not order_diffs, order_diffs
    assert not header_diffs, header_diffs


def compare(command: str, real: list[Message], messages: list[Message], reply_diffs: list,
            order_diffs: list, header_diffs: list) -> None:
    """Append to the lists how the simulator's messages differ from FreeSWITCH's: reply texts,
    the event names per channel, the header names of each event."""
    real_replies = [m for m in real if not m.content_type.startswith("text/event")]
    sim_replies = [m for m in messages if not m.content_type.startswith("text/event")]
    for want, have in zip(real_replies, sim_replies, strict=True):
        want_text = want.headers.get("Reply-Text") or want.body.decode()
        have_text = have.headers.get("Reply-Text") or have.body.decode()
        if want.content_type != have.content_type or \
                normalise_reply(command, want_text) != normalise_reply(command, have_text):
            reply_diffs.append((command, want_text, have_text))
    want_channels = per_channel([m for m in real if m.content_type.startswith("text/event")])
    have_channels = per_channel([m for m in messages if m.content_type.startswith("text/event")])
    want_order = {k: [m.name for m in v] for k, v in want_channels.items()}
    have_order = {k: [m.name for m in v] for k, v in have_channels.items()}
    if want_order != have_order:
        order_diffs.append((command, want_order, have_order))
        return
    pairs = [pair for key in want_channels for pair in zip(want_channels[key], have_channels[key])]
    for want, have in pairs:
        want_names = {k for k, _ in want.event}
        have_names = {k for k, _ in have.event}
        allowed = {h for h, _ in DELIBERATE.get(want.name, ())}
        missing, extra = want_names - have_names - allowed, have_names - want_names - allowed
        if missing or extra:
            header_diffs.append((want.name, channel_key(want)[:8], sorted(missing), sorted(extra)))
