"""Region text -> IANA zones for every federal subject and the registry's spellings."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from engine.numbering.regions import regions, resolve, russian_zones


def test_every_subject_has_valid_zones_and_unique_code() -> None:
    subjects = regions()
    assert len(subjects) >= 89
    codes = [r.code for r in subjects if r.code]
    assert len(codes) == len(set(codes))
    for region in subjects:
        assert region.zones, region.name
        for name in region.zones:
            ZoneInfo(name)
        assert resolve(region.name) == tuple(sorted(region.zones)), region.name


@pytest.mark.parametrize(("text", "zones"), [
    ("г. Москва и Московская область", ("Europe/Moscow",)),
    ("Новосибирская обл.", ("Asia/Novosibirsk",)),
    ("Республика Саха /Якутия/", ("Asia/Srednekolymsk", "Asia/Ust-Nera", "Asia/Yakutsk")),
    ("м.р-н Ленский|Республика Саха (Якутия)", ("Asia/Srednekolymsk", "Asia/Ust-Nera",
                                                "Asia/Yakutsk")),
    ("Ямало-Ненецкий АО", ("Asia/Yekaterinburg",)),  # not also Nenets (Moscow)
    ("Ненецкий автономный округ", ("Europe/Moscow",)),
    ("Ханты - Мансийский - Югра АО", ("Asia/Yekaterinburg",)),
    ("Кемеровская область - Кузбасс", ("Asia/Novokuznetsk",)),
    ("Алтайский край", ("Asia/Barnaul",)),
    ("Краснодарский край|г. Сочи", ("Europe/Moscow",)),
    ("КАЛИНИНГРАДСКАЯ ОБЛ", ("Europe/Kaliningrad",)),
    ("Самарская область, Омская область", ("Asia/Omsk", "Europe/Samara")),
    ("54", ("Asia/Novosibirsk",)),
    ("7", ("Europe/Moscow",)),  # code 07, Kabardino-Balkaria, without its leading zero
    # A subject's administrative centre (and its largest cities) name it too.
    ("Калининград", ("Europe/Kaliningrad",)),
    ("г. Екатеринбург, ул. Ленина, 5", ("Asia/Yekaterinburg",)),
    ("Нижний Новгород", ("Europe/Moscow",)),
    ("Хабаровск", ("Asia/Vladivostok",)),
    ("Улан-Удэ", ("Asia/Irkutsk",)),
    ("Тольятти", ("Europe/Samara",)),
])
def test_spellings(text: str, zones: tuple[str, ...]) -> None:
    assert resolve(text) == zones


@pytest.mark.parametrize("text", ["Российская Федерация", "", "   ", None, "Atlantis", "99"])
def test_unknown_or_nationwide_gives_nothing(text: str | None) -> None:
    assert resolve(text) == ()


def test_russian_zones_span_kaliningrad_to_kamchatka() -> None:
    zones = russian_zones()
    assert {"Europe/Kaliningrad", "Europe/Moscow", "Asia/Kamchatka", "Asia/Anadyr"} <= set(zones)
    assert list(zones) == sorted(set(zones))
