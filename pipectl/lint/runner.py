"""Run the selected rules over a pipeline and gather every finding, suppressions applied.

A rule that crashes becomes one PL000 finding and the others still run; lint never raises
on a file's content. Bad rule settings raise ConfigError (exit 2). Never prints.
"""

from __future__ import annotations

import datetime as dt
import gc
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from pipectl import tasks
from pipectl.caches import results as resultcache
from pipectl.deal import Deal, parse_deal
from pipectl.errors import DealError
from pipectl.gitrepo import find_git_root
from pipectl.history import Arrivals, read_arrivals
from pipectl.lint import forked, settings, suppress, validation
from pipectl.lint.context import CONFIG_PATH, Context
from pipectl.lint.model import INTERNAL_ERROR, SEVERITY_RANK, Finding, Rule
from pipectl.lint.registry import get_rule, select_rules
from pipectl.store import LoadResult, Pipeline


@dataclass(frozen=True)
class LintResult:
    """The findings of one run, sorted by path and line, and what was checked."""

    findings: tuple[Finding, ...]
    root: Path
    git_root: Path | None
    rules: tuple[Rule, ...]
    deals_checked: int  # deal files read, parsed or not
    today: dt.date

    def at_least(self, level: str) -> tuple[Finding, ...]:
        """Findings at or above a severity (error, warning or info)."""
        rank = SEVERITY_RANK[level]
        return tuple(f for f in self.findings if SEVERITY_RANK[f.severity] >= rank)

    def for_deal(self, deal_id: str) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.deal_id == deal_id)


def run(
    pipeline: Pipeline,
    today: dt.date,
    select: Iterable[str] = (),
    ignore: Iterable[str] = (),
    arrivals: Arrivals | None = None,
    unsaved: Mapping[str, bytes] | None = None,
    focus: bool = False,
) -> LintResult:
    """Lint a pipeline: `select`/`ignore` take codes, prefixes ("PL3") or names; `arrivals`:
    git's, when the caller read them already (the board: one `git log` for both); `unsaved`:
    deal files read from these bytes instead of the disk, by pipeline-relative posix path
    (an editor's buffers, `pipectl lsp`; pipeline.yaml among them when `pipeline`'s config
    was read from them, which no stored result may then stand for); `focus`: read only the
    unsaved files and the files of their ids (PL104's other copies), not the whole pipeline:
    their findings are the same (tests/lsp/test_focus.py), the other files' and
    pipeline.yaml's are not those of the run."""
    config = pipeline.config
    validation.ensure_valid(config)
    chosen = tuple(r for r in select_rules(select, ignore) if settings.enabled_anywhere(config, r))
    if any(r.scope == "all" for r in chosen):
        stages = config.stage_names
    else:
        stages = tuple(s.name for s in config.open_stages)
    git_root = find_git_root(pipeline.root)
    # an unchanged pipeline, config, HEAD, today and rule choice replay the last findings; a
    # pipeline of another day (`--as-of`) is not the files on disk: neither replayed nor kept
    memo = resultcache.for_pipeline(
        pipeline.root, pipeline.git.git_dir() if pipeline.git else None, "lint"
    )
    if pipeline.at is not None or unsaved:
        memo = resultcache.ResultCache(None, "lint", pipeline.root, None)
    inputs = (today.isoformat(), [r.code for r in chosen])
    replay = memo.get(inputs)
    if replay is not None:
        findings_data, checked = replay
        found = tuple(Finding(*f) for f in findings_data)
        return LintResult(found, pipeline.root, git_root, chosen, checked, today)
    # every deal, finding and helper of a run lives until its end and none is in a cycle: the
    # cyclic collector would only walk them again and again (a tenth of a cold run's time)
    collecting = gc.isenabled()
    gc.disable()
    checked = 0
    try:
        # a run that can share its rules with a forked child leaves the arrivals to it; a
        # larger one reads them in a child of their own first (its memory given back)
        files = _files(pipeline, stages) if not focus and not unsaved else 0
        shared = forked.possible(files)
        wanted = any(r.code in _ARRIVAL_RULES for r in chosen)
        if arrivals is None and wanted and not shared and not focus:
            if files >= forked.FORK_CAP:  # no child forked, or a failed one: read here
                arrivals = _arrivals_of(forked.apart(lambda: _plain(_arrivals_first(pipeline))))
            if arrivals is None:
                arrivals = _arrivals_first(pipeline)
        if focus and unsaved:
            loaded = _namesakes(pipeline, unsaved, stages) if chosen else None
        else:
            # the result cache's key walked every file just now: its stats serve the load
            seen = memo.seen if memo.path is not None else None
            loaded = pipeline.load(stages, relative=True, seen=seen) if chosen else None
        deals, errors = (loaded.deals, loaded.errors) if loaded else ([], [])
        del loaded
        if unsaved and chosen:
            deals, errors = _with_unsaved(deals, errors, unsaved, stages)
        ctx = Context(
            pipeline,
            config,
            today,
            deals,
            errors,
            tuple(stages),
            get_rule,
            arrivals,
            unsaved=dict(unsaved or {}),
            focus=bool(focus and unsaved),
        )
        findings = _check(ctx, chosen, shared and forked.possible(len(deals)))
        checked = len(deals) + len(errors)
        del deals, errors, ctx  # the findings are all that is kept: let the deals go first
        findings.sort(key=Finding.sort_key)
        names = [fl.name for fl in fields(Finding)]
        memo.put(inputs, ([tuple(getattr(f, n) for n in names) for f in findings], checked))
    finally:
        if collecting:
            if checked >= _FREEZE_MIN:
                # they outlive the run while its report is written: keep the collector
                # from walking them all again (up to three times) once it is back on
                gc.freeze()
            gc.enable()
    return LintResult(tuple(findings), pipeline.root, git_root, chosen, checked, today)


_FREEZE_MIN = 1500  # deals; a small run's objects cost the collector nothing worth saving

# The rules that ask git when each deal entered its stage of nearly every pipeline (PL302:
# any deal past its limit by its own `stage_entered`).
_ARRIVAL_RULES = frozenset({"PL302"})


def _arrivals_first(pipeline: Pipeline) -> Arrivals | None:
    """The arrivals a rule will ask for, read before the deals are loaded: a history index
    built cold holds the walk of the whole history for a moment (about 120 MB for 12,000
    commits and 100,000 files), which on top of 100,000 deals was the peak of the run. The
    same read as `Context.arrivals`; None if it fails, so the rule meets the failure itself
    (its PL000) as before."""
    try:
        return read_arrivals(pipeline.git, pipeline.root, pipeline.at)
    except Exception:
        return None


def _plain(found: Arrivals | None) -> Any:
    """Arrivals as marshal data (dates as ordinals); None stays None."""
    if found is None:
        return None
    dates = {path: day.toordinal() for path, day in found.dates.items()}
    return (dates, found.unavailable, sorted(found.moved_by_hand))


def _arrivals_of(data: Any) -> Arrivals | None:
    """`_plain` read back; None for anything else."""
    try:
        dates, unavailable, by_hand = data
        days: dict[int, dt.date] = {}  # one date object per day, as the index gives them
        on = {
            p: days.get(n) or days.setdefault(n, dt.date.fromordinal(n)) for p, n in dates.items()
        }
        why = unavailable if isinstance(unavailable, str) else None
        return Arrivals(on, why, frozenset(by_hand))
    except (TypeError, ValueError, AttributeError, OverflowError):
        return None


def _namesakes(
    pipeline: Pipeline, unsaved: Mapping[str, bytes], stages: Iterable[str]
) -> LoadResult:
    """The files of the unsaved files' ids in the stages read, as the loader reads them: one
    stat per stage and id, no folder listed (a keystroke costs the same in any pipeline)."""
    read = set(stages)
    result = LoadResult()
    for rel in unsaved:
        for ref in pipeline.exact(Path(rel).stem):
            shown = ref.path.relative_to(pipeline.root)
            if ref.stage not in read or shown.as_posix() in unsaved:
                continue  # a buffer's own file is read from the buffer
            try:
                result.deals.append(parse_deal(pipeline.read_bytes(ref), shown, ref.stage))
            except DealError as exc:
                result.errors.append(DealError(exc.message, shown, exc.line or 1))
    return result


def _with_unsaved(
    deals: list[Deal], errors: list[DealError], unsaved: Mapping[str, bytes], stages: Iterable[str]
) -> tuple[list[Deal], list[DealError]]:
    """The deals read from disk with each unsaved file parsed from its bytes in its place (or
    added, when it is new), as the loader would have read it: its stage from its folder."""
    read = set(stages)
    parsed: dict[str, Deal | DealError] = {}
    for rel, data in unsaved.items():
        path = Path(rel)
        if len(path.parts) != 2 or path.parts[0] not in read or path.suffix != ".md":
            continue  # not a deal file of the stages this run reads
        try:
            parsed[rel] = parse_deal(data, path, path.parts[0])
        except DealError as exc:
            parsed[rel] = DealError(exc.message, path, exc.line or 1)
    kept_deals: list[Deal] = []
    kept_errors: list[DealError] = []

    def keep(found: Deal | DealError) -> None:
        if isinstance(found, DealError):
            kept_errors.append(found)
        else:
            kept_deals.append(found)

    read_items: list[Deal | DealError] = [*deals, *errors]
    for item in read_items:
        keep(parsed.pop(Path(str(item.path)).as_posix(), item))
    for found in parsed.values():
        keep(found)
    return kept_deals, kept_errors


def _check(ctx: Context, chosen: tuple[Rule, ...], shared: bool) -> list[Finding]:
    """Every rule's findings, suppressions applied; `shared`: some rules are checked by a
    forked child meanwhile (lint/forked.py), the findings the same."""
    if shared:
        unread = ctx.arrivals_read is None
        findings = forked.check(ctx, chosen, _findings, unread)
    else:
        findings = [f for r in chosen for f in _findings(ctx, r)]
    return _apply_suppressions(ctx, chosen, findings)


def _findings(ctx: Context, r: Rule) -> list[Finding]:
    found: list[Finding] = []
    try:
        found.extend(f for f in r.check(ctx, r) if f.severity != "off")
    except Exception as exc:  # a bug in one rule must not hide the others' findings
        found.append(_internal_error(r, exc))
    return found


def _files(pipeline: Pipeline, stages: Iterable[str]) -> int:
    """About how many deal files the stages hold, before they are read: their folders'
    entries, counted up to `forked.FORK_CAP`."""
    count = 0
    for stage in stages:
        try:
            with os.scandir(pipeline.stage_dir(stage)) as entries:
                for _ in entries:
                    count += 1
                    if count >= forked.FORK_CAP:
                        return count
        except OSError:
            continue
    return count


def _internal_error(r: Rule, exc: Exception) -> Finding:
    code, name = INTERNAL_ERROR
    message = f"rule {r.code} {r.name} crashed ({type(exc).__name__}: {exc}); please report it"
    return Finding(code, name, "error", CONFIG_PATH, 1, 1, message)


def _apply_suppressions(
    ctx: Context, chosen: tuple[Rule, ...], findings: list[Finding]
) -> list[Finding]:
    ran = {r.code for r in chosen}
    # only deals with `lint-ignore` entries can suppress (a table of every deal's path was
    # 18 MB at the end of a 100,000-deal run)
    by_path = {d.posix: d for d in ctx.deals if d.fields.get(suppress.KEY) is not None}
    table = {p: ctx.suppressions(d).reasons for p, d in by_path.items()}
    used: set[tuple[str, str]] = set()
    kept: list[Finding] = []
    for f in findings:
        if f.code in table.get(f.path, {}):
            used.add((f.path, f.code))
        else:
            kept.append(f)
    if "PL106" not in ran:
        return kept
    unused_rule = get_rule("PL106")
    for path, reasons in table.items():
        deal = by_path[path]
        # a snoozed deal's time rules never looked at it: their entries may well be needed
        asleep = tasks.SNOOZED_RULES if tasks.is_snoozed(deal, ctx.today) else ()
        for code in reasons:
            if code in ran and (path, code) not in used and code not in asleep:
                name = get_rule(code).name
                msg = f"lint-ignore: {code} ({name}) suppresses nothing here: remove it"
                f = ctx.finding(unused_rule, deal, msg, key=suppress.KEY)
                if f.severity != "off":
                    kept.append(f)
    return kept
