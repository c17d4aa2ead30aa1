"""Which delimiter a CSV file uses: comma, semicolon or tab, judged from its first lines."""

from __future__ import annotations

import csv
import io

DELIMITERS = (",", ";", "\t")
SAMPLE_LINES = 50


def delimiter_name(delimiter: str) -> str:
    return {"\t": "tab", ",": "comma", ";": "semicolon"}.get(delimiter, repr(delimiter))


def sniff_delimiter(sample: str) -> str:
    """The candidate giving the widest header and the most rows of that same width.

    ``sample`` is the start of the file (its last, maybe cut, line is ignored). A file with a
    single column has no delimiter in it and gets the comma. Ties go to the earlier candidate.
    """
    lines = sample.splitlines(keepends=True)
    if len(lines) > 1 and not lines[-1].endswith(("\n", "\r")):
        lines = lines[:-1]
    text = "".join(lines[:SAMPLE_LINES])
    best, best_score = ",", (1, 0)
    for candidate in DELIMITERS:
        try:
            rows = [row for row in csv.reader(io.StringIO(text), delimiter=candidate) if row]
        except csv.Error:
            continue
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        score = (width, sum(1 for row in rows[1:] if len(row) == width))
        if score > best_score:
            best, best_score = candidate, score
    return best


def check_delimiter(value: str) -> str:
    """A delimiter given by a user ("tab" allowed), else ValueError."""
    delimiter = "\t" if value.lower() == "tab" else value
    if delimiter not in DELIMITERS:
        raise ValueError(f"delimiter {value!r} is not one of ',', ';', 'tab'")
    return delimiter
