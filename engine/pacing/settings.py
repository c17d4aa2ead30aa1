"""PacingSettings: the campaign's ``pacing`` JSON dict, validated, with defaults.

Every error names the offending field as ``pacing.<field>`` (or ``pacing.defaults.<field>``)
and says what was expected, so a campaign manager can fix the campaign without reading code.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

RULES = ("us_30d", "uk_day")


class PacingSettingsError(ValueError):
    """A pacing setting is malformed; the message names the field."""


@dataclass(frozen=True)
class EstimateDefaults:
    """What the campaign expects before it has history (the estimators start here)."""

    answer_rate: float = 0.25  # live human answers per dial attempt
    machine_rate: float = 0.15  # answering machines per dial attempt
    ring_answer_mean_s: float = 10.0  # ring time of answered calls
    ring_answer_cv: float = 0.6
    ring_noanswer_mean_s: float = 20.0  # duration of attempts that end unanswered
    ring_noanswer_cv: float = 0.5
    talk_mean_s: float = 120.0
    talk_cv: float = 1.0
    wrap_mean_s: float = 15.0
    wrap_cv: float = 0.6


@dataclass(frozen=True)
class PacingSettings:
    """Validated pacing settings; build with :meth:`from_dict`."""

    abandon_cap: float = 0.03  # abandoned / live answered, as the regulator counts it
    rule: str = "us_30d"  # us_30d: rolling 30 days; uk_day: calendar day in `timezone`
    timezone: str = "UTC"  # the campaign's zone, for the calendar-day rule
    answer_timeout_s: float = 2.0  # answer-to-agent limit before the call is abandoned
    dead_air_p95_s: float = 2.0  # answer-to-bridge p95 above this: progressive fallback
    dead_air_calls: int = 100  # how many recent bridged/abandoned calls the p95 covers
    dead_air_min_calls: int = 20  # fewer samples than this: no dead-air verdict
    count_amd_false_positives: bool = True  # add estimated AMD false positives to abandons
    amd_false_positive_rate: float = 0.0  # humans dropped as machines, per machine verdict
    target_fraction: float = 0.8  # aim the model's abandon probability at cap * this
    confidence: float = 0.999  # in-flight abandons stay within the earned budget w.p. this
    memory_calls: float = 300.0  # estimator half-life, in observations
    prior_calls: float = 20.0  # weight of `defaults`, in observations, at cold start
    max_lines_per_agent: float = 10.0  # ringing calls per logged-in agent, at most
    ramp_budget: float = 3.0  # budget below this (a young window, or near the cap): ...
    ramp_confidence: float = 0.9999  # ... the budget constraint holds with this probability
    defaults: EstimateDefaults = field(default_factory=EstimateDefaults)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any] | None) -> "PacingSettings":
        """Parse ``Campaign.pacing``; unknown or malformed fields raise PacingSettingsError."""
        raw = dict(raw or {})
        values = _parse_fields(cls, raw, "pacing", skip={"defaults"})
        defaults_raw = raw.get("defaults", {})
        if not isinstance(defaults_raw, Mapping):
            raise PacingSettingsError("pacing.defaults: must be an object")
        values["defaults"] = EstimateDefaults(
            **_parse_fields(EstimateDefaults, dict(defaults_raw), "pacing.defaults")
        )
        settings = cls(**values)
        settings.validate()
        return settings

    def validate(self) -> None:
        """Range checks; raise PacingSettingsError naming the first bad field."""
        _check(0 < self.abandon_cap < 1, "abandon_cap", "must be between 0 and 1")
        _check(self.rule in RULES, "rule", f"must be one of {', '.join(RULES)}")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise PacingSettingsError(
                f"pacing.timezone: unknown time zone {self.timezone!r}"
            ) from None
        _check(self.answer_timeout_s > 0, "answer_timeout_s", "must be > 0")
        _check(self.dead_air_p95_s > 0, "dead_air_p95_s", "must be > 0")
        _check(self.dead_air_calls >= 1, "dead_air_calls", "must be >= 1")
        _check(
            1 <= self.dead_air_min_calls <= self.dead_air_calls,
            "dead_air_min_calls", "must be between 1 and dead_air_calls",
        )
        _check(0 <= self.amd_false_positive_rate < 1, "amd_false_positive_rate",
               "must be in [0, 1)")
        _check(0 < self.target_fraction <= 1, "target_fraction", "must be in (0, 1]")
        _check(0.5 <= self.confidence < 1, "confidence", "must be in [0.5, 1)")
        _check(self.memory_calls >= 1, "memory_calls", "must be >= 1")
        _check(self.prior_calls >= 1, "prior_calls", "must be >= 1")
        _check(self.max_lines_per_agent >= 1, "max_lines_per_agent", "must be >= 1")
        _check(self.ramp_budget >= 1, "ramp_budget", "must be >= 1")
        _check(self.confidence <= self.ramp_confidence < 1, "ramp_confidence",
               "must be in [confidence, 1)")
        d = self.defaults
        _check(0 < d.answer_rate < 1, "defaults.answer_rate", "must be between 0 and 1")
        _check(0 <= d.machine_rate < 1, "defaults.machine_rate", "must be in [0, 1)")
        _check(d.answer_rate + d.machine_rate < 1, "defaults.machine_rate",
               "answer_rate + machine_rate must be < 1")
        for name in ("ring_answer", "ring_noanswer", "talk", "wrap"):
            _check(getattr(d, f"{name}_mean_s") > 0, f"defaults.{name}_mean_s", "must be > 0")
            _check(getattr(d, f"{name}_cv") > 0, f"defaults.{name}_cv", "must be > 0")


def _check(ok: bool, name: str, problem: str) -> None:
    if not ok:
        raise PacingSettingsError(f"pacing.{name}: {problem}")


def _parse_fields(
    cls: type, raw: dict[str, Any], prefix: str, skip: frozenset[str] | set[str] = frozenset()
) -> dict[str, Any]:
    """Coerce each known key of ``raw`` to the type of the dataclass field; reject unknown keys."""
    known = {f.name: f for f in fields(cls) if f.name not in skip}
    unknown = sorted(set(raw) - set(known) - set(skip))
    if unknown:
        raise PacingSettingsError(
            f"{prefix}.{unknown[0]}: unknown field (known: {', '.join(sorted(known))})"
        )
    values: dict[str, Any] = {}
    for name, value in raw.items():
        if name in skip:
            continue
        values[name] = _coerce(value, type(getattr(cls(), name)), f"{prefix}.{name}")
    return values


def _coerce(value: Any, kind: type, where: str) -> Any:
    if kind is bool:
        if not isinstance(value, bool):
            raise PacingSettingsError(f"{where}: must be true or false, got {value!r}")
        return value
    if kind in (int, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise PacingSettingsError(f"{where}: must be a number, got {value!r}")
        if not math.isfinite(value):
            raise PacingSettingsError(f"{where}: must be finite, got {value!r}")
        if kind is int and value != int(value):
            raise PacingSettingsError(f"{where}: must be a whole number, got {value!r}")
        return kind(value)
    if not isinstance(value, str):
        raise PacingSettingsError(f"{where}: must be a string, got {value!r}")
    return value
