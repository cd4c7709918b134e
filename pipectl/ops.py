"""The everyday operations: init, add, move, won, lost, log, next, set, edit.

Each takes a Pipeline and plain arguments, validates them, changes files through one
`Pipeline.change()` (one commit) and returns a small result. Nothing here prints.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import shutil
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipectl import owners, schema
from pipectl.config import CONFIG_FILE, Config, default_config_text
from pipectl.deal import DealText, decode, is_valid_id, parse_yaml, slugify, split
from pipectl.dealedit import REMOVE, append_item, new_deal_text, set_fields
from pipectl.errors import DealError, PipectlError, UsageError
from pipectl.fieldinput import assigned, check_field, check_key
from pipectl.gitrepo import GitRepo, find_git_root
from pipectl.store import DealRef, Pipeline
from pipectl.writes import Change, check_write


@dataclass(frozen=True)
class Outcome:
    """What a changing command did: the deal it touched and whether it committed."""

    ref: DealRef | None
    committed: bool
    message: str


# --- init -----------------------------------------------------------------------------------


def init(folder: Path, commit: bool = True) -> tuple[Outcome, bool]:
    """Create pipeline.yaml and the stage folders; `git init` when outside any repo.

    Returns the outcome and whether a new git repository was created.
    """
    folder.mkdir(parents=True, exist_ok=True)
    config_path = folder / CONFIG_FILE
    if config_path.exists():
        raise UsageError(f"{config_path} already exists: this folder is a pipeline already")
    made_repo = False
    if find_git_root(folder.resolve()) is None:
        GitRepo(folder).init()
        made_repo = True
    config_path.write_text(default_config_text(), encoding="utf-8")
    try:
        pipeline = Pipeline(folder.resolve())
    except Exception:
        config_path.unlink()
        raise
    try:
        ch = _init_files(pipeline, config_path, commit)
    except BaseException:
        if made_repo:  # leave the folder as it was: no half-made repository either
            shutil.rmtree(folder / ".git", ignore_errors=True)
        raise
    if pipeline.git is not None:
        from pipectl import mergesetup

        mergesetup.register(pipeline.git)
    return Outcome(None, ch.committed, f"initialised pipeline in {folder}"), made_repo


def _init_files(pipeline: Pipeline, config_path: Path, commit: bool) -> Change:
    with pipeline.change(commit) as ch:
        ch.before[config_path.resolve()] = None
        ch.created.append(config_path.resolve())
        for stage in pipeline.config.stage_names:
            keep = pipeline.stage_dir(stage) / ".gitkeep"
            if not keep.exists():
                ch.write(keep, "")
        from pipectl import mergesetup  # teams: deal files merge with pipectl's merge driver

        mergesetup.add_attributes(ch, pipeline.root)
        ch.set_message("init pipeline", "init")
    return ch


# --- add ------------------------------------------------------------------------------------


def add(
    pipeline: Pipeline,
    title: str,
    *,
    deal_id: str | None = None,
    stage: str | None = None,
    fields: Mapping[str, Any] | None = None,
    body: str | None = None,
    when: dt.date,
    review: Callable[[str], str] | None = None,
    force: bool = False,
    commit: bool = True,
) -> Outcome:
    """A new deal file in the first stage (or `stage`), id slugged from the title.

    `review`, when given, sees the new file's text and returns the text to save (an editor).
    A deal added to a later stage must pass its gate (`gate_problem`) unless `force`.
    """
    if not title.strip():
        raise UsageError("a deal needs a title")
    deal_id = deal_id if deal_id is not None else slugify(title)
    if not deal_id:
        raise UsageError(f"cannot make an id from {title!r}; pass --id")
    if not is_valid_id(deal_id):
        raise UsageError(f"invalid id {deal_id!r}: use lowercase letters, digits, '-', '_' or '.'")
    stage = pipeline.require_stage(stage or pipeline.config.stage_names[0])
    existing = pipeline.exact(deal_id)  # a stat per stage, whatever the pipeline's size
    if existing:
        where = pipeline.display(existing[0].path)
        raise UsageError(f"a deal {deal_id!r} exists already ({where}); pick another with --id")
    if fields and fields.get("next_step_due") is not None and not fields.get("next_step"):
        raise UsageError("a due date belongs to a next step: give --next-step too")
    fields, owner_note = owners.settle_owner(pipeline.config.team, fields)  # the roster's handle
    path = pipeline.stage_dir(stage) / f"{deal_id}.md"
    shown = pipeline.display(path)  # the file a refusal names, as the schema's refusals do
    data: dict[str, Any] = {"title": title.strip()}
    for key, value in (fields or {}).items():
        if value is None:
            continue
        parent, _, child = key.partition(".")
        if child:  # `--set qualification.budget=15k`: a key inside a section
            section = data.setdefault(parent, {})
            if not isinstance(section, dict):
                raise UsageError(f"cannot set {key}: {parent} is not a mapping")
            section[child] = check_field(pipeline, key, value, shown)
        else:
            data[key] = check_field(pipeline, key, value, shown)
    data.setdefault("created", when)
    if stage != pipeline.config.stage_names[0]:
        data.setdefault("stage_entered", when)
    closed = pipeline.config.stage(stage)
    if closed is not None and not closed.is_open:
        data.setdefault("closed", when)
    if closed is not None and not closed.is_open:
        data.pop("next_step", None)  # a closed deal has nothing next
        data.pop("next_step_due", None)
    if not force:
        _gate(pipeline, data, stage, "add --force", shown)
    text = new_deal_text(data, body if body is not None else f"# {title.strip()}\n")
    if review is not None:
        text = review(text)
    ref = DealRef(deal_id, stage, path)
    with pipeline.change(commit) as ch:
        ch.force = force
        ch.create(path, text)
        trailers = {"Forced": "yes"} if force else {}  # as `move --force` records it
        ch.set_message(
            f"add {deal_id}: {title.strip()} ({stage})", "add", deal_id, trailers=trailers
        )
    return Outcome(ref, ch.committed, f"added {deal_id} to {stage}{owner_note}")


# --- move, won, lost ------------------------------------------------------------------------


def move(
    pipeline: Pipeline,
    ref_text: str,
    stage: str,
    *,
    when: dt.date,
    reason: str | None = None,
    reopen: bool = False,
    force: bool = False,
    commit: bool = True,
) -> Outcome:
    """Move a deal to another stage folder, setting stage_entered (and closed/lost_reason).

    A deal in a closed stage moves only with `reopen` (recorded in the commit); entering a
    stage needs what its gate asks (`gate_problem`) unless `force`.
    """
    target = pipeline.config.stage(pipeline.require_stage(stage))
    assert target is not None
    if target.closed == "lost":
        reason = _check_reason(pipeline, reason)
    elif reason is not None:
        raise UsageError("--reason applies only when a deal is lost")
    with pipeline.change(commit) as ch:
        ch.force = force
        ref = pipeline.resolve(ref_text)
        if ref.stage == target.name:
            raise UsageError(f"{ref.id} is already in {target.name}")
        source = pipeline.config.stage(ref.stage)
        reopened = source is not None and not source.is_open
        if reopened and not reopen:
            verb = "reopen it" if target.is_open else f"mark it {target.closed} instead"
            kind = source.closed if source is not None else ref.stage
            where = "" if kind == ref.stage else f" (in {ref.stage})"
            raise UsageError(f"{ref.id} is {kind}{where}: pass --reopen to {verb}")
        if reopen and not reopened:
            raise UsageError(f"{ref.id} is open ({ref.stage}): --reopen is for closed deals")
        moved = move_in(ch, ref, target.name, when=when, reason=reason, force=force)
        action = target.closed or ("reopen" if reopened else "move")
        subject = f"{action} {ref.id}: {ref.stage} -> {target.name}"
        if reason:
            subject += f" ({reason})"
        trailers = {"Reopened": "yes"} if reopened else {}
        if force:
            trailers["Forced"] = "yes"
        ch.set_message(subject, action, ref.id, trailers=trailers)
    return Outcome(moved, ch.committed, subject)


def move_in(
    ch: Change,
    ref: DealRef,
    stage: str,
    *,
    when: dt.date,
    reason: str | None = None,
    force: bool = False,
    into: Pipeline | None = None,
) -> DealRef:
    """Move one deal as part of an open change (several deals can share its one commit).

    Sets stage_entered, and closed (and lost_reason) when the stage is closed, clearing the
    next step (git keeps it); the caller has checked the stage and reason and writes the
    commit message. The target's gate must be met unless `force`. `into`: the stage is
    another pipeline's of the same repository (pipectl/crossing.py), its gate applies.
    """
    pipeline = ch.pipeline
    dest = into or pipeline
    target = dest.config.stage(dest.require_stage(stage))
    assert target is not None
    if ref.stage == target.name and dest is pipeline:
        raise UsageError(f"{ref.id} is already in {target.name}")
    text = pipeline.read_text(ref)
    changes: dict[str, Any] = {"stage_entered": when}
    if target.closed:
        changes["closed"] = when
        changes["next_step"] = REMOVE
        changes["next_step_due"] = REMOVE
        if reason is not None:
            changes["lost_reason"] = reason
    else:
        changes["closed"] = REMOVE
        changes["lost_reason"] = REMOVE
    new = _edit(pipeline, ref, text, changes)
    if not force:
        shown = pipeline.display(ref.path)
        _gate(dest, parse_yaml(new), target.name, "move --force", shown, ref.id)
    dst = dest.stage_dir(target.name) / ref.path.name
    ch.move(ref.path, dst, new.render())
    return DealRef(ref.id, target.name, dst)


def gate_problem(
    pipeline: Pipeline, fields: Mapping[str, Any], stage: str, deal_id: str | None = None
) -> str | None:
    """Why a deal with these fields may not enter `stage`: what the stage requires and, from
    the qualification gate on, each criterion without evidence; None when it may."""
    lacking = schema.for_config(pipeline.config).gate(fields, stage)
    if not lacking:
        return None
    who = f"{deal_id} " if deal_id else ""
    return f"{who}cannot enter {stage}: missing {', '.join(lacking)}"


def _gate(
    pipeline: Pipeline,
    fields: Mapping[str, Any],
    stage: str,
    force_hint: str,
    shown: Path,
    deal_id: str | None = None,
) -> None:
    problem = gate_problem(pipeline, fields, stage, deal_id)
    if problem is not None:
        hint = f"set them first, or `{force_hint}`; lint keeps flagging it"
        raise UsageError(f"{problem} ({hint})", shown)


def _check_reason(pipeline: Pipeline, reason: str | None) -> str | None:
    allowed = pipeline.config.lost_reasons
    if reason is None:
        if pipeline.config.require_lost_reason:
            raise UsageError(f"a lost deal needs --reason (one of: {', '.join(allowed)})")
        return None
    if allowed and reason not in allowed:
        raise UsageError(f"unknown lost reason {reason!r} (one of: {', '.join(allowed)})")
    return reason


def closing_stage(pipeline: Pipeline, kind: str) -> str:
    stage = pipeline.config.won_stage if kind == "won" else pipeline.config.lost_stage
    if stage is None:
        raise UsageError(f"{CONFIG_FILE} marks no stage as closed: {kind}")
    return stage.name


# --- log, next, set -------------------------------------------------------------------------


def log(
    pipeline: Pipeline,
    ref_text: str,
    kind: str,
    summary: str,
    *,
    when: dt.date,
    outcome: str | None = None,
    commit: bool = True,
) -> Outcome:
    """Append one touchpoint; only its line is added to the file."""
    item = touchpoint(pipeline.config, kind, summary, when, outcome)
    with pipeline.change(commit) as ch:
        ref = pipeline.resolve(ref_text)
        text = pipeline.read_text(ref)
        parse_yaml(text, pipeline.display(ref.path))
        new = _named(pipeline, ref, lambda: logged(text, item))
        ch.write(ref.path, new.render())
        subject = f"log {ref.id}: {kind} — {summary.strip()}"
        ch.set_message(subject, "log", ref.id, shorten=True)
    return Outcome(ref, ch.committed, f"logged {kind} on {ref.id}")


def touchpoint(
    config: Config, kind: str, summary: str, when: dt.date, outcome: str | None = None
) -> dict[str, Any]:
    """The touchpoint `log` appends, its kind and outcome checked against pipeline.yaml."""
    kinds, outcomes = config.touchpoint_kinds, config.touchpoint_outcomes
    if kinds and kind not in kinds:
        raise UsageError(f"unknown touchpoint kind {kind!r} (one of: {', '.join(kinds)})")
    if outcome is not None and outcomes and outcome not in outcomes:
        raise UsageError(f"unknown outcome {outcome!r} (one of: {', '.join(outcomes)})")
    if not summary.strip():
        raise UsageError("a touchpoint needs a summary")
    item: dict[str, Any] = {"date": when, "kind": kind, "summary": summary.strip()}
    if outcome is not None:
        item["outcome"] = outcome
    return item


def logged(text: DealText, item: Mapping[str, Any]) -> DealText:
    """A deal's text with one touchpoint appended, as `log` writes it (the editor's code
    action too)."""
    return append_item(text, "touchpoints", item)


def next_step_changes(step: str, due: dt.date | None) -> dict[str, Any]:
    """The fields `next` sets: the step, and its due date (removed when there is none)."""
    if not step.strip():
        raise UsageError("the next step needs a description")
    return {"next_step": step.strip(), "next_step_due": due or REMOVE}


def next_step(
    pipeline: Pipeline, ref_text: str, step: str, due: dt.date | None, commit: bool = True
) -> Outcome:
    """Set the deal's next step and its due date."""
    changes = next_step_changes(step, due)
    with pipeline.change(commit) as ch:
        ref = pipeline.resolve(ref_text)
        new = _edit(pipeline, ref, pipeline.read_text(ref), changes)
        ch.write(ref.path, new.render())
        due_text = f" (due {due.isoformat()})" if due else ""
        subject = f"next {ref.id}: {step.strip()}{due_text}"
        ch.set_message(subject, "next", ref.id, shorten=True)
    return Outcome(ref, ch.committed, f"next step for {ref.id}: {step.strip()}{due_text}")


def set_values(
    pipeline: Pipeline,
    ref_text: str,
    assignments: Sequence[str],
    unset: Sequence[str] = (),
    commit: bool = True,
) -> Outcome:
    """Set frontmatter fields from `key=value` words (`qualification.budget=15k` too)."""
    if not assignments and not unset:
        raise UsageError("nothing to set: give key=value pairs or --unset KEY")
    for key in unset:
        check_key(key)
    with pipeline.change(commit) as ch:
        ref = pipeline.resolve(ref_text)
        shown = pipeline.display(ref.path)
        words = assigned(pipeline, assignments, shown)
        changes, owner_note = owners.settle_owner(pipeline.config.team, words)
        for key in unset:
            changes[key] = REMOVE
        text = pipeline.read_text(ref)
        current = parse_yaml(text, shown)
        for key in unset:
            if not _present(current, key):  # `key:` with nothing after it is there to remove
                raise UsageError(f"{key}: not set, nothing to unset", shown)
        new = _edit(pipeline, ref, text, changes)
        ch.write(ref.path, new.render())
        ch.set_message(f"set {ref.id}: {', '.join(changes)}", "set", ref.id, shorten=True)
    verb = "updated" if ch.changed else "unchanged:"
    return Outcome(ref, ch.committed, f"{verb} {ref.id} ({', '.join(changes)}){owner_note}")


def _present(fields: Mapping[str, Any], key: str) -> bool:
    parent, _, child = key.partition(".")
    if not child:
        return parent in fields
    inner = fields.get(parent)
    return isinstance(inner, Mapping) and child in inner


def _edit(pipeline: Pipeline, ref: DealRef, text: DealText, changes: Mapping[str, Any]) -> DealText:
    parse_yaml(text, pipeline.display(ref.path))  # a broken file is refused with its line
    return _named(pipeline, ref, lambda: set_fields(text, changes))


def _named(pipeline: Pipeline, ref: DealRef, edit: Callable[[], DealText]) -> DealText:
    """Run an edit; a refusal names the deal's file."""
    try:
        return edit()
    except DealError as exc:
        if exc.path is not None:
            raise
        raise DealError(exc.message, pipeline.display(ref.path), exc.line) from None


# --- edit -----------------------------------------------------------------------------------


def validate_text(pipeline: Pipeline, ref: DealRef | None, raw: bytes) -> None:
    """Raise DealError (with the file line) if an edited deal cannot be read back, or holds
    what the schema refuses that the file on disk did not (the check every write makes)."""
    display = pipeline.display(ref.path) if ref else None
    parse_yaml(split(decode(raw, display), display), display)
    if ref is not None:
        check_write(pipeline, ref.path, raw, pipeline.read_bytes(ref))


def save_edit(
    pipeline: Pipeline, ref: DealRef, before: bytes, after: bytes, commit: bool = True
) -> Outcome:
    """Save a deal the user edited in a copy, if it is valid and changed; one commit."""
    validate_text(pipeline, ref, after)
    if after == before:
        return Outcome(ref, False, f"{ref.id} unchanged")
    with pipeline.change(commit) as ch:
        if ref.path.read_bytes() != before:
            raise UsageError(f"{pipeline.display(ref.path)} changed on disk while you edited it")
        ch.write(ref.path, after)
        ch.set_message(f"edit {ref.id}", "edit", ref.id)
    return Outcome(ref, ch.committed, f"saved {ref.id}")


# --- refusals before a command opens its deal -----------------------------------------------


def about_deal(pipeline: Pipeline, ref_text: str) -> contextlib.AbstractContextManager[None]:
    """Refusals raised inside (a `--date` or `--due` that is no date, read before the command
    opens its deal) name the deal's file, as every refusal of a deal does."""
    return _naming(pipeline, lambda: pipeline.resolve(ref_text).path)


def about_new_deal(
    pipeline: Pipeline, title: str, deal_id: str | None, stage: str | None
) -> contextlib.AbstractContextManager[None]:
    """As `about_deal`, naming the file `add` would make (as its schema refusals do)."""

    def path() -> Path:
        folder = pipeline.stage_dir(pipeline.require_stage(stage or pipeline.config.stage_names[0]))
        return folder / f"{deal_id if deal_id is not None else slugify(title)}.md"

    return _naming(pipeline, path)


@contextlib.contextmanager
def _naming(pipeline: Pipeline, path: Callable[[], Path]) -> Iterator[None]:
    try:
        yield
    except UsageError as exc:
        if exc.path is not None:
            raise
        try:
            where = pipeline.display(path())
        except PipectlError:  # no such deal, a bad stage: the first refusal stands
            raise exc from None
        raise UsageError(exc.message, where) from None
