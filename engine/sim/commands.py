"""The api commands (`api X` / `bgapi X`) and their replies, worded as FreeSWITCH 1.11.1 words them."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timezone

import gevent

from engine.sim import audio_fork
from engine.sim.channel import Channel, IllegalTransition, Phase
from engine.sim.dialstring import parse_originate
from engine.sim.fsvars import Q850
from engine.sim.switch import RecordingRefused, Switch

Deliver = Callable[[str], None]
Handler = Callable[[Switch, str, Deliver], None]

SHOW_COLUMNS = ("uuid", "direction", "created", "created_epoch", "name", "state", "cid_name", "cid_num",
                "ip_addr", "dest", "application", "application_data", "dialplan", "context",
                "read_codec", "read_rate", "read_bit_rate", "write_codec", "write_rate",
                "write_bit_rate", "secure", "hostname", "presence_id", "presence_data", "accountcode",
                "callstate", "callee_name", "callee_num", "callee_direction", "call_uuid",
                "sent_callee_name", "sent_callee_num", "initial_cid_name", "initial_cid_num",
                "initial_ip_addr", "initial_dest", "initial_dialplan", "initial_context")
NO_SUCH_CHANNEL = "-ERR No such channel!\n"

COMMANDS: dict[str, Handler] = {}


def command(name: str, asynchronous: bool = False) -> Callable:
    """Register an api command; synchronous ones return their reply text."""
    def register(fn: Callable) -> Callable:
        if asynchronous:
            COMMANDS[name] = fn
        else:
            COMMANDS[name] = lambda switch, arg, deliver: deliver(fn(switch, arg))
        return fn
    return register


def run_api(switch: Switch, name: str, arg: str, deliver: Deliver) -> None:
    """Execute one api command; `deliver` receives the reply body exactly once."""
    handler = COMMANDS.get(name.lower())
    if handler is None:
        deliver(f"-ERR {name} Command not found!\n")
        return
    handler(switch, arg, deliver)


def _then(deliver: Deliver, reply: str, work: Callable[[], object]) -> None:
    """Reply first, then act: FreeSWITCH answers these commands before the events they cause."""
    deliver(reply)
    gevent.spawn(work)


def _cause(text: str | None) -> str:
    cause = (text or "NORMAL_CLEARING").strip().upper()
    return cause if cause in Q850 else "NORMAL_CLEARING"


@command("originate", asynchronous=True)
def originate(switch: Switch, arg: str, deliver: Deliver) -> None:
    request = parse_originate(arg)
    if isinstance(request, str):
        deliver(request)
        return
    switch.originate(request, deliver)


@command("uuid_bridge", asynchronous=True)
def uuid_bridge(switch: Switch, arg: str, deliver: Deliver) -> None:
    parts = arg.split()
    if len(parts) != 2:
        deliver("-USAGE: <uuid> <other_uuid>\n")
        return
    a_leg, b_leg = switch.find(parts[0]), switch.find(parts[1])
    if a_leg is None or b_leg is None or Phase.ANSWERED not in (a_leg.phase, b_leg.phase) \
            or a_leg.phase is not b_leg.phase:
        deliver("-ERR Invalid uuid\n")
        return
    _then(deliver, f"+OK {b_leg.uuid}\n", lambda: a_leg.bridge(b_leg))


@command("uuid_kill", asynchronous=True)
def uuid_kill(switch: Switch, arg: str, deliver: Deliver) -> None:
    parts = arg.split()
    channel = switch.find(parts[0]) if parts else None
    if channel is None:
        deliver(NO_SUCH_CHANNEL)
        return
    _then(deliver, "+OK\n", lambda: channel.hangup(_cause(parts[1] if len(parts) > 1 else None)))


@command("uuid_exists")
def uuid_exists(switch: Switch, arg: str) -> str:
    return "true" if switch.find(arg.strip()) is not None else "false"


@command("uuid_getvar")
def uuid_getvar(switch: Switch, arg: str) -> str:
    parts = arg.split()
    if len(parts) < 2:
        return "-USAGE: <uuid> <var>\n"
    channel = switch.find(parts[0])
    if channel is None:
        return NO_SUCH_CHANNEL
    return channel.variables.get(parts[1], "_undef_")


@command("uuid_setvar")
def uuid_setvar(switch: Switch, arg: str) -> str:
    parts = arg.split(" ", 2)
    if len(parts) < 2 or not parts[1]:
        return "-USAGE: <uuid> <var> [value]\n"
    channel = switch.find(parts[0])
    if channel is None:
        return NO_SUCH_CHANNEL
    value = parts[2] if len(parts) > 2 and parts[2] != "undef" else None
    channel.set_var(parts[1], value)
    return "+OK\n"


@command("uuid_answer")
def uuid_answer(switch: Switch, arg: str) -> str:
    channel = switch.find(arg.strip())
    if channel is None:
        return NO_SUCH_CHANNEL
    return "+OK\n" if channel.answer_state == "answered" else "-ERR Cannot answer an outbound leg!\n"


def _playable(channel: Channel) -> bool:
    return channel.phase in (Phase.ANSWERED, Phase.BRIDGED)


@command("uuid_broadcast", asynchronous=True)
def uuid_broadcast(switch: Switch, arg: str, deliver: Deliver) -> None:
    parts = arg.split()
    if len(parts) < 2:
        deliver("-USAGE: <uuid> <path> [aleg|bleg|both]\n")
        return
    channel = switch.find(parts[0])
    if channel is None or not _playable(channel):
        deliver("-ERR Error Sending Message\n")
        return
    path = parts[1].split("::", 1)[1] if "::" in parts[1] else parts[1]
    legs = {"aleg": [channel], "bleg": [channel.other_leg], "both": [channel, channel.other_leg]}
    targets = [leg for leg in legs.get(parts[2] if len(parts) > 2 else "aleg", [channel])
               if leg is not None and _playable(leg)]

    def play() -> None:
        for leg in targets:
            leg.queue_private(lambda leg=leg: leg.play(path))
    _then(deliver, "+OK Message sent\n", play)


@command("uuid_break", asynchronous=True)
def uuid_break(switch: Switch, arg: str, deliver: Deliver) -> None:
    parts = arg.split()
    channel = switch.find(parts[0]) if parts else None
    if channel is None:
        deliver("-USAGE: <uuid> [all]\n" if not parts else "-ERR No Such Channel!\n")
        return
    _then(deliver, "+OK\n", lambda: channel.stop_playback("break"))


@command("uuid_transfer", asynchronous=True)
def uuid_transfer(switch: Switch, arg: str, deliver: Deliver) -> None:
    parts = arg.split()
    if parts[1:2] and parts[1] in ("-bleg", "-both"):
        parts.pop(1)
    if len(parts) < 2:
        deliver("-USAGE: <uuid> [-bleg|-both] <dest-exten> [<dialplan>] [<context>]\n")
        return
    channel = switch.find(parts[0])
    if channel is None or not _playable(channel):
        deliver(NO_SUCH_CHANNEL)
        return
    inline = len(parts) > 2 and parts[2] == "inline"
    _then(deliver, "+OK\n", lambda: transfer(channel, parts[1], inline))


def transfer(channel: Channel, destination: str, inline: bool) -> None:
    """Leave the bridge or current applications, then run `app:arg,...` inline, or park. Like
    a bridge, a transfer cancels an originate still watching the leg (it clears CF_ORIGINATING)."""
    channel.cancel_originate()
    channel.stop_playback("break")
    if channel.phase is Phase.BRIDGED:
        channel.leave_bridge()
    while channel.apps:
        channel.execute_complete()
    if not inline:
        channel.park()
        return
    for step in destination.split(","):
        app, _, app_arg = step.partition(":")
        if app == "hangup":
            channel.hangup(_cause(app_arg or None))
            return
        if app == "playback":
            channel.play(app_arg)
        elif app == "park":
            channel.park()
        else:
            channel.execute(app, app_arg)


@command("uuid_record", asynchronous=True)
def uuid_record(switch: Switch, arg: str, deliver: Deliver) -> None:
    usage = "-USAGE: <uuid> [start|stop] <path> [<limit>]\n"
    parts = arg.split()
    if len(parts) < 3:
        deliver(usage)
        return
    channel = switch.find(parts[0])
    if channel is None:
        deliver("-ERR Cannot locate session!\n")
        return
    action, path = parts[1].lower(), parts[2]
    if action == "start":
        limit = int(parts[3]) if len(parts) > 3 and parts[3].isdigit() else 0
        try:
            channel.start_recording(path, limit)
        except (RecordingRefused, IllegalTransition, OSError):
            deliver("-ERR Cannot record session!\n")
            return
        deliver("+OK Success\n")
    elif action == "stop":
        known = path == "all" and channel.recorders or path in channel.recorders
        if not known:
            deliver("-ERR Cannot stop record session!\n")
            return
        _then(deliver, "+OK Success\n", lambda: channel.stop_recording(path))
    else:
        deliver(usage)


@command("uuid_audio_fork")
def uuid_audio_fork(switch: Switch, arg: str) -> str:
    """Only where the simulated switch loads mod_audio_fork (engine.sim.audio_fork)."""
    if audio_fork.MODULE not in switch.modules:
        return "-ERR uuid_audio_fork Command not found!\n"
    return audio_fork.uuid_audio_fork(switch, arg)


@command("hupall")
def hupall(switch: Switch, arg: str) -> str:
    parts = arg.split()
    cause = _cause(parts[0] if parts else None)
    if len(parts) >= 3:
        switch.hangup_all(cause, (parts[1], parts[2]))
        return f"+OK hangup all channels matching [{parts[1]}]=[{parts[2]}] with cause: {cause}\n"
    switch.hangup_all(cause)
    return f"+OK hangup all channels with cause: {cause}\n"


def _row(switch: Switch, channel: Channel) -> dict[str, str]:
    created_us = channel.times["start"]
    created = datetime.fromtimestamp(created_us / 1e6, timezone.utc)
    app, app_data = (channel.apps[-1][0], channel.apps[-1][1]) if channel.apps else ("", "")
    codec = ("PCMA", "8000", "64000") if channel.codec_ready else ("", "", "")
    p = channel.profile
    row = dict.fromkeys(SHOW_COLUMNS, "")
    row.update({
        "uuid": channel.uuid, "direction": channel.direction, "created": created.strftime("%Y-%m-%d %H:%M:%S"),
        "created_epoch": str(created_us // 1_000_000), "name": channel.name, "state": channel.state,
        "cid_name": p.caller_id_name or "Outbound Call", "cid_num": p.caller_id_number, "dest": channel.user,
        "application": app, "application_data": app_data, "context": "default",
        "read_codec": codec[0], "read_rate": codec[1], "read_bit_rate": codec[2],
        "write_codec": codec[0], "write_rate": codec[1], "write_bit_rate": codec[2],
        "hostname": switch.hostname, "callstate": channel.call_state,
        "callee_num": p.callee_id_number, "callee_direction": "RECV" if channel.hit_dialplan else "",
        "call_uuid": channel.call_uuid, "initial_cid_num": channel.caller_id,
        "initial_dest": channel.user, "initial_context": "default",
    })
    return row


@command("show")
def show(switch: Switch, arg: str) -> str:
    words = arg.split()
    if not words or words[0] not in ("channels", "calls"):
        return "-USAGE: codec|endpoint|application|api|dialplan|file|timer|calls [count]|channels [count|like <match string>]|calls|detailed_calls|bridged_calls|detailed_bridged_calls|aliases|complete|chat|management|modules|nat_map|say|interfaces|interface_types|tasks|limits|status\n"
    if words[1:2] == ["count"]:
        return f"\n{len(switch.channels)} total.\n"
    rows = [_row(switch, c) for c in switch.channels.values()]
    if words[-2:] == ["as", "json"]:
        if not rows:
            return '{"row_count": 0}\n'
        return json.dumps({"row_count": len(rows), "rows": rows}, separators=(",", ":")) + "\n"
    if not rows:
        return "\n0 total.\n"
    lines = [",".join(SHOW_COLUMNS)] + [",".join(r[c] for c in SHOW_COLUMNS) for r in rows]
    return "\n".join(lines) + f"\n\n{len(rows)} total.\n"


@command("status")
def status(switch: Switch, arg: str) -> str:
    count = len(switch.channels)
    per_second, peak_per_second = switch.session_rates()
    return (f"UP {switch.uptime_text()}\n"
            "FreeSWITCH (Version 1.11.1-release  64bit) is ready\n"
            f"{switch.sessions_since_start} session(s) since startup\n"
            f"{count} session(s) - peak {switch.peak_channels}, last 5min {switch.peak_channels} \n"
            f"{per_second} session(s) per Sec out of max 1000, peak {peak_per_second}, "
            f"last 5min {peak_per_second} \n"
            f"{switch.max_sessions} session(s) max\n"
            "min idle cpu 0.00/99.00\n"
            "Current Stack Size/Max 240K/8192K\n")


@command("sofia")
def sofia(switch: Switch, arg: str) -> str:
    if arg.split()[:1] != ["status"]:
        return "-ERR Usage: sofia status|xmlstatus [profile|gateway <name>]\n"
    bar = "=" * 97
    lines = [f"{'Name':>23}\t{'Type':>7}\t{'Data':>42}\tState", bar]
    for gateway in switch.scenario.gateways:
        lines.append(f"{'external::' + gateway:>23}\t{'gateway':>7}\t{'sip:' + gateway + '@127.0.0.1':>42}\tREGED")
    lines.append(f"{'external':>23}\t{'profile':>7}\t{'sip:mod_sofia@127.0.0.1:5080':>42}\tRUNNING (0)")
    lines.append(f"{'internal':>23}\t{'profile':>7}\t{'sip:mod_sofia@127.0.0.1:5060':>42}\tRUNNING (0)")
    lines += [bar, "2 profiles 0 aliases"]
    return "\n".join(lines) + "\n"


HASH_USAGE = "-ERR Usage: hash insert|insert_ifempty|select|delete|delete_ifmatch/realm/key[/value]\n"


@command("hash")
def hash_api(switch: Switch, arg: str) -> str:
    """mod_hash's api (replies as in mod_hash.c of 1.11.1); the simulator runs one command at
    a time, as FreeSWITCH does under the hash's write lock."""
    parts = arg.strip().split("/", 3)
    if len(parts) < 3 or not parts[0]:
        return HASH_USAGE
    action, key, value = parts[0].lower(), f"{parts[1]}_{parts[2]}", parts[3] if len(parts) > 3 else None
    store = switch.hash_store
    if action in ("insert", "insert_ifempty", "delete_ifmatch") and value is None:
        return HASH_USAGE
    if action == "insert":
        store[key] = value  # type: ignore[assignment]
        return "+OK\n"
    if action == "insert_ifempty":
        if key in store:
            return "-ERR key already exists\n"
        store[key] = value  # type: ignore[assignment]
        return "+OK\n"
    if action == "select":
        return store.get(key, "")
    if action == "delete":
        return "+OK\n" if store.pop(key, None) is not None else "-ERR Not found\n"
    if action == "delete_ifmatch":
        if key not in store:
            return "-ERR Not found\n"
        if store[key] != value:
            return "-ERR Doesn't match\n"
        del store[key]
        return "+OK\n"
    return HASH_USAGE


@command("version")
def version(switch: Switch, arg: str) -> str:
    return "FreeSWITCH Version 1.11.1-release~64bit (-release 64bit)\n"


@command("hostname")
def hostname(switch: Switch, arg: str) -> str:
    return switch.hostname


@command("global_getvar")
def global_getvar(switch: Switch, arg: str) -> str:
    values = {"hostname": switch.hostname, "switchname": switch.hostname, "core_uuid": switch.core_uuid,
              "local_ip_v4": "127.0.0.1", "domain": "127.0.0.1", "sound_prefix": "/usr/share/freeswitch/sounds"}
    name = arg.strip()
    if not name:
        return "".join(f"{key}={value}\n" for key, value in values.items())
    return values.get(name, "")
