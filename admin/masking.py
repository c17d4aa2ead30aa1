"""Number masking on pages: for a masking tenant no phone number leaves the server.

Contacts show as "Potential client N" until consent is recorded; free-text values lose every
phone-like run by the rule of ``engine.masking``, which exports share.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext

from engine.masking import mask_text
from engine.store.models import Contact

HIDDEN = "•••"


def scrub(text: str) -> str:
    """``text`` with every phone-like run (``engine.masking``'s one rule) shown as ``•••``."""
    return mask_text(text, lambda run: HIDDEN) or ""


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


def reason_text(text: str, masked: bool) -> str:
    """A message from elsewhere (the engine's refusal may name the number dialed)."""
    return scrub(text) if masked else text


def external_id_text(contact: Contact, masked: bool) -> str:
    return scrub(contact.external_id) if masked else contact.external_id
