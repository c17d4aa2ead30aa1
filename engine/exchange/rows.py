"""One CSV row to a contact record, or a RowError with the reason it is rejected."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from json.encoder import encode_basestring
from typing import NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from engine.store.models import PhoneType

from .mapping import SCALAR_FIELDS, ColumnPlan
from .phones import PhoneError, PhoneNormalizer, parse_phone_type

# Column limits of engine.store.models.Contact; free field values get a generous cap.
MAX_LENGTHS = {"external_id": 120, "name": 255, "timezone": 64, "region": 120}
MAX_FREE_FIELD = 10_000
_TRUE = {"1", "true", "yes", "y", "да", "д", "+", "t"}
_FALSE = {"", "0", "false", "no", "n", "нет", "н", "-", "f"}
PhoneTuple = tuple[str, str, int]  # (E.164, phone type value, priority)


class RowError(ValueError):
    """Why a row is rejected (names the column where one is to blame)."""


class ContactRecord(NamedTuple):
    """A parsed row, in the column order of ``Records``."""

    line: int  # line number of the row's first line in the file
    external_id: str
    name: str
    phones: tuple[PhoneTuple, ...]
    timezone: str | None
    region: str | None
    consent: bool
    fields: str  # the free fields as a JSON object, e.g. '{"debt": "1500.00"}'


@dataclass
class Records:
    """A piece's parsed rows column by column: pickled between processes many times faster
    than one object per row. Index ``i`` of every column is one row."""

    lines: Sequence[int] = ()
    external_ids: Sequence[str] = ()
    names: Sequence[str] = ()
    phones: Sequence[tuple[PhoneTuple, ...]] = ()
    timezones: Sequence[str | None] = ()
    regions: Sequence[str | None] = ()
    consents: Sequence[bool] = ()
    fields: Sequence[str] = ()
    # Rows whose external id an earlier piece probably had (the writer confirms).
    suspects: list[int] = field(default_factory=list)

    @classmethod
    def of(cls, records: Sequence[ContactRecord], suspects: list[int]) -> Records:
        return cls(*zip(*records), suspects=suspects) if records else cls()

    def __len__(self) -> int:
        return len(self.lines)


def fields_json(fields: dict[str, str]) -> str:
    """``json.dumps(fields, ensure_ascii=False)``, the database layer's form (engine.store.db),
    several times faster for a flat object of strings."""
    quote = encode_basestring
    return "{" + ", ".join([f"{quote(key)}: {quote(value)}" for key, value in fields.items()]) + "}"


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


@lru_cache(maxsize=512)
def _type_value(raw: str) -> str | None:
    given = parse_phone_type(raw)
    return given.value if given is not None else None


_MOBILE, _OTHER = PhoneType.MOBILE.value, PhoneType.OTHER.value


class RowParser:
    """Applies a column plan, phone normalization and field checks to raw rows."""

    def __init__(self, plan: ColumnPlan, normalizer: PhoneNormalizer) -> None:
        self.plan = plan
        self.normalizer = normalizer
        # Column positions of external_id, name, timezone, region, consent (None: absent).
        self._positions = tuple(plan.scalars.get(key) for key in SCALAR_FIELDS)
        self._limits = tuple(MAX_LENGTHS.get(key) for key in SCALAR_FIELDS)

    def parse(self, row: list[str], line: int) -> ContactRecord:
        plan = self.plan
        if len(row) != plan.width:
            raise RowError(f"row has {len(row)} fields, the header has {plan.width}")
        joined = "".join(row)
        if "\x00" in joined:
            position = next(index for index, value in enumerate(row) if "\x00" in value)
            raise RowError(f"column {self._header(position)!r} contains a NUL byte")
        external_id, name, zone, region, consent = values = [
            "" if position is None else row[position].strip() for position in self._positions]
        for key, value, limit in zip(SCALAR_FIELDS, values, self._limits):
            if limit is not None and len(value) > limit:
                raise RowError(f"{key}: longer than {limit} characters")
        if not external_id:
            raise RowError("external_id is empty")
        if zone and not valid_zone(zone):
            raise RowError(f"timezone: unknown time zone {zone!r} "
                           "(use an IANA name such as Europe/Moscow)")
        fields = {name: value for name, position in plan.fields
                  if (value := row[position].strip())}
        if len(joined) > MAX_FREE_FIELD:  # else no value can be that long
            for key, value in fields.items():
                if len(value) > MAX_FREE_FIELD:
                    raise RowError(f"{key}: longer than {MAX_FREE_FIELD} characters")
        return ContactRecord(line, external_id, name, self._phones(row), zone or None,
                             region or None, parse_consent(consent),
                             fields_json(fields))

    def _phones(self, row: list[str]) -> tuple[PhoneTuple, ...]:
        phones: dict[str, PhoneTuple] = {}
        for number_col, type_col in self.plan.phones:
            raw = row[number_col].strip()
            if not raw:
                continue
            try:
                phone = self.normalizer.normalize(raw)
            except PhoneError as exc:
                raise RowError(f"{self._header(number_col)}: {exc}") from None
            try:
                given = _type_value(row[type_col]) if type_col is not None else None
            except PhoneError as exc:
                raise RowError(f"{self._header(type_col)}: {exc}") from None
            if phone.number not in phones:  # the same number twice: the first one counts
                kind = given or (_MOBILE if phone.mobile else _OTHER)
                phones[phone.number] = (phone.number, kind, len(phones))
        if not phones:
            raise RowError("no phone number")
        return tuple(phones.values())

    def _header(self, position: int) -> str:
        return self.plan.headers[position]
