"""pipectl's JSON form of a deal's fields, both ways, and the proof that it reads back the same.

JSON has no dates: they are written as ISO text. Text that reads like an ISO date (`'2026-01-01'`
quoted in YAML) is named in the item's `text_paths`, so import keeps it text. Whatever else JSON
cannot tell apart (a number key from a text key, `.inf` from the text `inf`, a timestamp) is
found by `exact` and refused by export. Pure: no files, no printing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from typing import Any

from pipectl.jsonout import plain
from pipectl.transfer.mapping import ISO_DATE_RE

Path = tuple[str | int, ...]


def text_paths(fields: Any, at: Path = ()) -> Iterator[Path]:
    """Where the fields hold text that JSON import would read back as a date."""
    if isinstance(fields, str):
        if ISO_DATE_RE.match(fields):
            yield at
    elif isinstance(fields, dict):
        for key, value in fields.items():
            yield from text_paths(value, (*at, str(key)))
    elif isinstance(fields, list):
        for i, value in enumerate(fields):
            yield from text_paths(value, (*at, i))


def to_json(fields: Mapping[str, Any]) -> tuple[Any, list[list[str | int]]]:
    """The fields as JSON data and the paths of their date-like text."""
    return plain(fields), [list(p) for p in text_paths(fields)]


def revive(value: Any, texts: set[Path] | frozenset[Path] = frozenset(), at: Path = ()) -> Any:
    """Dates come back from JSON's ISO strings, as YAML would have read them, except the text
    `texts` names."""
    if isinstance(value, str) and at not in texts and ISO_DATE_RE.match(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, list):
        return [revive(v, texts, (*at, i)) for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {k: revive(v, texts, (*at, k)) for k, v in value.items()}
    return value


def read_paths(raw: Any) -> set[Path]:
    """An item's `text_paths` (a list of lists of keys and indexes); ValueError if malformed."""
    if raw is None:
        return set()
    ok = isinstance(raw, list) and all(
        isinstance(p, list) and all(isinstance(k, str | int) for k in p) for p in raw
    )
    if not ok:
        raise ValueError("text_paths must be a list of paths, each a list of keys and indexes")
    return {tuple(p) for p in raw}


def exact(a: Any, b: Any) -> bool:
    """The same YAML values: same types (1 is not 1.0 nor true, a date is not text), same keys
    in the same order."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(exact(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(exact(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and a != a:
        return b != b  # NaN: never equal to itself
    return bool(a == b)


def first_difference(a: Any, b: Any, at: Path = ()) -> Path:
    """Where two values first differ (for a message naming the field)."""
    if isinstance(a, dict) and isinstance(b, dict) and list(map(str, a)) == list(b):
        for k, key in zip(a, b, strict=True):
            if not exact(a[k], b[key]) or type(k) is not type(key):
                return first_difference(a[k], b[key], (*at, str(k)))
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            if not exact(x, y):
                return first_difference(x, y, (*at, i))
    return at
