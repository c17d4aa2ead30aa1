"""Russian federal subjects -> IANA time zones, matched from the free text of registries and CRMs.

The data is ``regions.csv`` beside this module (code; name; zones; aliases). A text such as
``"г. Москва и Московская область"`` or ``"м.р-н Ленский|Республика Саха /Якутия/"`` is reduced to
significant words; every subject whose name (or alias) words all occur in it matches, and a match
whose words are contained in a longer match's words is dropped (``Ненецкий`` inside
``Ямало-Ненецкий``). A text naming several subjects gives the union of their zones.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

_STOP_WORDS = frozenset(
    "г гор город обл область республика респ край автономный автономная округ ао аобл "
    "федерального значения и народная".split()
)
_WORD = re.compile(r"[a-zа-я0-9]+")


@dataclass(frozen=True)
class Region:
    code: str  # two-digit subject code, "" where none is settled
    name: str
    zones: tuple[str, ...]
    keys: tuple[frozenset[str], ...]  # word sets any of which identifies the subject


def words(text: str) -> frozenset[str]:
    """Significant lower-case words of a region text (type words such as 'область' dropped)."""
    return frozenset(_WORD.findall(text.lower().replace("ё", "е"))) - _STOP_WORDS


@lru_cache(maxsize=1)
def regions() -> tuple[Region, ...]:
    """All subjects from the packaged data file."""
    text = resources.files(__package__).joinpath("regions.csv").read_text(encoding="utf-8")
    out = []
    for row in csv.DictReader(text.splitlines(), delimiter=";"):
        names = [row["name"], *filter(None, row["aliases"].split("|"))]
        out.append(Region(row["code"], row["name"], tuple(row["zones"].split()),
                          tuple(words(name) for name in names)))
    return tuple(out)


@lru_cache(maxsize=1)
def russian_zones() -> tuple[str, ...]:
    """Every zone in use in Russia: the conservative set when a number's region is unknown."""
    return tuple(sorted({name for region in regions() for name in region.zones}))


@lru_cache(maxsize=4096)
def resolve(text: str | None) -> tuple[str, ...]:
    """The zones of the subject(s) a text names, sorted; () when it names none.

    ``text`` may be a subject code (``"77"``), a name in any common spelling, or a registry
    field with a district before a ``|``.
    """
    if not text or not text.strip():
        return ()
    text = text.strip()
    if text.isdigit():
        return next((r.zones for r in regions() if r.code and r.code == text.zfill(2)), ())
    return _match(words(text.rsplit("|", 1)[-1])) or _match(words(text))


def _match(have: frozenset[str]) -> tuple[str, ...]:
    matches = [(key, region) for region in regions() for key in region.keys if key <= have]
    kept = [region for key, region in matches
            if not any(key < other for other, _ in matches)]
    return tuple(sorted({name for region in kept for name in region.zones}))
