"""`pipectl export`: every deal with its stage, fields and notes, as CSV or JSON text.

CSV flattens what a spreadsheet cannot hold (touchpoints become a count and a last date);
JSON keeps everything, so `pipectl import` of either gives the same deals back. A deal that
could not come back the same (a key import cannot read, a value JSON cannot tell apart) is
left out and named, never exported changed. Never prints.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pipectl.deal import Deal, parse_yaml
from pipectl.dealedit import flow, scalar
from pipectl.errors import DealError, UsageError
from pipectl.fieldtypes import CONTACT_KEYS
from pipectl.jsonout import dumps
from pipectl.store import Pipeline
from pipectl.transfer.csvread import defuse
from pipectl.transfer.jsonform import exact, first_difference, revive, to_json
from pipectl.transfer.mapping import DERIVED_COLUMNS, FIELD_ORDER, KEY_RE
from pipectl.yamltext import key_lines

FORMATS = ("csv", "json")


@dataclass(frozen=True)
class Export:
    """The exported text, how many deals it holds, and the files that could not be read."""

    text: str
    count: int
    errors: tuple[DealError, ...]


@dataclass(frozen=True)
class _Item:
    deal: Deal
    body: str


def export(
    pipeline: Pipeline, fmt: str, stages: Sequence[str] | None = None, safe_csv: bool = False
) -> Export:
    """Every deal of the given (default: all) stages in pipeline order, as CSV or JSON;
    `safe_csv`: a cell a spreadsheet would run as a formula written after a `'` (import
    drops it again)."""
    if fmt not in FORMATS:
        raise UsageError(f"--format {fmt!r}: use one of {', '.join(FORMATS)}")
    for stage in stages or ():
        pipeline.require_stage(stage)
    items: list[_Item] = []
    errors: list[DealError] = []
    for ref in pipeline.deal_refs(stages):
        shown = pipeline.display(ref.path)
        try:
            text = pipeline.read_text(ref)
            fields = parse_yaml(text, shown)
        except DealError as exc:
            errors.append(exc)
            continue
        deal = Deal(ref.id, ref.stage, ref.path, fields, key_lines(text.yaml, text.yaml_first_line))
        why = _keys_refused(deal, fmt) or (_not_json(deal) if fmt == "json" else None)
        if why is not None:
            key, message = why
            errors.append(DealError(message, shown, _line(deal, key)))
            continue
        items.append(_Item(deal, text.body))
    out = _json(pipeline, items) if fmt == "json" else _csv(pipeline, items, safe_csv)
    return Export(out, len(items), tuple(errors))


# Column names the CSV export writes itself, or that import does not read as fields
_RESERVED_COLUMNS = ("id", "stage", "body", *DERIVED_COLUMNS)


def _keys_refused(deal: Deal, fmt: str) -> tuple[str, str] | None:
    """(key, why) for the first field name that import would not read back as that name."""
    for key in deal.fields:
        shown = str(key)
        if not isinstance(key, str):
            kind = "a date" if isinstance(key, dt.date) else type(key).__name__
            return shown, (
                f"key {key!r} is {kind}, not text: it cannot be exported so that import "
                f"reads it back (write it as text, '{key}')"
            )
        if fmt == "json" and scalar(key) != key:
            return key, f"key {key!r} cannot be imported back: use a plain name (letters first)"
        if fmt == "csv" and key != "touchpoints":
            if not KEY_RE.match(key) or "." in key or key in _RESERVED_COLUMNS:
                return key, (
                    f"key {key!r} cannot be a CSV column that import reads back as that field "
                    "(export --format json keeps it)"
                )
            value = deal.fields[key]
            if key == "contacts" and (why := _contacts_refused(value)) is not None:
                return key, why
            if key == "qualification" and isinstance(value, Mapping):
                for sub in value:
                    if not isinstance(sub, str) or not KEY_RE.match(f"{key}.{sub}"):
                        return key, (
                            f"qualification criterion {sub!r} cannot be a CSV column "
                            "(export --format json keeps it)"
                        )
    return None


def _contact_columns(value: Any) -> bool:
    """Whether a `contacts:` value is written as `contacts.N.PART` columns (a list of
    mappings); else it is one column of flow YAML, as any other list."""
    return isinstance(value, list) and bool(value) and all(isinstance(c, Mapping) for c in value)


def _contacts_refused(value: Any) -> str | None:
    """Why a list of contacts cannot be CSV columns that import reads back the same: an
    entry with parts import would put in another order, or that are not text as a cell
    gives it back (trimmed, on one line); None when it can."""
    if not _contact_columns(value):
        return None
    if len(value) > 99:
        return "more than 99 contacts cannot be CSV columns (export --format json keeps them)"
    for i, person in enumerate(value, 1):
        parts = [k for k in CONTACT_KEYS if k in person]
        texts = all(
            isinstance(v, str) and v and v == v.strip() and "\r" not in v for v in person.values()
        )
        if list(person) != parts or not parts or not texts:
            return (
                f"contact {i} cannot be CSV columns that import reads back the same (parts "
                f"{', '.join(CONTACT_KEYS)} in this order, each text): export --format json "
                "keeps it"
            )
    return None


def _line(deal: Deal, key: str) -> int:
    """The line of a key, also one YAML reads as a number, date or boolean (`True`, `true`)."""
    if key in deal.lines:
        return deal.line_of(key)
    return next((n for k, n in deal.lines.items() if k.lower() == key.lower()), 1)


def _not_json(deal: Deal) -> tuple[str, str] | None:
    """(key, why) when the JSON form of the deal's fields would not read back the same."""
    data, texts = to_json(deal.fields)
    back = revive(data, {tuple(p) for p in texts})
    if exact(back, deal.fields):
        return None
    where = first_difference(deal.fields, back)
    key = str(where[0]) if where else ""
    field = ".".join(str(k) for k in where) or "its fields"
    return key, (
        f"{field} cannot be exported as JSON so that import reads it back the same "
        "(JSON has no such value: a number or date as a key, .inf or .nan, a timestamp, "
        "binary data...)"
    )


def _json(pipeline: Pipeline, items: Sequence[_Item]) -> str:
    data = []
    for i in items:
        fields, texts = to_json(dict(i.deal.fields))
        item: dict[str, Any] = {"id": i.deal.id, "stage": i.deal.stage, "fields": fields}
        if texts:  # text that reads like a date: import keeps it text
            item["text_paths"] = texts
        item["body"] = i.body
        data.append(item)
    return dumps(data) + "\n"


def columns(pipeline: Pipeline, deals: Sequence[Deal]) -> list[str]:
    """id and stage, pipectl's fields in their usual order, then the user's, then derived ones.

    Only columns some deal has a value for; `qualification` becomes one column per criterion.
    """
    present: dict[str, None] = {}
    for deal in deals:
        for key, value in deal.fields.items():
            if key == "touchpoints":
                continue
            if isinstance(value, Mapping) and key == "qualification":
                for sub in value:
                    present[f"{key}.{sub}"] = None
            elif key == "contacts" and _contact_columns(value):
                for n, person in enumerate(value, 1):
                    for part in person:
                        present[f"contacts.{n}.{part}"] = None
            else:
                present[str(key)] = None
    order = {k: i for i, k in enumerate(FIELD_ORDER)}
    criteria = {
        f"qualification.{c}": i for i, c in enumerate(pipeline.config.qualification_criteria)
    }

    parts = {p: i for i, p in enumerate(CONTACT_KEYS)}

    def rank(key: str) -> tuple[int, int]:
        if key.startswith("qualification."):
            return order["qualification"], criteria.get(key, len(criteria))
        if key.startswith("contacts."):
            _, n, part = key.split(".")
            return order["contacts"], int(n) * len(parts) + parts.get(part, 0)
        return order.get(key, len(order)), 0

    # `created` always: an import with no such column dates every new deal today
    present.setdefault("created", None)
    keys = sorted(present, key=rank)  # stable: the user's keys keep first-seen order
    return ["id", "stage", *keys, "touchpoint_count", "last_touch", "body"]


def _csv(pipeline: Pipeline, items: Sequence[_Item], safe: bool) -> str:
    import csv
    import io

    header = columns(pipeline, [i.deal for i in items])
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    # a lone carriage return is no line end to the writer: left unquoted, the reader would end
    # the row there; such rows are written with every cell quoted
    quoted = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)
    writer.writerow(header)
    for item in items:
        deal = item.deal
        row = []
        for col in header:
            if col == "id":
                row.append(deal.id)
            elif col == "stage":
                row.append(deal.stage)
            elif col == "touchpoint_count":
                row.append(str(_count(deal)))
            elif col == "last_touch":
                row.append(_cell(deal.last_touch))
            elif col == "body":
                row.append(item.body)
            else:
                parent, _, child = col.partition(".")
                value = deal.fields.get(parent)
                if parent == "contacts" and child:  # contacts.N.PART
                    n, _, part = child.partition(".")
                    people = value if isinstance(value, list) and _contact_columns(value) else []
                    value = people[int(n) - 1].get(part) if len(people) >= int(n) else None
                elif child:
                    value = value.get(child) if isinstance(value, Mapping) else None
                row.append(_cell(value, tags=col == "tags"))
        row = [defuse(cell, safe) for cell in row]
        (quoted if any("\r" in cell for cell in row) else writer).writerow(row)
    return out.getvalue()


def _count(deal: Deal) -> int:
    raw = deal.fields.get("touchpoints")
    return len(raw) if isinstance(raw, list) else 0


def _cell(value: Any, tags: bool = False) -> str:
    """A value as a spreadsheet cell that `pipectl import` reads back as the same value."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and math.isfinite(value):
        return _positional(value)
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list) and tags and all(_plain_tag(v) for v in value):
        return ", ".join(str(v) for v in value)
    if isinstance(value, list | Mapping):
        return flow(value)
    return str(value)


def _plain_tag(value: Any) -> bool:
    return isinstance(value, str) and not any(c in value for c in ",;[]") and value == value.strip()


def _positional(value: float) -> str:
    """A float without an exponent (`1e-05` would come back as text), and with a point (a
    whole float must not come back an int): the shortest digits that read back the same."""
    from decimal import Decimal

    text = format(Decimal(repr(value)), "f")
    return text if "." in text else f"{text}.0"
