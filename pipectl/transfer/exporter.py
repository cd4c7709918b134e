"""`pipectl export`: every deal with its stage, fields and notes, as CSV or JSON text.

CSV flattens what a spreadsheet cannot hold (touchpoints become a count and a last date);
JSON keeps everything, so `pipectl import` of either gives the same deals back. Never prints.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pipectl.deal import Deal, parse_yaml
from pipectl.dealedit import flow
from pipectl.errors import DealError, UsageError
from pipectl.jsonout import dumps, plain
from pipectl.store import Pipeline
from pipectl.transfer.mapping import FIELD_ORDER
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


def export(pipeline: Pipeline, fmt: str, stages: Sequence[str] | None = None) -> Export:
    """Every deal of the given (default: all) stages in pipeline order, as CSV or JSON."""
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
        items.append(_Item(deal, text.body))
    out = _json(pipeline, items) if fmt == "json" else _csv(pipeline, items)
    return Export(out, len(items), tuple(errors))


def _json(pipeline: Pipeline, items: Sequence[_Item]) -> str:
    data = [
        {"id": i.deal.id, "stage": i.deal.stage, "fields": plain(i.deal.fields), "body": i.body}
        for i in items
    ]
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
            else:
                present[str(key)] = None
    order = {k: i for i, k in enumerate(FIELD_ORDER)}
    criteria = {
        f"qualification.{c}": i for i, c in enumerate(pipeline.config.qualification_criteria)
    }

    def rank(key: str) -> tuple[int, int]:
        if key.startswith("qualification."):
            return order["qualification"], criteria.get(key, len(criteria))
        return order.get(key, len(order)), 0

    keys = sorted(present, key=rank)  # stable: the user's keys keep first-seen order
    return ["id", "stage", *keys, "touchpoint_count", "last_touch", "body"]


def _csv(pipeline: Pipeline, items: Sequence[_Item]) -> str:
    import csv
    import io

    header = columns(pipeline, [i.deal for i in items])
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
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
                if child:
                    value = value.get(child) if isinstance(value, Mapping) else None
                row.append(_cell(value, tags=col == "tags"))
        writer.writerow(row)
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
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list) and tags and all(_plain_tag(v) for v in value):
        return ", ".join(str(v) for v in value)
    if isinstance(value, list | Mapping):
        return flow(value)
    return str(value)


def _plain_tag(value: Any) -> bool:
    return isinstance(value, str) and not any(c in value for c in ",;[]") and value == value.strip()
