"""Dial strings for ``bgapi originate``: tagged channel variables, endpoint, inline app.

Every leg the engine creates carries ``origination_uuid`` (chosen by the engine and
stored on the attempt before the originate) and ``dialer_*`` variables, so events
and ``show channels`` map back to attempts and agents after a crash.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

_FORBIDDEN_IN_VALUE = re.compile(r"[{}'\r\n]")
_APP_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
_VAR_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_NUMBER = re.compile(r"^\+?[0-9]{2,20}$")

# Channel variables the engine reads back from events and reconciliation.
VAR_ATTEMPT = "dialer_attempt_id"
VAR_CAMPAIGN = "dialer_campaign_id"
VAR_NODE = "dialer_node"
VAR_AGENT = "dialer_agent_id"


class DialStringError(ValueError):
    """A value that cannot be put into a dial string safely; the message names it."""


def format_value(name: str, value: object) -> str:
    """One ``{name=value}`` value: commas escaped, spaces quoted, braces and quotes refused."""
    text = str(value).lower() if isinstance(value, bool) else str(value)
    if _FORBIDDEN_IN_VALUE.search(text):
        raise DialStringError(
            f"channel variable {name}: value {text!r} contains {{, }}, ' or a newline")
    text = text.replace(",", "\\,")
    return f"'{text}'" if " " in text else text


def format_variables(variables: Mapping[str, object]) -> str:
    """``{a=1,b=two}``; variables whose value is None are left out."""
    parts = []
    for name, value in variables.items():
        if not _VAR_NAME.match(name):
            raise DialStringError(f"bad channel variable name {name!r}")
        if value is not None:
            parts.append(f"{name}={format_value(name, value)}")
    return "{" + ",".join(parts) + "}"


def endpoint_for(template: str, number: str) -> str:
    """Fill a gateway template such as ``sofia/gateway/trunk/{number}`` with a number."""
    if "{number}" not in template:
        raise DialStringError(f"gateway template {template!r} lacks the {{number}} placeholder")
    if not _NUMBER.match(number):
        raise DialStringError(f"number {number!r} is not digits with an optional leading +")
    return template.replace("{number}", number)


@dataclass(frozen=True)
class Originate:
    """One ``originate``: the leg's variables, where to call, and the app to run on answer.

    The inline app's argument ends at the first ``)`` and originate splits its
    arguments on spaces, so neither may appear in ``app_arg``.
    """

    uuid: str
    endpoint: str
    variables: Mapping[str, object] = field(default_factory=dict)
    app: str = "park"
    app_arg: str = ""

    def command(self) -> str:
        """The argument string of ``originate`` (without the word itself)."""
        if not _APP_NAME.match(self.app):
            raise DialStringError(f"inline application name {self.app!r} is not valid")
        if re.search(r"[)\s]", self.app_arg):
            raise DialStringError(
                f"inline application argument {self.app_arg!r} may not contain ')' or spaces"
            )
        if re.search(r"\s", self.endpoint):
            raise DialStringError(f"endpoint {self.endpoint!r} may not contain spaces")
        variables = {"origination_uuid": self.uuid, **self.variables}
        return f"{format_variables(variables)}{self.endpoint} &{self.app}({self.app_arg})"


def customer_leg(
    *, uuid: str, endpoint: str, attempt_id: int, campaign_id: int, node: str,
    ring_timeout_s: int, caller_id_number: str = "", caller_id_name: str = "",
    ignore_early_media: bool = False, extra: Mapping[str, object] | None = None,
) -> Originate:
    """A customer leg: parked on answer, tagged, with comfort noise while it waits.

    ``send_silence_when_idle`` makes the switch send comfort noise while the
    answered customer waits for an agent: silence, never ringback. The customer
    leg ends when its bridge ends (the agent's leg goes back to park).
    """
    if ring_timeout_s < 1:
        raise DialStringError(f"ring timeout must be at least 1 s, got {ring_timeout_s}")
    variables: dict[str, object] = {
        VAR_ATTEMPT: attempt_id,
        VAR_CAMPAIGN: campaign_id,
        VAR_NODE: node,
        "originate_timeout": ring_timeout_s,
        "ignore_early_media": True if ignore_early_media else None,
        "origination_caller_id_number": caller_id_number or None,
        "origination_caller_id_name": caller_id_name or None,
        "send_silence_when_idle": 400,
        "hangup_after_bridge": True,
        **(extra or {}),
    }
    return Originate(uuid=uuid, endpoint=endpoint, variables=variables)


def agent_leg(*, uuid: str, endpoint: str, agent_id: int, node: str,
              campaign_id: int | None = None, ring_timeout_s: int = 30) -> Originate:
    """An agent's nailed-up leg: parked, and back to park after each customer leaves."""
    variables: dict[str, object] = {
        VAR_AGENT: agent_id,
        VAR_CAMPAIGN: campaign_id,
        VAR_NODE: node,
        "originate_timeout": ring_timeout_s,
        "park_after_bridge": True,
        "origination_caller_id_name": "Dialer",
    }
    return Originate(uuid=uuid, endpoint=endpoint, variables=variables)
