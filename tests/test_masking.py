"""The one masking rule shared by admin pages and exports."""

import pytest

from engine.masking import is_phone_like, mask_number, mask_text, mask_values


@pytest.mark.parametrize(("text", "expected"), [
    ("+79161234567", "+*********67"),
    ("call 8 (916) 123-45-67 after 5", "call * (***) ***-**-67 after 5"),
    ("home 123-45-67, flat 7", "home ***-**-67, flat 7"),
    ("office 2345678 ext 12", "office *****78 ext 12"),
    ("due 2026-12-01, sum 1500000.00", "due 2026-12-01, sum 1500000.00"),
    ("born 01.02.1980", "born 01.02.1980"),
    ("order 12345", "order 12345"),
    ("", ""),
])
def test_mask_text_hides_every_phone_like_run(text, expected):
    assert mask_text(text) == expected


def test_a_custom_replacement_hides_the_whole_run():
    assert mask_text("call +7 (916) 123-45-67 now", lambda run: "•••") == "call ••• now"


@pytest.mark.parametrize("run", ["1234567", "8 800 555 35 35", "+7 916 123 45 67", "12345678901234"])
def test_runs_of_seven_digits_or_more_are_phone_like(run):
    assert is_phone_like(run)


@pytest.mark.parametrize("run", ["123456", "2026-12-01", "1.12.2026", "1500000.00", "99,5"])
def test_dates_amounts_and_short_runs_are_not(run):
    assert not is_phone_like(run)


def test_mask_values_walks_json_like_data():
    data = {"alt": ["+7 916 123 45 67", 5], "debt": "1500.00", "n": None}
    assert mask_values(data) == {"alt": ["+* *** *** ** 67", 5], "debt": "1500.00", "n": None}


def test_mask_number_keeps_separators_and_the_last_two_digits():
    assert mask_number("8-800-555-35-35") == "*-***-***-**-35"
    assert mask_number(None) is None
