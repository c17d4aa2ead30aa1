"""The far ends after answer: a human, an answering machine, an agent's softphone."""

from __future__ import annotations

import random

import gevent

from engine.sim.audio import RATE, ClipLibrary
from engine.sim.channel import Channel, Phase
from engine.sim.scenario import Agent, CallPlan

TURN_GAP = 0.6  # seconds of silence between conversational turns


def _wait_change(channel: Channel, timeout: float | None) -> None:
    channel.changed.clear()
    channel.changed.wait(timeout)


def press_digits(channel: Channel, digits: str, delay: float) -> None:
    """The callee presses `digits` after `delay` seconds, a quarter second apart."""
    gevent.sleep(delay)
    for digit in digits:
        if channel.phase not in (Phase.ANSWERED, Phase.BRIDGED):
            return
        channel.dtmf(digit)
        gevent.sleep(0.25)


def converse(channel: Channel, library: ClipLibrary, seconds: float) -> None:
    """Alternate turns between the callee and the bridged partner's far end for `seconds`."""
    partner = channel.other_leg
    at, turn = 0.3, 0
    while at < seconds:
        speaker = channel if turn % 2 == 0 or partner is None else partner
        clip = library.talk(turn, 150.0 if speaker is channel else 210.0)
        speaker.media.say(clip, at)
        at += len(clip) / RATE + TURN_GAP
        turn += 1
    end = channel.switch.clock.monotonic() + seconds
    while channel.phase is Phase.BRIDGED:
        remaining = end - channel.switch.clock.monotonic()
        if remaining <= 0:
            channel.hangup("NORMAL_CLEARING", remote=True)
            return
        _wait_change(channel, remaining)


def human(channel: Channel, plan: CallPlan, library: ClipLibrary, rng: random.Random) -> None:
    """Says hello, waits in silence up to its patience (prompts reset it), talks once bridged."""
    hello = library.clip_file(plan.clip) if plan.clip else library.hello()
    channel.media.say(hello, rng.uniform(0.2, 0.6))
    if plan.dtmf is not None:
        gevent.spawn(press_digits, channel, plan.dtmf[0], plan.dtmf[1])
    deadline = channel.switch.clock.monotonic() + len(hello) / RATE + plan.patience_seconds
    while channel.phase is not Phase.HUNGUP:
        if channel.phase is Phase.BRIDGED:
            converse(channel, library, plan.talk_seconds)
            deadline = channel.switch.clock.monotonic() + plan.patience_seconds
            continue
        if channel.playback is not None:
            _wait_change(channel, None)
            deadline = channel.switch.clock.monotonic() + plan.patience_seconds
            continue
        remaining = deadline - channel.switch.clock.monotonic()
        if remaining <= 0:
            channel.hangup("NORMAL_CLEARING", remote=True)
            return
        _wait_change(channel, remaining)


def machine(channel: Channel, plan: CallPlan, library: ClipLibrary, beep: bool) -> None:
    """Plays its greeting (and beep), records for a while, hangs up; deaf to everything else."""
    greeting = library.clip_file(plan.clip) if plan.clip else library.machine_greeting(beep)
    channel.media.say(greeting, 0.2)
    gevent.sleep(0.2 + len(greeting) / RATE + plan.machine_message_seconds)
    channel.hangup("NORMAL_CLEARING", remote=True)


def agent(channel: Channel, profile: Agent, rng: random.Random, time_scale: float) -> None:
    """An agent's phone: stays up until killed, or hangs up after `hangup_after` if set."""
    if profile.hangup_after is None:
        while channel.phase is not Phase.HUNGUP:
            _wait_change(channel, None)
        return
    gevent.sleep(profile.hangup_after.sample(rng) * time_scale)
    channel.hangup("NORMAL_CLEARING", remote=True)
