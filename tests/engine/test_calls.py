"""The call state machine fed with real FreeSWITCH events."""

from __future__ import annotations

from engine.calls import Call, CallState
from engine.clock import ManualClock
from engine.store.models import AttemptState, Outcome

from .transcripts import events

CUSTOMER = "0aa39ba9-22f9-446b-a1a6-6da736623fc8"
AGENT = "c3bdbce0-20bf-4d03-91c3-2a9ae7b98928"


class Recorder:
    """Observer that notes every notification."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, object]] = []

    def call_changed(self, call: Call) -> None:
        self.seen.append(("changed", call.state))

    def call_answered(self, call: Call) -> None:
        self.seen.append(("answered", None))

    def call_bridged(self, call: Call) -> None:
        self.seen.append(("bridged", call.agent_leg))

    def call_ended(self, call: Call) -> None:
        self.seen.append(("ended", call.outcome))

    def call_dtmf(self, call: Call, digit: str) -> None:
        self.seen.append(("dtmf", digit))

    def call_app_done(self, call: Call, application: str) -> None:
        self.seen.append(("app_done", application))


def make_call(clock: ManualClock, uuid: str) -> tuple[Call, Recorder]:
    recorder = Recorder()
    call = Call(attempt_id=1, uuid=uuid, node="fs1", campaign_id=1, clock=clock, observer=recorder)
    call.dialing()
    return call, recorder


def feed(call: Call, fixture: str, clock: ManualClock) -> None:
    for event in events(fixture):
        if event.unique_id == call.uuid:
            call.handle(event)
        elif event.name == "BACKGROUND_JOB":
            call.job_result(event.body)
        clock.advance(0.1)


def test_busy(clock: ManualClock) -> None:
    call, recorder = make_call(clock, "8e2a5bbb-0d03-44d5-a1a5-1e65a0df2952")
    feed(call, "busy.txt", clock)
    assert call.state is CallState.ENDED and call.outcome is Outcome.BUSY
    assert (call.hangup_cause, call.sip_code) == ("USER_BUSY", 486)
    assert call.answered_at is None and call.ended_at is not None
    assert [s for s in recorder.seen if s[0] == "ended"] == [("ended", Outcome.BUSY)]  # once


def test_no_answer_rings_then_ends(clock: ManualClock) -> None:
    call, _ = make_call(clock, "59974108-4cbe-409d-8384-1babcc2c02a8")
    progress = next(e for e in events("no_answer_timeout.txt") if e.name == "CHANNEL_PROGRESS")
    call.handle(progress)
    assert call.state is CallState.RINGING
    feed(call, "no_answer_timeout.txt", clock)
    assert call.outcome is Outcome.NO_ANSWER


def test_unreachable_is_network_failure(clock: ManualClock) -> None:
    call, _ = make_call(clock, "d50cea8e-736d-4bc5-b6f8-83415748c90e")
    feed(call, "unreachable.txt", clock)
    assert call.outcome is Outcome.NETWORK_FAILURE and call.sip_code == 503


def test_answer_bridge_hangup_records_dead_air(clock: ManualClock) -> None:
    call, recorder = make_call(clock, CUSTOMER)
    feed(call, "answered_park_record_bridge_kill.txt", clock)
    steps = [(name, arg) for name, arg in recorder.seen if name in ("answered", "app_done")]
    assert steps == [("answered", None), ("app_done", "park")]  # park ends at the bridge
    steps = [name for name, _ in recorder.seen if name not in ("changed", "app_done")]
    assert steps == ["answered", "bridged", "ended"]
    assert call.agent_leg == AGENT
    assert call.outcome is Outcome.ANSWERED and call.hangup_cause == "NORMAL_CLEARING"
    # events between CHANNEL_ANSWER and CHANNEL_BRIDGE, 0.1 s apart on the manual clock
    evs = [e.name for e in events("answered_park_record_bridge_kill.txt")]
    gap = evs.index("CHANNEL_BRIDGE") - evs.index("CHANNEL_ANSWER")
    assert call.dead_air_ms == gap * 100
    assert call.answered_at < call.bridged_at < call.ended_at


def test_failed_originate_without_channel_events_ends_on_the_job(clock: ManualClock) -> None:
    call, recorder = make_call(clock, "no-channel")
    call.job_result("-ERR INVALID_GATEWAY\n")
    assert call.outcome is Outcome.NETWORK_FAILURE and call.hangup_cause == "INVALID_GATEWAY"
    call.job_result("-ERR INVALID_GATEWAY\n")  # a repeat changes nothing
    assert [s for s in recorder.seen if s[0] == "ended"] == [("ended", Outcome.NETWORK_FAILURE)]


def test_override_wins_over_the_cause(clock: ManualClock) -> None:
    call, _ = make_call(clock, CUSTOMER)
    call.answered()
    call.outcome_override = Outcome.ABANDONED
    call.end("NORMAL_CLEARING")
    assert call.outcome is Outcome.ABANDONED and call.dead_air_ms is None


def test_late_events_after_the_end_are_ignored(clock: ManualClock) -> None:
    call, recorder = make_call(clock, CUSTOMER)
    call.end("NORMAL_CLEARING")
    call.answered()
    call.bridged(AGENT)
    assert call.state is CallState.ENDED and call.answered_at is None
    assert call.outcome is Outcome.NETWORK_FAILURE  # NORMAL_CLEARING, never answered, no SIP code


def test_stored_state_of_ringing_is_dialing() -> None:
    assert CallState.RINGING.attempt_state is AttemptState.DIALING
    assert CallState.BRIDGED.attempt_state is AttemptState.BRIDGED


def test_found_bridged_by_reconciliation(clock: ManualClock) -> None:
    call, recorder = make_call(clock, CUSTOMER)
    call.found_bridged(AGENT)
    assert call.state is CallState.BRIDGED and call.agent_leg == AGENT
    assert call.answered_at is not None and call.dead_air_ms is None  # answer time unknown
    assert ("answered", None) not in recorder.seen  # the owner is not asked to bridge again
    assert ("bridged", AGENT) in recorder.seen
