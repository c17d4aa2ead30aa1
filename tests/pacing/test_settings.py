from __future__ import annotations

import pytest

from engine.pacing import PacingSettings, PacingSettingsError


def test_defaults_are_the_documented_ones() -> None:
    s = PacingSettings.from_dict(None)
    assert (s.abandon_cap, s.rule, s.answer_timeout_s, s.dead_air_p95_s) == (0.03, "us_30d", 2.0, 2.0)
    assert s.ramp_budget == 3.0


def test_values_and_nested_defaults_are_read() -> None:
    s = PacingSettings.from_dict({
        "abandon_cap": 0.02, "rule": "uk_day", "timezone": "Europe/London",
        "memory_calls": 50, "defaults": {"answer_rate": 0.1, "talk_mean_s": 200},
    })
    assert s.abandon_cap == 0.02 and s.rule == "uk_day" and s.memory_calls == 50.0
    assert s.defaults.answer_rate == 0.1 and s.defaults.talk_mean_s == 200.0
    assert s.defaults.wrap_mean_s == 15.0  # untouched default


@pytest.mark.parametrize(("raw", "field"), [
    ({"abandon_cap": 1.5}, "pacing.abandon_cap"),
    ({"abandon_cap": "3%"}, "pacing.abandon_cap"),
    ({"rule": "eu"}, "pacing.rule"),
    ({"timezone": "Mars/Base"}, "pacing.timezone"),
    ({"dead_air_calls": 10.5}, "pacing.dead_air_calls"),
    ({"count_amd_false_positives": "yes"}, "pacing.count_amd_false_positives"),
    ({"speed": 3}, "pacing.speed"),
    ({"ramp_budget": 0.5}, "pacing.ramp_budget"),
    ({"defaults": {"talk_mean_s": -1}}, "pacing.defaults.talk_mean_s"),
    ({"defaults": {"answer_rate": 0.7, "machine_rate": 0.4}}, "pacing.defaults.machine_rate"),
    ({"defaults": {"ring_cv": 1}}, "pacing.defaults.ring_cv"),
    ({"defaults": []}, "pacing.defaults"),
])
def test_errors_name_the_field(raw: dict, field: str) -> None:
    with pytest.raises(PacingSettingsError) as err:
        PacingSettings.from_dict(raw)
    assert str(err.value).startswith(field + ":")
