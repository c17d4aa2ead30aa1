"""Campaign settings as the editor shows them (YAML text) and as the engine stores them (dicts).

Each ``parse_*`` function takes the text of one editor field and returns the stored value, or
raises :class:`SettingsError` naming the field, the line when YAML is malformed, and the problem.
Strategy and pacing are validated by the engine's own parsers, so the editor cannot store a
campaign the daemon would refuse.
"""

from __future__ import annotations

from typing import Any

import yaml

from engine.pacing.settings import PacingSettings, PacingSettingsError
from engine.runner.settings import model_pacing
from engine.strategy.config import StrategyConfig, StrategyError

RESULT_FIELD_TYPES = ("text", "number", "choice", "bool", "date")
_RESULT_FIELD_KEYS = {"name", "label", "type", "options", "required"}


class SettingsError(ValueError):
    """One editor field is invalid; ``field`` names it for the form."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


def to_yaml(value: Any) -> str:
    """Stored settings as the editor shows them ("" for an empty value)."""
    if not value:
        return ""
    return yaml.safe_dump(value, allow_unicode=True, sort_keys=False, default_flow_style=False)


def _load(field: str, text: str) -> Any:
    try:
        return yaml.safe_load(text) if text.strip() else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise SettingsError(field, f"{where}not valid YAML ({getattr(exc, 'problem', exc)})") from None


def parse_mapping(field: str, text: str) -> dict[str, Any]:
    """A YAML mapping (or nothing, stored as ``{}``)."""
    value = _load(field, text)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise SettingsError(field, f"expected key: value pairs, got {type(value).__name__}")
    return value


def parse_strategy(text: str, campaign_timezone: str) -> dict[str, Any]:
    value = parse_mapping("strategy", text)
    try:
        StrategyConfig.from_dict(value, default_timezone=campaign_timezone)
    except StrategyError as exc:
        raise SettingsError("strategy", str(exc)) from None
    return value


def parse_pacing(text: str) -> dict[str, Any]:
    value = parse_mapping("pacing", text)
    try:
        PacingSettings.from_dict(model_pacing(value))
    except PacingSettingsError as exc:
        raise SettingsError("pacing", str(exc)) from None
    return value


def _load_list(field: str, text: str, what: str) -> list[Any]:
    value = _load(field, text)
    if value is None:
        return []
    if not isinstance(value, list):
        raise SettingsError(field, f"expected a list of {what}")
    return value


def parse_result_fields(text: str) -> list[dict[str, Any]]:
    """A list of ``{name, label, type, options, required}`` for the agent's result form."""
    value = _load_list("result_fields", text, "fields")
    seen: set[str] = set()
    for index, item in enumerate(value):
        where = f"item {index + 1}"
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"]:
            raise SettingsError("result_fields", f"{where}: needs a name")
        unknown = set(item) - _RESULT_FIELD_KEYS
        if unknown:
            raise SettingsError("result_fields", f"{where}: unknown keys {sorted(unknown)}")
        kind = item.setdefault("type", "text")
        if kind not in RESULT_FIELD_TYPES:
            raise SettingsError("result_fields", f"{where}: type must be one of "
                                                 f"{', '.join(RESULT_FIELD_TYPES)}, got {kind!r}")
        options = item.get("options")
        if kind == "choice" and (not isinstance(options, list) or not options):
            raise SettingsError("result_fields", f"{where}: a choice needs a list of options")
        if item["name"] in seen:
            raise SettingsError("result_fields", f"{where}: name {item['name']!r} is used twice")
        seen.add(item["name"])
    return value


def parse_objections(text: str) -> list[dict[str, str]]:
    """Objection handling as ``- objection: ... / answer: ...`` pairs."""
    value = _load_list("objections", text, "objection/answer pairs")
    for index, item in enumerate(value):
        if (not isinstance(item, dict) or set(item) != {"objection", "answer"}
                or not all(isinstance(v, str) and v for v in item.values())):
            raise SettingsError("objections",
                                f"item {index + 1}: needs exactly 'objection' and 'answer' texts")
    return value
