"""AMD from mod_audio_fork end to end through the switch simulator: with the module loaded the
engine hears the customers through the websocket stream; without it (stock FreeSWITCH answers
``-ERR uuid_audio_fork Command not found!``) it says so in the log and records instead. Either
way machines are dropped and humans bridged. Also the simulated module's api replies."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from engine.amd.audio_fork import AudioForkServer, ForkStream
from engine.config import SwitchNode
from engine.runner.core import DialerCore
from engine.runner.finish import default_hooks
from engine.sim import session as sim_session
from engine.sim.commands import run_api
from engine.sim.scenario import scenario_from_dict
from engine.sim.server import SwitchSimulator
from engine.sim.switch import Switch
from engine.store.models import Outcome
from engine.store.queries import next_dialable
from tests.engine.conftest import (
    RunningClock,
    attempts,
    login_ready,
    make_campaign,
    wait_for,
    world,
)
from tests.engine.test_amd_sim import AMD_RULES, HUMAN, MACHINE_BEEP, run_until_ended

FALLBACK = "recording for AMD instead"
RINGING_WITH_MEDIA = [{**rule, "early_media": 1} for rule in AMD_RULES]  # 183 before the answer


@pytest.fixture(params=[("mod_audio_fork",), ()], ids=["with-module", "stock"])
def simulator(request: pytest.FixtureRequest) -> Iterator[SwitchSimulator]:
    sim = SwitchSimulator(scenario_from_dict(world(rules=RINGING_WITH_MEDIA)), seed=7,
                          record_tick=0.02,
                          heartbeat_seconds=None, modules=request.param).start()
    yield sim
    sim.stop()


@pytest.fixture
def fork_core(simulator: SwitchSimulator, sessionmaker_: Any,
              tmp_path: Path) -> Iterator[DialerCore]:
    host, port = simulator.address
    node = SwitchNode("sim", host, port, simulator.password, amd_source="audio_fork")
    core = DialerCore(nodes=[node], sessions=sessionmaker_,
                      clock=RunningClock(datetime(2026, 11, 23, 10, 0, tzinfo=UTC)),
                      source=next_dialable, recordings_dir=tmp_path / "rec",
                      finish_hooks=default_hooks(90), tick_s=0.02)
    core.start()
    assert core.pool.wait_up(5)
    yield core
    core.stop()


@pytest.fixture
def streams(monkeypatch: pytest.MonkeyPatch) -> list[ForkStream]:
    """Every stream a switch connected to the engine's server."""
    attached: list[ForkStream] = []
    original = AudioForkServer.attach

    def spy(self: AudioForkServer, name: str) -> ForkStream:
        attached.append(original(self, name))
        return attached[-1]

    monkeypatch.setattr(AudioForkServer, "attach", spy)
    return attached


@pytest.mark.slow  # real-time greetings of a few seconds
def test_machine_dropped_human_bridged(fork_core, simulator, streams, factory, session,  # type: ignore[no-untyped-def]
                                       sessionmaker_, caplog, monkeypatch) -> None:
    recorded: list[str] = []  # paths of the switch's recordings
    asked: list[str] = []  # the calls whose stream the engine asked to start
    original_api = sim_session.run_api

    def spy_api(switch: Switch, name: str, arg: str, deliver: Any) -> None:
        if name == "uuid_audio_fork" and arg.split()[1:2] == ["start"]:
            asked.append(arg.split()[0])
        original_api(switch, name, arg, deliver)

    monkeypatch.setattr(sim_session, "run_api", spy_api)
    original = simulator.switch.start_recorder
    simulator.switch.start_recorder = lambda channel, path, limit: (  # type: ignore[method-assign]
        recorded.append(path) or original(channel, path, limit))
    campaign, agents = make_campaign(factory, session, [HUMAN, MACHINE_BEEP], agents=2,
                                     amd={"enabled": True, "budget_s": 3})
    with caplog.at_level(logging.INFO, "engine.runner.amd"):
        login_ready(fork_core, agents, campaign.id)
        run_until_ended(fork_core, campaign.id, sessionmaker_, 2)
    rows = {a.number: a for a in attempts(sessionmaker_)}
    assert (rows[HUMAN].outcome, rows[HUMAN].amd_result) == (Outcome.ANSWERED, "human")
    assert rows[HUMAN].bridged_at is not None
    assert (rows[MACHINE_BEEP].outcome, rows[MACHINE_BEEP].amd_result) == (Outcome.MACHINE,
                                                                            "machine")
    amd_recordings = [path for path in recorded if path.endswith(".r8")]
    if simulator.switch.modules:  # heard ringing, then answered, each through its own stream
        assert {stream.name for stream in streams} == {
            f"{row.call_uuid}/{bug}" for row in rows.values()
            for bug in ("dialer_amd_early", "dialer_amd")}
        assert all(stream.error is None for stream in streams)
        assert amd_recordings == [] and FALLBACK not in caplog.text
        # The module closes a stream once it notices the hangup (a tick later, as a real one).
        wait_for(lambda: simulator.switch.audio_forks == {}, 5, "every stream closed")
    else:
        assert streams == [] and len(amd_recordings) == 4  # ringing and answered, both calls
        # Said once for the switch, not per call; later calls record without asking.
        said = ("switch sim has no mod_audio_fork (sim: api uuid_audio_fork: -ERR "
                "uuid_audio_fork Command not found!): " + FALLBACK + " until it reconnects")
        assert caplog.text.count(said) == 1 and "stream not started" not in caplog.text
        # The two calls' first taps may ask at once; no later tap asks again.
        assert 1 <= len(asked) <= 2 and len(set(asked)) == len(asked)


@pytest.mark.parametrize("simulator", [("mod_audio_fork",)], indirect=True, ids=["with-module"])
def test_simulated_module_replies(simulator: SwitchSimulator) -> None:
    switch: Switch = simulator.switch

    def api(command: str) -> str:
        replies: list[str] = []
        name, _, arg = command.partition(" ")
        run_api(switch, name, arg, replies.append)
        return replies[0]

    assert api("uuid_audio_fork x").startswith("-USAGE: <uuid> [start | stop")
    assert api("uuid_audio_fork no-such-uuid start ws://127.0.0.1:1/a mono 8k") \
        == "-ERR Operation Failed\n"
    assert api("uuid_audio_fork no-such-uuid stop") == "-ERR Operation Failed\n"
    assert api("uuid_audio_fork") == "-USAGE: <uuid> [start | stop | send_text | pause | " \
        "resume | graceful-shutdown ] [wss-url | path] [mono | mixed | stereo] " \
        "[8000 | 16000 | 24000 | 32000 | 64000] [bugname] [metadata]\n"


def test_without_the_module_the_command_is_unknown(simulator: SwitchSimulator) -> None:
    replies: list[str] = []
    run_api(simulator.switch, "uuid_audio_fork", "x start ws://127.0.0.1:1/a mono 8k",
            replies.append)
    expected = ("-ERR Operation Failed\n" if simulator.switch.modules
                else "-ERR uuid_audio_fork Command not found!\n")
    assert replies == [expected]
