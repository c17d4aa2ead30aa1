"""`dialer simulate-switch`: a separate process that a plain ESL client can drive."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import greenswitch
from click.testing import CliRunner

from engine.cli import main


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_cli_serves_the_event_socket(tmp_path):
    scenario = tmp_path / "world.yaml"
    scenario.write_text("time_scale: 0.02\ndefaults:\n  outcomes: {busy: 1}\n")
    port = free_port()
    dialer = str(Path(sys.executable).with_name("dialer"))
    proc = subprocess.Popen([dialer, "simulate-switch", "--listen", f"127.0.0.1:{port}",
                             "--password", "s3cret", "--scenario", str(scenario), "--seed", "3"],
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "DIALER_LOG_LEVEL": "WARNING"})
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None, proc.stderr.read()
                time.sleep(0.1)
        client = greenswitch.InboundESL("127.0.0.1", port, "s3cret")
        client.connect()
        assert client.send("api originate sofia/gateway/carrier/123 &park()").data == "-ERR USER_BUSY\n"
        client.stop()
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0


def test_cli_rejects_a_bad_scenario(tmp_path):
    scenario = tmp_path / "bad.yaml"
    scenario.write_text("defaults:\n  ring: {dist: gamma}\n")
    result = CliRunner().invoke(main, ["simulate-switch", "--scenario", str(scenario)])
    assert result.exit_code == 1
    assert f"{scenario}: defaults.ring.dist: unknown distribution 'gamma'" in result.output


def test_cli_rejects_a_bad_listen_address():
    result = CliRunner().invoke(main, ["simulate-switch", "--listen", "localhost"])
    assert result.exit_code == 2 and "expected HOST:PORT" in result.output
