"""A deal's tasks and its snooze: the one reading of `tasks:`, `next_step` and `snoozed_until`.

Every command that asks "what is there to do on this deal" or "is this deal asleep" asks
here, so lint (PL203, PL303, the time rules), the agenda, the board, the sweep and
`pipectl task list` agree. Pure functions over a parsed `Deal`; nothing here reads files,
writes or prints. The changing commands (`task add|done`, `snooze`, `unsnooze`) are in
`pipectl/daily/tasks.py`.

The fields (docs/fields.md):

    next_step: Send the proposal          # the deal's first open task, as it always was
    next_step_due: 2026-12-04
    tasks:                                # more dated tasks, in the order they were added
      - {due: 2026-12-08, summary: Call legal, owner: bob}
      - {due: 2026-12-01, summary: Book the demo, done: 2026-12-01}
    snoozed_until: 2027-01-05             # the time rules are silent until this day
    snooze_reason: Budget frozen until January

A task is open until it has a `done:` date. `next_step` (or a `next_step_due` alone) counts as
the first open task, numbered 1 when it is there; the open entries of `tasks:` follow in file
order. A deal is snoozed while today is before `snoozed_until`: on that day it wakes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pipectl.deal import Deal
from pipectl.fieldtypes import as_date, show

TASKS_KEY = "tasks"
SNOOZED_UNTIL = "snoozed_until"
SNOOZE_REASON = "snooze_reason"
# The parts of one entry of `tasks:`; `due` and `summary` are required.
TASK_KEYS = ("due", "summary", "owner", "done")
# The time rules a snooze silences: stale, stuck in stage, overdue tasks, missed close date,
# past the sales cycle (a dead lead), slow first contact, unanswered outreach (the cadence).
SNOOZED_RULES = ("PL301", "PL302", "PL303", "PL304", "PL305", "PL306", "PL501")


@dataclass(frozen=True)
class Task:
    """One task of a deal. `index` is its place in `tasks:` (0-based), or None for the
    deal's `next_step`; `done` is the day it was done (None: open)."""

    summary: str
    due: dt.date | None
    owner: str | None = None
    done: dt.date | None = None
    index: int | None = None

    @property
    def is_next_step(self) -> bool:
        return self.index is None

    @property
    def key(self) -> str:
        """The top-level key whose line a finding on this task points at."""
        return "next_step_due" if self.index is None else TASKS_KEY

    def days_late(self, today: dt.date) -> int | None:
        """Days past its due date (0 or less: not late); None when it has no due date."""
        return None if self.due is None else (today - self.due).days


def all_tasks(deal: Deal) -> tuple[Task, ...]:
    """Every task of the deal, done ones included: the next step first, then `tasks:` in
    file order. A malformed entry is left out (lint's PL103 reports it)."""
    out: list[Task] = []
    step = next_step_task(deal)
    if step is not None:
        out.append(step)
    raw = deal.fields.get(TASKS_KEY)
    if isinstance(raw, list):
        for i, item in enumerate(raw):
            if isinstance(item, Mapping) and task_problem(item) is None:
                owner = item.get("owner")
                out.append(
                    Task(
                        summary=str(item.get("summary")).strip(),
                        due=as_date(item.get("due")),
                        owner=None if owner is None else str(owner),
                        done=as_date(item.get("done")),
                        index=i,
                    )
                )
    return tuple(out)


def open_tasks(deal: Deal) -> tuple[Task, ...]:
    """The deal's open tasks, numbered by their place here (1 = the first): its next step
    when it has one, then the entries of `tasks:` without a `done:` date, in file order."""
    return tuple(t for t in all_tasks(deal) if t.done is None)


def next_step_task(deal: Deal) -> Task | None:
    """`next_step` / `next_step_due` as a task (owned by the deal's owner), or None."""
    step = deal.next_step
    due = deal.date("next_step_due")
    if (step is None or not step.strip()) and due is None:
        return None
    return Task((step or "").strip() or "next step", due, deal.owner)


def overdue_tasks(deal: Deal, today: dt.date, grace_days: int = 0) -> tuple[Task, ...]:
    """The open tasks more than `grace_days` past their due date, in open_tasks order
    (PL303's test; `list --overdue`, the agenda and the board use it)."""
    return tuple(t for t in open_tasks(deal) if (t.days_late(today) or 0) > grace_days)


def first_due(deal: Deal) -> Task | None:
    """The open task due soonest (the first of them on a tie), or None when none has a date."""
    dated = [t for t in open_tasks(deal) if t.due is not None]
    return min(dated, key=lambda t: t.due or dt.date.max) if dated else None


def task_owner(task: Task, deal: Deal) -> str | None:
    """Who a task is for: its own owner, else the deal's."""
    return task.owner or deal.owner


# --- snooze ---------------------------------------------------------------------------------


def snoozed_until(deal: Deal) -> dt.date | None:
    """The day the deal's snooze ends (`snoozed_until`), whether it has passed or not."""
    return as_date(deal.fields.get(SNOOZED_UNTIL))


def is_snoozed(deal: Deal, today: dt.date) -> bool:
    """Whether the time rules (SNOOZED_RULES) are silent for the deal today: today is before
    its `snoozed_until`. On that day and after, they apply again."""
    until = snoozed_until(deal)
    return until is not None and today < until


def snooze_reason(deal: Deal) -> str | None:
    """The `snooze_reason` text, or None."""
    reason = deal.fields.get(SNOOZE_REASON)
    if reason is None or isinstance(reason, Mapping | list):
        return None
    return str(reason).strip() or None


def snooze_note(deal: Deal) -> str:
    """The snooze in words, for a screen: `snoozed until 2027-01-05 (budget frozen)`."""
    reason = snooze_reason(deal)
    return f"snoozed until {snoozed_until(deal)}" + (f" ({reason})" if reason else "")


# --- the schema's check -----------------------------------------------------------------------


def task_problem(item: Any) -> str | None:
    """Why one entry of `tasks:` is refused, or None: a mapping of TASK_KEYS with a `due`
    date, a `summary` text on one line, an `owner` word, and `done` a date when present."""
    if not isinstance(item, Mapping):
        return "must be a mapping {due, summary, owner, done}"
    for key in item:
        if key not in TASK_KEYS:
            return f"{show(key)} is not one of {', '.join(TASK_KEYS)}"
    if as_date(item.get("due")) is None:
        return f"due {show(item.get('due'))} is not a date (use YYYY-MM-DD)"
    summary = item.get("summary")
    if summary is None or isinstance(summary, Mapping | list | bool) or not str(summary).strip():
        return "needs a summary (text)"
    if isinstance(summary, str) and ("\n" in summary or "\r" in summary):
        return "summary must be text on one line"
    owner = item.get("owner")
    if owner is not None and (isinstance(owner, Mapping | list | bool) or not str(owner).strip()):
        return f"owner {show(owner)} is not a handle"
    if item.get("done") is not None and as_date(item.get("done")) is None:
        return f"done {show(item.get('done'))} is not a date (use YYYY-MM-DD)"
    return None


def tasks_problems(raw: Any) -> list[tuple[int | None, str]]:
    """The faults of a `tasks:` value: (the entry's index or None for the whole, message)."""
    if not isinstance(raw, list):
        return [(None, "tasks: must be a list of {due, summary, owner, done} entries")]
    found = [(i, task_problem(item)) for i, item in enumerate(raw)]
    return [(i, f"task {i + 1}: {p}") for i, p in found if p is not None]


JSON_SCHEMA: dict[str, Any] = {
    "type": ["array", "null"],
    "items": {
        "type": "object",
        "required": ["due", "summary"],
        "properties": {
            "due": {"type": "string", "format": "date"},
            "summary": {"type": ["string", "number"]},
            "owner": {"type": ["string", "null"]},
            "done": {"type": ["string", "null"], "format": "date"},
        },
        "additionalProperties": False,
    },
}

# The section of docs/fields.md on these fields (fielddoc.fields_markdown includes it).
FIELDS_DOC = (
    "",
    "## Tasks and snooze",
    "",
    "`tasks:` lists a deal's dated tasks beside its `next_step`, each a mapping of `due` (a "
    "date), `summary` (text), `owner` (a handle, optional: the deal's owner by default) and "
    "`done` (the date it was done; absent while it is open). `next_step`/`next_step_due` stay "
    "valid and are the deal's first open task to every command:",
    "",
    "```yaml",
    "tasks:",
    "  - {due: 2026-12-08, summary: Call legal, owner: bob}",
    "  - {due: 2026-12-01, summary: Book the demo, done: 2026-12-01}",
    "snoozed_until: 2027-01-05",
    "snooze_reason: Budget frozen until January",
    "```",
    "",
    "`snoozed_until` silences the time rules (" + ", ".join(SNOOZED_RULES) + ") for the deal "
    "before that day, in lint, agenda, sweep and board; from that day they apply again. "
    "`pipectl task` and `pipectl snooze` write them (docs/daily.md).",
)
