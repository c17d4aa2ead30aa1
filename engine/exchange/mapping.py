"""The column mapping: which CSV header feeds which contact field (see docs/exchange.md).

A mapping file is YAML::

    columns:            # contact field -> CSV header
      external_id: "ID клиента"
      phone: "Телефон"
      phone2: "Телефон 2"
      phone2_type: "Тип телефона 2"
    fields:             # free field (stored in Contact.fields) -> CSV header
      debt: "Сумма долга"
    unmapped: ignore    # other headers: "ignore" (default with a file) or "fields"
    encoding: cp1251    # optional: skip detection (utf-8, utf-8-sig, cp1251)
    delimiter: ";"      # optional: skip sniffing (",", ";", "tab")

Contact fields left out of ``columns`` still come from headers with their default names.
Without a mapping file every header with a default name maps to its field and all other headers
become free fields.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .dialect import check_delimiter
from .encoding import check_encoding_name

SCALAR_FIELDS = ("external_id", "name", "timezone", "region", "consent")
_PHONE_KEY = re.compile(r"^phone(?P<n>[2-9]|[1-9]\d)?(?P<type>_type)?$")
_TOP_KEYS = {"columns", "fields", "unmapped", "encoding", "delimiter"}


class MappingError(ValueError):
    """A mapping file, or a header that does not fit it; the message names file and key."""


@dataclass(frozen=True)
class Mapping:
    columns: dict[str, str] = field(default_factory=dict)  # contact field -> header
    fields: dict[str, str] = field(default_factory=dict)  # free field -> header
    unmapped_to_fields: bool = True
    encoding: str | None = None
    delimiter: str | None = None
    source: str = "default names"


@dataclass(frozen=True)
class ColumnPlan:
    """Column indexes for each field of one file's header."""

    width: int
    headers: tuple[str, ...]
    scalars: dict[str, int]  # contact field -> column index (only those present)
    phones: tuple[tuple[int, int | None], ...]  # (number column, type column) in priority order
    fields: tuple[tuple[str, int], ...]  # free field name -> column index


def phone_slot(key: str) -> tuple[int, bool] | None:
    """For ``phone``, ``phone_type``, ``phone2``, ``phone2_type``...: (slot number, is type)."""
    match = _PHONE_KEY.match(key)
    if match is None:
        return None
    return int(match["n"] or 1), bool(match["type"])


def is_contact_field(key: str) -> bool:
    return key in SCALAR_FIELDS or phone_slot(key) is not None


def load_mapping(path: str | Path) -> Mapping:
    """Read and validate a mapping file."""
    try:
        with open(path, encoding="utf-8-sig") as handle:
            raw = yaml.safe_load(handle)
    except OSError as exc:
        raise MappingError(f"cannot read mapping file {path}: {exc.strerror}") from exc
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise MappingError(f"mapping file {path} is not valid UTF-8 YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise MappingError(f"mapping file {path}: the top level must be a mapping of keys")
    unknown = sorted(set(map(str, raw)) - _TOP_KEYS)
    if unknown:
        raise MappingError(f"mapping file {path}: unknown key {unknown[0]!r} "
                           f"(allowed: {', '.join(sorted(_TOP_KEYS))})")
    columns = _string_table(raw.get("columns"), path, "columns")
    for key in columns:
        if not is_contact_field(key):
            raise MappingError(
                f"mapping file {path}: columns.{key}: not a contact field (use one of "
                f"{', '.join(SCALAR_FIELDS)}, phone, phone_type, phone2, phone2_type, ...)"
            )
    fields = _string_table(raw.get("fields"), path, "fields")
    unmapped = raw.get("unmapped", "ignore")
    if unmapped not in ("ignore", "fields"):
        raise MappingError(f"mapping file {path}: unmapped: must be 'ignore' or 'fields'")
    return Mapping(
        columns=columns, fields=fields, unmapped_to_fields=unmapped == "fields",
        encoding=_checked(raw.get("encoding"), check_encoding_name, path, "encoding"),
        delimiter=_checked(raw.get("delimiter"), check_delimiter, path, "delimiter"),
        source=f"mapping file {path}",
    )


def plan_columns(mapping: Mapping, header: list[str], csv_path: str | Path) -> ColumnPlan:
    """Match the header against the mapping; MappingError before any row when columns miss."""
    headers = tuple(cell.strip() for cell in header)
    index: dict[str, int] = {}
    duplicates: set[str] = set()
    for position, name in enumerate(headers):
        if name:
            if name.casefold() in index:
                duplicates.add(name.casefold())
            index.setdefault(name.casefold(), position)

    used: dict[int, str] = {}

    def column(key: str, header_name: str, explicit: bool) -> int | None:
        folded = header_name.casefold()
        if folded not in index:
            if explicit:
                raise MappingError(f"{csv_path}: column {header_name!r} not found in the header "
                                   f"({mapping.source}: {key})")
            return None
        if folded in duplicates:
            raise MappingError(f"{csv_path}: header {header_name!r} appears more than once "
                               f"({mapping.source}: {key})")
        used[index[folded]] = key
        return index[folded]

    wanted = {key: (name, True) for key, name in mapping.columns.items()}
    for name in headers:
        if is_contact_field(name.casefold()) and name.casefold() not in wanted:
            wanted[name.casefold()] = (name, False)
    resolved = {key: column(f"columns.{key}", name, explicit)
                for key, (name, explicit) in wanted.items()}
    resolved = {key: position for key, position in resolved.items() if position is not None}
    if "external_id" not in resolved:
        raise MappingError(f"{csv_path}: required column external_id is missing "
                           f"({mapping.source}; header: {', '.join(headers)})")
    phones = _phone_columns(resolved, mapping, csv_path)
    free = [(name, column(f"fields.{name}", header_name, True))
            for name, header_name in mapping.fields.items()]
    if mapping.unmapped_to_fields:
        free += [(name, position) for position, name in enumerate(headers)
                 if name and position not in used and name.casefold() not in duplicates]
    return ColumnPlan(
        width=len(headers), headers=headers,
        scalars={key: resolved[key] for key in SCALAR_FIELDS if key in resolved},
        phones=phones, fields=tuple((name, position) for name, position in free
                                    if position is not None),
    )


def _phone_columns(resolved: dict[str, int], mapping: Mapping,
                   csv_path: str | Path) -> tuple[tuple[int, int | None], ...]:
    numbers: dict[int, int] = {}
    types: dict[int, int] = {}
    for key, position in resolved.items():
        slot = phone_slot(key)
        if slot is not None:
            (types if slot[1] else numbers)[slot[0]] = position
    orphans = sorted(set(types) - set(numbers))
    if orphans:
        slot = orphans[0]
        name = "phone" if slot == 1 else f"phone{slot}"
        raise MappingError(f"{csv_path}: there is a {name}_type column but no {name} column "
                           f"({mapping.source})")
    if not numbers:
        raise MappingError(f"{csv_path}: no phone column (phone, phone2, ...) "
                           f"({mapping.source})")
    return tuple((numbers[slot], types.get(slot)) for slot in sorted(numbers))


def _string_table(value: Any, path: str | Path, key: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise MappingError(f"mapping file {path}: {key}: must be a mapping of name: header")
    table: dict[str, str] = {}
    for name, header in value.items():
        if not isinstance(header, (str, int)) or not str(header).strip():
            raise MappingError(f"mapping file {path}: {key}.{name}: header must be a non-empty "
                               "string")
        table[str(name)] = str(header).strip()
    return table


def _checked(value: Any, check: Any, path: str | Path, key: str) -> str | None:
    if value is None:
        return None
    try:
        return check(str(value))
    except ValueError as exc:
        raise MappingError(f"mapping file {path}: {key}: {exc}") from exc
