"""Dial strings."""

from __future__ import annotations

import pytest

from engine.switch.originate import (
    DialStringError,
    Originate,
    agent_leg,
    customer_leg,
    endpoint_for,
    format_variables,
)


def test_customer_leg_is_tagged_and_parked() -> None:
    leg = customer_leg(uuid="u-1", endpoint="sofia/gateway/carrier/+79161234567", attempt_id=42,
                       campaign_id=7, node="dialer-1", ring_timeout_s=25,
                       caller_id_number="+74950000000", caller_id_name="ACME Bank",
                       extra={"RECORD_STEREO": True})
    assert leg.command() == (
        "{origination_uuid=u-1,dialer_attempt_id=42,dialer_campaign_id=7,dialer_node=dialer-1,"
        "originate_timeout=25,origination_caller_id_number=+74950000000,"
        "origination_caller_id_name='ACME Bank',send_silence_when_idle=400,"
        "hangup_after_bridge=true,RECORD_STEREO=true}"
        "sofia/gateway/carrier/+79161234567 &park()")


def test_ignore_early_media_only_when_asked() -> None:
    base = dict(uuid="u", endpoint="x/1", attempt_id=1, campaign_id=1, node="n", ring_timeout_s=20)
    assert "ignore_early_media" not in customer_leg(**base).command()
    assert "ignore_early_media=true" in customer_leg(**base, ignore_early_media=True).command()


def test_agent_leg_goes_back_to_park() -> None:
    command = agent_leg(uuid="a-1", endpoint="user/1001@dialer.local", agent_id=3,
                        node="dialer-1").command()
    assert "park_after_bridge=true" in command and "dialer_agent_id=3" in command
    assert command.endswith("}user/1001@dialer.local &park()")


def test_commas_are_escaped_and_bad_values_refused() -> None:
    assert format_variables({"a": "x,y", "b": None}) == "{a=x\\,y}"
    with pytest.raises(DialStringError, match="origination_caller_id_name"):
        format_variables({"origination_caller_id_name": "O'Brien"})
    with pytest.raises(DialStringError, match="bad channel variable name"):
        format_variables({"bad name": 1})


def test_inline_app_argument_ends_at_first_parenthesis() -> None:
    assert Originate("u", "x/1", app="playback", app_arg="/tmp/hello.wav").command().endswith(
        "x/1 &playback(/tmp/hello.wav)")
    with pytest.raises(DialStringError, match=r"may not contain '\)'"):
        Originate("u", "x/1", app="playback", app_arg="/tmp/a).wav").command()


def test_endpoint_template() -> None:
    assert endpoint_for("sofia/gateway/trunk/{number}", "+79161234567") == \
        "sofia/gateway/trunk/+79161234567"
    with pytest.raises(DialStringError, match="placeholder"):
        endpoint_for("sofia/gateway/trunk/", "+79161234567")
    with pytest.raises(DialStringError, match="digits"):
        endpoint_for("sofia/gateway/trunk/{number}", "+7916 123")


def test_ring_timeout_must_be_positive() -> None:
    with pytest.raises(DialStringError, match="ring timeout"):
        customer_leg(uuid="u", endpoint="x/1", attempt_id=1, campaign_id=1, node="n",
                     ring_timeout_s=0)
