"""What a runner needs from a campaign row, validated with errors that name the field."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.store.models import Campaign

MIN_RING_TIMEOUT_S = 15
# Keys of ``Campaign.pacing`` that the runners read; the others belong to the pacing model
# (``engine.pacing.PacingSettings``).
RUNNER_PACING_KEYS = frozenset({
    "ring_timeout_s", "wrap_up_s", "max_cps", "max_channels", "preview_timeout_s",
    "preview_timeout_action", "abandon_message", "abandon_callback_after_s",
    "inbound_wait_s", "inbound_message", "inbound_callback_after_s", "inbound_voicemail_s",
    "agent_ring_timeout_s",
})


def model_pacing(pacing: Mapping[str, Any] | None) -> dict[str, Any]:
    """The part of ``Campaign.pacing`` that ``PacingSettings.from_dict`` parses."""
    return {key: value for key, value in (pacing or {}).items() if key not in RUNNER_PACING_KEYS}


class CampaignConfigError(ValueError):
    """A campaign setting a runner cannot use; the message names campaign and field."""


@dataclass(frozen=True)
class RunSettings:
    ring_timeout_s: int = 30
    wrap_up_s: float = 10.0
    max_cps: float | None = None
    max_channels: int | None = None
    record: bool = True
    record_from: str = "bridge"  # or "answer"
    preview_timeout_s: float = 30.0
    preview_timeout_action: str = "skip"  # or "dial"
    ivr_messages: tuple[str, ...] = ()
    ivr_menu: Mapping[str, str] | None = None  # digit -> "agent" / "dnc"
    ivr_digit_timeout_s: float = 5.0
    inbound_wait_s: float = 30.0  # a caller waits this long for a ready agent
    inbound_message: str | None = None  # played to a caller no agent took, then hung up
    inbound_callback_after_s: float = 60.0  # the callback promised to that caller
    inbound_voicemail_s: float = 0.0  # then their message is recorded this long (0: none)
    agent_ring_timeout_s: int = 15  # per-call ringing: how long an agent's phone rings

    @classmethod
    def from_campaign(cls, campaign: Campaign) -> RunSettings:
        where = f"campaign {campaign.id} ({campaign.name})"
        pacing, recording, ivr = campaign.pacing or {}, campaign.recording or {}, campaign.ivr or {}
        ring = _number(pacing, "ring_timeout_s", 30, f"{where} pacing")
        if ring < MIN_RING_TIMEOUT_S:
            raise CampaignConfigError(
                f"{where} pacing.ring_timeout_s: {ring} s is below the minimum of "
                f"{MIN_RING_TIMEOUT_S} s")
        record_from = recording.get("from", "bridge")
        if record_from not in ("bridge", "answer"):
            raise CampaignConfigError(f"{where} recording.from must be 'bridge' or 'answer'")
        action = pacing.get("preview_timeout_action", "skip")
        if action not in ("skip", "dial"):
            raise CampaignConfigError(
                f"{where} pacing.preview_timeout_action must be 'skip' or 'dial'")
        menu = ivr.get("menu") or None
        if menu is not None:
            bad = {d: a for d, a in menu.items() if a not in ("agent", "dnc")
                   or str(d) not in "0123456789*#" or len(str(d)) != 1}
            if bad:
                raise CampaignConfigError(
                    f"{where} ivr.menu: entries {bad} must map one digit to 'agent' or 'dnc'")
        messages = ivr.get("messages", [])
        if not isinstance(messages, list) or not all(isinstance(m, str) for m in messages):
            raise CampaignConfigError(f"{where} ivr.messages must be a list of file paths")
        message = pacing.get("inbound_message")
        if message is not None and not playable(message):
            raise CampaignConfigError(f"{where} pacing.inbound_message must be a file path "
                                      "without spaces or ')'")
        return cls(
            ring_timeout_s=int(ring),
            wrap_up_s=_number(pacing, "wrap_up_s", 10, f"{where} pacing"),
            max_cps=_optional(pacing, "max_cps", f"{where} pacing"),
            max_channels=_optional_int(pacing, "max_channels", f"{where} pacing"),
            record=bool(recording.get("enabled", True)),
            record_from=record_from,
            preview_timeout_s=_number(pacing, "preview_timeout_s", 30, f"{where} pacing"),
            preview_timeout_action=action,
            ivr_messages=tuple(messages),
            ivr_menu={str(d): a for d, a in menu.items()} if menu else None,
            ivr_digit_timeout_s=_number(ivr, "digit_timeout_s", 5, f"{where} ivr"),
            inbound_wait_s=_number(pacing, "inbound_wait_s", 30, f"{where} pacing"),
            inbound_message=message,
            inbound_callback_after_s=_number(pacing, "inbound_callback_after_s", 60,
                                             f"{where} pacing"),
            inbound_voicemail_s=_number(pacing, "inbound_voicemail_s", 0, f"{where} pacing"),
            agent_ring_timeout_s=max(1, int(_number(pacing, "agent_ring_timeout_s", 15,
                                                    f"{where} pacing"))),
        )


def playable(path: object) -> bool:
    """A file path an inline ``playback::`` can take (FreeSWITCH ends it at a space or ')')."""
    return isinstance(path, str) and bool(path) and not any(ch in path for ch in " )\n")


def _number(values: Mapping[str, Any], key: str, default: float, where: str) -> float:
    value = values.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise CampaignConfigError(f"{where}.{key} must be a non-negative number, got {value!r}")
    return value


def _optional(values: Mapping[str, Any], key: str, where: str) -> float | None:
    if values.get(key) is None:
        return None
    value = _number(values, key, 0, where)
    if value <= 0:
        raise CampaignConfigError(f"{where}.{key} must be positive, got {value!r}")
    return value


def _optional_int(values: Mapping[str, Any], key: str, where: str) -> int | None:
    value = _optional(values, key, where)
    if value is not None and value != int(value):
        raise CampaignConfigError(f"{where}.{key} must be a whole number, got {value!r}")
    return None if value is None else int(value)
