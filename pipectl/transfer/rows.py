"""The rows of an import's source, checked one by one: a CSV through its mapping, or JSON.

Each row becomes an Incoming deal or a RowError with its line, as it is read (a CSV is never
held whole); nothing here reads the deals already in the pipeline, writes a file or prints.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipectl import dates
from pipectl.deal import is_valid_id, slugify
from pipectl.dealedit import scalar
from pipectl.errors import UsageError
from pipectl.fieldtypes import DATE_FIELDS, FieldDecl
from pipectl.store import Pipeline
from pipectl.transfer.entries import fold_entries
from pipectl.transfer.jsonform import read_paths, revive
from pipectl.transfer.mapping import (
    SPECIAL_FIELDS,
    TEXT_FIELDS,
    ColumnMapping,
    build,
    cell_currency,
    convert,
    load_mapping,
    parse_assignment,
)
from pipectl.transfer.options import Options


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
    pipeline: Pipeline, source: Path, options: Options
) -> Callable[[], Iterator[Incoming | RowError]]:
    """The file's header and mapping checked now; then each call reads its rows again, one
    at a time (an import checks them all, then reads them again to write)."""
    from pipectl.transfer.csvread import open_csv

    shown = pipeline.display(source)
    csv_file = open_csv(source, options.encoding, options.delimiter, shown, options.safe_csv)
    header = csv_file.header
    data = load_mapping(options.mapping_file) if options.mapping_file else None
    mapping = build(data, options.maps, options.stage_maps, options.date_format, header)
    mapping.check_columns(header, shown)
    stage_of = _stage_resolver(pipeline, mapping.stages)
    declared = {d.name: d for d in pipeline.config.fields}
    dot_groups = csv_file.delimiter == ";"

    def rows() -> Iterator[Incoming | RowError]:
        for line, cells in csv_file.records():
            if isinstance(cells, str):
                yield RowError(line, cells)
                continue
            try:
                yield _row(line, cells, mapping, stage_of, pipeline, declared, dot_groups)
            except ValueError as exc:
                yield RowError(line, str(exc))

    return rows


def _row(
    line: int,
    cells: Mapping[str, str],
    mapping: ColumnMapping,
    stage_of: Callable[[str | None], str],
    pipeline: Pipeline,
    declared: Mapping[str, FieldDecl],
    dot_groups: bool,
) -> Incoming:
    values: dict[str, Any] = {}
    special: dict[str, str] = {}
    for key, src in mapping.fields:
        raw = src.value(cells)
        if raw is None and key == "body":
            # notes of blanks only are notes as they are (export writes them so); a body
            # that is empty means notes that are empty
            raw = "" if len(src.options) > 1 else cells.get(src.options[0], "")
        if raw is None:
            continue  # an empty cell stays absent: lint reports what is missing
        if key in SPECIAL_FIELDS:
            special[key] = raw
            continue
        try:
            values[key] = convert(key, raw, mapping.dates, declared.get(key), dot_groups)
        except ValueError as exc:
            raise ValueError(f"{src.label}: {exc}") from None
    fold_entries(values)  # several contact (or line item) columns are one list
    _value_currency(values, mapping, cells, pipeline.config.currency)
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


def _value_currency(
    values: dict[str, Any], mapping: ColumnMapping, cells: Mapping[str, str], base: str
) -> None:
    """An amount that names its currency (`20,000 EUR`, `€20,000`) is in it: the deal's
    `currency` when no column gives one (the base currency adds nothing), refused when the
    currency column says another; totals convert it (docs/forecast.md)."""
    src = mapping.source("value")
    raw = None if src is None or "value" not in values else src.value(cells)
    code = None if raw is None else cell_currency(raw)
    if raw is None or code is None:
        return
    given = values.get("currency")
    if given is None:
        if code != base.strip().upper():
            values["currency"] = code
    elif str(given).strip().upper() != code:
        assert src is not None
        raise ValueError(f"{src.label}: {raw.strip()!r} is in {code}, its currency is {given}")


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
    pipeline: Pipeline, source: Path, options: Options
) -> Callable[[], Iterator[Incoming | RowError]]:
    """The file read and parsed now (JSON is one document: it is held whole); each call gives
    its items as rows."""
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

    def rows() -> Iterator[Incoming | RowError]:
        for i, item in enumerate(data, 1):
            try:
                yield _json_row(i, item, stage_of)
            except ValueError as exc:
                yield RowError(i, str(exc))

    return rows


def _json_row(index: int, item: Any, stage_of: Callable[[str | None], str]) -> Incoming:
    if not isinstance(item, dict) or not isinstance(item.get("fields", {}), dict):
        raise ValueError('expected {"id": …, "stage": …, "fields": {…}}')
    texts = read_paths(item.get("text_paths"))
    fields = {}
    for key, value in item.get("fields", {}).items():
        if not isinstance(key, str) or scalar(key) != key:
            raise ValueError(f"field name {key!r} cannot be written as a plain YAML key")
        fields[key] = value if key in TEXT_FIELDS else revive(value, texts, (key,))
    title = fields.get("title")
    raw_id = item.get("id")
    deal_id = _deal_id(None if raw_id is None else str(raw_id), title)
    stage_raw = item.get("stage")
    body = item.get("body")
    if body is not None and not isinstance(body, str):
        raise ValueError("body must be text")
    stage = stage_of(None if stage_raw is None else str(stage_raw))
    return Incoming(index, deal_id, stage, fields, body, keep_order=True)
