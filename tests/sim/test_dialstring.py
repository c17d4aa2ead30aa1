"""`originate` arguments and dial strings as the engine writes them."""

from __future__ import annotations

from engine.sim.dialstring import ORIGINATE_USAGE, parse_dialstring, parse_originate, split_args


def test_variables_targets_and_application():
    request = parse_originate("{origination_uuid=abc,dialer_attempt_id=42,originate_timeout=25,"
                              "origination_caller_id_number=74951234567}[leg_var=1]"
                              "sofia/gateway/carrier/79161234567 &playback(/tmp/a b.wav)")
    assert request.var("origination_uuid") == "abc" and request.var("leg_var") == "1"
    assert request.timeout == 25
    assert (request.target.endpoint, request.target.user, request.target.host) == ("sofia", "79161234567", "carrier")
    assert (request.app, request.app_arg) == ("playback", "/tmp/a b.wav")


def test_quoted_and_escaped_values_and_positional_arguments():
    request = parse_originate("{origination_caller_id_name='Acme, Inc',note=a\\,b}loopback/9999 9999 XML default "
                              "undef 100 7")
    assert request.var("origination_caller_id_name") == "Acme, Inc" and request.var("note") == "a,b"
    assert request.target.name == "loopback/9999-a" and request.app == "transfer" and request.app_arg == "9999"
    assert request.caller_id_name is None and request.caller_id_number == "100" and request.timeout == 7


def test_targets():
    assert parse_dialstring("sofia/internal/1001@10.0.0.5:5060")[1].user == "1001"
    agent = parse_dialstring("<x=1>user/1001@dialer.local,user/1002@dialer.local")
    assert agent[0] == [("x", "1")] and agent[1].endpoint == "user" and agent[1].user == "1001"
    assert agent[1].name == "sofia/internal/1001@dialer.local"
    assert parse_dialstring("verto.rtc/1001")[1].endpoint == "verto.rtc"


def test_usage_on_bad_arity():
    assert parse_originate("") == ORIGINATE_USAGE
    assert parse_originate("a b c d e f g h") == ORIGINATE_USAGE
    assert split_args("{a=b c}sofia/x/y &park( )  9") == ["{a=b c}sofia/x/y", "&park( )", "9"]
