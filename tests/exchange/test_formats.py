"""Encoding detection, delimiter sniffing, phone normalization and phone types."""

from __future__ import annotations

import random

import phonenumbers
import pytest

from engine.exchange.dialect import check_delimiter, sniff_delimiter
from engine.exchange.encoding import EncodingError, check_encoding_name, detect_encoding
from engine.exchange.phones import (
    CountryDigits,
    PhoneError,
    PhoneNormalizer,
    RegionClassifier,
    fast_candidates,
    parse_phone_type,
)
from engine.store.models import PhoneType

CYRILLIC = "external_id;name\n" + "".join(f"{n};Щукина Ёлка Григорьевна\n" for n in range(40))


@pytest.mark.parametrize(("encoding", "expected"), [
    ("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("cp1251", "cp1251")])
def test_detects_supported_encodings(tmp_path, encoding, expected):
    path = tmp_path / "f.csv"
    path.write_bytes(CYRILLIC.encode(encoding))
    assert detect_encoding(path).name == expected


def test_invalid_utf8_late_in_a_large_file_is_found(tmp_path):
    path = tmp_path / "f.csv"
    path.write_bytes(("a,b\n" + "x,y\n" * 600_000).encode() + "Ж,1\n".encode("cp1251"))
    choice = detect_encoding(path)
    assert choice.name == "cp1251" and "offset 2400004" in choice.reason


def test_bytes_undefined_in_cp1251_are_refused(tmp_path):
    path = tmp_path / "f.csv"
    path.write_bytes(b"a,b\n\x98\xff,1\n")
    with pytest.raises(EncodingError, match=r"neither UTF-8 .* nor CP1251 \(byte 0x98"):
        detect_encoding(path)


def test_encoding_names_from_users():
    assert check_encoding_name("UTF8") == "utf-8"
    assert check_encoding_name("windows-1251") == "cp1251"
    with pytest.raises(ValueError, match="not one of"):
        check_encoding_name("latin-1")


@pytest.mark.parametrize(("sample", "expected"), [
    ("a,b,c\n1,2,3\n", ","),
    ("a;b;c\n1;2;3\n", ";"),
    ("a\tb\tc\n1\t2\t3\n", "\t"),
    ('name;note\n"Smith, John";"a, b, c"\n', ";"),
    ('id,"x;y"\n1,"2;3"\n', ","),
    ("single\nvalue\n", ","),
    ("a;b,c;d\n1;2,3;4\n", ";"),
])
def test_sniffs_delimiters(sample, expected):
    assert sniff_delimiter(sample) == expected


def test_sniffing_ignores_a_cut_last_line():
    assert sniff_delimiter("a;b\n1;2\n3;4,5,6,7,8,9") == ";"


def test_user_delimiters():
    assert check_delimiter("tab") == "\t" and check_delimiter(";") == ";"
    with pytest.raises(ValueError):
        check_delimiter("|")


@pytest.mark.parametrize(("raw", "number", "mobile"), [
    ("+7 916 123-45-67", "+79161234567", True),
    ("8 (916) 123-45-67", "+79161234567", True),
    ("79161234567", "+79161234567", True),
    ("9161234567", "+79161234567", True),
    ("8 495 123 45 67", "+74951234567", False),
    ("8-800-555-35-35", "+78005553535", False),
    ("+7 701 123 4567", "+77011234567", True),  # Kazakhstan shares +7
    ("+44 20 7946 0958", "+442079460958", False),
    ("8 10 44 20 7946 0958", "+442079460958", False),  # Russian international prefix
    ("+39 06 6982 1234", "+390669821234", False),  # Italian leading zero kept
])
def test_normalizes_to_e164(raw, number, mobile):
    phone = PhoneNormalizer("RU").normalize(raw)
    assert (phone.number, phone.mobile) == (number, mobile)


@pytest.mark.parametrize(("raw", "reason"), [
    ("12345", "not a valid number"),
    ("+7 916 123", "not a valid number"),
    ("hello", "not a phone number"),
    ("+79161234567 доб. 12", "extensions are not supported"),
    ("", "not a phone number"),
])
def test_rejects_garbage_numbers(raw, reason):
    with pytest.raises(PhoneError, match=reason):
        PhoneNormalizer("RU").normalize(raw)


def test_unknown_region_is_refused():
    with pytest.raises(ValueError, match="unknown phone region"):
        PhoneNormalizer("XX")


@pytest.mark.parametrize("region", ["RU", "US", "DE", "KZ", "GB"])
def test_normalizer_agrees_with_phonenumbers(region):
    """Fast path or not, every answer is phonenumbers' own (E.164, mobile, or invalid)."""
    rng = random.Random(f"phones-{region}")
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    normalizer = PhoneNormalizer(region)
    classifier = RegionClassifier(metadata)
    code = str(metadata.country_code)
    prefixes = ["", "+" + code, code, metadata.national_prefix or "", "+"]
    fast = valid = 0
    for _ in range(3000):
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(6, 12)))
        raw = rng.choice(prefixes) + rng.choice(["", " ", "-", " ("]) + digits
        try:
            parsed = phonenumbers.parse(raw, region)
        except phonenumbers.NumberParseException:
            parsed = None
        if parsed is not None and phonenumbers.is_valid_number(parsed):
            expected = (phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164),
                        phonenumbers.number_type(parsed) == phonenumbers.PhoneNumberType.MOBILE)
            phone = normalizer.normalize(raw)
            assert (phone.number, phone.mobile) == expected, raw
            valid += 1
        else:
            with pytest.raises(PhoneError):
                normalizer.normalize(raw)
        readings = [nsn for nsn in fast_candidates(raw, CountryDigits.of(metadata)) or []
                    if classifier.classify(nsn) is not None]
        fast += len(readings) == 1
    assert valid > 100 and fast > 50  # both paths were exercised


@pytest.mark.parametrize(("raw", "expected"), [
    ("mobile", PhoneType.MOBILE), ("Мобильный", PhoneType.MOBILE), ("моб.", PhoneType.MOBILE),
    ("сотовый", PhoneType.MOBILE), ("CELL", PhoneType.MOBILE), ("рабочий", PhoneType.WORK),
    ("Рабочий телефон", PhoneType.WORK), ("office", PhoneType.WORK),
    ("домашний", PhoneType.HOME), ("home", PhoneType.HOME), ("другой", PhoneType.OTHER),
    ("", None), ("  ", None),
])
def test_phone_type_synonyms(raw, expected):
    assert parse_phone_type(raw) == expected


def test_unknown_phone_type_is_named():
    with pytest.raises(PhoneError, match="unknown phone type 'пейджер'"):
        parse_phone_type("пейджер")
