"""Rate limits and campaign run settings."""

from __future__ import annotations

import pytest

from engine.clock import ManualClock
from engine.runner.limits import RateLimit
from engine.runner.settings import CampaignConfigError, RunSettings
from engine.store.models import Campaign


def test_calls_per_second_refill(clock: ManualClock) -> None:
    limit = RateLimit(cps=2, max_channels=None, monotonic=clock.monotonic)
    taken = 0
    while limit.available():
        limit.take()
        taken += 1
    assert taken == 2  # the burst
    clock.advance(0.5)
    assert limit.available()  # one token back after half a second
    limit.take()
    assert not limit.available()
    clock.advance(1)
    assert limit.available() and limit.available(extra=1) and not limit.available(extra=2)
    clock.advance(10)
    assert limit.available() and limit._tokens == 2  # never more than one second's worth


def test_concurrent_channels(clock: ManualClock) -> None:
    limit = RateLimit(cps=None, max_channels=2, monotonic=clock.monotonic)
    limit.take()
    limit.take()
    assert not limit.available()
    limit.release()
    assert limit.available()
    limit.release()
    limit.release()  # an extra release never goes below zero
    assert limit.live == 0


def test_bad_limits_are_refused(clock: ManualClock) -> None:
    with pytest.raises(ValueError, match="positive"):
        RateLimit(cps=0, max_channels=None, monotonic=clock.monotonic)
    with pytest.raises(ValueError, match="at least 1"):
        RateLimit(cps=None, max_channels=0, monotonic=clock.monotonic)


def campaign(**kw: object) -> Campaign:
    return Campaign(id=5, name="c", pacing=kw.get("pacing", {}), recording=kw.get("recording", {}),
                    ivr=kw.get("ivr", {}))


def test_defaults() -> None:
    settings = RunSettings.from_campaign(campaign())
    assert settings.ring_timeout_s == 30 and settings.record and settings.record_from == "bridge"


@pytest.mark.parametrize(("kw", "message"), [
    ({"pacing": {"ring_timeout_s": 10}}, r"campaign 5 \(c\) pacing.ring_timeout_s: 10 s is below"),
    ({"pacing": {"max_cps": -1}}, r"pacing.max_cps must be a non-negative number"),
    ({"pacing": {"max_channels": 2.5}}, r"pacing.max_channels must be a whole number"),
    ({"pacing": {"wrap_up_s": "ten"}}, r"pacing.wrap_up_s must be a non-negative number"),
    ({"recording": {"from": "ring"}}, r"recording.from must be 'bridge' or 'answer'"),
    ({"ivr": {"menu": {"1": "sales"}}}, r"ivr.menu: entries \{'1': 'sales'\}"),
    ({"ivr": {"messages": "hello.wav"}}, r"ivr.messages must be a list"),
])
def test_bad_settings_name_campaign_and_field(kw: dict, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(CampaignConfigError, match=message):
        RunSettings.from_campaign(campaign(**kw))


def test_gateway_limits_from_settings(clock: ManualClock) -> None:
    from engine.runner.limits import gateway_key, gateway_limits

    limits = gateway_limits({"sofia/gateway/carrier/": {"cps": 5, "channels": 30}}, clock.monotonic)
    limit = limits[gateway_key("sofia/gateway/carrier/{number}")]
    assert (limit.cps, limit.max_channels) == (5, 30)
    with pytest.raises(ValueError, match=r"gateway_limits.'x' must be a table with only cps"):
        gateway_limits({"x": {"rate": 1}}, clock.monotonic)
    with pytest.raises(ValueError, match=r"gateway_limits.'y': calls per second must be positive"):
        gateway_limits({"y": {"cps": 0}}, clock.monotonic)


@pytest.mark.parametrize(("kw", "message"), [
    ({"pacing": {"inbound_message": "/srv/sorry it is late.wav"}},
     r"campaign 5 \(c\) pacing.inbound_message must be a file path without spaces"),
    ({"pacing": {"inbound_message": 7}}, r"pacing.inbound_message must be a file path"),
    ({"pacing": {"inbound_wait_s": -1}}, r"pacing.inbound_wait_s must be a non-negative number"),
    ({"pacing": {"inbound_voicemail_s": "long"}},
     r"pacing.inbound_voicemail_s must be a non-negative number"),
    ({"pacing": {"agent_ring_timeout_s": True}},
     r"pacing.agent_ring_timeout_s must be a non-negative number"),
])
def test_bad_inbound_and_ringing_settings(kw: dict, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(CampaignConfigError, match=message):
        RunSettings.from_campaign(campaign(**kw))


def test_inbound_and_ringing_settings() -> None:
    settings = RunSettings.from_campaign(campaign(pacing={
        "inbound_wait_s": 12, "inbound_message": "/srv/sorry.wav", "inbound_voicemail_s": 60,
        "inbound_callback_after_s": 0, "agent_ring_timeout_s": 20.7}))
    assert (settings.inbound_wait_s, settings.inbound_message, settings.inbound_voicemail_s,
            settings.inbound_callback_after_s, settings.agent_ring_timeout_s) == (
        12, "/srv/sorry.wav", 60, 0, 20)
    defaults = RunSettings.from_campaign(campaign())
    assert (defaults.inbound_wait_s, defaults.inbound_message, defaults.inbound_voicemail_s,
            defaults.agent_ring_timeout_s) == (30, None, 0, 15)
