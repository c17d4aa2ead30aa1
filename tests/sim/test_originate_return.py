"""When an originate returns: about 20 ms after the leg's CHANNEL_ANSWER, as on FreeSWITCH 1.11.1,
and a ``uuid_bridge`` of the leg in that window cancels it (``-ERR ORIGINATOR_CANCEL``) while the
leg lives on, bridged. Compared on the wire with tests/sim/fixtures/originator_cancel.txt,
recorded from the project's FreeSWITCH build (tests/sim/record_originator_cancel.py)."""

from __future__ import annotations

import re
import uuid as uuidlib
from pathlib import Path

import pytest

from engine.sim.switch import ORIGINATE_RETURN_JITTER_S, ORIGINATE_RETURN_S
from tests.sim.eslclient import RawEsl
from tests.sim.test_fidelity import FIDELITY_WORLD, channel_key, compare
from tests.sim.transcript import Message, parse_stream

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "originator_cancel.txt"
SUBSCRIBE = ("event plain CHANNEL_OUTGOING CHANNEL_CREATE CHANNEL_PROGRESS CHANNEL_ANSWER CHANNEL_EXECUTE "
             "CHANNEL_EXECUTE_COMPLETE CHANNEL_PARK CHANNEL_BRIDGE CHANNEL_UNBRIDGE CHANNEL_HANGUP "
             "CHANNEL_HANGUP_COMPLETE CHANNEL_DESTROY BACKGROUND_JOB")
WINDOW_S = 0.5  # widened for the tests that bridge in it: a loaded machine cannot miss it


def is_event(message: Message, name: str, leg: str | None = None) -> bool:
    return message.name == name and (leg is None or channel_key(message) == leg)


def connect(sim) -> RawEsl:
    client = RawEsl(sim.address)
    assert client.next().content_type == "auth/request"
    assert client.command("auth ClueCon").headers["Reply-Text"] == "+OK accepted"
    assert client.command(SUBSCRIBE).headers["Reply-Text"].startswith("+OK")
    return client


def originate(client: RawEsl, number: str, variables: str = "") -> str:
    leg = str(uuidlib.uuid4())
    client.send(f"bgapi originate {{origination_uuid={leg}{variables}}}sofia/gateway/carrier/{number} &park()")
    assert client.reply().headers["Reply-Text"].startswith("+OK Job-UUID")
    return leg


def parked(client: RawEsl, leg: str) -> None:
    client.next(lambda m: is_event(m, "CHANNEL_PARK", leg))


def sequence(client: RawEsl, leg: str, seconds: float) -> list[tuple[str, str]]:
    """(event name, job body) of the leg's events arriving within `seconds`."""
    return [(m.name, m.event_body.strip()) for m in client.drain(seconds)
            if m.content_type.startswith("text/event") and channel_key(m) == leg]


def test_job_result_follows_the_answer_after_the_originate_delay(make_sim):
    client = connect(make_sim())
    leg = originate(client, "1000001")
    events = client.events(7, predicate=lambda m: channel_key(m) == leg)
    assert [m.name for m in events] == ["CHANNEL_OUTGOING", "CHANNEL_CREATE", "CHANNEL_PROGRESS", "CHANNEL_ANSWER",
                                        "BACKGROUND_JOB", "CHANNEL_EXECUTE", "CHANNEL_PARK"]
    assert events[4].event_body == f"+OK {leg}\n"
    answered_us, returned_us = (int(m.get("Event-Date-Timestamp")) for m in events[3:5])
    assert returned_us - answered_us >= (ORIGINATE_RETURN_S - ORIGINATE_RETURN_JITTER_S) * 1e6
    client.close()


def test_bridge_inside_the_window_cancels_the_originate_and_the_leg_lives_on(make_sim):
    client = connect(make_sim(originate_return_s=WINDOW_S))
    agent = originate(client, "1000001", ",park_after_bridge=true")
    parked(client, agent)
    customer = originate(client, "1000002")
    client.next(lambda m: is_event(m, "CHANNEL_ANSWER", customer))
    client.drain(0)  # what came before
    reply = client.command(f"api uuid_bridge {customer} {agent}")
    assert reply.body.decode() == f"+OK {agent}\n"
    after = client.drain(WINDOW_S + 0.3)
    names = [(m.name, channel_key(m)) for m in after]
    assert names == [("BACKGROUND_JOB", customer), ("CHANNEL_EXECUTE_COMPLETE", agent),
                     ("CHANNEL_EXECUTE", customer), ("CHANNEL_EXECUTE", agent), ("CHANNEL_BRIDGE", customer)]
    assert after[0].event_body == "-ERR ORIGINATOR_CANCEL\n"  # and never a +OK, nor the &park()
    assert client.command(f"api uuid_exists {customer}").body == b"true"
    assert client.command(f"api uuid_kill {customer}").body == b"+OK\n"
    assert [n for n, _ in sequence(client, customer, 0.3)] == [
        "CHANNEL_HANGUP", "CHANNEL_UNBRIDGE", "CHANNEL_HANGUP_COMPLETE", "CHANNEL_DESTROY"]
    client.close()


def test_bridge_after_the_window_is_an_ordinary_bridge(make_sim):
    client = connect(make_sim())
    agent = originate(client, "1000001", ",park_after_bridge=true")
    parked(client, agent)
    customer = originate(client, "1000002")
    parked(client, customer)
    assert client.command(f"api uuid_bridge {customer} {agent}").body.decode() == f"+OK {agent}\n"
    client.next(lambda m: is_event(m, "CHANNEL_BRIDGE", customer))
    jobs = [m for m in client.received if m.name == "BACKGROUND_JOB"]
    assert [m.event_body for m in jobs] == [f"+OK {agent}\n", f"+OK {customer}\n"]
    client.close()


def answered_in_window(make_sim) -> tuple[RawEsl, str]:
    """A client and a leg just answered, its originate not yet returned; earlier events read."""
    client = connect(make_sim(originate_return_s=WINDOW_S))
    leg = originate(client, "1000001")
    client.next(lambda m: is_event(m, "CHANNEL_ANSWER", leg))
    client.drain(0)
    return client, leg


def test_transfer_inside_the_window_cancels_the_originate_too(make_sim):
    client, leg = answered_in_window(make_sim)
    assert client.command(f"api uuid_transfer {leg} park inline").body == b"+OK\n"
    assert sequence(client, leg, WINDOW_S + 0.3) == [
        ("BACKGROUND_JOB", "-ERR ORIGINATOR_CANCEL"), ("CHANNEL_EXECUTE", ""), ("CHANNEL_PARK", "")]
    client.close()


def test_broadcast_inside_the_window_plays_once_the_originate_returned(make_sim):
    """uuid_broadcast queues a private event that FreeSWITCH's session thread runs only once
    the leg runs its application: the playback comes after the park, and ends on its own."""
    client, leg = answered_in_window(make_sim)
    reply = client.command(f"api uuid_broadcast {leg} silence_stream://200 aleg")
    assert reply.body == b"+OK Message sent\n"
    events = [m for m in client.drain(WINDOW_S + 0.5) if channel_key(m) == leg]
    assert [(m.name, m.get("Application")) for m in events] == [
        ("BACKGROUND_JOB", None), ("CHANNEL_EXECUTE", "park"), ("CHANNEL_PARK", None),
        ("CHANNEL_EXECUTE", "playback"), ("CHANNEL_EXECUTE_COMPLETE", "playback")]
    assert events[0].event_body == f"+OK {leg}\n"
    client.close()


def test_kill_inside_the_window_fails_the_originate_with_the_cause(make_sim):
    client, leg = answered_in_window(make_sim)
    assert client.command(f"api uuid_kill {leg} NORMAL_CLEARING").body == b"+OK\n"
    assert sequence(client, leg, WINDOW_S + 0.3) == [
        ("CHANNEL_HANGUP", ""), ("BACKGROUND_JOB", "-ERR NORMAL_CLEARING"),
        ("CHANNEL_HANGUP_COMPLETE", ""), ("CHANNEL_DESTROY", "")]
    client.close()


def replay_bridging_at_answer(sim, exchanges) -> list[Message]:
    """The fixture's commands in order, each once the simulator has sent as many events as
    FreeSWITCH had by then; the ``uuid_bridge`` once its leg's CHANNEL_ANSWER arrived (the real
    client sent it a little earlier, timed to land just after the answer)."""
    client = RawEsl(sim.address)
    client.next()
    expected = 0
    for exchange in exchanges[1:]:
        if exchange.command.startswith("api uuid_bridge "):
            leg = exchange.command.split()[2]
            client.next(lambda m, leg=leg: is_event(m, "CHANNEL_ANSWER", leg), timeout=15)
        client.send(exchange.command)
        if exchange.command == "exit":
            client.next(lambda m: m.content_type == "text/disconnect-notice")
            break
        client.reply()
        expected += sum(m.content_type.startswith("text/event") for m in exchange.messages)
        client.read_until(lambda expected=expected: expected <= sum(
            m.content_type.startswith("text/event") for m in client.received), timeout=15)
    client.close()
    return client.received


@pytest.mark.skipif(not FIXTURE.exists(), reason="no recorded transcript")
def test_cancel_matches_freeswitch(make_sim):
    """The whole session, per channel: the same events with the same header names, the same
    replies, and the same job result; the originate's result after the bridge's reply."""
    exchanges = parse_stream(FIXTURE.read_bytes(), tolerant=True)[0]
    password = next(e.command[5:] for e in exchanges if e.command and e.command.startswith("auth "))
    simulator = make_sim(FIDELITY_WORLD, hostname="fs1", password=password, originate_return_s=WINDOW_S)
    real = [m for e in exchanges for m in e.messages]
    have = replay_bridging_at_answer(simulator, exchanges)
    real = [m for m in real if m.content_type != "text/disconnect-notice"]
    have = [m for m in have if m.content_type != "text/disconnect-notice"]
    reply_diffs, order_diffs, header_diffs = [], [], []
    compare("", real, have, reply_diffs, order_diffs, header_diffs)
    assert not reply_diffs, reply_diffs
    assert not order_diffs, order_diffs
    assert not header_diffs, header_diffs
    customer = re.search(r"api uuid_bridge (\S+)", FIXTURE.read_text()).group(1)
    for messages in (real, have):
        job = next(i for i, m in enumerate(messages) if is_event(m, "BACKGROUND_JOB", customer))
        bridge_reply = next(i for i, m in enumerate(messages) if m.content_type == "api/response")
        bridged = next(i for i, m in enumerate(messages) if is_event(m, "CHANNEL_BRIDGE", customer))
        assert bridge_reply < job < bridged
        assert messages[job].event_body == "-ERR ORIGINATOR_CANCEL\n"
