"""AMD in production through the simulator: early-media announcements, kept review samples,
and calls adopted after a restart resuming detection."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import soundfile as sf
from sqlalchemy import select, update

from engine.amd.corpus import known_greeting
from engine.runner.progressive import ProgressiveRunner
from engine.sim.channel import Phase
from engine.sim.recorder import Mode
from engine.sim.scenario import scenario_from_dict
from engine.sim.server import SwitchSimulator
from engine.store.db import transaction
from engine.store.models import AmdReview, AttemptState, CallAttempt, Outcome

from .conftest import (
    FAST,
    RULES,
    attempts,
    login_ready,
    make_campaign,
    new_core,
    wait_for,
    world,
)
from .test_amd_sim import recorders, run_until_ended  # noqa: F401  (recorders: a fixture)

SLOW_RING = {"post_dial_delay": 0.05, "ring": 2.0, "early_media": 0.0, "machine_message": 3}


def prod_rules(voicemail: str) -> list[dict[str, Any]]:
    """The engine tests' world plus announcements, ringing with early media, and machines that
    play ``voicemail`` (a fingerprinted greeting: a machine verdict whatever the classifier)."""
    return [
        {"prefix": "+7900930", "outcomes": {"announcement": 1}, **FAST},
        {"prefix": "+7900931", "outcomes": {"human": 1}, "talk": 0.5, "patience": 30,
         "dtmf": None, **FAST, "early_media": 1.0},
        {"prefix": "+7900920", "outcomes": {"machine": 1}, **FAST, "machine_message": 2,
         "machine_clip": voicemail},
        {"prefix": "+7900940", "outcomes": {"machine": 1}, **SLOW_RING, "machine_clip": voicemail},
        {"prefix": "+7900941", "outcomes": {"human": 1}, "talk": 0.5, "patience": 30,
         "dtmf": None, **SLOW_RING},
        *RULES,
    ]


ANNOUNCED, RINGBACK_HUMAN, MACHINE = "+79009300001", "+79009310001", "+79009200001"
SLOW_MACHINE, SLOW_HUMAN, SLOW_HUMAN_DECIDED = "+79009400001", "+79009410001", "+79009410002"


@pytest.fixture(scope="module")
def voicemail(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("clips") / "ru-carrier-voicemail.wav"
    sf.write(path, known_greeting("ru-carrier-voicemail"), 8000, subtype="PCM_16")
    return str(path)


@pytest.fixture
def simulator(voicemail: str) -> Iterator[SwitchSimulator]:
    sim = SwitchSimulator(scenario_from_dict(world(rules=prod_rules(voicemail))), seed=7,
                          record_tick=0.05, heartbeat_seconds=None).start()
    yield sim
    sim.stop()


@pytest.mark.slow  # real-time audio: an announcement and a ringing-then-talking human
def test_announcement_in_early_media_hangs_up_as_unreachable(  # type: ignore[no-untyped-def]
        core, factory, session, sessionmaker_, recorders) -> None:  # noqa: F811
    campaign, agents = make_campaign(factory, session, [ANNOUNCED, RINGBACK_HUMAN], agents=2,
                                     amd={"enabled": True})
    login_ready(core, agents, campaign.id)
    run_until_ended(core, campaign.id, sessionmaker_, 2)
    rows = {a.number: a for a in attempts(sessionmaker_)}

    announced = rows[ANNOUNCED]
    assert announced.outcome is Outcome.NETWORK_FAILURE  # not no_answer: retry rules differ
    assert (announced.amd_result, announced.amd_reason) == ("machine", "early-media:unreachable:sit")
    assert announced.answered_at is None and announced.hangup_cause != "NO_ANSWER"
    rang_s = (announced.ended_at - announced.originated_at).total_seconds()
    assert rang_s < 5  # hung up once the SIT was heard, not at the 15 s ring timeout
    human = rows[RINGBACK_HUMAN]  # rang with (silent) early media, then answered
    assert human.outcome is Outcome.ANSWERED and human.amd_result in ("human", "unknown")
    assert human.bridged_at is not None and not human.amd_reason.startswith("early-media")

    early = [(mode, buffered) for path, mode, buffered in recorders if path.endswith(".early.r8")]
    assert early == [(Mode.READ_ONLY, 0)] * 2  # unbuffered: the originate's variable holds
    wait_for(lambda: not any(Path(p).exists() for p, _, _ in recorders if p.endswith(".r8")), 2,
             "the AMD recordings to be deleted")


@pytest.mark.slow
def test_machine_drop_kept_for_review(core, factory, session, sessionmaker_) -> None:  # type: ignore[no-untyped-def]
    campaign, agents = make_campaign(factory, session, [MACHINE], agents=1,
                                     amd={"enabled": True, "review_sample": 1.0})
    login_ready(core, agents, campaign.id)
    run_until_ended(core, campaign.id, sessionmaker_, 1)
    (row,) = attempts(sessionmaker_)
    assert (row.outcome, row.amd_result) == (Outcome.MACHINE, "machine")
    def kept() -> list[AmdReview]:
        with sessionmaker_() as db:
            return list(db.scalars(select(AmdReview)))

    wait_for(lambda: kept(), 3, "the sample to be kept")  # after the hangup, as the gate ends
    (review,) = kept()
    assert (review.attempt_id, review.campaign_id, review.label) == (row.id, campaign.id, None)
    assert review.amd_reason == row.amd_reason
    assert review.audio_path.startswith(str(core.recordings_dir / "amd-review"))
    audio, rate = sf.read(review.audio_path, dtype="int16")
    assert rate == 8000 and len(audio) >= row.amd_decision_ms * 8 * 0.9  # what was heard
    assert abs(audio.astype(float)).max() > 1000  # the greeting, not silence


@pytest.mark.slow
def test_adopted_answered_calls_resume_detection(  # type: ignore[no-untyped-def]
        simulator, factory, session, sessionmaker_, running_clock, tmp_path,
        recorders) -> None:  # noqa: F811
    """Three calls answered and not yet bridged when the engine stops (the attempts say
    answered). The next run adopts them: the machine's recording, left running (as a killed
    run leaves it), is read again from the start; the undecided human gets a new recording;
    the human whose decision the last run had stored is bridged without one."""
    numbers = [SLOW_MACHINE, SLOW_HUMAN, SLOW_HUMAN_DECIDED]
    campaign, agents = make_campaign(factory, session, numbers, agents=3,
                                     amd={"enabled": True, "review_sample": 0})
    first = new_core(simulator, sessionmaker_, running_clock, tmp_path / "rec")
    first.start()
    assert first.pool.wait_up(5)
    login_ready(first, agents, campaign.id)
    runner = ProgressiveRunner(first, campaign.id, tick_s=0.02)
    runner.start()
    wait_for(lambda: [a.state for a in attempts(sessionmaker_)] == [AttemptState.DIALING] * 3,
             10, "three calls ringing")
    gate_dir = runner.amd.directory
    first.stop()  # the engine is gone: the answers below reach nobody

    rows = {a.number: a for a in attempts(sessionmaker_)}
    channels = {n: simulator.switch.find(rows[n].call_uuid) for n in numbers}
    wait_for(lambda: all(c.phase is Phase.ANSWERED for c in channels.values()), 10,
             "the sim to answer all three")
    left_running = str(gate_dir / f"{rows[SLOW_MACHINE].call_uuid}.r8")
    channels[SLOW_MACHINE].set_var("RECORD_STEREO", "false")  # as the gate sets it
    channels[SLOW_MACHINE].set_var("RECORD_READ_ONLY", "true")
    channels[SLOW_MACHINE].start_recording(left_running, 0)
    with transaction(sessionmaker_) as db:  # what the last run wrote on the answers
        db.execute(update(CallAttempt).values(state=AttemptState.ANSWERED,
                                              answered_at=running_clock.now()))
        db.execute(update(CallAttempt).where(CallAttempt.number == SLOW_HUMAN_DECIDED)
                   .values(amd_result="human", amd_reason="classifier", amd_decision_ms=900))

    second = new_core(simulator, sessionmaker_, running_clock, tmp_path / "rec")
    runner = ProgressiveRunner(second, campaign.id, tick_s=0.02)
    runner.start()  # registered before the connect, so it adopts its campaign's calls
    second.start()
    try:
        wait_for(lambda: all(a.state is AttemptState.ENDED for a in attempts(sessionmaker_)),
                 30, "the adopted calls to end")
    finally:
        runner.stop()
        second.stop()
    rows = {a.number: a for a in attempts(sessionmaker_)}
    machine, human, decided = rows[SLOW_MACHINE], rows[SLOW_HUMAN], rows[SLOW_HUMAN_DECIDED]
    assert (machine.outcome, machine.amd_result) == (Outcome.MACHINE, "machine")
    assert machine.bridged_at is None
    assert human.outcome is Outcome.ANSWERED and human.amd_result in ("human", "unknown")
    assert human.bridged_at is not None
    assert (decided.outcome, decided.amd_reason) == (Outcome.ANSWERED, "classifier")
    assert decided.bridged_at is not None
    amd = sorted(Path(p).name for p, _, _ in recorders if p.endswith(".r8"))
    # the test's stand-in for the killed run's recording, and one new one for the human
    assert amd == sorted([Path(left_running).name, f"{human.call_uuid}.r8"])
    assert not Path(left_running).exists()


def test_predictive_pacing_uses_the_campaign_estimate(core, factory, session) -> None:  # type: ignore[no-untyped-def]
    """With enough reviewed samples the runner's ``amd_false_positive_rate`` is the campaign's
    measured share of humans among machine drops, not the static setting."""
    from engine.runner.predictive import PredictiveRunner
    from engine.store.models import DialMode

    campaign, _ = make_campaign(factory, session, [MACHINE], agents=0, mode=DialMode.PREDICTIVE,
                                pacing={"ring_timeout_s": 15, "amd_false_positive_rate": 0.02},
                                amd={"enabled": True, "review_min_samples": 4})
    contact_id = attempts_contact(session, campaign.id)
    for n, label in enumerate(["human", "machine", "machine", "machine", None]):
        now = factory.clock.now()
        row = CallAttempt(tenant_id=campaign.tenant_id, campaign_id=campaign.id,
                          contact_id=contact_id, number=MACHINE, mode="predictive", node="sim",
                          call_uuid=f"old-{n}", state=AttemptState.ENDED, outcome=Outcome.MACHINE,
                          amd_result="machine", amd_reason="beep", created_at=now, result={})
        session.add(row)
        session.flush()
        session.add(AmdReview(attempt_id=row.id, campaign_id=campaign.id, amd_reason="beep",
                              audio_path=f"/tmp/{n}.wav", label=label, created_at=now))
    session.commit()
    assert PredictiveRunner(core, campaign.id).pacing.amd_false_positive_rate == 0.25
    campaign.amd = {"enabled": True, "review_min_samples": 5}  # not enough labels yet
    session.commit()
    assert PredictiveRunner(core, campaign.id).pacing.amd_false_positive_rate == 0.02


def attempts_contact(session: Any, campaign_id: int) -> int:
    from engine.store.models import Contact, ContactList

    return session.scalar(select(Contact.id).join(ContactList, ContactList.id == Contact.list_id)
                          .where(ContactList.campaign_id == campaign_id))
