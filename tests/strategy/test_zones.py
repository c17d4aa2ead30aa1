"""Zones of numbers and contacts: registry, phonenumbers, country fallback, contact evidence."""

from __future__ import annotations

from engine.numbering.regions import russian_zones
from engine.strategy.zones import ZoneSource, contact_zones, number_zones


def test_registry_answer_wins() -> None:
    zones = number_zones("+79161234567", ("Asia/Omsk",), "Europe/Moscow")
    assert zones.names == ("Asia/Omsk",) and zones.sources == (ZoneSource.NUMBERING_PLAN,)


def test_geographic_number_from_phonenumbers() -> None:
    assert number_zones("+73832123456", None, "Europe/Moscow").names == ("Asia/Novosibirsk",)
    assert number_zones("+13105551234", None, "Europe/Moscow").names == ("America/Los_Angeles",)


def test_russian_mobile_without_registry_gets_every_russian_zone() -> None:
    zones = number_zones("+79161234567", None, "Europe/Moscow")
    assert zones.names == russian_zones() and zones.sources == (ZoneSource.COUNTRY,)
    assert "Asia/Almaty" not in zones.names  # phonenumbers' +7 list includes Kazakhstan


def test_unknown_number_gets_the_default() -> None:
    for number in ("+1800555000", "not a number"):
        zones = number_zones(number, None, "Europe/Samara")
        assert zones.names == ("Europe/Samara",) and zones.sources == (ZoneSource.DEFAULT,)


def test_contact_zone_wins_and_invalid_one_is_ignored() -> None:
    novosibirsk = number_zones("+73832123456", None, "Europe/Moscow")
    assert contact_zones("Asia/Omsk", None, [novosibirsk]).names == ("Asia/Omsk",)
    assert contact_zones("Mars/Base", None, [novosibirsk]).names == ("Asia/Novosibirsk",)


def test_disagreeing_evidence_is_combined() -> None:
    moscow = number_zones("+74951234567", None, "Europe/Moscow")
    novosibirsk = number_zones("+73832123456", None, "Europe/Moscow")
    zones = contact_zones(None, "Омская область", [moscow, novosibirsk])
    assert zones is not None
    assert zones.names == ("Asia/Novosibirsk", "Asia/Omsk", "Europe/Moscow")
    assert zones.sources == (ZoneSource.REGION, ZoneSource.PHONENUMBERS)


def test_uninformative_phones_do_not_widen_the_set() -> None:
    mobile = number_zones("+79161234567", None, "Europe/Moscow")  # whole country
    moscow = number_zones("+74951234567", None, "Europe/Moscow")
    assert contact_zones(None, None, [mobile, moscow]).names == ("Europe/Moscow",)
    assert contact_zones(None, None, [mobile]) is None
    assert contact_zones(None, "Атлантида", [mobile]) is None


def test_geography_zone_is_one_of_the_numbers_country() -> None:
    # phonenumbers names Europe/Bucharest for Kaliningrad's +7 4012 (same offset, other country).
    zones = number_zones("+74012351819", None, "Europe/Moscow")
    assert zones.names == ("Europe/Kaliningrad",)
    assert number_zones("+12125551234", None, "Europe/Moscow").names == ("America/New_York",)


def test_customer_zone_prefers_contact_then_agreed_evidence_then_default() -> None:
    from engine.strategy.zones import customer_zone

    assert customer_zone("Asia/Omsk", None, ["+74952223344"], "Europe/Moscow") == "Asia/Omsk"
    assert customer_zone(None, "Екатеринбург", ["+73432223344"], "Europe/Moscow") \
        == "Asia/Yekaterinburg"
    # A Russian mobile alone could be in any of eleven offsets: fall back to the default.
    assert customer_zone(None, None, ["+79161234567"], "Europe/Samara") == "Europe/Samara"
    # Region and phone disagree: no single zone, so the default.
    assert customer_zone(None, "Новосибирск", ["+74952223344"], "Europe/Moscow") \
        == "Europe/Moscow"
