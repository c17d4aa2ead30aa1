"""Answering-machine detection between a customer's answer and the agent (or the IVR).

With a campaign's ``amd.enabled`` the runner's calls report to an ``AmdGate`` instead of
the runner. On answer the gate starts a read-only ``uuid_record`` of the customer leg to a
raw ``.r8`` file, tails it in a greenlet and feeds the streaming detector, while the
customer hears silence. On a switch node with ``amd_source = "audio_fork"`` the gate asks
mod_audio_fork to stream the customer's audio to the engine's loopback websocket server
instead, and records as above (with a log line) when the switch refuses or no stream comes.
Human (or unknown at the budget): the runner hears of the answer
then and bridges as usual. Machine: hung up with outcome ``machine``, or, with
``on_machine = "message"``, the campaign's message is played after the beep and then the
call is hung up. A network announcement or SIT tone: hung up as ``invalid_number`` or
``network_failure``. The decision goes on the attempt (``amd_result``, ``amd_reason``,
``amd_decision_ms``); the temporary recording is stopped and deleted, except for the kept
sample of machine drops (``amd.review_sample``) whose audio waits for a reviewer
(``engine.amd.review``).

While a call rings with early media (``call_early_media``) the network's audio is recorded the
same way and watched for a SIT or a known announcement (``engine.amd.early_media``): the call
is then hung up at once as ``invalid_number`` or ``network_failure``, not left to ring out as
``no_answer``. A call adopted after a restart (``adopt``) resumes: a decision stored by the last
run is acted on, a recording the last run left running is read again from its start, else a
new one is started (and without one the call is passed on as unknown, with the reason logged).
"""

from __future__ import annotations

import functools
import logging
import random
import tempfile
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gevent
import numpy as np
from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError

from engine.amd import load_default_detector
from engine.amd.audio_fork import AudioForkServer, shared_server
from engine.amd.decision import Decision
from engine.amd.detector import StreamingDetector
from engine.amd.early_media import watch_early_media
from engine.amd.evaluate import run_detector
from engine.amd.frames import FRAME_MS
from engine.amd.review import ReviewError, ReviewSettings, keep_sample, review_path
from engine.amd.source import AudioFileError, AudioTap, ForkTap, RawTailer, RecordTap
from engine.calls import Call, CallState
from engine.store.db import transaction
from engine.store.models import CallAttempt, Campaign, Outcome
from engine.switch.connection import SwitchConnection, SwitchError, SwitchUnavailable

from .settings import CampaignConfigError

if TYPE_CHECKING:
    from .base import CampaignRunner

MISSING_COMMAND = "Command not found"  # FreeSWITCH's reply to an api of a module not loaded
# Switches found without mod_audio_fork, with their connection count at the time.
_NO_FORK: weakref.WeakKeyDictionary[SwitchConnection, int] = weakref.WeakKeyDictionary()

log = logging.getLogger(__name__)

# On the customer leg from the originate: FreeSWITCH would otherwise hand the file 64 KB
# (4.1 s) at a time, too late for a decision within the budget (docs/freeswitch.md).
ORIGINATE_VARIABLES: dict[str, object] = {"enable_file_write_buffering": False}
BEEP_WAIT_S = 20.0  # after a machine decision without a beep: how long to wait for one
QUIET_DBFS = -40.0  # the message starts once the line is this quiet (the beep is over) ...
QUIET_MS = 300  # ... for this long
QUIET_WAIT_MS = 5000  # or after this long anyway
TAIL_TIMEOUT_S = 1.0  # no new audio for this long: the call ended or the recording stalled
FORK_BUG, FORK_BUG_EARLY = "dialer_amd", "dialer_amd_early"  # mod_audio_fork media bug names
# Fingerprint names of announcements that mean the number itself is wrong (else: network).
INVALID_NUMBER_HINTS = ("not-in-service", "invalid", "unallocated", "not-exist")


@dataclass(frozen=True)
class AmdSettings:
    """The campaign's ``amd`` settings."""

    budget_s: float = 3.0
    on_machine: str = "hangup"  # or "message"
    message: str | None = None  # played after the beep with on_machine = "message"
    early_media: bool = True  # watch ringing-phase audio for network announcements
    review: ReviewSettings = field(default_factory=ReviewSettings)

    @classmethod
    def from_campaign(cls, campaign: Campaign) -> AmdSettings | None:
        """The settings, or None when AMD is off; errors name campaign and field."""
        amd: dict[str, Any] = campaign.amd or {}
        where = f"campaign {campaign.id} ({campaign.name}) amd"
        if not isinstance(amd.get("enabled", False), bool):
            raise CampaignConfigError(f"{where}.enabled must be true or false")
        if not amd.get("enabled", False):
            return None
        budget = amd.get("budget_s", 3.0)
        if isinstance(budget, bool) or not isinstance(budget, (int, float)) or budget <= 0:
            raise CampaignConfigError(f"{where}.budget_s must be a positive number, got {budget!r}")
        on_machine = amd.get("on_machine", "hangup")
        if on_machine not in ("hangup", "message"):
            raise CampaignConfigError(
                f"{where}.on_machine must be 'hangup' or 'message', got {on_machine!r}")
        message = amd.get("message")
        if on_machine == "message" and (not isinstance(message, str) or not message.strip()):
            raise CampaignConfigError(f"{where}.message: a file path is needed with "
                                      f"on_machine = 'message'")
        early = amd.get("early_media", True)
        if not isinstance(early, bool):
            raise CampaignConfigError(f"{where}.early_media must be true or false")
        try:
            review = ReviewSettings.from_amd(amd, where)
        except ReviewError as exc:
            raise CampaignConfigError(str(exc)) from None
        return cls(budget_s=float(budget), on_machine=on_machine, message=message,
                   early_media=early, review=review)


def unreachable_outcome(decision: Decision) -> Outcome | None:
    """What a network announcement or SIT means for the attempt (None for a subscriber)."""
    if not decision.unreachable:
        return None
    reason = decision.reason.lower()
    if any(hint in reason for hint in INVALID_NUMBER_HINTS):
        return Outcome.INVALID_NUMBER
    return Outcome.NETWORK_FAILURE


class AmdGate:
    """A call observer in front of a runner: holds each answer back until AMD says human."""

    def __init__(self, runner: CampaignRunner, settings: AmdSettings,
                 directory: Path | None = None, rng: random.Random | None = None,
                 fork_server: AudioForkServer | None = None) -> None:
        self.runner = runner
        self.settings = settings
        self.directory = directory or Path(tempfile.gettempdir()) / "dialer-amd"
        self.directory.mkdir(parents=True, exist_ok=True)
        try:  # load the model now, not on a call
            load_default_detector(budget_s=settings.budget_s)
        except FileNotFoundError as exc:
            raise CampaignConfigError(f"campaign {runner.campaign_id} amd.enabled: {exc}") from exc
        self.rng = rng or random.Random()  # draws the kept samples
        self.fork_server = fork_server  # mod_audio_fork's streams (default: shared_server())
        self._taps: dict[str, AudioTap] = {}  # answered calls being heard
        self._early: dict[str, AudioTap] = {}  # ringing calls whose early media is watched
        self._adopted: set[str] = set()  # calls of a previous run, until their answer is handled
        self._messages: set[str] = set()  # calls hearing the machine message

    @classmethod
    def for_runner(cls, runner: CampaignRunner) -> AmdGate | None:
        settings = AmdSettings.from_campaign(runner.campaign)
        return cls(runner, settings) if settings is not None else None

    # --- call observer --------------------------------------------------------------------

    def call_changed(self, call: Call) -> None:
        self.runner.call_changed(call)

    def call_early_media(self, call: Call) -> None:
        """The call rings with audio (183): watch it for network announcements."""
        if self.settings.early_media and call.uuid not in self._early:
            gevent.spawn(self._watch_early, call)

    def adopt(self, call: Call) -> None:
        """A call of a previous run: its answer resumes AMD (see ``_resume``)."""
        call.observer = self
        self._adopted.add(call.uuid)

    def call_answered(self, call: Call) -> None:
        self._stop_early(call)
        if call.uuid in self._adopted:
            self._adopted.discard(call.uuid)
            gevent.spawn(self._resume, call)
        else:
            gevent.spawn(self._detect, call)

    def call_bridged(self, call: Call) -> None:
        self.runner.call_bridged(call)

    def call_ended(self, call: Call) -> None:
        tap = self._taps.pop(call.uuid, None)
        if tap is not None:
            tap.stop()
        self._stop_early(call)
        self._adopted.discard(call.uuid)
        self._messages.discard(call.uuid)
        self.runner.call_ended(call)

    def call_dtmf(self, call: Call, digit: str) -> None:
        if call.uuid not in self._taps and call.uuid not in self._messages:
            self.runner.call_dtmf(call, digit)

    def call_app_done(self, call: Call, application: str) -> None:
        if call.uuid in self._messages:
            if application == "playback":
                self._messages.discard(call.uuid)
                self.runner.core.kill(call)
            return
        self.runner.call_app_done(call, application)

    # --- early media ----------------------------------------------------------------------

    def _watch_early(self, call: Call) -> None:
        tap = None
        try:
            tap = self._open_tap(call, early=True)
            if tap is None:
                return
            decision = watch_early_media(tap.frames())
            outcome = unreachable_outcome(decision) if decision is not None else None
            if decision is None or outcome is None \
                    or call.state not in (CallState.DIALING, CallState.RINGING):
                return  # nothing heard, or answered or gone meanwhile
            log.info("call %s: early media %s after %d ms: hung up as %s", call.uuid,
                     decision.reason, decision.decision_ms, outcome)
            call.outcome_override = outcome
            self.runner.core.kill(call)
            self._store(call, replace(decision, reason=f"early-media:{decision.reason}"))
        except Exception:  # the call goes on ringing as without the watch
            log.exception("call %s: early media watch failed", call.uuid)
        finally:
            self._early.pop(call.uuid, None)
            if tap is not None:
                tap.finish()
                tap.discard()

    def _stop_early(self, call: Call) -> None:
        tap = self._early.pop(call.uuid, None)
        if tap is not None:
            tap.stop()

    # --- detection ------------------------------------------------------------------------

    def _tailer(self, path: Path) -> RawTailer:
        return RawTailer(path, timeout_s=TAIL_TIMEOUT_S, clock=self.runner.core.clock,
                         sleep=gevent.sleep)

    def _detect(self, call: Call, recording: bool = False) -> None:
        """Hear (``recording``: the last run's recording runs on), decide, act, store, clean up."""
        tap = None
        decision = None
        try:
            try:
                tap = self._open_tap(call, running=recording)
                decision = (run_detector(load_default_detector(budget_s=self.settings.budget_s),
                                         tap.frames()) if tap is not None
                            else Decision("unknown", "no-recording", 0.5, 0))
            except Exception:  # a broken detector must not leave the customer waiting
                log.exception("call %s: AMD failed", call.uuid)
                decision = Decision("unknown", "error", 0.5, 0)
            log.info("call %s: AMD %s (%s) after %d ms", call.uuid, decision.label,
                     decision.reason, decision.decision_ms)
            self._act(call, decision, tap.frames() if tap is not None else iter(()))
            self._store(call, decision)
        finally:
            self._taps.pop(call.uuid, None)
            if tap is not None:
                tap.finish()
                if decision is not None and self._sampled(call, decision):
                    self._keep(call, decision, tap)
                tap.discard()

    def _resume(self, call: Call) -> None:
        """An adopted answered call: act on the last run's stored decision, or decide now.

        The last run's recording, if the switch still writes it, holds the audio since the
        answer: it is read again from its start."""
        stored = self._stored_decision(call)
        if stored is None:
            recording = (self.directory / f"{call.uuid}.r8").exists()
            log.info("call %s adopted before an AMD decision: %s", call.uuid,
                     "reading its recording again" if recording else "recording anew")
            self._detect(call, recording=recording)
            return
        log.info("call %s adopted with AMD %s (%s) stored by the last run", call.uuid,
                 stored.label, stored.reason)
        if stored.label == "machine":  # hung up (or the message played) without more audio
            self._act(call, replace(stored, beep_at_ms=0), iter(()))
        else:
            self._pass_on(call)

    def _stored_decision(self, call: Call) -> Decision | None:
        with self.runner.core.sessions() as session:
            row = session.execute(select(
                CallAttempt.amd_result, CallAttempt.amd_reason, CallAttempt.amd_decision_ms
            ).where(CallAttempt.id == call.attempt_id)).one_or_none()
        if row is None or row.amd_result is None:
            return None
        return Decision(row.amd_result, row.amd_reason or "", 0.5, row.amd_decision_ms or 0)

    def _sampled(self, call: Call, decision: Decision) -> bool:
        """A machine drop (not an announcement) drawn for review."""
        return (call.outcome_override is Outcome.MACHINE and not decision.unreachable
                and self.settings.review.keeps(self.rng))

    def _keep(self, call: Call, decision: Decision, tap: AudioTap) -> None:
        """Keep what the detector heard for a reviewer (``dialer amd review``); a sample that
        cannot be kept is logged and the call goes on."""
        target = review_path(self.runner.core.recordings_dir, self.runner.campaign.tenant_id,
                             call.attempt_id)
        try:
            audio = tap.heard()
            with transaction(self.runner.core.sessions) as session:
                keep_sample(session, audio=audio, target=target, attempt_id=call.attempt_id,
                            campaign_id=self.runner.campaign_id, amd_reason=decision.reason,
                            now=self.runner.core.clock.now())
        except (AudioFileError, OSError, SQLAlchemyError) as exc:
            log.warning("call %s: AMD audio not kept for review: %s", call.uuid, exc)

    def _act(self, call: Call, decision: Decision, frames: Iterator[np.ndarray]) -> None:
        if call.state is not CallState.ANSWERED:
            return  # hung up meanwhile: its hangup ends the call
        unreachable = unreachable_outcome(decision)
        if unreachable is not None:
            call.outcome_override = unreachable
            self.runner.core.kill(call)
        elif decision.label != "machine":
            self._taps.pop(call.uuid, None)
            self._pass_on(call)
        elif self.settings.on_machine == "message" and self.settings.message:
            call.outcome_override = Outcome.MACHINE
            if decision.beep_at_ms is None:  # wait for the beep (or the end of the greeting)
                run_detector(StreamingDetector(budget_s=BEEP_WAIT_S), frames)
            wait_for_quiet(frames)
            if call.state is CallState.ANSWERED:
                self._messages.add(call.uuid)
                if not self._api(call, f"uuid_broadcast {call.uuid} "
                                       f"playback::{self.settings.message} aleg"):
                    self._messages.discard(call.uuid)
                    self.runner.core.kill(call)
        else:
            call.outcome_override = Outcome.MACHINE
            self.runner.core.kill(call)

    def _pass_on(self, call: Call) -> None:
        """A human (or unknown): the runner connects the customer as without AMD."""
        if call.state is CallState.ANSWERED:
            self.runner.call_answered(call)

    def _open_tap(self, call: Call, early: bool = False,
                  running: bool = False) -> AudioTap | None:
        """Start hearing what the customer sends (``early``: while it rings), registered so
        that a hangup stops it: the node's mod_audio_fork stream where configured, else (or
        when that does not start) a read-only recording (``running``: the last run's recording
        runs on). None: neither started."""
        taps = self._early if early else self._taps
        path = self.directory / f"{call.uuid}{'.early' if early else ''}.r8"
        api = functools.partial(self._api_error, call)
        if not running and self._amd_source(call) == "audio_fork":
            bug = FORK_BUG_EARLY if early else FORK_BUG
            server = self.fork_server or shared_server()
            fork = taps[call.uuid] = ForkTap(call.uuid, bug, server, api, timeout_s=TAIL_TIMEOUT_S)
            error = fork.start()
            if error is None:
                return fork
            if MISSING_COMMAND in error:
                self._note_no_fork(call, error)
            else:
                log.warning("call %s: mod_audio_fork stream not started (%s): recording for AMD "
                            "instead", call.uuid, error)
            self._drop_tap(call, fork, taps)
        tap = taps[call.uuid] = RecordTap(call.uuid, path, api, self._tailer(path),
                                          stereo=self.runner.settings.record)
        if running or tap.start() is None:
            return tap
        self._drop_tap(call, tap, taps)
        return None

    @staticmethod
    def _drop_tap(call: Call, tap: AudioTap, taps: dict[str, AudioTap]) -> None:
        """A tap that did not start: the switch stops it, its leftovers go."""
        if taps.get(call.uuid) is tap:
            del taps[call.uuid]
        tap.finish()
        tap.discard()

    def _switch(self, call: Call) -> SwitchConnection | None:
        """The call's switch connection (None: a node no longer configured)."""
        try:
            return self.runner.core.pool[call.node]
        except SwitchUnavailable:
            return None

    def _amd_source(self, call: Call) -> str:
        connection = self._switch(call)
        if connection is None:  # the stock way
            return "record"
        if _NO_FORK.get(connection) == connection.connects:
            return "record"  # found without mod_audio_fork since it last connected
        return connection.node.amd_source

    def _note_no_fork(self, call: Call, error: str) -> None:
        """The switch has no mod_audio_fork: record its calls without asking again (and
        without a warning per call) until it reconnects, when the module may be loaded."""
        connection = self._switch(call)
        if connection is not None and _NO_FORK.get(connection) != connection.connects:
            _NO_FORK[connection] = connection.connects
            log.warning("switch %s has no mod_audio_fork (%s): recording for AMD instead "
                        "until it reconnects", call.node, error)

    def _api_error(self, call: Call, command: str) -> str | None:
        """Run ``command`` on the call's switch: None when it succeeded, else the error."""
        try:
            self.runner.core.pool[call.node].api(command)
        except (SwitchError, SwitchUnavailable) as exc:
            log.debug("call %s: %s: %s", call.uuid, command, exc)
            return str(exc)
        return None

    def _api(self, call: Call, command: str) -> bool:
        return self._api_error(call, command) is None

    def _store(self, call: Call, decision: Decision) -> None:
        with transaction(self.runner.core.sessions) as session:
            session.execute(update(CallAttempt).where(CallAttempt.id == call.attempt_id).values(
                amd_result=decision.label, amd_reason=decision.reason[:80],
                amd_decision_ms=decision.decision_ms))


def wait_for_quiet(frames: Iterator[np.ndarray], quiet_ms: int = QUIET_MS,
                   limit_ms: int = QUIET_WAIT_MS) -> None:
    """Consume frames until ``quiet_ms`` of quiet in a row, ``limit_ms`` in all, or the end."""
    quiet = elapsed = 0
    for frame in frames:
        rms = float(np.sqrt(np.mean(frame.astype(np.float64) ** 2))) / 32768.0
        quiet = quiet + FRAME_MS if 20 * np.log10(rms + 1e-9) < QUIET_DBFS else 0
        elapsed += FRAME_MS
        if quiet >= quiet_ms or elapsed >= limit_ms:
            return

