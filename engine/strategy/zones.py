"""Time zone(s) of a callee: from the contact, the numbering plan, ``phonenumbers`` or a default.

Each source gives a set of candidate zones; the window must be open in all of them. Order of
trust for one number: the numbering-plan registry (loaded ranges), then ``phonenumbers``
geography; a number that is only known to be in a country (Russian mobiles without registry
data) gets all of that country's zones, and an unknown number the campaign's default zone.

For a contact, an explicit IANA zone wins. Otherwise the informative evidence (its region text
and every phone's zones from the registry or from geography) is combined, so a contact whose
phones or address disagree is called only while it is allowed everywhere they point. Only when
there is no informative evidence does a phone fall back to its country or the default zone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import lru_cache
from importlib import resources
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import timezone as pn_timezone

from engine.numbering.regions import resolve as resolve_region
from engine.numbering.regions import russian_zones


class ZoneSource(StrEnum):
    CONTACT = "contact time zone"
    REGION = "contact region"
    NUMBERING_PLAN = "numbering plan"
    PHONENUMBERS = "number geography"
    COUNTRY = "whole country (number not located)"
    DEFAULT = "campaign default"

    @property
    def informative(self) -> bool:
        """The source locates the callee (not just a country or the campaign's default)."""
        return self in _INFORMATIVE


_INFORMATIVE = frozenset({ZoneSource.CONTACT, ZoneSource.REGION, ZoneSource.NUMBERING_PLAN,
                          ZoneSource.PHONENUMBERS})


@dataclass(frozen=True)
class Zones:
    names: tuple[str, ...]  # sorted, at least one
    sources: tuple[ZoneSource, ...]

    def __str__(self) -> str:
        return f"{', '.join(self.names)} (from {', '.join(self.sources)})"


@lru_cache(maxsize=1024)
def is_zone(name: str) -> bool:
    """True for a known IANA zone name (a contact's zone may come from a CRM unchecked)."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


@lru_cache(maxsize=1)
def _zones_by_country() -> dict[str, frozenset[str]]:
    """Country code -> its IANA zones, from the tz database's zone.tab (tzdata package)."""
    text = resources.files("tzdata").joinpath("zoneinfo", "zone.tab").read_text(encoding="utf-8")
    table: dict[str, set[str]] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            country, _coordinates, zone = line.split("\t")[:3]
            table.setdefault(country, set()).add(zone)
    return {country: frozenset(zones) for country, zones in table.items()}


@lru_cache(maxsize=1024)
def _standard_offset(zone: str) -> float:
    """Hours east of UTC without DST (read in mid-January and mid-July, the smaller one)."""
    offsets = []
    for month in (1, 7):
        moment = datetime(2026, month, 15, 12, tzinfo=ZoneInfo(zone))
        offsets.append((moment.utcoffset() - moment.dst()).total_seconds() / 3600)  # type: ignore[operator]
    return min(offsets)


def _in_country(zones: tuple[str, ...], country: str | None) -> tuple[str, ...]:
    """``phonenumbers`` names one zone per offset (e.g. Europe/Bucharest for Kaliningrad's
    +7 4012): swap a zone of another country for the country's zones of the same offset."""
    own = _zones_by_country().get(country or "")
    if not own:
        return zones
    out: set[str] = set()
    for zone in zones:
        same_offset = {z for z in own if _standard_offset(z) == _standard_offset(zone)}
        out.update({zone} if zone in own or not same_offset else same_offset)
    return tuple(sorted(out))


@lru_cache(maxsize=65536)
def _geography(number: str) -> tuple[str | None, tuple[str, ...]]:
    """(region code, zones) per ``phonenumbers``; zones empty when it does not know."""
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return None, ()
    found = tuple(z for z in pn_timezone.time_zones_for_number(parsed) if z != "Etc/Unknown")
    region = phonenumbers.region_code_for_number(parsed)
    return region, _in_country(found, region) if len(found) == 1 else found


def number_zones(number: str, plan: tuple[str, ...] | None, default_zone: str) -> Zones:
    """Candidate zones of one number; ``plan`` is the numbering-plan registry's answer if any."""
    if plan:
        return Zones(tuple(sorted(plan)), (ZoneSource.NUMBERING_PLAN,))
    region, found = _geography(number)
    if region == "RU" and len(found) != 1:
        # phonenumbers lists every zone of +7 (Kazakhstan's too) for non-geographic numbers.
        return Zones(russian_zones(), (ZoneSource.COUNTRY,))
    if found:
        source = ZoneSource.PHONENUMBERS if len(found) == 1 else ZoneSource.COUNTRY
        return Zones(tuple(sorted(found)), (source,))
    return Zones((default_zone,), (ZoneSource.DEFAULT,))


def contact_zones(timezone: str | None, region: str | None,
                  phone_zones: Iterable[Zones]) -> Zones | None:
    """The zones every phone of a contact is called by, or None when nothing is informative
    (then each phone keeps its own fallback zones)."""
    if timezone and is_zone(timezone):
        return Zones((timezone,), (ZoneSource.CONTACT,))
    names: set[str] = set()
    sources: list[ZoneSource] = []
    region_zones = resolve_region(region)
    if region_zones:
        names.update(region_zones)
        sources.append(ZoneSource.REGION)
    for zones in phone_zones:
        if all(source.informative for source in zones.sources):
            names.update(zones.names)
            sources.extend(s for s in zones.sources if s not in sources)
    return Zones(tuple(sorted(names)), tuple(sources)) if names else None


def customer_zone(timezone: str | None, region: str | None, numbers: Iterable[str],
                  default_zone: str) -> str:
    """The one zone in which to show or read a customer's local time (e.g. a callback time):
    the contact's own zone, else the zone its region and phones agree on, else ``default_zone``."""
    located = contact_zones(timezone, region,
                            [number_zones(number, None, default_zone) for number in numbers])
    return located.names[0] if located and len(located.names) == 1 else default_zone
