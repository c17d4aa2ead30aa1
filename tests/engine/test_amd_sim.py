"""Answering-machine detection end to end: simulated humans and machines, real-time audio."""

from __future__ import annotations

import wave
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from engine.amd.decision import Decision
from engine.runner.amd import AmdSettings, unreachable_outcome, wait_for_quiet
from engine.runner.progressive import ProgressiveRunner
from engine.runner.settings import CampaignConfigError
from engine.sim.audio import LegAudio
from engine.sim.recorder import Mode
from engine.sim.scenario import scenario_from_dict
from engine.sim.server import SwitchSimulator
from engine.store.models import AttemptState, Campaign, Outcome

from .conftest import FAST, RULES, attempts, login_ready, make_campaign, wait_for, world

MACHINE = {"machine_message": 2, **FAST}
AMD_RULES = [
    {"prefix": "+7900910", "outcomes": {"machine": 1}, **MACHINE},
    {"prefix": "+7900920", "outcomes": {"machine_beep": 1}, **MACHINE},
    *RULES,
]
HUMAN, MACHINE_NO_BEEP, MACHINE_BEEP = "+79001000001", "+79009100001", "+79009200001"


@pytest.fixture
def simulator() -> Iterator[SwitchSimulator]:
    """The engine tests' world plus answering machines with and without a beep."""
    sim = SwitchSimulator(scenario_from_dict(world(rules=AMD_RULES)), seed=7, record_tick=0.05,
                          heartbeat_seconds=None).start()
    yield sim
    sim.stop()


@pytest.fixture
def recorders(simulator: SwitchSimulator) -> list[tuple[str, Mode, int]]:
    """(path, mode, write buffer bytes) of every recording the switch starts."""
    started: list[tuple[str, Mode, int]] = []
    original = simulator.switch.start_recorder

    def spy(channel: Any, path: str, limit_seconds: int) -> Any:
        recorder = original(channel, path, limit_seconds)
        started.append((path, recorder.mode, recorder.buffer_bytes))
        return recorder

    simulator.switch.start_recorder = spy  # type: ignore[method-assign]
    return started


def run_until_ended(core, campaign_id: int, sessionmaker_, count: int) -> None:  # type: ignore[no-untyped-def]
    runner = ProgressiveRunner(core, campaign_id, tick_s=0.02)
    runner.start()
    try:
        wait_for(lambda: len(attempts(sessionmaker_)) == count
                 and all(a.state is AttemptState.ENDED for a in attempts(sessionmaker_)),
                 30, "all attempts to end")
    finally:
        runner.stop()


@pytest.mark.slow  # real-time audio: greetings of a few seconds
def test_machines_dropped_humans_bridged(core, factory, session, sessionmaker_,  # type: ignore[no-untyped-def]
                                         recorders) -> None:
    campaign, agents = make_campaign(factory, session, [HUMAN, MACHINE_NO_BEEP, MACHINE_BEEP],
                                     agents=3, amd={"enabled": True, "budget_s": 3})
    login_ready(core, agents, campaign.id)
    run_until_ended(core, campaign.id, sessionmaker_, 3)
    rows = {a.number: a for a in attempts(sessionmaker_)}
    for number, row in rows.items():
        print(number, row.outcome, row.amd_result, row.amd_reason, row.amd_decision_ms)

    human = rows[HUMAN]
    assert (human.outcome, human.amd_result) == (Outcome.ANSWERED, "human")
    assert human.bridged_at is not None and human.recording_path.endswith(".wav")
    assert 0 < human.amd_decision_ms <= 3000
    for number in (MACHINE_NO_BEEP, MACHINE_BEEP):
        machine = rows[number]
        assert (machine.outcome, machine.amd_result) == (Outcome.MACHINE, "machine"), number
        assert machine.bridged_at is None and machine.recording_path is None
        assert machine.amd_reason and 0 < machine.amd_decision_ms <= 3000

    # Live AMD audio: read-only and unbuffered; the call's own recording stays stereo.
    amd = [(mode, buffered) for path, mode, buffered in recorders if path.endswith(".r8")]
    assert amd == [(Mode.READ_ONLY, 0)] * 3
    assert [mode for path, mode, _ in recorders if path.endswith(".wav")] == [Mode.STEREO]
    wait_for(lambda: not any(Path(path).exists() for path, _, _ in recorders
                             if path.endswith(".r8")), 2, "the AMD recordings to be deleted")


def logged(method: Callable[..., None], log: list[tuple[int, int, int]]) -> Callable[..., None]:
    """``LegAudio.say``/``send`` that also note (leg, start sample, samples)."""
    def spy(audio: LegAudio, at: int, clip: np.ndarray) -> None:
        log.append((id(audio), at, len(clip)))
        method(audio, at, clip)
    return spy


@pytest.mark.slow
def test_machine_hears_the_message_after_the_beep(core, factory, session, sessionmaker_,  # type: ignore[no-untyped-def]
                                                  tmp_path, monkeypatch) -> None:
    heard: list[tuple[int, int, int]] = []  # (leg, start sample, samples) the machine says
    played: list[tuple[int, int, int]] = []  # ... and what the switch sends it
    monkeypatch.setattr(LegAudio, "say", logged(LegAudio.say, heard))
    monkeypatch.setattr(LegAudio, "send", logged(LegAudio.send, played))
    message = tmp_path / "message.wav"
    with wave.open(str(message), "wb") as out:  # half a second of silence
        out.setnchannels(1), out.setsampwidth(2), out.setframerate(8000)
        out.writeframes(bytes(8000))
    campaign, agents = make_campaign(
        factory, session, [MACHINE_BEEP], agents=1,
        amd={"enabled": True, "on_machine": "message", "message": str(message)})
    login_ready(core, agents, campaign.id)
    run_until_ended(core, campaign.id, sessionmaker_, 1)
    (row,) = attempts(sessionmaker_)
    print(row.outcome, row.amd_result, row.amd_reason, row.amd_decision_ms)
    assert (row.outcome, row.amd_result) == (Outcome.MACHINE, "machine")
    assert row.bridged_at is None
    (leg, greeting_at, greeting_len), = [h for h in heard if h[2] > 8000]  # greeting + beep
    message_at = [at for each, at, _ in played if each == leg]
    assert len(message_at) == 1 and message_at[0] >= greeting_at + greeting_len  # after the beep


def test_a_failing_detector_passes_the_customer_on(core, factory, session, sessionmaker_,  # type: ignore[no-untyped-def]
                                                  monkeypatch) -> None:
    def broken(detector: Any, frames: Any) -> Decision:
        raise RuntimeError("detector broke")

    monkeypatch.setattr("engine.runner.amd.run_detector", broken)
    campaign, agents = make_campaign(factory, session, [HUMAN], agents=1, amd={"enabled": True})
    login_ready(core, agents, campaign.id)
    run_until_ended(core, campaign.id, sessionmaker_, 1)
    (row,) = attempts(sessionmaker_)
    assert (row.outcome, row.amd_result, row.amd_reason) == (Outcome.ANSWERED, "unknown", "error")
    assert row.bridged_at is not None


def test_settings_name_the_bad_field(factory, session) -> None:  # type: ignore[no-untyped-def]
    campaign = factory.campaign(factory.tenant(), amd={"enabled": True, "on_machine": "voicemail"})
    with pytest.raises(CampaignConfigError, match=r"amd\.on_machine"):
        AmdSettings.from_campaign(campaign)
    campaign.amd = {"enabled": True, "on_machine": "message"}
    with pytest.raises(CampaignConfigError, match=r"amd\.message"):
        AmdSettings.from_campaign(campaign)
    campaign.amd = {"enabled": True, "budget_s": 0}
    with pytest.raises(CampaignConfigError, match=r"amd\.budget_s"):
        AmdSettings.from_campaign(campaign)
    assert AmdSettings.from_campaign(Campaign(name="off", amd={})) is None
    assert AmdSettings.from_campaign(Campaign(name="on", amd={"enabled": True})) == AmdSettings()


def test_announcements_map_to_outcomes() -> None:
    def decision(reason: str) -> Decision:
        return Decision("machine", reason, 0.99, 900)

    assert unreachable_outcome(decision("unreachable:fingerprint:en-not-in-service")) \
        is Outcome.INVALID_NUMBER
    assert unreachable_outcome(decision("unreachable:sit")) is Outcome.NETWORK_FAILURE
    assert unreachable_outcome(decision("beep")) is None


def test_message_waits_for_the_line_to_go_quiet() -> None:
    tone = (8000 * np.sin(np.arange(160) * 2 * np.pi / 8)).astype(np.int16)
    frames = iter([tone] * 10 + [np.zeros(160, np.int16)] * 20)
    wait_for_quiet(frames, quiet_ms=300)
    assert len(list(frames)) == 20 - 15  # 200 ms of tone and 300 ms of quiet consumed
