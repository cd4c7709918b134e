"""`pipectl import`: rows of a CSV (or pipectl's own JSON export) become deal files, in one commit.

Every row is checked before anything is written, its resulting fields against the deal schema
too: a bad row stops the whole import (or, asked to, is skipped and listed), named by its own
line. Rows are read one at a time, twice (checked, then written): memory holds one row and a
few dozen bytes per row (its id, line and outcome), never the file. Existing deals change only
in their mapped fields. Never prints.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pipectl import schema
from pipectl.deal import DealText, decode, parse_yaml, split
from pipectl.dealedit import REMOVE, new_deal_text, set_fields
from pipectl.errors import DealError, UsageError
from pipectl.store import DealRef, Pipeline
from pipectl.transfer.jsonform import exact
from pipectl.transfer.mapping import FIELD_ORDER
from pipectl.transfer.options import STEP, Options, Progress
from pipectl.transfer.rows import Incoming, RowError, csv_rows, json_rows
from pipectl.writes import Change
from pipectl.yamltext import same_value


class InvalidRows(UsageError):
    """Rows failed their checks; nothing was written."""

    def __init__(self, source: str, unit: str, errors: Sequence[RowError]):
        self.source = source
        self.unit = unit
        self.errors = tuple(errors)
        n = len(self.errors)
        first = where(source, unit, self.errors[0].line)
        super().__init__(
            f"{first}: {self.errors[0].message}"
            + (f" (and {n - 1} more invalid rows)" if n > 1 else "")
            + "; nothing imported (--skip-invalid imports the valid rows)"
        )

    def lines(self) -> list[str]:
        return [f"{where(self.source, self.unit, e.line)}: {e.message}" for e in self.errors]


def where(source: str, unit: str, line: int) -> str:
    return f"{source}:{line}" if unit == "line" else f"{source}: {unit} {line}"


@dataclass(frozen=True)
class Result:
    """What an import did (or, with --dry-run, would do)."""

    source: str
    unit: str
    rows: int
    added: int
    updated: int
    moved: int
    unchanged: int
    by_stage: Mapping[str, int]
    skipped: tuple[RowError, ...]
    committed: bool
    dry_run: bool

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.moved)

    def counts(self) -> list[tuple[int, str]]:
        """The non-zero counts, in the order messages and summaries name them."""
        named = ((self.added, "added"), (self.updated, "updated"), (self.moved, "moved"))
        return [(n, what) for n, what in (*named, (self.unchanged, "unchanged")) if n]

    def skipped_lines(self) -> list[str]:
        return [f"{where(self.source, self.unit, e.line)}: {e.message}" for e in self.skipped]


@dataclass
class _Update:
    row: Incoming
    ref: DealRef
    text: DealText
    moving: bool
    fields: dict[str, Any]  # what `text` reads back as


_KINDS = ("create", "update", "move", "unchanged", "invalid")


@dataclass
class _Checked:
    """What the checking pass found. Per row it keeps only its id, line and outcome (a few
    dozen bytes: rows are read again to be written), so a million rows never sit in memory."""

    by_id: dict[str, list[DealRef]]
    stages: tuple[str, ...]
    seen: dict[str, int] = field(default_factory=dict)  # id -> line, outcome, stage: packed
    repeated: dict[str, list[int]] = field(default_factory=dict)  # id -> every line naming it
    errors: list[RowError] = field(default_factory=list)
    counts: dict[tuple[str, str], int] = field(default_factory=dict)  # (kind, stage) -> rows
    rows: int = 0

    def add(self, row: Incoming, kind: str) -> None:
        stage = self.stages.index(row.stage)
        self.seen[row.id] = (row.line * 256 + stage) * 8 + _KINDS.index(kind)
        self.counts[kind, row.stage] = self.counts.get((kind, row.stage), 0) + 1

    def finish(self, unit: str) -> None:
        """Rows that name the same deal are all invalid: which one is right cannot be known."""
        if not self.repeated:
            return
        # the first row's own fault is no longer the news: it is one of several
        firsts = {lines[0] for lines in self.repeated.values()}
        self.errors = [e for e in self.errors if e.line not in firsts]
        for deal_id, lines in self.repeated.items():
            packed = self.seen[deal_id]
            kind, stage = _KINDS[packed % 8], self.stages[packed // 8 % 256]
            self.counts[kind, stage] -= 1
            for line in lines:
                also = ", ".join(str(n) for n in lines if n != line)
                self.errors.append(RowError(line, f"id {deal_id!r} is also on {unit} {also}"))

    def count(self, *kinds: str) -> int:
        return sum(n for (k, _), n in self.counts.items() if k in kinds)


# --- the whole import -----------------------------------------------------------------------


def import_file(
    pipeline: Pipeline,
    source: Path,
    options: Options = Options(),
    *,
    today: dt.date | None = None,
    progress: Progress | None = None,
) -> Result:
    """Import a CSV or JSON file into the pipeline: every row checked first, then read again
    and written, all in one commit; memory holds one row at a time, not the file."""
    from pipectl.dates import today as ops_today

    now = today or ops_today()
    shown = str(pipeline.display(source))
    report = progress or (lambda phase, done, total: None)
    if source.suffix.lower() == ".json":
        if options.mapping_file or options.maps or options.date_format:
            raise UsageError("--mapping, --map and --date-format apply to CSV files")
        unit = "item"
        rows = json_rows(pipeline, source, options)
    else:
        unit = "line"
        rows = csv_rows(pipeline, source, options)
    deal_schema = schema.for_config(pipeline.config)

    def check_or_fail() -> tuple[_Checked, list[RowError]]:
        checked = _check(pipeline, rows(), options.create_only, now, deal_schema, report)
        checked.finish(unit)
        bad = sorted(checked.errors, key=lambda e: e.line)
        if bad and not options.skip_invalid:
            raise InvalidRows(shown, unit, bad)
        return checked, bad

    if options.dry_run:
        checked, bad = check_or_fail()
        return _result(pipeline, shown, unit, checked, bad, committed=False, dry_run=True)
    with pipeline.change(options.commit) as ch:
        checked, bad = check_or_fail()
        skip = {e.line for e in bad}
        total = checked.count("create", "update", "move")
        done = 0
        ch.sync = False  # new files have no old content to protect; see Change.sync
        # the old system's deals come as they were, missing fields and all: lint reports
        # what a stage lacks; a value the schema refuses is still never written
        ch.force = True
        for row in rows():  # read again: what was checked is written, one row at a time
            if isinstance(row, RowError) or row.line in skip:
                continue
            outcome = _outcome(
                pipeline, row, checked.by_id, options.create_only, now, deal_schema, checked=True
            )
            if isinstance(outcome, Incoming):
                path = pipeline.stage_dir(row.stage) / f"{row.id}.md"
                if path.exists() or path.is_symlink():  # as Change.create, which cannot take fields
                    raise UsageError(f"{pipeline.display(path)} already exists")
                ch.write(path, row.text, fields=row.frontmatter)  # checked: no re-parse
            elif isinstance(outcome, _Update):
                ch.sync = True  # an existing deal's old content is protected
                if outcome.moving:
                    dst = pipeline.stage_dir(row.stage) / outcome.ref.path.name
                    ch.move(outcome.ref.path, dst, outcome.text.render())
                else:
                    ch.write(outcome.ref.path, outcome.text.render(), fields=outcome.fields)
                ch.sync = False
            else:
                continue  # unchanged (or, had the file changed since, no longer valid)
            done += 1
            if done % STEP == 0:
                report("writing", done, total)
        report("writing", total, total)
        result = _result(pipeline, shown, unit, checked, bad, committed=False, dry_run=False)
        _set_message(ch, result, source.name)
        if result.changed:
            report("committing", 0, 1)
    return replace(result, committed=ch.committed)


def _set_message(ch: Change, result: Result, name: str) -> None:
    """One line of counts, the new and changed deals per stage, the skipped rows, trailers."""
    counts = [f"{n} {what}" for n, what in result.counts()]
    stages = [f"{stage}: {n}" for stage, n in result.by_stage.items()]
    skipped = []
    if result.skipped:
        shown = result.skipped[:50]
        skipped.append(f"skipped {len(result.skipped)} invalid rows:")
        skipped += [f"  {where(name, result.unit, e.line)}: {e.message}" for e in shown]
        if len(result.skipped) > 50:
            skipped.append(f"  … and {len(result.skipped) - 50} more")
    subject = f"import {name}: {', '.join(counts)}"
    ch.set_message(subject, "import", body=[stages, skipped], trailers={"Import-Source": name})


def _result(
    pipeline: Pipeline,
    source: str,
    unit: str,
    checked: _Checked,
    bad: list[RowError],
    *,
    committed: bool,
    dry_run: bool,
) -> Result:
    counts: dict[str, int] = {}
    for (kind, stage), n in checked.counts.items():
        if kind in ("create", "update", "move") and n:
            counts[stage] = counts.get(stage, 0) + n
    by_stage = {s: counts[s] for s in pipeline.config.stage_names if s in counts}
    return Result(
        source=source,
        unit=unit,
        rows=checked.rows,
        added=checked.count("create"),
        updated=checked.count("update"),
        moved=checked.count("move"),
        unchanged=checked.count("unchanged"),
        by_stage=by_stage,
        skipped=tuple(bad),
        committed=committed,
        dry_run=dry_run,
    )


# --- checking the rows against each other and against the pipeline -------------------------


def _check(
    pipeline: Pipeline,
    rows: Iterable[Incoming | RowError],
    create_only: bool,
    today: dt.date,
    deal_schema: schema.Schema,
    report: Progress,
) -> _Checked:
    """Every row checked as it is read; what is kept of each is its id, line and outcome."""
    by_id: dict[str, list[DealRef]] = {}
    for ref in pipeline.deal_refs():
        by_id.setdefault(ref.id, []).append(ref)
    checked = _Checked(by_id, tuple(pipeline.config.stage_names))
    for row in rows:
        checked.rows += 1
        if checked.rows % STEP == 0:
            report("checking", checked.rows, 0)  # 0: the total is not known before the end
        if isinstance(row, RowError):
            checked.errors.append(row)
            continue
        if row.id in checked.seen:
            lines = checked.repeated.setdefault(row.id, [checked.seen[row.id] // 2048])
            lines.append(row.line)
            continue
        outcome = _outcome(pipeline, row, by_id, create_only, today, deal_schema)
        if isinstance(outcome, RowError):
            checked.errors.append(outcome)
            checked.add(row, "invalid")
        elif isinstance(outcome, _Update):
            checked.add(row, "move" if outcome.moving else "update")
        else:
            checked.add(row, "create" if outcome is row else "unchanged")
    return checked


def _outcome(
    pipeline: Pipeline,
    row: Incoming,
    by_id: Mapping[str, list[DealRef]],
    create_only: bool,
    today: dt.date,
    deal_schema: schema.Schema,
    checked: bool = False,
) -> Incoming | _Update | RowError | None:
    """The row itself (a new deal, its text made), the update of its deal, why it is invalid,
    or None when its deal already matches it. `checked`: the row passed already (the writing
    pass), so a new deal's fields are not put to the schema again."""
    existing = by_id.get(row.id)
    if not existing:
        try:
            row.text, row.frontmatter = _new_text(row)
        except DealError as exc:
            return RowError(row.line, exc.message)
        if checked:
            return row
        refused = _refused(deal_schema, None, row.frontmatter, row.stage)
        return row if refused is None else RowError(row.line, refused)
    places = ", ".join(str(pipeline.display(r.path)) for r in existing)
    if len(existing) > 1:
        return RowError(row.line, f"deal {row.id!r} is in more than one stage: {places}")
    if create_only:
        return RowError(row.line, f"deal {row.id!r} exists already ({places})")
    try:
        return _update(pipeline, row, existing[0], today, deal_schema)
    except DealError as exc:
        return RowError(row.line, f"deal {row.id!r} cannot be updated: {exc}")


def _refused(
    deal_schema: schema.Schema,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any],
    stage: str,
    old_stage: str | None = None,
) -> str | None:
    """What the write would bring in that the schema refuses, said as `Change` says it; None
    when nothing. A required field the old system's data lacks is no refusal here: the import
    writes with `force` (lint reports the gap)."""
    problems = [p for p in deal_schema.refusals(before, after, stage, old_stage) if not p.missing]
    if not problems:
        return None
    more = problems[1:]
    extra = f" (and {len(more)} more: {', '.join(p.key for p in more)})" if more else ""
    return problems[0].message + extra


def _update(
    pipeline: Pipeline, row: Incoming, ref: DealRef, today: dt.date, deal_schema: schema.Schema
) -> _Update | None:
    """The edit that brings an existing deal in line with its row; None when it already is.

    DealError when the deal cannot be edited, or the edit would bring in a value the schema
    refuses (its old faults do not count: the row did not bring them)."""
    data = pipeline.read_bytes(ref)
    try:  # the file's name is worked out only for a message: it costs a few syscalls
        text = split(decode(data))
        current = parse_yaml(text)
    except DealError as exc:
        raise DealError(exc.message, pipeline.display(ref.path), exc.line) from None
    changes: dict[str, Any] = {
        key: value
        for key, value in row.fields.items()
        if not same_value(schema.lookup(current, key), value)
    }
    moving = ref.stage != row.stage
    if moving:
        target = pipeline.config.stage(row.stage)
        assert target is not None
        if "stage_entered" not in row.fields:
            changes["stage_entered"] = row.implied.get("stage_entered", today)
        if target.closed and "closed" not in row.fields:
            changes["closed"] = today
        if not target.closed:
            for key in ("closed", "lost_reason"):
                if key not in row.fields and key in current:
                    changes[key] = REMOVE
    new = set_fields(text, changes) if changes else text
    if row.body is not None and row.body != new.body:
        new = replace(new, body=row.body)
    if not moving and new == text:
        return None
    after = parse_yaml(new) if new.yaml != text.yaml else current
    refused = _refused(deal_schema, current, after, row.stage, ref.stage)
    if refused is not None:
        raise DealError(refused)
    return _Update(row, ref, new, moving, after)


# --- new deal files -------------------------------------------------------------------------


def _new_text(row: Incoming) -> tuple[str, dict[str, Any]]:
    """A new deal's file text, and the frontmatter it reads back as (for the schema)."""
    fields = {**row.implied, **row.fields}
    nested: dict[str, Any] = {}
    for key, value in fields.items():
        parent, _, child = key.partition(".")
        if child:
            section = nested.setdefault(parent, {})
            if isinstance(section, dict):
                section[child] = value
        else:
            nested[key] = value
    if not row.keep_order:
        order = {k: i for i, k in enumerate(FIELD_ORDER)}
        keys = sorted(nested, key=lambda k: order.get(k, len(order) + (k == "touchpoints")))
        nested = {k: nested[k] for k in keys}
    title = nested.get("title")
    body = row.body if row.body is not None else f"# {title if title is not None else row.id}\n"
    if row.keep_order:
        # JSON may hold any structure, nulls too (a key set to null is kept): prove the file
        # reads back as the same fields, types and order
        text = _with_nulls(nested, body)
        read = parse_yaml(split(text))
        if not exact(read, nested):
            raise DealError("its fields cannot be written so that they read back the same")
        return text, read
    text = new_deal_text(nested, body)
    # a CSV row's values are scalars, lists and `section.key` mappings, each written so that it
    # reads back the same (dealedit.scalar); an empty mapping is written as a bare `key:`
    return text, {k: None if v == {} else v for k, v in nested.items() if v is not None}


def _with_nulls(fields: Mapping[str, Any], body: str) -> str:
    """new_deal_text, but a key whose value is null is written (`key: null`), not left out."""
    if all(v is not None for v in fields.values()):
        return new_deal_text(fields, body)
    lines = ["---"]
    for key, value in fields.items():
        if value is None:
            lines.append(f"{key}: null")
        else:  # the lines new_deal_text writes for this key alone, between its fences
            lines.extend(new_deal_text({key: value}, "").split("\n")[1:-2])
    return "\n".join([*lines, "---"]) + "\n" + body
