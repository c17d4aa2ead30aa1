"""Phone numbers of tenants with ``mask_numbers`` never leave the system in clear."""

from __future__ import annotations

import re
from typing import Any

VISIBLE_DIGITS = 2
MIN_DIGITS = 10  # in free text, a run with this many digits is taken for a phone number
_DIGIT_RUN = re.compile(r"\+?\d[\d ()\-.]*\d")


def mask_number(number: str | None) -> str | None:
    """Every digit but the last two becomes ``*``: ``+79161234567`` -> ``+*********67``."""
    if not number:
        return number
    hidden = max(sum(char.isdigit() for char in number) - VISIBLE_DIGITS, 0)
    masked = []
    for char in number:
        if char.isdigit() and hidden:
            masked.append("*")
            hidden -= 1
        else:
            masked.append(char)
    return "".join(masked)


def mask_text(text: str | None) -> str | None:
    """Masks digit runs that look like phone numbers (10+ digits) inside free text."""
    if not text:
        return text
    return _DIGIT_RUN.sub(
        lambda run: mask_number(run[0]) if sum(c.isdigit() for c in run[0]) >= MIN_DIGITS
        else run[0], text)


def mask_values(value: Any) -> Any:
    """``mask_text`` applied to every string inside JSON-like data (dicts, lists)."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {key: mask_values(item) for key, item in value.items()}
    if isinstance(value, list):
        return [mask_values(item) for item in value]
    return value
