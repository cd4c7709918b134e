"""Field values as the user types them: `key=value` words (`set`, `add --set`), each value
read as its field's type reads a word, the key checked as one YAML writes plainly, a date
field's word parsed as a date.

Separate from ops.py (the operations that write) so both `add` and `set` read a typed value
the same way; nothing here writes or prints.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pipectl import schema, yamlio
from pipectl.dates import parse_date
from pipectl.errors import UsageError
from pipectl.fieldtypes import DATE_FIELDS
from pipectl.store import Pipeline


def assigned(
    pipeline: Pipeline, assignments: Sequence[str], shown: Path | None = None
) -> dict[str, Any]:
    """`key=value` words as the values they stand for (`set`, `add --set`): each read as
    its field's type reads a word (schema.cli_value); a date field's word must be a date
    (a refusal names `shown`, the deal's file, when given)."""
    rules = schema.for_config(pipeline.config)
    changes: dict[str, Any] = {}
    for word in assignments:
        key, eq, raw = word.partition("=")
        key = key.strip()
        if not eq or not key:
            raise UsageError(f"expected key=value, got {word!r}")
        value = rules.cli_value(check_key(key), raw, parse_cli_value(raw))
        changes[key] = check_field(pipeline, key, value, shown)
    return changes


_KEY_RE = re.compile(r"[^\W](?:[\w -]*[\w-])?")
_RESERVED = {"stage": "use `pipectl move` to change the stage", "id": "the id is the file name"}


def check_key(key: str) -> str:
    """`key` if it is one `set` may write (`name` or `section.name`, plain YAML, not the
    stage, the id or the touchpoints); a UsageError saying why not otherwise."""
    if key in _RESERVED:
        raise UsageError(f"cannot set {key!r}: {_RESERVED[key]}")
    parts = key.split(".")
    if len(parts) > 2 or not all(parts):
        raise UsageError(f"bad key {key!r}: use `name` or `section.name`")
    for part in parts:  # a key YAML writes plainly: a tab or a colon would lock the deal
        if not _KEY_RE.fullmatch(part):
            raise UsageError(
                f"bad key {key!r}: a key is letters, digits, '_', '-' and inner spaces"
            )
    if key == "touchpoints":
        raise UsageError("touchpoints are added with `pipectl log`")
    return key


def parse_cli_value(raw: str) -> Any:
    """A value typed on the command line: numbers, dates and lists as YAML reads them.

    YAML 1.1 booleans such as yes/no/on stay words, as the user typed them.
    """
    if raw == "":
        return ""
    try:
        value = yamlio.load(raw)
    except yamlio.YAMLError:
        return raw
    if isinstance(value, bool) and raw.strip().lower() not in ("true", "false"):
        return raw
    if isinstance(value, dict) and raw.lstrip().startswith("{"):
        return value  # a flow mapping, typed as such: {a: 1}
    if isinstance(value, dict | str) or value is None:
        return raw  # text stays as typed: YAML would fold its lines and trim its spaces
    numeric = isinstance(value, int | float) and not isinstance(value, bool)
    if numeric and not _NUMBER_RE.fullmatch(raw.strip()):
        return raw  # 12:30, 017, 0x1F, 1_000: YAML 1.1 numbers that nobody types as such
    return value


_NUMBER_RE = re.compile(r"[-+]?(?:(?:0|[1-9][0-9]*)(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")


def check_field(pipeline: Pipeline, key: str, value: Any, shown: Path | None = None) -> Any:
    """A date typed for a date field, as a date (its own message, naming the file `shown`,
    when it is none); every other value is checked against the schema where it is written
    (`Change`)."""
    if key in DATE_FIELDS or pipeline_date_field(pipeline, key):
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value
        try:
            return parse_date(str(value), key)
        except UsageError as exc:
            raise UsageError(exc.message, shown) from None
    return value


def pipeline_date_field(pipeline: Pipeline, key: str) -> bool:
    decl = schema.for_config(pipeline.config).fields.get(key)
    return decl is not None and decl.type == "date"
