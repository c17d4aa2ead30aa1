"""The daemon killed with SIGKILL mid-campaign and restarted: nothing lost, nothing twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
from engine.store.models import AttemptState, Outcome

from .conftest import attempts as rows
from .conftest import make_campaign, wait_for

DIALER = str(Path(sys.executable).with_name("dialer"))
BUSY = ["+79002000001", "+79002000002", "+79005000001"]
LONG = ["+79007000001", "+79007000002"]  # humans who talk for 30 s


def zone_at_noon() -> str:
    """A fixed-offset zone where it is about noon now (the daemon reads the real clock)."""
    offset = 12 - datetime.now(timezone.utc).hour
    return f"Etc/GMT{-offset:+d}"


def start_daemon(env: dict[str, str], logins: list[str], log: Path) -> subprocess.Popen:  # type: ignore[type-arg]
    args = [DIALER, "run"] + [f"--login={pair}" for pair in logins]
    return subprocess.Popen(args, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT)


@pytest.mark.slow
def test_kill_9_and_restart(simulator, factory, session, sessionmaker_, db_url, tmp_path) -> None:  # type: ignore[no-untyped-def]
    campaign, agents = make_campaign(factory, session, BUSY + LONG, agents=2, zone=zone_at_noon())
    host, port = simulator.address
    env = {**os.environ, "DIALER_DATABASE_URL": db_url, "DIALER_SWITCHES": f"sim={host}:{port}:ClueCon",
           "DIALER_RECORDINGS_DIR": str(tmp_path / "rec"), "DIALER_NODE_ID": "node-a",
           "DIALER_LOG_LEVEL": "INFO"}
    logins = [f"{a.id}:{campaign.id}" for a in agents]
    log = tmp_path / "daemon.log"
    daemon = start_daemon(env, logins, log)
    try:
        wait_for(lambda: sum(r.state is AttemptState.BRIDGED for r in rows(sessionmaker_)) == 2,
                 60, "two bridged calls")
        daemon.send_signal(signal.SIGKILL)
        daemon.wait(10)
        bridged = [r for r in rows(sessionmaker_) if r.state is AttemptState.BRIDGED]
        # While no engine runs, one customer hangs up; the other keeps talking.
        simulator.switch.find(bridged[0].call_uuid).hangup("NORMAL_CLEARING", remote=True)
        daemon = start_daemon(env, logins, log)
        wait_for(lambda: len(rows(sessionmaker_)) == 5
                 and sum(r.state is AttemptState.ENDED for r in rows(sessionmaker_)) == 4,
                 60, "the restarted daemon to reconcile and dial the rest")
        survivor = {r.call_uuid: r for r in rows(sessionmaker_)}[bridged[1].call_uuid]
        assert survivor.state is AttemptState.BRIDGED  # adopted, still followed
        simulator.switch.find(survivor.call_uuid).hangup("NORMAL_CLEARING", remote=True)
        wait_for(lambda: all(r.state is AttemptState.ENDED for r in rows(sessionmaker_)), 20,
                 "the adopted call to end")
        extensions = {a.dial_string.split("/")[1].split("@")[0] for a in agents}
        agent_legs = [c for c in simulator.switch.channels.values() if c.user in extensions]
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n--- daemon log ---\n{log.read_text()[-4000:]}") from exc
    finally:
        daemon.send_signal(signal.SIGTERM)
        try:
            daemon.wait(10)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()
    final = rows(sessionmaker_)
    assert sorted(r.number for r in final) == sorted(BUSY + LONG), log.read_text()[-3000:]
    outcomes = {r.call_uuid: r for r in final}
    assert outcomes[bridged[0].call_uuid].outcome is Outcome.ANSWERED
    assert outcomes[bridged[0].call_uuid].result.get("reconciled") == "channel gone"
    assert outcomes[bridged[1].call_uuid].outcome is Outcome.ANSWERED
    assert all(r.ended_at is not None for r in final)
    assert len(agent_legs) == 2  # agents adopted, not called a second time
