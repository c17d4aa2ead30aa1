"""After a reconnect or a restart: what the switch still has, and what to do with each call.

``show channels as json`` lists channels with their call state but lags events and
carries no channel variables, so liveness is confirmed per call with ``uuid_exists``
(authoritative) and the list only supplies the call state. The decision itself is
``plan``: a pure function from the calls the engine believes open to actions.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from engine.store.models import AttemptState, Outcome

from .connection import SwitchConnection, SwitchError
from .originate import VAR_AGENT, VAR_CAMPAIGN, VAR_NODE

log = logging.getLogger(__name__)
T = TypeVar("T")

# Channel call states (``callstate`` in show channels) -> the attempt state they prove.
_CALLSTATE_PROVES = {
    "DOWN": AttemptState.DIALING,
    "DIALING": AttemptState.DIALING,
    "RINGING": AttemptState.DIALING,
    "EARLY": AttemptState.DIALING,
    "ACTIVE": AttemptState.ANSWERED,
    "HELD": AttemptState.ANSWERED,
}
_ORDER = [AttemptState.PENDING, AttemptState.DIALING, AttemptState.ANSWERED,
          AttemptState.BRIDGED, AttemptState.ENDED]

# An open attempt whose channel is gone ends by its last known state.
GONE_OUTCOMES = {
    AttemptState.PENDING: Outcome.LOST,
    AttemptState.DIALING: Outcome.LOST,
    AttemptState.ANSWERED: Outcome.ABANDONED,  # a human answered and no agent was bridged
    AttemptState.BRIDGED: Outcome.ANSWERED,
}


@dataclass(frozen=True)
class Adopt:
    """The channel lives: keep following it, at least in ``state``."""

    uuid: str
    state: AttemptState


@dataclass(frozen=True)
class Close:
    """The channel is gone: end the attempt with ``outcome``."""

    uuid: str
    outcome: Outcome


def live_channels(connection: SwitchConnection) -> dict[str, dict[str, str]]:
    """``show channels as json`` rows by uuid (empty when the switch has none)."""
    data = json.loads(connection.api("show channels as json", timeout=30) or "{}")
    return {row["uuid"]: row for row in data.get("rows", []) if "uuid" in row}


def exists(connection: SwitchConnection, uuid: str) -> bool:
    return connection.api(f"uuid_exists {uuid}").strip() == "true"


def plan(open_calls: Mapping[str, AttemptState], alive: Iterable[str],
         callstates: Mapping[str, str]) -> list[Adopt | Close]:
    """Adopt live calls (in the later of the known and the observed state); close the rest."""
    alive = set(alive)
    actions: list[Adopt | Close] = []
    for uuid, known in open_calls.items():
        if uuid not in alive:
            actions.append(Close(uuid, GONE_OUTCOMES[known]))
            continue
        observed = _CALLSTATE_PROVES.get(callstates.get(uuid, "").upper(), AttemptState.PENDING)
        actions.append(Adopt(uuid, max(known, observed, key=_ORDER.index)))
    return actions


def survey(connection: SwitchConnection,
           open_calls: Mapping[str, AttemptState]) -> list[Adopt | Close]:
    """Ask the switch about every open call and plan what to do with each."""
    rows = live_channels(connection)
    alive = [uuid for uuid in open_calls if exists(connection, uuid)]
    callstates = {uuid: row.get("callstate", "") for uuid, row in rows.items()}
    return plan(open_calls, alive, callstates)


@dataclass(frozen=True)
class AgentLeg:
    """A parked (or bridged) agent leg this engine node made, found on the switch."""

    uuid: str
    agent_id: int
    campaign_id: int | None


def bridged_to(connection: SwitchConnection, uuid: str) -> str | None:
    """The leg a customer leg is bridged to (``bridge_uuid``), if any.

    Only meaningful on legs that hang up when their bridge ends (customer legs): FreeSWITCH
    leaves the variable set after an unbridge.
    """
    try:
        return _var(connection, uuid, "bridge_uuid")
    except SwitchError:
        return None


def _var(connection: SwitchConnection, uuid: str, name: str) -> str | None:
    value = connection.api(f"uuid_getvar {uuid} {name}").strip()
    return None if value in ("", "_undef_") else value


def _strangers(connection: SwitchConnection, known: Iterable[str],
               read: Callable[[str], T | None]) -> list[T]:
    """``read`` of every live channel the engine does not know, where it finds something
    (a channel that went away meanwhile is skipped)."""
    known = set(known)
    found = []
    for uuid in live_channels(connection):
        if uuid in known:
            continue
        try:
            item = read(uuid)
        except SwitchError:
            continue
        if item is not None:
            found.append(item)
    return found


def agent_legs(connection: SwitchConnection, node_id: str, known: Iterable[str]) -> list[AgentLeg]:
    """Agent legs tagged with this engine node that the engine does not know (a restart)."""
    def read(uuid: str) -> AgentLeg | None:
        agent = _var(connection, uuid, VAR_AGENT)
        if agent is None or not agent.isdigit() or _var(connection, uuid, VAR_NODE) != node_id:
            return None
        campaign = _var(connection, uuid, VAR_CAMPAIGN)
        return AgentLeg(uuid, int(agent), int(campaign) if campaign and campaign.isdigit() else None)

    return _strangers(connection, known, read)


@dataclass(frozen=True)
class InboundLeg:
    """A customer's call parked by the inbound dialplan, waiting for the engine."""

    uuid: str
    dialled: str  # the campaign number the customer dialled
    caller: str  # the customer's number


INBOUND_VAR = "dialer_inbound"


def inbound_legs(connection: SwitchConnection, known: Iterable[str]) -> list[InboundLeg]:
    """Parked inbound calls the engine does not follow (their CHANNEL_PARK came while it
    was away): to be routed, never killed. Legs already bridged are left alone."""
    def read(uuid: str) -> InboundLeg | None:
        if _var(connection, uuid, INBOUND_VAR) != "true" \
                or _var(connection, uuid, "bridge_uuid") is not None:
            return None
        return InboundLeg(uuid, _var(connection, uuid, "dialer_campaign_number") or "",
                          _var(connection, uuid, "dialer_caller_number") or "")

    return _strangers(connection, known, read)
