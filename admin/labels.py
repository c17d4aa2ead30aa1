"""Translated labels for the enum values shown in the UI (roles, modes, states, outcomes)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

_LABELS = {
    "admin": _l("admin"), "supervisor": _l("supervisor"), "agent": _l("agent"),
    "draft": _l("draft"), "running": _l("running"), "paused": _l("paused"),
    "stopped": _l("stopped"), "finished": _l("finished"),
    "predictive": _l("predictive"), "progressive": _l("progressive"), "preview": _l("preview"),
    "ivr": _l("IVR only"),
    "start": _l("Start"), "pause": _l("Pause"), "stop": _l("Stop"),
    "ready": _l("ready"), "reserved": _l("reserved"), "talking": _l("talking"),
    "wrap_up": _l("wrap-up"), "offline": _l("offline"),
    "answered": _l("answered"), "busy": _l("busy"), "no_answer": _l("no answer"),
    "rejected": _l("rejected"), "invalid_number": _l("invalid number"),
    "network_failure": _l("network failure"), "abandoned": _l("abandoned"),
    "machine": _l("machine"), "cancelled": _l("cancelled"), "lost": _l("lost"),
    "human": _l("human"), "unknown": _l("unknown"),
    "mobile": _l("mobile"), "work": _l("work"), "home": _l("home"), "other": _l("other"),
}


def label(value: object) -> str:
    """The UI text for an enum value (its own text when unknown)."""
    key = getattr(value, "value", value)
    return str(_LABELS.get(str(key), key))
