"""A customer calling into the switch, as freeswitch_conf's ``inbound_callbacks`` context
handles it: answered, tagged for the dialer, parked (CHANNEL_ANSWER, then CHANNEL_EXECUTE
park and CHANNEL_PARK carrying ``dialer_inbound=true``, ``dialer_campaign_number``,
``dialer_caller_number``). The caller then behaves as a human callee: waits up to their
patience for a bridge, talks, hangs up."""

from __future__ import annotations

import random
import uuid as uuidlib
from typing import TYPE_CHECKING

import gevent

from engine.sim import callee
from engine.sim.channel import Channel
from engine.sim.scenario import CallPlan, IncomingCall

if TYPE_CHECKING:
    from engine.sim.switch import Switch


def dialplan_vars(call: IncomingCall, wait_seconds: int = 120) -> list[tuple[str, str]]:
    """What ``inbound_callbacks.xml`` sets before answering."""
    return [("direction", "inbound"), ("dialer_inbound", "true"),
            ("dialer_campaign_number", call.dialled.lstrip("+")),
            ("dialer_caller_number", call.caller), ("park_after_bridge", "false"),
            ("hangup_after_bridge", "true"), ("send_silence_when_idle", "400"),
            ("park_timeout", f"{wait_seconds}:NO_ANSWER")]


def call_in(switch: Switch, call: IncomingCall) -> Channel:
    """Create the caller's leg, answer and park it; its far end runs in a greenlet."""
    uuid = str(uuidlib.uuid4())
    channel = Channel(switch, uuid, f"sofia/trunk/{call.caller}@127.0.0.1", call.dialled,
                      "127.0.0.1", call.caller, [])
    channel.direction = "inbound"
    channel.profile.logical_direction = "inbound"
    channel.profile.callee_id_name = None
    switch.register(channel)
    channel.start(switch.next_session_id())
    channel.set_var("is_outbound", None)
    channel.set_vars(dialplan_vars(call))
    channel.hit_dialplan = True  # the profile stays the caller's (no originate swap)
    channel.answer()
    channel.park()
    plan = CallPlan("human", 0.0, 0.0, False, call.patience_seconds, call.talk_seconds, 0.0,
                    None, None)
    rng = random.Random(f"{switch.seed}:inbound:{call.caller}")
    channel.far_end = gevent.spawn(callee.human, channel, plan, switch.media.library, rng)
    return channel
