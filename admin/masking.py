"""Number masking: for a masking tenant no phone number leaves the server.

Contacts show as "Potential client N" until consent is recorded; free-text values lose any run of
digits long enough to be a phone number.
"""

from __future__ import annotations

import re
from typing import Any

from flask_babel import gettext

from engine.store.models import Contact

_DIGIT_RUN = re.compile(r"\+?\d[\d\s().-]*\d")
_MIN_PHONE_DIGITS = 7
HIDDEN = "•••"


def _mask_run(match: re.Match[str]) -> str:
    run = match.group(0)
    return HIDDEN if sum(ch.isdigit() for ch in run) >= _MIN_PHONE_DIGITS else run


def scrub(text: str) -> str:
    """``text`` with every run of seven or more digits (a possible phone number) masked."""
    return _DIGIT_RUN.sub(_mask_run, text)


def contact_label(contact: Contact, masked: bool) -> str:
    if masked and not contact.consent:
        return gettext("Potential client %(n)s", n=contact.id)
    name = contact.name or gettext("Lead %(n)s", n=contact.id)
    return scrub(name) if masked else name


def phone_text(number: str | None, masked: bool) -> str:
    if number is None:
        return ""
    return HIDDEN if masked else number


def contact_fields(contact: Contact, masked: bool) -> dict[str, Any]:
    """The imported extra fields a user may see (none before consent when masked)."""
    if not masked:
        return dict(contact.fields or {})
    if not contact.consent:
        return {}
    return {key: scrub(str(value)) for key, value in (contact.fields or {}).items()}


def external_id_text(contact: Contact, masked: bool) -> str:
    return scrub(contact.external_id) if masked else contact.external_id
