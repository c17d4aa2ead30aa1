"""Exactly one engine routes each inbound call when several engines share one switch.

Every engine connected to a switch sees each parked inbound leg (CHANNEL_PARK, or the channel
list after a reconnect). Before taking one, an engine claims it on that switch with mod_hash:
``hash insert_ifempty/dialer_inbound/<uuid>/<node id>`` runs under the hash's write lock, so
exactly one engine gets ``+OK`` and the others ``-ERR key already exists``: they leave the call
alone. An engine that restarts finds its own claim (``hash select`` returns its node id) and
takes the call back. The claim is deleted when the call ends. Engines on one switch must have
different ``node_id`` settings.
"""

from __future__ import annotations

from engine.switch.connection import SwitchConnection, SwitchError, SwitchUnavailable

REALM = "dialer_inbound"


class ClaimError(ValueError):
    """A node id that cannot be a mod_hash value."""


def check_node_id(node_id: str) -> str:
    if not node_id or any(c in node_id for c in "/ \n"):
        raise ClaimError(f"node_id {node_id!r}: inbound calls are claimed on the switch under "
                         "the node id, which must be non-empty without '/', spaces or newlines")
    return node_id


def claim(connection: SwitchConnection, uuid: str, node_id: str) -> bool:
    """Whether this engine (``node_id``) routes the inbound leg ``uuid``: it claimed it now,
    or before a restart. ``SwitchUnavailable`` propagates (the reconnect offers it again)."""
    try:
        connection.api(f"hash insert_ifempty/{REALM}/{uuid}/{node_id}")
        return True
    except SwitchError:  # "-ERR key already exists": claimed already, by whom?
        return owner(connection, uuid) == node_id


def owner(connection: SwitchConnection, uuid: str) -> str | None:
    """The node id that claimed the leg (None: no claim; the Event Socket turns the empty
    reply of ``hash select`` into ``-ERR no reply``)."""
    try:
        return connection.api(f"hash select/{REALM}/{uuid}").strip() or None
    except SwitchError:
        return None


def release(connection: SwitchConnection, uuid: str, node_id: str) -> None:
    """Forget the claim of an ended call (only this engine's)."""
    try:
        connection.api(f"hash delete_ifmatch/{REALM}/{uuid}/{node_id}")
    except (SwitchError, SwitchUnavailable):
        pass  # not found, or the switch restarted and forgot it
