"""`pipectl task add|done|list`, `pipectl snooze` and `unsnooze`: the writes to a deal's tasks
and snooze, and the list of open tasks across deals.

The reading of the fields is the kernel's (`pipectl/tasks.py`); each write here is one
`Pipeline.change()` (one commit, the usual message and trailers), edits only the bytes it
means to (`dealedit`), and never prints.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipectl import owners
from pipectl import tasks as kernel
from pipectl.config import Config
from pipectl.deal import Deal, parse_yaml
from pipectl.dealedit import REMOVE, append_item, set_fields, set_item_field
from pipectl.errors import UsageError
from pipectl.jsonout import plain
from pipectl.ops import (
    Outcome,
    _named,  # a refusal of an edit names the deal's file, as ops' do
    touchpoint,
)
from pipectl.store import DealRef, Pipeline
from pipectl.tasks import is_snoozed, open_tasks, overdue_tasks, snoozed_until

# The reading is the kernel's (lint needs it too); here for whoever looks for it beside the
# writes: `from pipectl.daily.tasks import open_tasks, is_snoozed` is the same function.
__all__ = [
    "TaskRow",
    "add",
    "done",
    "is_snoozed",
    "open_tasks",
    "overdue_tasks",
    "pick",
    "row_records",
    "rows",
    "snooze",
    "snoozed_until",
    "unsnooze",
]


def add(
    pipeline: Pipeline,
    ref_text: str,
    summary: str,
    *,
    due: dt.date,
    owner: str | None = None,
    commit: bool = True,
) -> Outcome:
    """Append one task `{due, summary, owner}` to the deal's `tasks:` (the key made when it
    is absent); only that entry's line is added."""
    summary = summary.strip()
    if not summary:
        raise UsageError("a task needs a summary")
    if "\n" in summary or "\r" in summary:
        raise UsageError("a task's summary is one line")
    item: dict[str, Any] = {"due": due, "summary": summary}
    if owner is not None:
        item["owner"] = _handle(pipeline.config, owner)
    with pipeline.change(commit) as ch:
        ref, deal = _open_deal(pipeline, ref_text)
        text = pipeline.read_text(ref)
        new = _named(pipeline, ref, lambda: append_item(text, kernel.TASKS_KEY, item))
        ch.write(ref.path, new.render())
        number = len(kernel.open_tasks(deal)) + 1
        ch.set_message(f"task {ref.id}: {summary} (due {due})", "task", ref.id, shorten=True)
    who = f" for {item['owner']}" if "owner" in item else ""
    return Outcome(ref, ch.committed, f"task {number} on {ref.id}{who}: {summary} (due {due})")


def done(
    pipeline: Pipeline,
    ref_text: str,
    which: str | None,
    *,
    when: dt.date,
    log_kind: str | None = None,
    outcome: str | None = None,
    commit: bool = True,
) -> Outcome:
    """Mark one open task done on `when`: an entry of `tasks:` gets `done: DATE`; the next
    step (task 1 when the deal has one) is cleared, as a closing move clears it (git keeps
    it). `which` is the task's number among the open tasks, or words of its summary; it may
    be left out when the deal has one open task. With `log_kind`, the touchpoint the task
    was (its summary, `outcome`) is logged in the same commit."""
    if outcome is not None and log_kind is None:
        raise UsageError("--outcome goes with --log KIND (the touchpoint the task was)")
    with pipeline.change(commit) as ch:
        ref, deal = _open_deal(pipeline, ref_text)
        task = pick(deal, which, pipeline.display(ref.path))
        text = pipeline.read_text(ref)
        if task.index is None:
            changes = {"next_step": REMOVE, "next_step_due": REMOVE}
            new = _named(pipeline, ref, lambda: set_fields(text, changes))
        else:
            index = task.index
            new = _named(
                pipeline, ref, lambda: set_item_field(text, kernel.TASKS_KEY, index, "done", when)
            )
        logged = ""
        if log_kind is not None:
            item = touchpoint(pipeline.config, log_kind, task.summary, when, outcome)
            after = new
            new = _named(pipeline, ref, lambda: append_item(after, "touchpoints", item))
            logged = f", logged {log_kind}"
        ch.write(ref.path, new.render())
        trailers = {"Logged": log_kind} if log_kind else {}
        subject = f"task done {ref.id}: {task.summary}{logged}"
        ch.set_message(subject, "task", ref.id, trailers=trailers, shorten=True)
    return Outcome(ref, ch.committed, f"done on {ref.id}: {task.summary}{logged}")


def pick(deal: Deal, which: str | None, shown: Path | None = None) -> kernel.Task:
    """The open task `which` names: its number (1 = the first open task), or words of its
    summary (case ignored) that only it holds; None when the deal has exactly one."""
    found = kernel.open_tasks(deal)
    listing = "; ".join(f"{i}. {t.summary}" for i, t in enumerate(found, 1))
    if not found:
        raise UsageError(f"{deal.id} has no open task", shown)
    if which is None or not which.strip():
        if len(found) == 1:
            return found[0]
        raise UsageError(f"{deal.id} has {len(found)} open tasks: name one ({listing})", shown)
    words = which.strip()
    if words.isdigit():
        n = int(words)
        if not 1 <= n <= len(found):
            raise UsageError(f"{deal.id} has no open task {n} (open: {listing})", shown)
        return found[n - 1]
    hits = [t for t in found if words.casefold() in t.summary.casefold()]
    if len(hits) == 1:
        return hits[0]
    what = "no open task" if not hits else f"{len(hits)} open tasks"
    raise UsageError(f"{what} of {deal.id} says {words!r} (open: {listing})", shown)


# --- snooze ---------------------------------------------------------------------------------


def snooze(
    pipeline: Pipeline,
    ref_text: str,
    until: dt.date,
    *,
    today: dt.date,
    reason: str | None = None,
    commit: bool = True,
) -> Outcome:
    """Snooze an open deal until `until` (after today): the time rules are silent for it
    before that day. Sets `snoozed_until` and `snooze_reason` (a former reason goes)."""
    changes = snooze_changes(until, today, reason)
    reason = changes[kernel.SNOOZE_REASON] if changes[kernel.SNOOZE_REASON] is not REMOVE else None
    with pipeline.change(commit) as ch:
        ref, _deal = _open_deal(pipeline, ref_text)
        text = pipeline.read_text(ref)
        new = _named(pipeline, ref, lambda: set_fields(text, changes))
        ch.write(ref.path, new.render())
        why = f" ({reason})" if reason else ""
        ch.set_message(f"snooze {ref.id} until {until}{why}", "snooze", ref.id, shorten=True)
    limit = pipeline.config.snooze_max_days
    note = ""
    if 0 < limit < (until - today).days:
        note = f"; longer than snooze.max_days ({limit}): lint flags it (PL308)"
    return Outcome(ref, ch.committed, f"snoozed {ref.id} until {until}{why}{note}")


def snooze_changes(until: dt.date, today: dt.date, reason: str | None = None) -> dict[str, Any]:
    """The fields `snooze` sets, checked as it checks them (the editor's "snooze" action's
    edit too): `snoozed_until`, and `snooze_reason` or its removal."""
    if until <= today:
        raise UsageError(f"--until {until} is not after today ({today}): a snooze ends later")
    reason = (reason or "").strip() or None
    if reason is not None and ("\n" in reason or "\r" in reason):
        raise UsageError("--reason is one line")
    return {kernel.SNOOZED_UNTIL: until, kernel.SNOOZE_REASON: reason or REMOVE}


def unsnooze(pipeline: Pipeline, ref_text: str, commit: bool = True) -> Outcome:
    """Wake a snoozed deal now: `snoozed_until` and `snooze_reason` are removed."""
    with pipeline.change(commit) as ch:
        ref, deal = _read(pipeline, ref_text)
        if kernel.SNOOZED_UNTIL not in deal.fields:
            raise UsageError(f"{ref.id} is not snoozed", pipeline.display(ref.path))
        text = pipeline.read_text(ref)
        changes = {kernel.SNOOZED_UNTIL: REMOVE, kernel.SNOOZE_REASON: REMOVE}
        new = _named(pipeline, ref, lambda: set_fields(text, changes))
        ch.write(ref.path, new.render())
        ch.set_message(f"unsnooze {ref.id}", "unsnooze", ref.id)
    return Outcome(ref, ch.committed, f"{ref.id} is awake")


# --- the list -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskRow:
    """One open task of `task list`: its deal, its number there, whose it is, how late."""

    deal: Deal
    number: int
    task: kernel.Task
    owner: str | None
    late: int | None  # days past due (0 or less: not late); None: no due date
    snoozed: bool


def rows(
    deals: Iterable[Deal],
    config: Config,
    today: dt.date,
    *,
    owner: str | None = None,
    overdue: bool = False,
) -> tuple[TaskRow, ...]:
    """The open tasks of the open deals, soonest due first (undated last), then by deal.

    `owner` is an `owner_filter` answer, matched against the task's owner (else the deal's);
    `overdue` keeps the tasks PL303 reports (its grace days counted; a snoozed deal's are
    silent until it wakes)."""
    open_names = {s.name for s in config.open_stages}
    out: list[TaskRow] = []
    for d in deals:
        if d.stage not in open_names:
            continue
        asleep = kernel.is_snoozed(d, today)
        late_ones: Sequence[kernel.Task] = ()
        if overdue:
            if asleep:
                continue
            grace = _grace(config, d.stage)
            late_ones = kernel.overdue_tasks(d, today, grace)
        for n, t in enumerate(kernel.open_tasks(d), 1):
            who = kernel.task_owner(t, d)
            if overdue and t not in late_ones:
                continue
            if not owners.name_matches(who, owner, config.team):
                continue
            out.append(TaskRow(d, n, t, who, t.days_late(today), asleep))
    out.sort(key=lambda r: (r.task.due or dt.date.max, r.deal.id, r.number))
    return tuple(out)


def _grace(config: Config, stage: str) -> int:
    from pipectl import lint  # PL303's own setting, as `list --overdue` reads it

    return int(lint.setting(config, "PL303", "grace_days", stage))


ROW_FIELDS = ("deal", "n", "due", "late", "owner", "summary", "stage", "snoozed_until")


def row_records(found: Iterable[TaskRow]) -> list[dict[str, Any]]:
    """The rows as plain records (ROW_FIELDS), for tsv, csv and JSON."""
    return [
        dict(
            plain(
                {
                    "deal": r.deal.id,
                    "n": r.number,
                    "due": r.task.due,
                    "late": r.late if r.late is not None and r.late > 0 else None,
                    "owner": r.owner,
                    "summary": r.task.summary,
                    "stage": r.deal.stage,
                    "snoozed_until": kernel.snoozed_until(r.deal) if r.snoozed else None,
                }
            )
        )
        for r in found
    ]


# --- shared steps -----------------------------------------------------------------------------


def _handle(config: Config, owner: str) -> str:
    """A task's owner as the roster names them (its handle); refused like a deal's owner."""
    problem = owners.roster_problem(config.team, owner)
    if problem is not None:
        raise UsageError(f"--owner: {problem}")
    found = owners.member(config.team, owner)
    return found.handle if found is not None else owner.strip()


def _read(pipeline: Pipeline, ref_text: str) -> tuple[DealRef, Deal]:
    ref = pipeline.resolve(ref_text)
    parse_yaml(pipeline.read_text(ref), pipeline.display(ref.path))  # a broken file: its line
    return ref, pipeline.read_deal(ref)


def _open_deal(pipeline: Pipeline, ref_text: str) -> tuple[DealRef, Deal]:
    """The deal, refused (naming its file) when it is won or lost: tasks and snoozes are
    for open deals."""
    ref, deal = _read(pipeline, ref_text)
    stage = pipeline.config.stage(ref.stage)
    if stage is not None and not stage.is_open:
        shown = pipeline.display(ref.path)
        raise UsageError(f"{ref.id} is {stage.closed}: tasks and snoozes are for open deals", shown)
    return ref, deal
