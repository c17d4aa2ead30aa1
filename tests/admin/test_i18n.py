"""Translations: Russian is complete and its compiled catalog matches the source."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

import admin

TRANSLATIONS = Path(admin.__file__).parent / "translations"


def _catalog(locale: str):  # type: ignore[no-untyped-def]
    with open(TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po", "rb") as handle:
        return read_po(handle)


def test_russian_catalog_is_complete():
    untranslated = [m.id for m in _catalog("ru") if m.id and (not m.string or m.fuzzy)]
    assert untranslated == []


def test_compiled_catalogs_match_their_sources():
    for locale in ("ru", "en"):
        with open(TRANSLATIONS / locale / "LC_MESSAGES" / "messages.mo", "rb") as handle:
            compiled = {m.id: m.string for m in read_mo(handle) if m.id}
        source = {m.id: m.string for m in _catalog(locale) if m.id and m.string and not m.fuzzy}
        assert compiled == source, f"{locale}: run pybabel compile -d admin/translations"


def test_every_message_in_the_code_is_in_the_catalog():
    """Extract the messages as pybabel does (admin/babel.cfg) and look them up."""
    keywords = {**DEFAULT_KEYWORDS, "lazy_gettext": None, "_l": None}
    found = extract_from_dir(Path(admin.__file__).parent,
                             [("templates/**.html", "jinja2"), ("**.py", "python")],
                             keywords=keywords)
    extracted = {message for _file, _line, message, _comments, _ctx in found}
    extracted = {m if isinstance(m, str) else m[0] for m in extracted}
    in_catalog = {m.id for m in _catalog("ru") if m.id}
    assert extracted - in_catalog == set(), "run pybabel extract + update (docs/admin.md)"
