"""Predictive mode: dial ahead of agents about to be free, within the abandon cap.

Each pacing tick builds a ``PacingSnapshot`` of the campaign's agents and calls, asks
``engine.pacing.decide_calls`` how many calls to launch, logs the decision's ``explain`` (JSON)
at INFO and dials that many numbers without reserving agents. A human answer goes to the
longest-ready agent at once (the customer hears silence meanwhile); with no agent free within
``pacing.answer_timeout_s`` the call is abandoned as the rules require: the campaign's
``pacing.abandon_message`` is played (when set), the attempt is recorded ``abandoned`` and a
progressive callback with an agent reserved is scheduled (``Callback.reason = "abandoned"``).
A contact abandoned in the last 72 hours is only ever dialed with a ready agent reserved, never
predictively. Due callbacks go to their reserved agent as in progressive mode.

Dead air runs from the hand-over to the agent queue (the AMD verdict, or the answer without
AMD) to the bridge and is stored as the attempt's ``dead_air_ms``. On start the runner rebuilds
the abandon guard and the estimates from the campaign's ended attempts (a restart is not a
cold start), reading the rule's window as per-bucket counts; ``pacing_snapshot()`` gives the
last decision for the live view. AMD's production estimate of humans dropped as machines is
read at start and again every ``AMD_REFRESH_S`` while running, off the event loop.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

import gevent
from sqlalchemy import Integer, Row, and_, func, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

from engine.agents import AgentSession, AgentState
from engine.calls import Call, CallState
from engine.pacing import (
    AttemptOutcome,
    CallResult,
    FinishedAttempt,
    GuardState,
    PacingDecision,
    PacingEstimates,
    PacingSettings,
    PacingSettingsError,
    PacingSnapshot,
    decide_calls,
    learn,
    restore,
)
from engine.pacing.guard import BUCKET, GuardBucket, window_start
from engine.pacing.history import REPLAY_HALF_LIVES
from engine.store.db import transaction
from engine.store.models import (
    OUTBOUND,
    AttemptState,
    CallAttempt,
    Callback,
    CallbackStatus,
    Campaign,
    DialMode,
    Outcome,
)
from engine.switch.connection import SwitchError, SwitchUnavailable

from .agent_ringing import first_reachable
from .attempts import Dialable
from .base import CampaignRunner
from .core import DialerCore
from .progressive import ProgressiveRunner
from .settings import CampaignConfigError, model_pacing

log = logging.getLogger(__name__)

PACING_TICK_S = 0.25  # a decision at least this often, and whenever more agents are ready
AMD_REFRESH_S = 300.0  # AMD's production estimate of humans dropped is read this often
NO_PREDICTIVE_REDIAL = timedelta(hours=72)  # after an abandon: progressive only, agent reserved
MESSAGE_LIMIT_S = 15.0  # an abandon message still playing after this is cut off
DEFAULT_CALLBACK_AFTER_S = 300.0
# Keys of ``Campaign.pacing`` that the runners read, not the pacing model.
_RINGING = (CallState.PENDING, CallState.DIALING, CallState.RINGING)
_NOT_A_PERSON = (Outcome.INVALID_NUMBER, Outcome.NETWORK_FAILURE)  # AMD heard the network
BUCKET_S = int(BUCKET.total_seconds())


def pacing_settings(campaign: Campaign) -> tuple[PacingSettings, str | None, float]:
    """The pacing model's settings, the abandon message and the callback delay of a campaign."""
    raw = dict(campaign.pacing or {})
    where = f"campaign {campaign.id} ({campaign.name})"
    try:
        settings = PacingSettings.from_dict(model_pacing(raw))
    except PacingSettingsError as exc:
        raise CampaignConfigError(f"{where} {exc}") from None
    message = raw.get("abandon_message")
    if message is not None and (not isinstance(message, str) or not message
                                or any(c in message for c in " )\n")):
        raise CampaignConfigError(
            f"{where} pacing.abandon_message must be a file path without spaces or ')', "
            f"got {message!r}")
    after = raw.get("abandon_callback_after_s", DEFAULT_CALLBACK_AFTER_S)
    if isinstance(after, bool) or not isinstance(after, (int, float)) or after < 0:
        raise CampaignConfigError(
            f"{where} pacing.abandon_callback_after_s must be a non-negative number, "
            f"got {after!r}")
    return settings, message, float(after)


class PredictiveRunner(ProgressiveRunner):
    mode = DialMode.PREDICTIVE

    def __init__(self, core: DialerCore, campaign_id: int, *, tick_s: float = 0.05) -> None:
        super().__init__(core, campaign_id, tick_s=tick_s)
        self.pacing, self.abandon_message, callback_after = pacing_settings(self.campaign)
        self._configured_pacing = self.pacing  # before AMD's production estimate
        self.pacing = self._with_amd_estimate()
        self._amd_read_at = core.clock.monotonic()
        self._amd_reader: gevent.Greenlet | None = None
        self.callback_after = timedelta(seconds=callback_after)
        self.estimates, self.guard = self._restore()
        self._last: tuple[datetime, PacingSnapshot, PacingDecision] | None = None
        self._handed: dict[str, float] = {}  # live answers handed to the agent queue: when
        self._decided_at = float("-inf")
        self._decided_ready = 0
        self._waiting: dict[str, tuple[Call, float]] = {}  # answered, no agent yet: since
        self._timers: dict[str, gevent.Greenlet] = {}
        self._server: gevent.Greenlet | None = None
        self.ringer.missed = self._back_to_queue  # a per-call agent let the phone ring out

    # --- pacing ---------------------------------------------------------------------------

    def step(self) -> None:
        self._refresh_amd_estimate()
        ready = self.core.agents.ready(self.campaign_id)
        ready = self._serve_waiting(ready)
        mono = self.core.clock.monotonic()
        if (mono - self._decided_at < PACING_TICK_S and len(ready) <= self._decided_ready) \
                or not self.can_dial():
            return
        self._decided_at, self._decided_ready = mono, len(ready)
        now = self.core.clock.now()
        snapshot = self.snapshot()
        decision = decide_calls(snapshot, self.estimates, self.pacing, self.guard, now)
        self._last = (now, snapshot, decision)
        log.info("campaign %s pacing %s", self.campaign_id,
                 json.dumps(decision.explain, sort_keys=True))
        if decision.calls_to_launch > 0:
            self._launch(decision.calls_to_launch, ready, now)

    def _with_amd_estimate(self) -> PacingSettings:
        """The configured pacing with AMD's production estimate of humans dropped as
        machines (``engine.amd.quality``) once enough drops are labelled."""
        from engine.amd.quality import with_production_fp_rate

        return with_production_fp_rate(self._configured_pacing, self.core.sessions,
                                       self.campaign)

    def _refresh_amd_estimate(self) -> None:
        """Every ``AMD_REFRESH_S``, read the AMD estimate again on the writer's thread (the
        event loop goes on meanwhile); the guard counts with it from the next decision."""
        mono = self.core.clock.monotonic()
        if mono - self._amd_read_at < AMD_REFRESH_S or (
                self._amd_reader is not None and not self._amd_reader.dead):
            return
        self._amd_read_at = mono
        self._amd_reader = gevent.spawn(self._read_amd_estimate)

    def _read_amd_estimate(self) -> None:
        try:
            pacing = self.core.writer.run(self._with_amd_estimate)
        except Exception:  # a locked or unreachable database: keep the last, try later
            log.exception("campaign %s: reading the AMD estimate failed", self.campaign_id)
            return
        if pacing.amd_false_positive_rate != self.pacing.amd_false_positive_rate:
            log.info("campaign %s: AMD humans per machine verdict now %.4f (was %.4f)",
                     self.campaign_id, pacing.amd_false_positive_rate,
                     self.pacing.amd_false_positive_rate)
        self.pacing = pacing

    def pacing_snapshot(self) -> dict[str, Any] | None:
        """The last pacing decision as a JSON-able dict (None before the first one)."""
        if self._last is None:
            return None
        at, snapshot, decision = self._last
        explain = decision.explain
        return {
            "at": at.isoformat(),
            "mode": str(decision.mode),
            "calls_to_launch": decision.calls_to_launch,
            "reason": explain["reason"],
            "agents_ready": len(snapshot.ready_for_s),
            "agents_busy": len(snapshot.talking_for_s) + len(snapshot.wrapping_for_s),
            "calls_ringing": len(snapshot.ringing_for_s),
            "calls_waiting": len(snapshot.waiting_for_s),
            "answer_rate": explain["estimates"]["human_rate"],
            "abandon_rate": explain["abandon"]["rate"],
            "abandon_cap": explain["abandon"]["cap"],
            "budget": explain["abandon"]["budget"],
            "dead_air_p95_s": explain["dead_air_p95_s"],
            "explain": explain,
        }

    def snapshot(self) -> PacingSnapshot:
        """The campaign's agents and the calls that still need an agent from the pool."""
        mono, now = self.core.clock.monotonic(), self.core.clock.now()
        by_state: dict[AgentState, list[float]] = {}
        for agent in self.core.agents:
            if agent.campaign_id == self.campaign_id:
                by_state.setdefault(agent.state, []).append(mono - agent.since_mono)
        ringing = [max(0.0, (now - call.originated_at).total_seconds())
                   if call.originated_at else 0.0
                   for call in self._own_calls() if call.state in _RINGING]
        return PacingSnapshot(
            ready_for_s=tuple(by_state.get(AgentState.READY, ())),
            # a reserved agent is about to talk to a call of its own
            talking_for_s=(*by_state.get(AgentState.TALKING, ()),
                           *(0.0 for _ in by_state.get(AgentState.RESERVED, ()))),
            wrapping_for_s=tuple(by_state.get(AgentState.WRAP_UP, ())),
            ringing_for_s=tuple(ringing),
            waiting_for_s=tuple(mono - since for _, since in self._waiting.values()))

    def _own_calls(self) -> Iterable[Call]:
        """Live calls of this campaign not tied to an agent (those need one from the pool)."""
        return (call for call in list(self.core.calls.values())
                if call.campaign_id == self.campaign_id and call.agent_id is None)

    def _launch(self, count: int, ready: list[AgentSession], now: datetime) -> None:
        """Dial ``count`` numbers: callbacks and recently abandoned contacts only with a ready
        agent reserved (as in progressive mode), the others without an agent. The protected
        contacts are read on the writer's thread before the pairs are formed; the event loop
        may give agents to answered calls meanwhile, so only those still ready are paired."""
        items = self.next_items(count)
        protected = self.core.writer.run(
            self._recently_abandoned, [item.contact_id for item in items if not item.is_callback], now)
        ready = [agent for agent in ready if agent.state is AgentState.READY]
        pairs: list[tuple[Dialable, AgentSession | None]] = []
        for item in items:
            if not self.can_dial_more(len(pairs)):
                break
            if item.is_callback or item.contact_id in protected:
                agent = self.pick_agent(item, ready)
                if agent is None:
                    continue
                ready.remove(agent)
                pairs.append((item, agent))
            else:
                pairs.append((item, None))
        if pairs:
            self.dial_many(pairs)

    def _recently_abandoned(self, contact_ids: list[int], now: datetime) -> set[int]:
        """On the database thread: which of the contacts were abandoned within 72 hours."""
        if not contact_ids:
            return set()
        with self.core.sessions() as session:
            return set(session.scalars(select(CallAttempt.contact_id).where(
                CallAttempt.campaign_id == self.campaign_id,
                CallAttempt.contact_id.in_(contact_ids),
                CallAttempt.outcome == Outcome.ABANDONED,
                CallAttempt.created_at >= now - NO_PREDICTIVE_REDIAL)))

    # --- answers --------------------------------------------------------------------------

    def call_answered(self, call: Call) -> None:
        # A human now (with AMD on, the gate passes the call on after its verdict): from
        # here the customer waits for an agent, and dead air counts.
        self._handed[call.uuid] = self.core.clock.monotonic()
        if call.agent_id is not None:  # a callback with its reserved agent
            super().call_answered(call)
            return
        CampaignRunner.call_answered(self, call)  # recording from the answer, if so set
        self._waiting[call.uuid] = (call, self.core.clock.monotonic())
        self._timers[call.uuid] = gevent.spawn_later(  # until the bridge (a rung agent too)
            self.pacing.answer_timeout_s, self._timed_out, call)
        self._serve_waiting(self.core.agents.ready(self.campaign_id))
        if call.uuid not in self._waiting:
            return
        if self._server is None or self._server.dead:
            self._server = gevent.spawn(self._serve_while_waiting)

    def _serve_while_waiting(self) -> None:
        """Hand freed agents to waiting customers every tick, whatever the campaign's status
        (a paused or stopped campaign still owes its answered calls an agent)."""
        while self._waiting:
            gevent.sleep(self.tick_s)
            self._serve_waiting(self.core.agents.ready(self.campaign_id))

    def _serve_waiting(self, ready: list[AgentSession]) -> list[AgentSession]:
        """Connect waiting customers, longest waiting first, to the longest-ready agents
        who can take them (nailed-up on their node, or per-call: rung); returns the agents
        still ready. A rung agent must answer within the answer time-out too: the
        customer's timer keeps running until the bridge."""
        for call, _ in sorted(self._waiting.values(), key=lambda pair: pair[1]):
            agent = first_reachable(ready, call)
            if agent is None:
                continue
            ready.remove(agent)
            if agent.per_call:
                self._waiting.pop(call.uuid, None)
            else:
                self._stop_waiting(call)
            agent.reserve(call.uuid)
            call.agent_id = agent.agent_id
            self.ringer.connect(call, agent)
        return ready

    def _back_to_queue(self, call: Call, missed: AgentSession) -> None:
        """A rung agent did not answer: the customer waits for the next agent, still
        within the answer time-out counted from the answer."""
        if call.uuid in self._timers:
            self._waiting[call.uuid] = (call, self._handed.get(call.uuid,
                                                               self.core.clock.monotonic()))
            self._serve_waiting(self.core.agents.ready(self.campaign_id))
            if self._server is None or self._server.dead:
                self._server = gevent.spawn(self._serve_while_waiting)
        else:  # a callback's reserved agent: as in progressive mode
            self.ringer.next_or_abandon(call, missed)

    def call_bridged(self, call: Call) -> None:
        self._stop_waiting(call)  # a rung agent answered in time
        self._silence_until_now(call)
        super().call_bridged(call)

    def _silence_until_now(self, call: Call) -> None:
        """Set the call's dead air: from its hand-over to the agent queue (the AMD verdict,
        or the answer when AMD is off) until now, the bridge or the abandon. ``Call`` counts
        it from the answer, which would blame pacing for the time AMD took."""
        handed = self._handed.pop(call.uuid, None)
        if handed is not None:
            call.dead_air_ms = round((self.core.clock.monotonic() - handed) * 1000)
            self.core.save(call)

    def _stop_waiting(self, call: Call) -> None:
        self._waiting.pop(call.uuid, None)
        timer = self._timers.pop(call.uuid, None)
        if timer is not None and timer is not gevent.getcurrent():
            timer.kill()

    def _timed_out(self, call: Call) -> None:
        if call.state is CallState.ANSWERED:  # waiting, or its agent's phone still rings
            log.info("call %s: no agent within %.1f s of the answer: abandoned",
                     call.uuid, self.pacing.answer_timeout_s)
            self.abandon(call)

    def abandon(self, call: Call) -> None:
        """Abandon as the rules require: the message naming the caller (if set), the attempt
        recorded abandoned, and a progressive callback with an agent reserved."""
        self._stop_waiting(call)
        self.ringer.cancel(call)
        self._silence_until_now(call)
        call.outcome_override = Outcome.ABANDONED
        self._schedule_callback(call)
        if self.abandon_message is None:
            self.core.kill(call)
            return
        try:
            self.core.pool[call.node].api(
                f"uuid_broadcast {call.uuid} playback::{self.abandon_message} aleg")
        except (SwitchError, SwitchUnavailable):
            self.core.kill(call)
            return
        self._timers[call.uuid] = gevent.spawn_later(MESSAGE_LIMIT_S, self.core.kill, call)

    def call_app_done(self, call: Call, application: str) -> None:
        if application == "playback" and call.outcome_override is Outcome.ABANDONED:
            self._stop_waiting(call)
            gevent.spawn(self.core.kill, call)

    def _schedule_callback(self, call: Call) -> None:
        if call.contact_id is None:
            return
        now = self.core.clock.now()
        agent = self._agent_free_soonest()
        with transaction(self.core.sessions) as session:
            phone_id = session.scalar(
                select(CallAttempt.phone_id).where(CallAttempt.id == call.attempt_id))
            session.add(Callback(
                campaign_id=self.campaign_id, contact_id=call.contact_id, phone_id=phone_id,
                agent_id=agent.agent_id if agent else None, due_at=now + self.callback_after,
                reason="abandoned", status=CallbackStatus.PENDING, created_at=now))

    def _agent_free_soonest(self) -> AgentSession | None:
        """The campaign's agent in its current (busy) state the longest: wrap-up first."""
        agents = [a for a in self.core.agents if a.campaign_id == self.campaign_id
                  and a.state is not AgentState.OFFLINE]
        return min(agents, default=None,
                   key=lambda a: (a.state is not AgentState.WRAP_UP, a.since_mono))

    # --- learning from finished calls -----------------------------------------------------

    def call_ended(self, call: Call) -> None:
        self._stop_waiting(call)
        self._observe(call)
        super().call_ended(call)

    def _observe(self, call: Call) -> None:
        """Feed the estimators and the abandon guard with one finished attempt."""
        if call.uuid in self._handed:  # the customer hung up while waiting for an agent
            self._silence_until_now(call)
        elif (self.amd is not None and call.answered_at is not None
              and call.dead_air_ms is None and call.outcome is not Outcome.MACHINE):
            call.dead_air_ms = 0  # hung up before the AMD verdict: never in the agent queue
            self.core.save(call)
        finished = finished_attempt(call, _silence_s(call), self.settings.wrap_up_s)
        if finished is not None:
            self.estimates, self.guard = learn(self.estimates, self.guard, finished,
                                               self.pacing)

    def _restore(self) -> tuple[PacingEstimates, GuardState]:
        """The estimates and the abandon guard learnt from the campaign's ended attempts, so
        that a restarted engine keeps the abandons of the rule's window and its estimates."""
        now = self.core.clock.now()
        with self.core.sessions() as session:
            buckets, recent, delays = stored_history(session, self.campaign_id, self.pacing,
                                                     self.settings.wrap_up_s, now)
        estimates, guard = restore(buckets, recent, delays, self.pacing, now)
        counts = guard.counts(now, self.pacing)
        log.info("campaign %s: abandon window and estimates restored from %d bucket(s) and "
                 "the last %d ended attempt(s): %.0f live answers, %.0f abandoned in the %s "
                 "window", self.campaign_id, len(guard.buckets), len(recent), counts.live,
                 counts.abandoned, self.pacing.rule)
        return estimates, guard


class _BucketIndex(FunctionElement[int]):
    """The guard's 15-minute bucket of a UTC timestamp column, as buckets since the epoch."""

    type = Integer()
    name = "bucket_index"
    inherit_cache = True


@compiles(_BucketIndex)
def _bucket_index(element: _BucketIndex, compiler: Any, **kw: Any) -> str:
    (column,) = element.clauses
    return (f"CAST(floor(extract(epoch from {compiler.process(column, **kw)}) / "
            f"{BUCKET_S}) AS BIGINT)")


@compiles(_BucketIndex, "sqlite")
def _bucket_index_sqlite(element: _BucketIndex, compiler: Any, **kw: Any) -> str:
    (column,) = element.clauses
    # Whole seconds of the stored text (strftime would round a fraction up to the next one).
    return (f"(CAST(strftime('%s', substr({compiler.process(column, **kw)}, 1, 19)) "
            f"AS INTEGER) / {BUCKET_S})")


def stored_history(session: Session, campaign_id: int, pacing: PacingSettings, wrap_s: float,
                   now: datetime
                   ) -> tuple[list[GuardBucket], list[FinishedAttempt], list[float]]:
    """What ``engine.pacing.restore`` needs, in three queries whose results do not grow with
    the window: the window's answers counted per 15-minute bucket (GROUP BY, classified as
    ``_classify`` does), the last ``REPLAY_HALF_LIVES * memory_calls`` ended attempts for
    the estimates, and the silences of the window's last ``dead_air_calls`` live answers
    (oldest first)."""
    a = CallAttempt
    ended = (a.campaign_id == campaign_id, a.direction == OUTBOUND,
             a.state == AttemptState.ENDED, a.ended_at.is_not(None), a.originated_at.is_not(None))
    in_window = (a.ended_at >= window_start(now, pacing), a.ended_at <= now)
    machine = a.outcome == Outcome.MACHINE
    live = and_(a.answered_at.is_not(None),
                or_(a.outcome.is_(None), a.outcome.not_in((Outcome.MACHINE, *_NOT_A_PERSON))))
    bucket = _BucketIndex(a.ended_at)
    abandoned = and_(live, a.bridged_at.is_(None))
    counted = session.execute(
        select(bucket, func.count().filter(live), func.count().filter(abandoned),
               func.count().filter(machine))
        .where(*ended, *in_window, or_(live, machine)).group_by(bucket))
    buckets = [GuardBucket(datetime.fromtimestamp(index * BUCKET_S, timezone.utc),
                           live=n_live, abandoned=n_abandoned, machines=n_machines)
               for index, n_live, n_abandoned, n_machines in counted]
    columns = (a.originated_at, a.answered_at, a.bridged_at, a.ended_at, a.outcome,
               a.dead_air_ms)
    newest = a.ended_at.desc()
    recent = [finished_attempt(row, _silence_s(row), wrap_s) for row in session.execute(
        select(*columns).where(*ended).order_by(newest)
        .limit(int(REPLAY_HALF_LIVES * pacing.memory_calls)))]
    last_live = [finished_attempt(row, _silence_s(row), wrap_s) for row in session.execute(
        select(*columns).where(*ended, *in_window, live).order_by(newest)
        .limit(pacing.dead_air_calls))]
    delays = [f.silence_s for f in reversed(last_live)
              if f is not None and f.silence_s is not None]
    return buckets, [f for f in recent if f is not None], delays


class EndedAttempt(Protocol):
    """What pacing reads of an ended attempt: a live ``Call`` or a stored ``CallAttempt``."""

    originated_at: datetime | None
    answered_at: datetime | None
    bridged_at: datetime | None
    ended_at: datetime | None
    outcome: Outcome | None


def finished_attempt(attempt: EndedAttempt, silence_s: float | None,
                     wrap_s: float) -> FinishedAttempt | None:
    """How pacing sees an ended attempt (None: it was never dialed). ``silence_s``: its dead
    air, from the hand-over to the agent queue; a live answer without it counts the time from
    the answer to the hangup, the cautious reading."""
    if attempt.originated_at is None or attempt.ended_at is None:
        return None
    end = attempt.answered_at or attempt.ended_at
    ring_s = max(0.0, (end - attempt.originated_at).total_seconds())
    result, kind = _classify(attempt)
    if result in (CallResult.SERVED, CallResult.ABANDONED) and silence_s is None:
        silence_s = max(0.0, (attempt.ended_at - end).total_seconds())
    talk_s = (None if attempt.bridged_at is None
              else (attempt.ended_at - attempt.bridged_at).total_seconds())
    return FinishedAttempt(
        attempt.ended_at, kind, ring_s, result,
        silence_s=silence_s if result not in (None, CallResult.MACHINE) else None,
        talk_s=talk_s, wrap_s=None if talk_s is None else wrap_s)


def _classify(attempt: EndedAttempt) -> tuple[CallResult | None, AttemptOutcome]:
    """How the guard and the estimators see an ended attempt. A customer who hung up while
    waiting for an agent counts as abandoned (the cautious reading of the rule); a network
    announcement that AMD recognised is no answer."""
    if attempt.outcome is Outcome.MACHINE:
        return CallResult.MACHINE, AttemptOutcome.MACHINE
    if attempt.answered_at is None or attempt.outcome in _NOT_A_PERSON:
        return None, AttemptOutcome.NO_ANSWER
    if attempt.bridged_at is not None:
        return CallResult.SERVED, AttemptOutcome.HUMAN
    return CallResult.ABANDONED, AttemptOutcome.HUMAN


def _silence_s(attempt: Call | Row[Any]) -> float | None:
    """The dead air of an ended call or stored attempt (see ``_silence_until_now``)."""
    return None if attempt.dead_air_ms is None else attempt.dead_air_ms / 1000
