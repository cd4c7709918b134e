"""The rows of an import's source, checked one by one: a CSV through its mapping, or JSON.

Each row becomes an Incoming deal or a RowError with its line; nothing here reads the deals
already in the pipeline, writes a file or prints.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipectl import dates
from pipectl.deal import is_valid_id, slugify
from pipectl.dealedit import scalar
from pipectl.errors import UsageError
from pipectl.fieldtypes import DATE_FIELDS, FieldDecl
from pipectl.store import Pipeline
from pipectl.transfer.mapping import (
    ISO_DATE_RE,
    SPECIAL_FIELDS,
    TEXT_FIELDS,
    ColumnMapping,
    build,
    convert,
    load_mapping,
    parse_assignment,
)
from pipectl.transfer.options import STEP, Options, Progress


@dataclass(frozen=True)
class RowError:
    """Why one row of the source cannot be imported; `line` is the file's own line number."""

    line: int
    message: str


@dataclass
class Incoming:
    """One valid row: the deal it describes, its frontmatter values and its Markdown body."""

    line: int
    id: str
    stage: str
    fields: dict[str, Any]  # CSV: flat, `section.key` for nested; JSON: as exported
    body: str | None = None
    implied: dict[str, Any] = field(default_factory=dict)  # used only for new or moved deals
    keep_order: bool = False  # JSON keeps its key order; CSV rows get pipectl's
    text: str = ""  # a new deal's file text, made while checking
    frontmatter: dict[str, Any] = field(default_factory=dict)  # what `text` reads back as


# --- rows from a CSV file -------------------------------------------------------------------


def csv_rows(
    pipeline: Pipeline, source: Path, options: Options, report: Progress
) -> tuple[list[Incoming], list[RowError]]:
    from pipectl.transfer.csvread import read_csv

    shown = pipeline.display(source)
    header, records = read_csv(source, options.encoding, options.delimiter, shown)
    data = load_mapping(options.mapping_file) if options.mapping_file else None
    mapping = build(data, options.maps, options.stage_maps, options.date_format, header)
    mapping.check_columns(header, shown)
    stage_of = _stage_resolver(pipeline, mapping.stages)
    declared = {d.name: d for d in pipeline.config.fields}
    rows: list[Incoming] = []
    errors: list[RowError] = []
    total = len(records)
    for i, (line, cells) in enumerate(records, 1):
        if isinstance(cells, str):
            errors.append(RowError(line, cells))
            continue
        try:
            rows.append(_row(line, cells, mapping, stage_of, pipeline, declared))
        except ValueError as exc:
            errors.append(RowError(line, str(exc)))
        if i % STEP == 0:
            report("checking", i, total)
    return rows, errors


def _row(
    line: int,
    cells: Mapping[str, str],
    mapping: ColumnMapping,
    stage_of: Callable[[str | None], str],
    pipeline: Pipeline,
    declared: Mapping[str, FieldDecl],
) -> Incoming:
    values: dict[str, Any] = {}
    special: dict[str, str] = {}
    for key, src in mapping.fields:
        raw = src.value(cells)
        if raw is None and key == "body":
            raw = ""  # a mapped body column that is empty means notes that are empty
        if raw is None:
            continue  # an empty cell stays absent: lint reports what is missing
        if key in SPECIAL_FIELDS:
            special[key] = raw
            continue
        try:
            values[key] = convert(key, raw, mapping.dates, declared.get(key))
        except ValueError as exc:
            raise ValueError(f"{src.label}: {exc}") from None
    stage = stage_of(special.get("stage"))
    deal_id = _deal_id(special.get("id"), values.get("title"))
    row = Incoming(line, deal_id, stage, values, special.get("body"))
    target = pipeline.config.stage(stage)
    # no column for `created` at all (not an empty cell): like `add`, the deal came into the
    # pipeline on the day it was imported, or on the first date the row knows when that is
    # earlier (a deal closed in January was open by then); a missing close date is not invented
    if mapping.source("created") is None:
        known = [d for d in (values.get(k) for k in DATE_FIELDS) if isinstance(d, dt.date)]
        row.implied["created"] = min([dates.today(), *known])
    if (
        target is not None
        and target.closed
        and "closed" in values
        and mapping.source("stage_entered") is None
    ):
        row.implied["stage_entered"] = values["closed"]  # a deal enters won/lost when it closes
    return row


def _deal_id(raw: str | None, title: Any) -> str:
    if raw is not None:
        deal_id = slugify(raw)
        if not deal_id or not is_valid_id(deal_id):
            raise ValueError(f"cannot make an id from {raw.strip()!r}")
        return deal_id
    if title is None:
        raise ValueError("no id and no title to make one from")
    deal_id = slugify(str(title))
    if not deal_id:
        raise ValueError(f"cannot make an id from the title {title!r}; map an id column")
    return deal_id


def _stage_resolver(
    pipeline: Pipeline, stage_map: Mapping[str, str]
) -> Callable[[str | None], str]:
    names = pipeline.config.stage_names
    for value, stage in stage_map.items():
        if stage not in names:
            raise UsageError(
                f"--stage-map {value}={stage}: no stage {stage!r} ({', '.join(names)})"
            )
    exact = dict(stage_map)
    folded = {k.strip().casefold(): v for k, v in stage_map.items()}
    folded.update({n.casefold(): n for n in names if n.casefold() not in folded})

    def stage_of(raw: str | None) -> str:
        if raw is None:
            return names[0]
        found = exact.get(raw) or folded.get(raw.strip().casefold())
        if found is None:
            value = raw.strip()
            raise ValueError(
                f"unknown stage {value!r} (map it with --stage-map '{value}=STAGE'; "
                f"stages: {', '.join(names)})"
            )
        return found

    return stage_of


# --- rows from pipectl's JSON export --------------------------------------------------------


def json_rows(
    pipeline: Pipeline, source: Path, options: Options, report: Progress
) -> tuple[list[Incoming], list[RowError]]:
    import json

    try:
        data = json.loads(source.read_bytes().decode("utf-8-sig"))
    except OSError as exc:
        raise UsageError(f"cannot read: {exc.strerror}", pipeline.display(source)) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        line = getattr(exc, "lineno", None)
        raise UsageError(f"not JSON: {exc}", pipeline.display(source), line) from None
    except RecursionError:
        shown = pipeline.display(source)
        raise UsageError("not JSON pipectl reads: nested too deeply", shown) from None
    except ValueError as exc:  # an integer of more digits than Python converts (4,300)
        problem = " ".join(str(exc).split(";")[0].split())
        raise UsageError(f"not JSON pipectl reads: {problem}", pipeline.display(source)) from None
    if not isinstance(data, list):
        raise UsageError("expected a list of deals, as `pipectl export --format json` writes")
    stage_map = dict(parse_assignment(w, "--stage-map") for w in options.stage_maps)
    stage_of = _stage_resolver(pipeline, stage_map)
    rows: list[Incoming] = []
    errors: list[RowError] = []
    for i, item in enumerate(data, 1):
        try:
            rows.append(_json_row(i, item, stage_of))
        except ValueError as exc:
            errors.append(RowError(i, str(exc)))
        if i % STEP == 0:
            report("checking", i, len(data))
    return rows, errors


def _json_row(index: int, item: Any, stage_of: Callable[[str | None], str]) -> Incoming:
    if not isinstance(item, dict) or not isinstance(item.get("fields", {}), dict):
        raise ValueError('expected {"id": …, "stage": …, "fields": {…}}')
    fields = {}
    for key, value in item.get("fields", {}).items():
        if not isinstance(key, str) or scalar(key) != key:
            raise ValueError(f"field name {key!r} cannot be written as a plain YAML key")
        fields[key] = value if key in TEXT_FIELDS else _revive(value)
    title = fields.get("title")
    raw_id = item.get("id")
    deal_id = _deal_id(None if raw_id is None else str(raw_id), title)
    stage_raw = item.get("stage")
    body = item.get("body")
    if body is not None and not isinstance(body, str):
        raise ValueError("body must be text")
    stage = stage_of(None if stage_raw is None else str(stage_raw))
    return Incoming(index, deal_id, stage, fields, body, keep_order=True)


def _revive(value: Any) -> Any:
    """Dates come back from JSON's ISO strings, as YAML would have read them."""
    if isinstance(value, str) and ISO_DATE_RE.match(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, list):
        return [_revive(v) for v in value]
    if isinstance(value, dict):
        return {k: _revive(v) for k, v in value.items()}
    return value


def unique(rows: list[Incoming], unit: str) -> tuple[list[Incoming], list[RowError]]:
    """Rows that name the same deal are all invalid: which one is right cannot be known."""
    first: dict[str, int] = {}
    lines: dict[str, list[int]] = {}
    for row in rows:
        first.setdefault(row.id, row.line)
        lines.setdefault(row.id, []).append(row.line)
    errors = []
    ok = []
    for row in rows:
        others = [n for n in lines[row.id] if n != row.line]
        if others:
            also = ", ".join(str(n) for n in others)
            errors.append(RowError(row.line, f"id {row.id!r} is also on {unit} {also}"))
        else:
            ok.append(row)
    return ok, errors
