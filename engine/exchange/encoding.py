"""Which text encoding a CSV file uses, decided strictly: UTF-8 (with or without BOM), else CP1251.

The whole file is checked as a stream (never read into memory at once). charset-normalizer is
only consulted as a guard: a file that is not UTF-8 and that it confidently names as another
Cyrillic code page (KOI8-R, CP866, ...) is refused instead of being imported as gibberish.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from pathlib import Path

from charset_normalizer import from_bytes

CHUNK_BYTES = 1 << 20
GUARD_SAMPLE_BYTES = 256 << 10
# Code pages that decode the same bytes as CP1251 does but mean other letters.
_OTHER_CYRILLIC = {"koi8_r", "koi8_u", "cp866", "cp1125", "cp855", "iso8859_5", "mac_cyrillic"}
SUPPORTED = ("utf-8", "utf-8-sig", "cp1251")


class EncodingError(ValueError):
    """The file is in no supported encoding; the message names the file and the evidence."""


@dataclass(frozen=True)
class EncodingChoice:
    name: str  # a Python codec name from SUPPORTED
    reason: str  # why it was chosen, for the import report


def detect_encoding(path: str | Path, declared: str | None = None) -> EncodingChoice:
    """Choose the file's encoding: UTF-8 BOM, else strict UTF-8, else strict CP1251.

    With ``declared`` (from the mapping file) the file is only checked to decode strictly.
    """
    with open(path, "rb") as handle:
        head = handle.read(4)
        if declared is not None:
            if declared.startswith("utf-8") and head.startswith(codecs.BOM_UTF8):
                declared = "utf-8-sig"
            handle.seek(0)
            error = _first_decode_error(handle, declared)
            if error is not None:
                raise EncodingError(f"{path}: not valid {declared} as the mapping says ({error})")
            return EncodingChoice(declared, "named in the mapping file")
        if head.startswith(codecs.BOM_UTF8):
            return EncodingChoice("utf-8-sig", "UTF-8 byte order mark")
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            raise EncodingError(f"{path}: UTF-16 is not supported; "
                                "save the file as UTF-8 or CP1251")
        handle.seek(0)
        utf8_error = _first_decode_error(handle, "utf-8")
        if utf8_error is None:
            return EncodingChoice("utf-8", "valid UTF-8")
        handle.seek(0)
        cp1251_error = _first_decode_error(handle, "cp1251")
        handle.seek(0)
        sample = handle.read(GUARD_SAMPLE_BYTES)
    guess = _guess(sample)
    if cp1251_error is not None:
        hint = f"; it looks like {guess}" if guess else ""
        raise EncodingError(
            f"{path}: neither UTF-8 ({utf8_error}) nor CP1251 ({cp1251_error}){hint}"
        )
    if guess in _OTHER_CYRILLIC:
        raise EncodingError(
            f"{path}: not UTF-8 ({utf8_error}) and it looks like {guess}, not CP1251; "
            "convert it to UTF-8 or name the encoding in the mapping file"
        )
    return EncodingChoice("cp1251", f"not UTF-8 ({utf8_error}); valid CP1251")


def check_encoding_name(name: str) -> str:
    """The canonical codec name for a supported encoding given by a user, else ValueError."""
    try:
        canonical = codecs.lookup(name).name
    except LookupError as exc:
        raise ValueError(f"unknown encoding {name!r}") from exc
    if canonical not in SUPPORTED:
        raise ValueError(f"encoding {name!r} is not one of {', '.join(SUPPORTED)}")
    return canonical


def _first_decode_error(handle, encoding: str) -> str | None:  # type: ignore[no-untyped-def]
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    offset = 0
    while True:
        chunk = handle.read(CHUNK_BYTES)
        try:
            decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError as exc:
            return f"byte 0x{exc.object[exc.start]:02x} near offset {offset + exc.start}"
        if not chunk:
            return None
        offset += len(chunk)


def _guess(sample: bytes) -> str | None:
    """charset-normalizer's best guess for a sample, unless CP1251 is among its candidates."""
    matches = from_bytes(sample)
    best = matches.best()
    if best is None or any(match.encoding == "cp1251" for match in matches):
        return None
    return best.encoding
