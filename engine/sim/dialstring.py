"""Parsing `originate` arguments and dial strings: `{a=b}[c=d]sofia/gateway/gw/number &park()`."""

from __future__ import annotations

import re
from dataclasses import dataclass

ORIGINATE_USAGE = ("-USAGE: <call url> <exten>|&<application_name>(<app_args>) [<dialplan>] "
                   "[<context>] [<cid_name>] [<cid_num>] [<timeout_sec>]\n")


@dataclass(frozen=True)
class Target:
    """Where a dial string leads: the endpoint kind, the channel name, the user and host parts."""

    endpoint: str  # sofia | loopback | user | <anything else: not implemented>
    name: str
    user: str
    host: str


@dataclass(frozen=True)
class OriginateRequest:
    """A parsed `originate`: channel variables in order, the target, and what to run once answered."""

    variables: tuple[tuple[str, str], ...]
    target: Target
    app: str
    app_arg: str
    timeout: float
    caller_id_name: str | None
    caller_id_number: str | None

    def var(self, name: str) -> str | None:
        for key, value in reversed(self.variables):
            if key == name:
                return value
        return None


def split_args(text: str) -> list[str]:
    """Split on spaces outside {...}, [...], <...>, (...) and quotes."""
    parts, current, depth, quote = [], [], 0, ""
    for ch in text:
        if quote:
            current.append(ch)
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
            current.append(ch)
        elif ch in "{[<(":
            depth += 1
            current.append(ch)
        elif ch in "}]>)":
            depth = max(0, depth - 1)
            current.append(ch)
        elif ch == " " and depth == 0:
            if current:
                parts.append("".join(current))
                current = []
        else:
            current.append(ch)
    if current:
        parts.append("".join(current))
    return parts


def _parse_vars(body: str) -> list[tuple[str, str]]:
    """`a=b,c='x, y',d=e\\,f` -> pairs; commas split outside quotes unless escaped."""
    items, current, quote, escaped = [], [], "", False
    for ch in body:
        if escaped:
            current.append(ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif quote:
            if ch == quote:
                quote = ""
            else:
                current.append(ch)
        elif ch in "'\"":
            quote = ch
        elif ch == ",":
            items.append("".join(current))
            current = []
        else:
            current.append(ch)
    items.append("".join(current))
    out = []
    for item in items:
        name, sep, value = item.partition("=")
        if sep and name.strip():
            out.append((name.strip(), value.strip()))
    return out


def parse_dialstring(dial: str) -> tuple[list[tuple[str, str]], Target]:
    """Leading `{}`/`<>`/`[]` variable blocks, then the first target of a `,` or `|` list."""
    variables: list[tuple[str, str]] = []
    rest = dial
    while rest and rest[0] in "{[<":
        close = {"{": "}", "[": "]", "<": ">"}[rest[0]]
        end = rest.find(close)
        if end < 0:
            break
        variables += _parse_vars(rest[1:end])
        rest = rest[end + 1:]
    first = re.split(r"(?<!\\)[,|]", rest)[0]
    return variables, target_of(first)


def target_of(url: str) -> Target:
    """Recognise sofia, loopback and user endpoints; anything else keeps its module name."""
    module, _, rest = url.partition("/")
    if module == "sofia":
        profile, _, dest = rest.partition("/")
        if profile == "gateway":
            gateway, _, number = dest.partition("/")
            user = number.split("@")[0]
            return Target("sofia", url, user, gateway)
        user, _, host = dest.partition("@")
        return Target("sofia", url, user, host or "127.0.0.1")
    if module == "loopback":
        number = rest.split("/")[0]
        return Target("loopback", f"loopback/{number}-a", number, "loopback")
    if module == "user":
        ext, _, domain = rest.partition("@")
        return Target("user", f"sofia/internal/{ext}@{domain or '127.0.0.1'}", ext, domain or "127.0.0.1")
    return Target(module or url, url, rest, "")


def parse_originate(arg: str) -> OriginateRequest | str:
    """Parse `originate` arguments; returns the usage text when they do not fit."""
    argv = split_args(arg or "")
    if argv and argv[0] == "machine":
        argv = argv[1:]
    if len(argv) < 2 or len(argv) > 7:
        return ORIGINATE_USAGE
    argv = [None if a == "undef" else a for a in argv] + [None] * (7 - len(argv))
    dial, exten, _dialplan, _context, cid_name, cid_num, timeout_arg = argv
    if not dial or not exten:
        return ORIGINATE_USAGE
    variables, target = parse_dialstring(dial)
    if exten.startswith("&") and len(exten) > 1:
        match = re.fullmatch(r"&([^(]+)(?:\((.*)\))?", exten)
        app, app_arg = (match.group(1), match.group(2) or "") if match else (exten[1:], "")
    else:
        app, app_arg = "transfer", exten
    timeout = 60.0
    for key, value in variables:
        if key in ("originate_timeout", "leg_timeout") and value.strip().isdigit():
            timeout = float(value)
    if timeout_arg and timeout_arg.isdigit():
        timeout = float(timeout_arg)
    return OriginateRequest(tuple(variables), target, app, app_arg, timeout, cid_name, cid_num)
