"""Property: whatever the inputs, a dialable phone is inside its window in every zone of the
callee, not on DNC, not blocked and under every cap, all checked here independently."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.numbering.regions import russian_zones
from engine.store.models import Outcome, PhoneType
from engine.strategy.config import DAY_KEYS, StrategyConfig
from engine.strategy.decide import decide
from engine.strategy.facts import AttemptFact, CallbackFact, Circumstances, ContactFacts, PhoneFacts

NUMBERS = {  # number -> the zones it may be in, when nothing else is known
    "+74951234567": ("Europe/Moscow",),
    "+73832123456": ("Asia/Novosibirsk",),
    "+74212123456": ("Asia/Vladivostok",),
    "+74012123456": ("Europe/Kaliningrad",),
    "+79161234567": russian_zones(),  # mobile: anywhere in Russia
    "+79991234567": russian_zones(),
    "+12125551234": ("America/New_York",),
    "+13105551234": ("America/Los_Angeles",),
    "+4930123456": ("Europe/Berlin",),
}
ZONES = ["Europe/Moscow", "Asia/Kamchatka", "Europe/Kaliningrad", "America/New_York",
         "America/Los_Angeles", "Europe/Berlin", "Australia/Lord_Howe", "Asia/Kathmandu",
         "Pacific/Chatham", "America/St_Johns", "Asia/Yakutsk"]
TRANSITIONS = [datetime(2026, 3, 8, 7), datetime(2026, 11, 1, 6), datetime(2026, 3, 29, 1),
               datetime(2026, 10, 25, 1), datetime(2026, 4, 5, 15), datetime(2026, 10, 4, 16),
               datetime(2026, 12, 31, 20), datetime(2027, 1, 7, 5), datetime(2026, 5, 9, 3)]
OUTCOMES = [None, *Outcome]


def minutes(draw, low: int, high: int) -> int:  # type: ignore[no-untyped-def]
    return draw(st.integers(low, high))


@st.composite
def windows(draw):  # type: ignore[no-untyped-def]
    spec = {}
    for day in DAY_KEYS:
        if draw(st.booleans()) and draw(st.booleans()):
            spec[day] = None
            continue
        start = draw(st.integers(0, 23 * 60 + 59))
        end = draw(st.integers(start + 1, 24 * 60))
        spec[day] = f"{start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d}"
    return spec


@st.composite
def instants(draw):  # type: ignore[no-untyped-def]
    base = draw(st.sampled_from(TRANSITIONS))
    return (base + timedelta(minutes=draw(st.integers(-36 * 60, 36 * 60)))).replace(
        tzinfo=timezone.utc)


@st.composite
def scenarios(draw):  # type: ignore[no-untyped-def]
    now = draw(instants())
    spec = {"windows": draw(windows()), "default_timezone": draw(st.sampled_from(ZONES))}
    if draw(st.booleans()):
        spec["holidays"] = "RU"
        spec["windows"]["holiday"] = "10:00-19:00"
    caps = {k: draw(st.integers(1, 4)) for k in ("day", "week", "month") if draw(st.booleans())}
    if caps:
        caps["count"] = draw(st.sampled_from(["attempts", "reached"]))
        spec["caps"] = caps
    numbers = draw(st.lists(st.sampled_from(sorted(NUMBERS)), min_size=1, max_size=3, unique=True))
    phones = tuple(PhoneFacts(
        id=i + 1, number=number, phone_type=draw(st.sampled_from(list(PhoneType))),
        attempts=draw(st.integers(0, 6)),
        plan_zones=draw(st.none() | st.lists(st.sampled_from(russian_zones()), min_size=1,
                                             max_size=3, unique=True).map(tuple))
        if number.startswith("+79") else None)
        for i, number in enumerate(numbers))
    contact = ContactFacts(
        id=1, tenant_id=1, phones=phones, attempts=draw(st.integers(0, 13)),
        timezone=draw(st.none() | st.sampled_from(ZONES)),
        region=draw(st.none() | st.sampled_from(["Омская область", "г. Москва", "Атлантида"])))
    history = tuple(AttemptFact(
        number=draw(st.sampled_from(numbers)),
        created_at=now - timedelta(minutes=draw(st.integers(1, 40 * 24 * 60))),
        outcome=draw(st.sampled_from(OUTCOMES))) for _ in range(draw(st.integers(0, 6))))
    around = Circumstances(
        history=history,
        dnc=frozenset(draw(st.lists(st.sampled_from(numbers), max_size=2))),
        blocks={n: now + timedelta(minutes=draw(st.integers(-600, 600)))
                for n in draw(st.lists(st.sampled_from(numbers), max_size=2))},
        callbacks=tuple(CallbackFact(id=k, due_at=now + timedelta(minutes=draw(st.integers(-90, 90))),
                                     phone_id=draw(st.none() | st.sampled_from([p.id for p in phones])))
                        for k in range(draw(st.integers(0, 1)))))
    return StrategyConfig.from_dict(spec), spec, contact, around, now


REGIONS = {"Омская область": {"Asia/Omsk"}, "г. Москва": {"Europe/Moscow"}, "Атлантида": set()}


def own_zones(phone: PhoneFacts) -> tuple[set[str], bool]:
    """A number's zones and whether they locate it (registry or geography, not a country)."""
    if phone.plan_zones:
        return set(phone.plan_zones), True
    zones = NUMBERS[phone.number]
    return set(zones), zones != russian_zones()


def expected_zones(contact: ContactFacts, phone: PhoneFacts) -> set[str]:
    """Zones the callee may be in, derived without the strategy's own zone code: the contact's
    zone, else all locating evidence (region, located phones), else the number's own zones."""
    if contact.timezone:
        return {contact.timezone}
    evidence = set(REGIONS.get(contact.region or "Атлантида", set()))
    for other in contact.phones:
        zones, located = own_zones(other)
        if located:
            evidence |= zones
    return evidence or own_zones(phone)[0]


@lru_cache(maxsize=None)
def russian_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("RU", years=year))


def window_open(spec: dict, at: datetime, zone: str) -> bool:
    local = at.astimezone(ZoneInfo(zone))
    key = DAY_KEYS[local.weekday()]
    if "holidays" in spec and local.date() in russian_holidays(local.year):
        key = "holiday"
    text = spec["windows"][key]
    if text is None:
        return False
    start, end = ((int(t[:2]) * 60 + int(t[3:])) for t in text.split("-"))
    return start <= local.hour * 60 + local.minute < end


def cap_ok(spec: dict, history: tuple[AttemptFact, ...], now: datetime, zone: str) -> bool:
    caps = spec.get("caps")
    if not caps:
        return True
    tz = ZoneInfo(zone)
    today = now.astimezone(tz).date()
    same = {"day": lambda d: d == today,
            "week": lambda d: d.isocalendar()[:2] == today.isocalendar()[:2],
            "month": lambda d: (d.year, d.month) == (today.year, today.month)}
    counted: list[date] = [a.created_at.astimezone(tz).date() for a in history
                           if a.created_at <= now and (caps["count"] == "attempts"
                           or a.outcome in (None, Outcome.ANSWERED, Outcome.ABANDONED))]
    return all(sum(map(same[k], counted)) < caps[k] for k in ("day", "week", "month") if k in caps)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_dialable_phone_is_always_allowed(scenario) -> None:  # type: ignore[no-untyped-def]
    config, spec, contact, around, now = scenario
    decision = decide(contact, config, now, around)
    for phone in decision.phones:
        if not phone.dialable:
            assert phone.next_time is None or phone.next_time > now
            continue
        number = phone.phone.number
        zones = expected_zones(contact, phone.phone) | set(phone.zones.names)
        assert all(window_open(spec, now, zone) for zone in zones), (number, zones)
        assert number not in around.dnc
        assert around.blocks.get(number, now) <= now
        assert all(cap_ok(spec, around.history, now, zone) for zone in zones)
    if decision.chosen is not None:
        assert decision.chosen is next(p for p in decision.phones if p.dialable)
