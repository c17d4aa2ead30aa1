"""The supervised Event Socket connection against replayed real switch output."""

from __future__ import annotations

import random

import gevent
import pytest

from engine.config import SwitchNode
from engine.switch.connection import (
    ENGINE_EVENTS,
    Backoff,
    SwitchConnection,
    SwitchError,
    SwitchUnavailable,
)

from .esl_replay import CLOSE, ReplayServer
from .transcripts import Transcript, load


def connect(server: ReplayServer, seen: list, hooks: list) -> SwitchConnection:  # type: ignore[type-arg]
    node = SwitchNode("fs1", "127.0.0.1", server.port, "ClueCon")
    connection = SwitchConnection(
        node, lambda conn, event: seen.append(event), on_connected=hooks.append,
        backoff=Backoff(base_s=0.01, cap_s=0.05, rng=random.Random(1)), timeout_s=2)
    connection.start()
    assert connection.wait_up(5)
    return connection


def test_auth_subscription_and_bgapi_job_correlation() -> None:
    server = ReplayServer(load("busy.txt")).start()
    seen: list = []  # type: ignore[type-arg]
    connection = connect(server, seen, [])
    try:
        job = connection.bgapi("originate {origination_uuid=x}sofia/internal/b@127.0.0.1:5193 &park()")
        assert job.get(timeout=5) == "-ERR USER_BUSY\n"
        gevent.sleep(0.05)
        assert server.received[0] == "auth ClueCon\n"
        assert server.received[1] == "event plain " + " ".join(ENGINE_EVENTS) + "\n"
        assert server.received[2].startswith("bgapi originate {origination_uuid=x}")
        assert "\nJob-UUID: " in server.received[2]  # the engine proposes the job id
        # Events reach the handler in order; BACKGROUND_JOB goes to the job only.
        assert [e.name for e in seen] == ["CHANNEL_OUTGOING", "CHANNEL_CREATE", "CHANNEL_HANGUP",
                                          "CHANNEL_HANGUP_COMPLETE", "CHANNEL_DESTROY"]
    finally:
        connection.stop()
        server.stop()


def test_api_replies_and_errors() -> None:
    server = ReplayServer(load("api_replies.txt")).start()
    connection = connect(server, [], [])
    try:
        with pytest.raises(SwitchError, match="Command not found"):
            connection.api("no_such_command")
        with pytest.raises(SwitchError, match="No such channel"):
            connection.api("uuid_kill b57dce94-fcbb-4e2c-8258-08f2ada65c4b")
        with pytest.raises(SwitchError, match="Invalid uuid"):
            connection.api("uuid_bridge a b")
        assert "FreeSWITCH (Version 1.11.1" in connection.api("status")
        assert connection.api("show channels") == "0 total."
        assert connection.api("show channels as json") == '{"row_count": 0}'
    finally:
        connection.stop()
        server.stop()


def test_lost_connection_fails_waiting_commands_and_reconnects() -> None:
    script = load("busy.txt")
    # auth, subscribe, then the switch dies instead of answering the next command
    server = ReplayServer(Transcript(script.commands[:3], script.chunks[:3] + [CLOSE])).start()
    hooks: list = []  # type: ignore[type-arg]
    connection = connect(server, [], hooks)
    try:
        with pytest.raises(SwitchUnavailable):
            connection.api("status")
        deadline = gevent.Timeout(5)
        with deadline:
            while len(hooks) < 2:
                gevent.sleep(0.01)
        assert connection.connects == 2 and server.connections == 2
        assert hooks == [connection, connection]  # on_connected after each connect
        assert connection.wait_up(2)
    finally:
        connection.stop()
        server.stop()


def test_not_connected_raises_at_once() -> None:
    node = SwitchNode("down", "127.0.0.1", 1, "ClueCon")
    connection = SwitchConnection(node, lambda c, e: None, timeout_s=0.5,
                                  backoff=Backoff(0.01, 0.02))
    connection.start()
    try:
        assert not connection.wait_up(0.2)
        with pytest.raises(SwitchUnavailable, match="not connected"):
            connection.api("status")
    finally:
        connection.stop()


def test_backoff_grows_with_jitter_and_caps() -> None:
    backoff = Backoff(base_s=1, cap_s=8, rng=random.Random(3))
    delays = [backoff.delay(n) for n in range(6)]
    for n, delay in enumerate(delays):
        ceiling = min(8, 2 ** n)
        assert ceiling / 2 <= delay <= ceiling
    assert len(set(delays)) == len(delays)  # jittered
