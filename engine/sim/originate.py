"""Running an `originate`: create the leg, play the far end's ring phase, answer or fail, start the app."""

from __future__ import annotations

import random
import uuid as uuidlib
from collections.abc import Callable
from typing import TYPE_CHECKING

import gevent

from engine.sim import callee
from engine.sim.audio import RATE
from engine.sim.channel import Channel, Phase
from engine.sim.dialstring import OriginateRequest, parse_dialstring
from engine.sim.scenario import Agent, CallPlan

if TYPE_CHECKING:
    from engine.sim.switch import Switch

Deliver = Callable[[str], None]
REFUSALS = {"busy": "USER_BUSY", "unallocated": "UNALLOCATED_NUMBER",
            "network_failure": "NORMAL_TEMPORARY_FAILURE", "rejected": "CALL_REJECTED"}
RESERVED_VARS = {"origination_caller_id_number", "origination_caller_id_name"}


class Origination:
    """One originate in its own greenlet; `deliver` gets the api reply text at FreeSWITCH's moment."""

    def __init__(self, switch: Switch, request: OriginateRequest, deliver: Deliver) -> None:
        self.switch = switch
        self.request = request
        self._deliver: Deliver | None = deliver
        self.channel: Channel | None = None

    def deliver(self, text: str) -> None:
        deliver, self._deliver = self._deliver, None
        if deliver is not None:
            deliver(text)

    def fail(self, cause: str) -> Callable[[], None]:
        return lambda: self.deliver(f"-ERR {cause}\n")

    def run(self) -> None:
        req, switch = self.request, self.switch
        target = req.target
        agent = switch.scenario.agents.get(target.user) if target.endpoint == "user" else None
        if target.endpoint == "user" and (agent is None or not agent.registered):
            self.deliver("-ERR USER_NOT_REGISTERED\n")
            return
        if target.endpoint not in ("sofia", "loopback", "user"):
            self.deliver("-ERR CHAN_NOT_IMPLEMENTED\n")
            return
        leg_uuid = req.var("origination_uuid") or str(uuidlib.uuid4())
        if switch.find(leg_uuid) is not None:
            self.deliver("-ERR DESTINATION_OUT_OF_ORDER\n")
            return
        caller_id = req.var("origination_caller_id_number") or req.caller_id_number or "0000000000"
        custom = [(k, v) for k, v in req.variables if k not in RESERVED_VARS]
        if req.var("origination_uuid") is None:
            custom.insert(0, ("origination_uuid", leg_uuid))
        channel = Channel(switch, leg_uuid, target.name, target.user, target.host, caller_id, custom)
        channel.far_end = gevent.getcurrent()
        channel.pending_result = self.deliver
        self.channel = channel
        switch.register(channel)
        rng = switch.call_rng(target.user)
        started = switch.clock.monotonic()
        channel.start(switch.next_session_id())
        if agent is not None:
            plan = CallPlan("agent", 0.05, agent.answer.sample(rng) * switch.scenario.time_scale,
                            False, 0.0, 0.0, 0.0, None, None)
        else:
            plan = switch.scenario.plan(target.user, rng)
        gevent.sleep(plan.post_dial_delay)
        if plan.outcome in ("busy", "unallocated", "network_failure"):
            channel.hangup(REFUSALS[plan.outcome], refused=True, after_complete=self.fail(REFUSALS[plan.outcome]))
            return
        announcing = plan.outcome == "announcement"
        channel.ring(plan.early_media or announcing)
        if announcing:  # repeated until the originate times out, as networks do
            clip = switch.media.library.announcement()
            for repeat in range(int(req.timeout * RATE / len(clip)) + 1):
                channel.media.say(clip, 0.1 + repeat * (len(clip) / RATE + 1.0))
        remaining = req.timeout - (switch.clock.monotonic() - started)
        if plan.outcome in ("no_answer", "announcement") or plan.ring_seconds >= remaining:
            gevent.sleep(max(0.0, remaining))
            channel.hangup("NO_ANSWER", cancelled=True, after_hangup=self.fail("NO_ANSWER"))
            return
        gevent.sleep(plan.ring_seconds)
        if plan.outcome == "rejected":
            channel.hangup("CALL_REJECTED", refused=True, after_complete=self.fail("CALL_REJECTED"))
            return
        channel.answer()
        if self.returned(channel):
            self.start_app(channel)
        if channel.phase is not Phase.HUNGUP:  # also a leg bridged before the originate returned
            channel.run_queued()
            self.far_end(channel, plan, agent, rng)

    def returned(self, channel: Channel) -> bool:
        """FreeSWITCH's originate thread notices the answer some 20 ms later and only then
        returns `+OK <uuid>`; False when the leg was hung up or bridged in that window (the
        reply then went out as `-ERR <cause>` / `-ERR ORIGINATOR_CANCEL`)."""
        delay = self.switch.originate_return_delay()
        if delay:
            gevent.sleep(delay)
        if channel.pending_result is None:
            return False
        channel.pending_result = None
        self.deliver(f"+OK {channel.uuid}\n")
        return True

    def start_app(self, channel: Channel) -> None:
        """Run the originate's application (`&app(args)`); a plain extension parks (no dialplan here).
        A bridge's B leg (app "") runs nothing of its own."""
        app, arg = self.request.app, self.request.app_arg
        if not app:
            return
        if app in ("park", "transfer"):
            channel.park()
        elif app == "playback":
            channel.play(arg, then=lambda: gevent.spawn(channel.hangup, "NORMAL_CLEARING"))
        elif app == "bridge":
            gevent.spawn(bridge_app, self.switch, channel, arg)
        else:
            channel.execute(app, arg)

    def far_end(self, channel: Channel, plan: CallPlan, agent: Agent | None, rng: random.Random) -> None:
        """Hand the answered leg to its far end's behaviour (runs until the leg is gone)."""
        library = self.switch.media.library
        if agent is not None:
            callee.agent(channel, agent, rng, self.switch.scenario.time_scale)
        elif plan.outcome == "human":
            callee.human(channel, plan, library, rng)
        else:
            callee.machine(channel, plan, library, beep=plan.outcome == "machine_beep")


def bridge_app(switch: Switch, a_leg: Channel, dial: str) -> None:
    """`&bridge(dialstring)`: originate the B leg, bridge on answer, hang A up when B fails."""
    a_leg.execute("bridge", dial)
    variables, target = parse_dialstring(dial)
    request = OriginateRequest(tuple(variables), target, "", "", 60.0, None, None)
    outcome: list[str] = []
    origination = Origination(switch, request, outcome.append)
    greenlet = gevent.spawn(origination.run)
    while not outcome and not greenlet.dead and a_leg.phase is not Phase.HUNGUP:
        gevent.sleep(0.02)
    b_leg = origination.channel
    if a_leg.phase is Phase.HUNGUP:
        if b_leg is not None:
            b_leg.hangup("ORIGINATOR_CANCEL")
        return
    if not outcome or not outcome[0].startswith("+OK") or b_leg is None:
        cause = outcome[0][5:].strip() if outcome else "NORMAL_TEMPORARY_FAILURE"
        a_leg.execute_complete(cause)
        a_leg.hangup(cause)
        return
    a_leg.apps.pop()  # the bridge app becomes the bridge itself: it completes with no event of its own
    a_leg.bridge(b_leg)
