"""Structure rules (PL1xx): files that cannot be read, missing or malformed fields, duplicate
ids, deal files outside the stage folders, unused suppressions, bad rows of the rate table.
Read-only; never prints.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pipectl import records
from pipectl.asof import PipelineAt
from pipectl.config import CONFIG_FILE
from pipectl.deal import Deal
from pipectl.errors import ConfigError
from pipectl.lint.context import Context
from pipectl.lint.model import Finding, Rule, rule
from pipectl.rates import RATES_FILE
from pipectl.schema import for_config


@rule(
    "PL101",
    "invalid-frontmatter",
    "error",
    "no frontmatter, or YAML that does not parse (with the YAML line)",
    scope="all",
)
def invalid_frontmatter(ctx: Context, r: Rule) -> Iterator[Finding]:
    """A deal file must start with a `---` line, hold a YAML mapping, and close it with
    another `---` line. A file that cannot be read, is not UTF-8, has YAML that does not
    parse, or repeats a key (YAML forbids it, and PyYAML would silently keep the last value)
    is reported here with the file's own line; every other rule skips it. Fix the YAML at
    the line shown, or run `pipectl show DEAL --raw` to see the file as pipectl reads it."""
    for err in ctx.errors:
        path = Path(str(err.path)) if err.path is not None else Path("?")
        stage = path.parts[0] if len(path.parts) > 1 else None
        deal = Deal(path.stem, stage or "", path, {})
        yield ctx.finding(r, deal, err.message, line=err.line or 1)


@rule(
    "PL102",
    "missing-field",
    "error",
    "a field the config requires (per stage) is absent",
    scope="all",
)
def missing_field(ctx: Context, r: Rule) -> Iterator[Finding]:
    """Every deal needs the fields listed in `required_fields` of pipeline.yaml (by default
    `title` and `created`), plus those of its stage under `required_fields_by_stage` (by
    default a won deal needs `closed`, a lost one `closed` and `lost_reason`). Reports,
    forecasts and the time-based rules depend on them. Add the field, e.g.
    `pipectl set DEAL created=2026-11-02`."""
    cfg = ctx.config
    schema = for_config(cfg)
    for deal in ctx.deals:
        for key in schema.missing(deal.fields, deal.stage):
            where = f" in {deal.stage}" if key not in cfg.required_fields else ""
            what = "criterion" if key.startswith("qualification.") else "field"
            missing = "with no evidence" if what == "criterion" else ""
            msg = f"missing required {what} {key!r}{where}" + (f" ({missing})" if missing else "")
            yield ctx.finding(r, deal, msg, line=1, anchor=key)


@rule(
    "PL103",
    "bad-value",
    "error",
    "a date that is no date, a value that is no number, a bad touchpoint entry",
    scope="all",
)
def bad_value(ctx: Context, r: Rule) -> Iterator[Finding]:
    """Every field has a type (docs/fields.md, `pipectl schema`): dates are `YYYY-MM-DD`,
    `value` is an amount ≥ 0, `probability` a number from 0 to 1, text fields are text,
    `tags` a list, `qualification` maps criteria of pipeline.yaml to their evidence, each
    touchpoint is a mapping with a date and a kind (and outcome) from pipeline.yaml, and
    `lost_reason` is one of `lost_reasons`. The team's own fields under `fields:` in
    pipeline.yaml have the types declared there. `closed`, `stage_entered` and touchpoint
    dates may not be before `created`, and each `lint-ignore` entry names a rule and gives
    a reason. Every command that writes a deal refuses such a value; one already in a file
    (written by hand, or before the rule) silently drops the deal out of forecasts and
    rules, so it is an error. Fix the value at the line shown."""
    schema = for_config(ctx.config)
    for deal in ctx.deals:
        for problem in schema.problems(deal.fields):
            if problem.where:
                line = ctx.locate(deal, (problem.key, *problem.where))
                line = line or deal.line_of(problem.key)
                # the value's key path and the value, not its index: a touchpoint added
                # above keeps its fingerprint
                about = _anchor(deal.fields.get(problem.key), problem.key, problem.where)
                yield ctx.finding(r, deal, problem.message, line=line, anchor=about)
            else:
                yield ctx.finding(r, deal, problem.message, key=problem.key)
        for message in ctx.suppressions(deal).problems:
            yield ctx.finding(r, deal, message, key="lint-ignore")


@rule("PL104", "duplicate-id", "error", "the same id in two stage folders", scope="all")
def duplicate_id(ctx: Context, r: Rule) -> Iterator[Finding]:
    """A deal's id is its file name, and it must be unique across all stage folders:
    commands address deals by id, and two files with one id usually mean a copy was made
    instead of a move. Keep the file in the right stage, merge its touchpoints and notes
    into it, and delete the other copy (or rename one if they are different deals)."""
    by_id: dict[str, list[Deal]] = {}
    for deal in ctx.deals:
        by_id.setdefault(deal.id, []).append(deal)
    for err in ctx.errors:
        if err.path is not None:
            p = Path(str(err.path))
            if len(p.parts) > 1:
                by_id.setdefault(p.stem, []).append(Deal(p.stem, p.parts[0], p, {}))
    for deal_id, deals in by_id.items():
        if len(deals) < 2:
            continue
        for deal in deals:
            others = ", ".join(d.path.as_posix() for d in deals if d is not deal)
            yield ctx.finding(r, deal, f"id {deal_id!r} is also used by {others}", line=1)


@rule(
    "PL105",
    "stray-file",
    "warning",
    "a deal file no command reads: outside any stage folder, or not named .md",
    scope="all",
)
def stray_file(ctx: Context, r: Rule) -> Iterator[Finding]:
    """A deal file (a `.md` file that starts with a `---` frontmatter line) must sit
    directly in a stage folder named in pipeline.yaml. One in the pipeline root, in a
    folder that is not a stage (a typo, a stage renamed in pipeline.yaml), or in a
    subfolder of a stage is invisible to every command and every other rule. So is one
    whose extension is not lower-case (`acme.MD`, `acme.Md`): deal ids and their file
    names are lower-case, and only lint looks at such a file, to name it; rename it with
    `git mv acme.MD acme.md`. Markdown files without frontmatter (a README, meeting notes)
    are not deals and are left alone, as are hidden folders, links, nested pipelines
    (folders with their own pipeline.yaml) and the account and contact records of
    `accounts/` and `contacts/` (docs/accounts.md). Move the file into a stage folder with `git mv`,
    or remove its frontmatter if it is not a deal."""
    stages = set(ctx.config.stage_names)
    if ctx.focus and all(_in_a_stage(Path(rel), stages) for rel in ctx.unsaved):
        return  # a focused run reports on its files only, and a deal file in a stage is none

    tree = ctx.pipeline if isinstance(ctx.pipeline, PipelineAt) else None  # `--as-of`: git's
    found = _stray_candidates(ctx.root, stages) if tree is None else tree.stray_candidates(stages)
    for path in found:
        rel = path.relative_to(ctx.root)
        folder = rel.parts[0] if len(rel.parts) > 1 else None
        if folder not in stages and records.kind_of_path(ctx.root, path) is not None:
            continue  # an account or contact record (records.py): read by its own loader
        rename = f"rename it to {path.stem}.md" if path.suffix != ".md" else None
        if folder in stages and len(rel.parts) == 2:
            msg = f"deal file ends in {path.suffix!r}, which no command reads: {rename}"
        else:
            if folder is None:
                why = "is in the pipeline root"
            elif folder not in stages:
                why = f"is in {folder}/, which is not a stage in {CONFIG_FILE}"
            else:
                why = f"is in a subfolder of the {folder} stage"
            where = ", ".join(ctx.config.stage_names)
            msg = f"deal file {why}: move it into a stage folder ({where})"
            msg += f" and {rename}" if rename else ""
        deal = Deal(path.stem, folder or "", rel, {})
        yield ctx.finding(r, deal, msg, line=1)


def _in_a_stage(rel: Path, stages: set[str]) -> bool:
    """A `.md` file directly in a stage folder: where a deal file belongs, never stray."""
    return len(rel.parts) == 2 and rel.parts[0] in stages and rel.suffix == ".md"


def _stray_candidates(root: Path, stages: set[str], depth: int = 4) -> Iterator[Path]:
    def walk(folder: Path, level: int, in_stage: bool) -> Iterator[Path]:
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            return
        for entry in entries:
            if entry.name.startswith("."):
                continue
            # a `Path` only for what is looked into: one for each of a stage's 30,000 deals
            # interned every file name, and the interpreter's table of them, grown by 15 MB in
            # a 100,000-deal lint, is never given back
            if entry.is_dir(follow_symlinks=False):
                path = Path(entry.path)
                is_stage = level == 0 and entry.name in stages
                if level + 1 < depth and not (path / CONFIG_FILE).exists():
                    yield from walk(path, level + 1, in_stage or is_stage)
            elif (
                entry.name.lower().endswith(".md")
                # a stage's own deals are the loader's; one named .MD there is for no one
                and not (in_stage and level == 1 and entry.name.endswith(".md"))
                # never open a FIFO (it blocks), a device, or a link (it may lead out)
                and entry.is_file(follow_symlinks=False)
                and _has_frontmatter(Path(entry.path))
            ):
                yield Path(entry.path)

    yield from walk(root, 0, False)


def _has_frontmatter(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            head = f.read(8)
    except OSError:
        return False
    return head.removeprefix(b"\xef\xbb\xbf").startswith(b"---")


@rule(
    "PL106",
    "unused-suppression",
    "warning",
    "a `lint-ignore` entry that silences nothing",
    scope="all",
)
def unused_suppression(ctx: Context, r: Rule) -> Iterator[Finding]:
    """A `lint-ignore:` entry whose rule no longer fires on the deal is noise that hides
    the next real problem: once a stale deal is touched again, its `stale` suppression
    should go. The runner reports an entry as unused only when its rule ran in that lint
    run (so `--select` never makes suppressions look unused). Remove the entry."""
    return iter(())  # the runner reports these, after it has applied every suppression


@rule(
    "PL107",
    "bad-rate",
    "error",
    "a row of rates.csv that cannot be used: no date, a rate that is not positive, twice",
)
def bad_rate(ctx: Context, r: Rule) -> Iterator[Finding]:
    """The rate table `rates.csv` beside pipeline.yaml holds one rate a row,
    `currency,from,rate`: the currency's code, the day from which the rate holds (until the
    currency's next row) and how many units of `base_currency` one unit is worth. A row
    that is not three cells, whose day is no `YYYY-MM-DD` date, whose rate is not a
    positive number, that names the base currency (always 1) or repeats a currency and day
    would convert amounts at a wrong rate without a word: `report` and `board` refuse the
    table until it is fixed, and this rule names each such row. See docs/forecast.md."""
    try:
        rates = ctx.rates()
    except ConfigError as exc:
        yield ctx.finding(r, RATES_FILE, exc.message, line=1)
        return
    for problem in rates.problems:
        yield ctx.finding(r, RATES_FILE, problem.message, line=problem.line)


RULES = (
    invalid_frontmatter,
    missing_field,
    bad_value,
    duplicate_id,
    stray_file,
    unused_suppression,
    bad_rate,
)


def _anchor(value: Any, key: str, where: tuple[str | int, ...]) -> str:
    """`key`, then each step below it: a mapping's key as it is, a list item by its content
    (its position moves when an item is added before it)."""
    parts = [key]
    for step in where:
        item = value
        if isinstance(step, int):
            item = (
                value[step]
                if isinstance(value, list) and -len(value) <= step < len(value)
                else None
            )
            parts.append("[" + json.dumps(item, sort_keys=True, default=str) + "]")
        else:
            item = value.get(step) if isinstance(value, dict) else None
            parts.append(step)
        value = item
    return ".".join(parts)
