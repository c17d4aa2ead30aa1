"""One rule for hiding the phone numbers of masking tenants, wherever text leaves the system:
admin pages and JSON, CSV/XLSX exports, reports.

A phone-like run is a run of digits and the separators people write numbers with (spaces,
brackets, dashes, dots) holding at least seven digits: a Russian local number has seven. Dates
(``2026-12-01``, ``01.12.2026``) and decimal amounts (``1500000.00``) are not numbers to hide.
Anything else that might be a number is hidden: a masked tenant must never see one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

MIN_PHONE_DIGITS = 7
VISIBLE_DIGITS = 2

_RUN = re.compile(r"\+?\d[\d \u00a0()\-.]*\d")
_NOT_PHONES = (
    re.compile(r"\d{4}-\d{2}-\d{2}"),         # ISO date
    re.compile(r"\d{1,2}\.\d{1,2}\.\d{4}"),   # day.month.year
    re.compile(r"\d+[.,]\d{1,2}"),            # an amount with kopecks/cents
)


def is_phone_like(run: str) -> bool:
    """Whether a run of digits and separators may be a phone number."""
    if sum(char.isdigit() for char in run) < MIN_PHONE_DIGITS:
        return False
    return not any(pattern.fullmatch(run) for pattern in _NOT_PHONES)


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


def mask_text(text: str | None, hide: Callable[[str], str | None] = mask_number) -> str | None:
    """``text`` with each phone-like run replaced by ``hide(run)``."""
    if not text:
        return text
    return _RUN.sub(lambda match: (hide(match[0]) or "") if is_phone_like(match[0])
                    else match[0], text)


def mask_values(value: Any, hide: Callable[[str], str | None] = mask_number) -> Any:
    """``mask_text`` applied to every string inside JSON-like data (dicts, lists)."""
    if isinstance(value, str):
        return mask_text(value, hide)
    if isinstance(value, dict):
        return {key: mask_values(item, hide) for key, item in value.items()}
    if isinstance(value, list):
        return [mask_values(item, hide) for item in value]
    return value
