"""One CSV row to a contact record, or a RowError with the reason it is rejected."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from engine.store.models import PhoneType

from .mapping import ColumnPlan
from .phones import PhoneError, PhoneNormalizer, parse_phone_type

# Column limits of engine.store.models.Contact; free field values get a generous cap.
MAX_LENGTHS = {"external_id": 120, "name": 255, "timezone": 64, "region": 120}
MAX_FREE_FIELD = 10_000
_TRUE = {"1", "true", "yes", "y", "да", "д", "+", "t"}
_FALSE = {"", "0", "false", "no", "n", "нет", "н", "-", "f"}


class RowError(ValueError):
    """Why a row is rejected (names the column where one is to blame)."""


class ContactRecord(NamedTuple):
    """A parsed row (a named tuple: it crosses from the parsing process cheaply)."""

    line: int  # line number of the row's first line in the file
    external_id: str
    name: str
    phones: tuple[tuple[str, str, int], ...]  # (E.164, phone type value, priority)
    timezone: str | None
    region: str | None
    consent: bool
    fields: dict[str, Any]


@lru_cache(maxsize=1024)
def valid_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def parse_consent(raw: str) -> bool:
    word = raw.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise RowError(f"consent: {raw!r} is not yes/no (1/0, true/false, да/нет)")


class RowParser:
    """Applies a column plan, phone normalization and field checks to raw rows."""

    def __init__(self, plan: ColumnPlan, normalizer: PhoneNormalizer) -> None:
        self.plan = plan
        self.normalizer = normalizer

    def parse(self, row: list[str], line: int) -> ContactRecord:
        plan = self.plan
        if len(row) != plan.width:
            raise RowError(f"row has {len(row)} fields, the header has {plan.width}")
        if "\x00" in "".join(row):
            position = next(index for index, value in enumerate(row) if "\x00" in value)
            raise RowError(f"column {self._header(position)!r} contains a NUL byte")
        values = {key: row[position].strip() for key, position in plan.scalars.items()}
        for key, limit in MAX_LENGTHS.items():
            if len(values.get(key, "")) > limit:
                raise RowError(f"{key}: longer than {limit} characters")
        external_id = values.get("external_id", "")
        if not external_id:
            raise RowError("external_id is empty")
        zone = values.get("timezone") or None
        if zone is not None and not valid_zone(zone):
            raise RowError(f"timezone: unknown time zone {zone!r} "
                           "(use an IANA name such as Europe/Moscow)")
        fields: dict[str, Any] = {}
        for name, position in plan.fields:
            value = row[position].strip()
            if len(value) > MAX_FREE_FIELD:
                raise RowError(f"{name}: longer than {MAX_FREE_FIELD} characters")
            if value:
                fields[name] = value
        return ContactRecord(
            line=line, external_id=external_id, name=values.get("name", ""),
            phones=self._phones(row), timezone=zone, region=values.get("region") or None,
            consent=parse_consent(values.get("consent", "")), fields=fields,
        )

    def _phones(self, row: list[str]) -> tuple[tuple[str, str, int], ...]:
        phones: dict[str, tuple[str, str, int]] = {}
        for number_col, type_col in self.plan.phones:
            raw = row[number_col].strip()
            if not raw:
                continue
            try:
                phone = self.normalizer.normalize(raw)
            except PhoneError as exc:
                raise RowError(f"{self._header(number_col)}: {exc}") from None
            try:
                given = parse_phone_type(row[type_col]) if type_col is not None else None
            except PhoneError as exc:
                raise RowError(f"{self._header(type_col)}: {exc}") from None
            if phone.number not in phones:  # the same number twice: the first one counts
                kind = given or (PhoneType.MOBILE if phone.mobile else PhoneType.OTHER)
                phones[phone.number] = (phone.number, kind.value, len(phones))
        if not phones:
            raise RowError("no phone number")
        return tuple(phones.values())

    def _header(self, position: int) -> str:
        return self.plan.headers[position]
