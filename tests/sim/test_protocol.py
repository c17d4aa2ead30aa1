"""The Event Socket protocol itself, byte for byte where it matters: auth, replies, -ERR wording, framing."""

from __future__ import annotations

import json

from engine.sim import wire
from tests.sim.eslclient import RawEsl


def test_greeting_is_auth_request_bytes(sim):
    client = RawEsl(sim.address)
    client._pump(__import__("time").monotonic() + 5)
    assert client.buffer == b"" and client.received[0].headers == {"Content-Type": "auth/request"}
    client.close()


def test_bad_password_is_refused_and_disconnected(sim):
    client = RawEsl(sim.address)
    client.next()
    reply = client.command("auth wrong")
    assert reply.headers["Reply-Text"] == "-ERR invalid"
    notice = client.next(lambda m: m.content_type == "text/disconnect-notice")
    assert notice.body == wire.DISCONNECT_TEXT.encode()
    assert client.drain(1.0) == [] and client.closed


def test_commands_before_auth_are_not_found(raw):
    assert raw.command("api status").headers["Reply-Text"] == "-ERR command not found"
    assert raw.command("auth ClueCon").headers["Reply-Text"] == "+OK accepted"


def test_exit_says_bye_then_disconnect_notice(raw):
    raw.command("auth ClueCon")
    raw.send("exit")
    messages = raw.drain(1.0)
    assert [m.content_type for m in messages] == ["command/reply", "text/disconnect-notice"]
    assert messages[0].headers["Reply-Text"] == "+OK bye"
    assert messages[1].body == b"Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n"
    assert raw.closed


def test_err_wording(raw):
    raw.command("auth ClueCon")
    expectations = {
        "nonsense": "-ERR command not found",
        "event plain NOT_AN_EVENT": "-ERR no keywords supplied",
        "noevents": "-ERR not listening for events",
        "linger": "-ERR not controlling a session",
        "filter Unique-ID": "-ERR invalid syntax",
    }
    for command, text in expectations.items():
        assert raw.command(command).headers["Reply-Text"] == text, command
    api = {
        "api no_such_command": "-ERR no_such_command Command not found!\n",
        "api uuid_kill 00000000-0000-0000-0000-000000000000": "-ERR No such channel!\n",
        "api uuid_bridge 00000000-0000-0000-0000-000000000000 00000000-0000-0000-0000-000000000001":
            "-ERR Invalid uuid\n",
        "api uuid_getvar 00000000-0000-0000-0000-000000000000 x": "-ERR No such channel!\n",
        "api uuid_setvar 00000000-0000-0000-0000-000000000000 x y": "-ERR No such channel!\n",
        "api uuid_exists 00000000-0000-0000-0000-000000000000": "false",
        "api uuid_record 00000000-0000-0000-0000-000000000000 start /tmp/x.wav":
            "-ERR Cannot locate session!\n",
        "api uuid_record x": "-USAGE: <uuid> [start|stop] <path> [<limit>]\n",
        "api uuid_break 00000000-0000-0000-0000-000000000000": "-ERR No Such Channel!\n",
        "api originate": "-USAGE: <call url> <exten>|&<application_name>(<app_args>) [<dialplan>] "
                         "[<context>] [<cid_name>] [<cid_num>] [<timeout_sec>]\n",
        "api originate onlyonearg": "-USAGE: <call url> <exten>|&<application_name>(<app_args>) "
                                    "[<dialplan>] [<context>] [<cid_name>] [<cid_num>] [<timeout_sec>]\n",
        "api originate foo/bar &park()": "-ERR CHAN_NOT_IMPLEMENTED\n",
        "api originate user/1099@example &park()": "-ERR USER_NOT_REGISTERED\n",
        "api originate user/4242@example &park()": "-ERR USER_NOT_REGISTERED\n",
        "api show channels": "\n0 total.\n",
        "api show channels as json": '{"row_count": 0}\n',
    }
    for command, body in api.items():
        reply = raw.command(command)
        assert reply.content_type == "api/response" and reply.body.decode() == body, command


def test_api_response_framing_is_exact():
    assert wire.api_response("+OK\n") == b"Content-Type: api/response\nContent-Length: 4\n\n+OK\n"
    assert wire.bgapi_reply("j") == b"Content-Type: command/reply\nReply-Text: +OK Job-UUID: j\nJob-UUID: j\n\n"


def test_event_plain_framing_and_url_encoding():
    data = wire.event_plain([("Event-Name", "BACKGROUND_JOB"), ("Job-Command-Arg", "{a=b}sofia/internal/c@h:5 &park()")],
                            "-ERR USER_BUSY\n")
    head, _, payload = data.partition(b"\n\n")
    assert head.split(b"\n")[1] == b"Content-Type: text/event-plain"
    assert int(head.split(b"\n")[0].split(b": ")[1]) == len(payload)
    assert payload == (b"Event-Name: BACKGROUND_JOB\nJob-Command-Arg: %7Ba%3Db%7Dsofia/internal/c%40h%3A5%20%26park()\n"
                       b"Content-Length: 15\n\n-ERR USER_BUSY\n")
    assert wire.url_encode("Mon, 23 Nov 2026 08:48:35 GMT") == "Mon,%2023%20Nov%202026%2008%3A48%3A35%20GMT"
    assert wire.url_encode("Алло") == "%D0%90%D0%BB%D0%BB%D0%BE"


def test_command_reader_handles_crlf_and_split_packets():
    reader = wire.CommandReader()
    assert reader.feed(b"api sta") == []
    assert reader.feed(b"tus\r\n\r\nbgapi x\nJob-UUID: abc\n\n") == [("api status", {}), ("bgapi x", {"job-uuid": "abc"})]
    assert reader.feed(b"exit\r") == [] and reader.feed(b"\n\r\n\n\nnoevents\n\n") == [("exit", {}), ("noevents", {})]


def test_event_json_and_bgapi_job_uuid_header(raw):
    raw.command("auth ClueCon")
    assert raw.command("event json BACKGROUND_JOB").headers["Reply-Text"] == "+OK event listener enabled json"
    raw.send("bgapi status\nJob-UUID: 11111111-2222-3333-4444-555555555555")
    assert raw.reply().headers["Job-UUID"] == "11111111-2222-3333-4444-555555555555"
    event = raw.next(lambda m: m.content_type == "text/event-json")
    body = json.loads(event.body)
    assert body["Event-Name"] == "BACKGROUND_JOB"
    assert body["Job-UUID"] == "11111111-2222-3333-4444-555555555555"
    assert body["Job-Command"] == "status" and body["_body"].startswith("UP 0 years")


def test_status_version_sofia_global_getvar(raw, sim):
    raw.command("auth ClueCon")
    status = raw.command("api status").body.decode().split("\n")
    assert status[1] == "FreeSWITCH (Version 1.11.1-release  64bit) is ready"
    assert status[2] == "0 session(s) since startup"
    assert "1.11.1" in raw.command("api version").body.decode()
    sofia = raw.command("api sofia status").body.decode()
    assert "internal" in sofia and "RUNNING" in sofia and "carrier" in sofia
    assert raw.command("api global_getvar hostname").body.decode() == sim.switch.hostname
    assert raw.command("api global_getvar no_such_var").body == b""


def test_heartbeat_events(make_sim):
    sim = make_sim(heartbeat_seconds=0.2)
    client = RawEsl(sim.address)
    client.next()
    client.command("auth ClueCon")
    client.command("event plain HEARTBEAT")
    beat = client.events(1, timeout=5)[0]
    assert beat.name == "HEARTBEAT" and beat.get("Event-Info") == "System Ready"
    assert beat.get("Up-Time").startswith("0 years, 0 days") and beat.get("Session-Count") == "0"
    client.close()
