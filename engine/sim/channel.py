"""One simulated call leg: an explicit state machine that fires FreeSWITCH's events in FreeSWITCH's order."""

from __future__ import annotations

import enum
import uuid as uuidlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import gevent
from gevent.event import Event as Flag

from engine.sim import fsvars, wire
from engine.sim.events import micros

if TYPE_CHECKING:
    from engine.sim.recorder import Recorder
    from engine.sim.switch import Switch


class Phase(enum.Enum):
    """Where the leg is in its life; transitions check it (IllegalTransition otherwise)."""

    DOWN = "down"          # created, INVITE sent
    RINGING = "ringing"    # 180/183 received
    ANSWERED = "answered"  # 200 OK, running applications or parked
    BRIDGED = "bridged"
    HUNGUP = "hungup"


class IllegalTransition(RuntimeError):
    """A transition asked of a leg in a phase that does not allow it."""


@dataclass
class Profile:
    """The caller profile FreeSWITCH reports as `Caller-*` (and `Other-Leg-*` on the partner)."""

    destination_number: str
    caller_id_number: str
    callee_id_number: str
    orig_caller_id_number: str
    ani: str
    caller_id_name: str | None = None
    callee_id_name: str | None = "Outbound Call"
    network_addr: str | None = None
    transfer_source: str | None = None
    logical_direction: str = "outbound"
    index: int = 1
    times: dict[str, int] = field(default_factory=dict)


@dataclass
class Playback:
    """A file being played to the leg."""

    path: str
    started: float  # monotonic seconds
    greenlet: gevent.Greenlet | None = None


class Channel:
    """A call leg. Transitions fire events through the switch; the far end's behaviour drives them."""

    def __init__(self, switch: Switch, uuid: str, name: str, user: str, host: str,
                 caller_id: str, custom_vars: list[tuple[str, str]]) -> None:
        self.switch = switch
        self.uuid = uuid
        self.call_uuid = uuid
        self.name = name
        self.user = user
        self.host = host
        self.phase = Phase.DOWN
        self.direction = "outbound"  # "inbound": a call into the switch (engine/sim/inbound.py)
        self.state, self.state_number, self.call_state = "CS_NONE", 1, "DOWN"
        self.answer_state = "ringing"
        self.hit_dialplan = False
        self.hangup_cause: str | None = None
        self.codec_ready = False
        self.caller_id = caller_id
        created = micros(switch.clock.now())
        self.profile = Profile(destination_number=user, caller_id_number=caller_id,
                               callee_id_number=user, orig_caller_id_number=caller_id, ani=caller_id)
        self.profile.times.update({"Profile-Created-Time": created, "Channel-Created-Time": created})
        self.times: dict[str, int] = {"start": created}
        self.variables: dict[str, str] = {}
        self._variable_lines: dict[str, str] = {}
        self._custom_vars = custom_vars
        self.other_leg: Channel | None = None
        self.other_type = ""
        self.bridge_role = ""
        self.apps: list[tuple[str, str, str]] = []  # running applications: name, data, Application-UUID
        self.last_app: tuple[str, str] | None = None
        self.playback: Playback | None = None
        self.recorders: dict[str, Recorder] = {}
        self.changed = Flag()  # poked on every transition so far-end behaviour can react
        self.far_end: gevent.Greenlet | None = None
        self.pending_result: Callable[[str], None] | None = None  # an originate still waiting for its reply
        self.queued: list[Callable[[], None]] = []  # private events held until the originate returns
        self.media_port = switch.next_media_port()
        self.far_port = 5060
        self.call_id = str(uuidlib.uuid4())
        self.answered_at: float | None = None
        self.media = switch.media.leg()

    # ---- variables -------------------------------------------------------------------
    def set_var(self, name: str, value: str | None) -> None:
        """Set (moving it last, as FreeSWITCH does) or unset a channel variable."""
        self.variables.pop(name, None)
        self._variable_lines.pop(name, None)
        if value is not None:
            self.variables[name] = value
            self._variable_lines[name] = f"variable_{name}: {wire.url_encode(value)}\n"
        if name == "send_silence_when_idle":
            self.media.audio.comfort_noise = value not in (None, "", "0")

    def encoded_variables(self) -> str:
        """The `variable_*` header lines, URL-encoded once when each variable was set."""
        return "".join(self._variable_lines.values())

    def set_vars(self, pairs: list[tuple[str, str]]) -> None:
        for name, value in pairs:
            self.set_var(name, value)

    def var_true(self, name: str) -> bool:
        return self.variables.get(name, "").lower() in ("true", "yes", "on", "1")

    def fire(self, name: str, extra: list[tuple[str, str]] | None = None,
             leading_cause: bool = False) -> None:
        self.switch.fire(self.switch.events.channel(name, self, extra, leading_cause))
        self.changed.set()

    def _require(self, *phases: Phase) -> None:
        if self.phase not in phases:
            raise IllegalTransition(f"{self.uuid}: not allowed in phase {self.phase.value}")

    # ---- set-up ----------------------------------------------------------------------
    def start(self, session_id: int) -> None:
        """CHANNEL_OUTGOING (an originated leg) then CHANNEL_CREATE."""
        if self.direction == "outbound":
            self.fire("CHANNEL_OUTGOING")
        self.set_vars(fsvars.create_vars(self.uuid, self.name, self.user, self.host, session_id,
                                         self.media_port, self._custom_vars))
        self.state, self.state_number = "CS_INIT", 2
        self.fire("CHANNEL_CREATE")

    def ring(self, early_media: bool) -> None:
        """The far end sends 180 (CHANNEL_PROGRESS) or 183 with SDP (CHANNEL_PROGRESS_MEDIA)."""
        self._require(Phase.DOWN)
        now = micros(self.switch.clock.now())
        self.profile.network_addr = "127.0.0.1"
        self.set_vars(fsvars.progress_vars(self.user, self.host, self.far_port, self.caller_id,
                                           self.switch.rng, self.call_id))
        self.state, self.state_number = "CS_CONSUME_MEDIA", 7
        key = "Channel-Progress-Media-Time" if early_media else "Channel-Progress-Time"
        self.profile.times[key] = now
        self.times["progress_media" if early_media else "progress"] = now
        self.phase = Phase.RINGING
        self.fire("CHANNEL_PROGRESS_MEDIA" if early_media else "CHANNEL_PROGRESS")
        self.call_state = "EARLY" if early_media else "RINGING"

    def answer(self) -> None:
        """The far end answers: CHANNEL_ANSWER."""
        self._require(Phase.DOWN, Phase.RINGING)
        now = micros(self.switch.clock.now())
        if self.profile.network_addr is None:
            self.profile.network_addr = "127.0.0.1"
        self.set_vars(fsvars.answer_vars(self.media_port, self.media_port + 1000,
                                         self.switch.rng.randint(1 << 30, 1 << 32)))
        self.codec_ready = True
        self.answer_state = "answered"
        self.profile.times["Channel-Answered-Time"] = now
        self.times["answer"] = now
        self.answered_at = self.switch.clock.monotonic()
        self.state, self.state_number = "CS_CONSUME_MEDIA", 7
        self.phase = Phase.ANSWERED
        self.fire("CHANNEL_ANSWER")
        self.call_state = "ACTIVE"

    # ---- applications ------------------------------------------------------------------
    def _flip_cid(self) -> None:
        """The first application, or a bridge, of an answered outbound leg flips its caller id."""
        if not self.hit_dialplan:
            self.set_vars(fsvars.first_execute_vars(self.caller_id))
            p = self.profile
            p.caller_id_name, p.callee_id_name = "Outbound Call", None
            p.caller_id_number, p.callee_id_number = self.user, self.caller_id
            self.hit_dialplan = True

    def _enter_execute(self) -> None:
        self._flip_cid()
        self.state, self.state_number = "CS_EXECUTE", 4

    def execute(self, app: str, data: str = "") -> None:
        """CHANNEL_EXECUTE for an application, which then runs until `execute_complete`."""
        self._require(Phase.ANSWERED, Phase.BRIDGED)
        self._enter_execute()
        app_uuid = str(uuidlib.uuid4())
        self.apps.append((app, data, app_uuid))
        self.last_app = (app, data)
        if data:
            self.set_var("current_application_data", data)
        self.set_var("current_application", app)
        extra = [("Application", app)]
        if data:
            extra.append(("Application-Data", data))
        self.fire("CHANNEL_EXECUTE", extra + [("Application-UUID", app_uuid)])

    def execute_complete(self, response: str = "_none_") -> None:
        """CHANNEL_EXECUTE_COMPLETE for the innermost running application, if any."""
        if not self.apps:
            return
        app, data, app_uuid = self.apps.pop()
        extra = [("Application", app)]
        if data:
            extra.append(("Application-Data", data))
        self.fire("CHANNEL_EXECUTE_COMPLETE",
                  extra + [("Application-Response", response), ("Application-UUID", app_uuid)])

    def park(self) -> None:
        """`park`: CHANNEL_EXECUTE park then CHANNEL_PARK; the leg waits for instructions."""
        self.execute("park")
        self.fire("CHANNEL_PARK")

    def play(self, path: str, then: Callable[[], None] | None = None) -> None:
        """`playback`: EXECUTE, PLAYBACK_START, and when the file ends PLAYBACK_STOP, EXECUTE_COMPLETE, `then`."""
        self.stop_playback("break")
        self.set_vars([("current_loop", "1"), ("total_loops", "1")])
        self.execute("playback", path)
        self.playback = Playback(path, self.switch.clock.monotonic())
        seconds = self.media.play(path)
        self.fire("PLAYBACK_START", [("Playback-File-Path", path)])
        if seconds is not None:
            self.playback.greenlet = gevent.spawn_later(seconds, self._playback_done, then)

    def _playback_done(self, then: Callable[[], None] | None) -> None:
        if self.phase is not Phase.HUNGUP:
            self.stop_playback("done")
            if then is not None:
                then()

    def stop_playback(self, status: str) -> bool:
        """PLAYBACK_STOP (`break` or `done`) then EXECUTE_COMPLETE; False when nothing plays."""
        playback, self.playback = self.playback, None
        if playback is None:
            return False
        if playback.greenlet is not None and playback.greenlet is not gevent.getcurrent():
            playback.greenlet.kill(block=False)
        self.media.stop_playing()
        played_ms = int((self.switch.clock.monotonic() - playback.started) * 1000)
        self.set_vars([("playback_last_offset_pos", str(played_ms * 8)),
                       ("playback_seconds", str(played_ms // 1000)), ("playback_ms", str(played_ms)),
                       ("playback_samples", str(played_ms * 8))])
        self.fire("PLAYBACK_STOP", [("Playback-File-Path", playback.path), ("Playback-Status", status)])
        self.set_var("current_application_response", "FILE PLAYED")
        self.execute_complete("FILE PLAYED")
        self.set_var("current_loop", None)
        self.set_var("total_loops", None)
        return True

    def dtmf(self, digit: str, duration_ms: int = 2000) -> None:
        """The far end presses a key (RFC 2833): one DTMF event."""
        if self.phase in (Phase.ANSWERED, Phase.BRIDGED):
            self.fire("DTMF", [("DTMF-Digit", digit), ("DTMF-Duration", str(duration_ms * 8)),
                               ("DTMF-Source", "RTP")])

    # ---- bridging ------------------------------------------------------------------------
    def _transfer_vars(self, other: Channel, now: int) -> None:
        source = f"{now // 1_000_000}:{uuidlib.uuid4()}:uuid_br:{other.uuid}"
        self.profile.transfer_source = source
        self.profile.index = 2
        self.profile.times["Profile-Created-Time"] = now
        self.times["profile"] = now
        self.set_vars([("bridge_channel", other.name), ("bridge_uuid", other.uuid),
                       ("signal_bond", other.uuid), ("original_destination_number", self.user),
                       ("original_caller_id_name", "Outbound Call"),
                       ("original_caller_id_number", self.user),
                       ("transfer_history", source), ("transfer_source", source)])

    def queue_private(self, action: Callable[[], None]) -> None:
        """A private event for the leg's session thread (what `uuid_broadcast` sends): run now,
        or, while an originate still watches the leg, once it has returned (`run_queued`):
        FreeSWITCH's session thread parses them only when it runs an application."""
        if self.pending_result is None:
            action()
        else:
            self.queued.append(action)

    def run_queued(self) -> None:
        queued, self.queued = self.queued, []
        for action in queued:
            action()

    def cancel_originate(self) -> None:
        """A bridge took the answered leg before its originate returned: FreeSWITCH's originate
        counts the leg as gone and fails (`-ERR ORIGINATOR_CANCEL`); the leg lives on without
        the originate's application."""
        pending, self.pending_result = self.pending_result, None
        if pending is not None:
            pending("-ERR ORIGINATOR_CANCEL\n")

    def bridge(self, other: Channel) -> None:
        """`uuid_bridge self other`: an originate still watching either leg is cancelled, park
        ends on both, uuid_bridge executes, CHANNEL_BRIDGE on self."""
        self._require(Phase.ANSWERED)
        other._require(Phase.ANSWERED)
        self.cancel_originate()
        other.cancel_originate()
        self._flip_cid()  # FreeSWITCH flips the originator's only
        now = micros(self.switch.clock.now())
        self.stop_playback("break")
        other.stop_playback("break")
        for leg, partner, kind in ((other, self, "originator"), (self, other, "originatee")):
            leg.other_leg, leg.other_type = partner, kind
            leg._transfer_vars(partner, now)
            if leg is self:
                leg.set_var("uuid_bridge", other.uuid)
                leg.profile.logical_direction = "inbound"
            leg.state_number = 8
            leg.execute_complete()
        self.set_var("uuid_bridge", None)
        for leg, partner in ((self, other), (other, self)):
            leg.state, leg.state_number = "CS_SOFT_EXECUTE", 3
            leg.fire("CHANNEL_EXECUTE", [("Application", "uuid_bridge"), ("Application-Data", partner.uuid)])
        for leg in (self, other):
            leg.profile.times["Channel-Bridged-Time"] = now
            leg.times["bridge"] = now
            leg.phase = Phase.BRIDGED
        self.bridge_role, other.bridge_role = "originator", "originatee"
        self.media.connect(other.media)
        self.fire("CHANNEL_BRIDGE", [("Bridge-A-Unique-ID", self.uuid), ("Bridge-B-Unique-ID", other.uuid)])
        self.set_var("bridge_to", other.uuid)
        other.changed.set()

    def _end_bridge(self) -> None:
        """This leg hangs up while bridged: the partner parks (park_after_bridge) or hangs up too."""
        partner = self.other_leg
        if partner is None or partner.phase is not Phase.BRIDGED:
            return
        a_leg = self if self.bridge_role == "originator" else partner
        b_leg = partner if a_leg is self else self
        self._note_bridge_end()
        self.media.disconnect()
        partner.set_vars([("last_bridge_to", self.uuid), ("last_sent_callee_id_name", "Outbound Call"),
                          ("last_sent_callee_id_number", self.user),
                          ("last_bridge_hangup_cause", self.hangup_cause or "NORMAL_CLEARING")])
        partner.phase = Phase.ANSWERED
        partner.call_uuid = a_leg.uuid
        partner.set_var("call_uuid", a_leg.uuid)
        if partner.var_true("park_after_bridge"):
            partner.state, partner.state_number = "CS_PARK", 6
            partner.fire("CHANNEL_PARK")
            a_leg.set_var("bridge_to", None)
            a_leg._fire_unbridge(b_leg)
        else:
            a_leg.set_var("bridge_to", None)
            a_leg._fire_unbridge(b_leg)
            gevent.spawn(partner.hangup, "NORMAL_CLEARING")

    def _note_bridge_end(self) -> None:
        partner = self.other_leg
        if partner is not None and "last_bridge_role" not in self.variables:
            self.set_vars([("last_bridge_to", partner.uuid), ("last_sent_callee_id_name", partner.caller_id),
                           ("last_sent_callee_id_number", partner.caller_id),
                           ("last_bridge_role", self.bridge_role)])

    def leave_bridge(self) -> None:
        """This leg leaves the bridge but stays up (a transfer): the partner parks or hangs up."""
        self._end_bridge()
        self.phase = Phase.ANSWERED

    def _fire_unbridge(self, b_leg: Channel) -> None:
        self.fire("CHANNEL_UNBRIDGE", [("Bridge-A-Unique-ID", self.uuid), ("Bridge-B-Unique-ID", b_leg.uuid)])

    # ---- tear-down ---------------------------------------------------------------------
    def hangup(self, cause: str, *, refused: bool = False, cancelled: bool = False,
               remote: bool = False, after_hangup: Callable[[], None] | None = None,
               after_complete: Callable[[], None] | None = None) -> bool:
        """Hang the leg up: HANGUP, bridge/app/record tear-down, HANGUP_COMPLETE, DESTROY.

        `after_hangup` / `after_complete` run between those events (FreeSWITCH fires the
        originate's BACKGROUND_JOB there). Returns False when the leg was already gone.
        """
        if self.phase is Phase.HUNGUP:
            return False
        was_answered = self.answer_state == "answered"
        pending, self.pending_result = self.pending_result, None
        if pending is not None and after_hangup is None and after_complete is None:
            def after_hangup() -> None:
                pending(f"-ERR {cause}\n")
        previous = self.phase
        self.phase = Phase.HUNGUP
        if self.far_end is not None and self.far_end is not gevent.getcurrent():
            self.far_end.kill(block=False)
        now = micros(self.switch.clock.now())
        self.hangup_cause = cause
        self.answer_state = "hangup"
        self.state_number = 10
        if previous is Phase.BRIDGED:
            self._note_bridge_end()
        elif self.other_leg is not None:
            self.set_var("bridge_hangup_cause", cause)
        if refused:
            if cause != "NORMAL_TEMPORARY_FAILURE":  # the far end was reached and answered the INVITE
                self.profile.network_addr = "127.0.0.1"
            self.set_vars(fsvars.refused_vars(cause, self.far_port, self.call_id))
        self.fire("CHANNEL_HANGUP")
        if after_hangup is not None:
            after_hangup()
        if previous is Phase.BRIDGED:
            self._end_bridge()
        if self.playback is not None:
            self.stop_playback("break")
        while self.apps:
            self.execute_complete(self.variables.get("current_application_response", "_none_"))
        self.profile.times["Channel-Hangup-Time"] = now
        self.times["end"] = now
        if self.recorders:
            self.state = "CS_HANGUP"
            for path in list(self.recorders):
                self.stop_recording(path)
        self.media.disconnect()
        last_app, last_arg = self.last_app or (None, None)
        self.set_vars(fsvars.cdr_vars(self.times, cause, last_app, last_arg or None,
                                      self.user if was_answered else self.caller_id, was_answered))
        if was_answered:
            disposition = "recv_bye" if remote else "send_bye"
            self.set_var("sip_hangup_disposition", disposition)
            elapsed = (self.switch.clock.monotonic() - (self.answered_at or 0.0))
            self.set_vars(fsvars.rtp_stats_vars(elapsed))
        elif cancelled:
            self.set_vars([("sip_hangup_disposition", "send_cancel"),
                           ("sip_invite_failure_status", "487"), ("sip_invite_failure_phrase", "CANCEL")])
        self.state, self.state_number, self.call_state = "CS_REPORTING", 11, "HANGUP"
        self.fire("CHANNEL_HANGUP_COMPLETE", leading_cause=True)
        if after_complete is not None:
            after_complete()
        self.state_number = 12
        self.fire("CHANNEL_DESTROY")
        self.switch.forget(self)
        return True

    # ---- recording ----------------------------------------------------------------------
    def start_recording(self, path: str, limit_seconds: int) -> None:
        """`uuid_record start`: a real-time writer of the leg's audio, then RECORD_START.
        A ringing leg can be recorded once it has early media (183 with SDP)."""
        if not (self.phase is Phase.RINGING and self.call_state == "EARLY"):
            self._require(Phase.ANSWERED, Phase.BRIDGED)
        self.recorders[path] = self.switch.start_recorder(self, path, limit_seconds)
        self.fire("RECORD_START", [("Record-File-Path", path)])

    def stop_recording(self, path: str, cause: str = "success-silence") -> bool:
        """`uuid_record stop` (or hangup): close the file, set record_* variables, RECORD_STOP."""
        paths = list(self.recorders) if path == "all" else [path]
        if not paths or any(p not in self.recorders for p in paths):
            return False
        for each in paths:
            recorder = self.recorders.pop(each)
            recorder.stop()
            self.set_vars([("record_file_size", str(recorder.bytes_written)),
                           ("record_samples", str(recorder.samples_written)),
                           ("record_seconds", str(recorder.samples_written // 8000)),
                           ("record_ms", str(recorder.samples_written // 8)),
                           ("record_completion_cause", cause)])
            self.fire("RECORD_STOP", [("Record-File-Path", each), ("Record-Completion-Cause", cause)])
        return True
