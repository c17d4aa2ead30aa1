"""Lead status labels in the UI language (the statuses themselves: ``engine.leads``)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l


_LABELS = {
    "new": _l("New"), "assigned": _l("Assigned"), "no_answer": _l("No answer"),
    "callback": _l("Callback"), "interested": _l("Interested"),
    "client_interested": _l("Client interested"), "refused": _l("Refused"),
    "wrong_number": _l("Wrong number"), "not_reached": _l("Not reached"),
}


def status_label(code: str, names: dict[str, str] | None = None) -> str:
    """A tenant's own name wins; built-in codes are translated; else the code itself."""
    if names and code in names and code not in _LABELS:
        return names[code]
    return str(_LABELS[code]) if code in _LABELS else (names or {}).get(code, code)
