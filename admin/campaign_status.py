"""The campaign status machine the admin enforces: which button leads where."""

from __future__ import annotations

from engine.store.models import CampaignStatus

S = CampaignStatus

# action -> {from status: to status}
TRANSITIONS: dict[str, dict[CampaignStatus, CampaignStatus]] = {
    "start": {S.DRAFT: S.RUNNING, S.PAUSED: S.RUNNING, S.STOPPED: S.RUNNING},
    "pause": {S.RUNNING: S.PAUSED},
    "stop": {S.RUNNING: S.STOPPED, S.PAUSED: S.STOPPED},
}


class TransitionError(ValueError):
    """The action is not allowed from the campaign's current status."""


def apply(action: str, status: CampaignStatus) -> CampaignStatus:
    """The status after ``action``; raises TransitionError when it does not apply."""
    moves = TRANSITIONS.get(action)
    if moves is None:
        raise TransitionError(f"unknown action {action!r}")
    if status not in moves:
        raise TransitionError(f"cannot {action} a campaign that is {status.value}")
    return moves[status]


def actions_for(status: CampaignStatus) -> list[str]:
    return [action for action, moves in TRANSITIONS.items() if status in moves]
