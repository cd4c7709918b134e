"""A rep's agenda: what to do today, most urgent first, and why each deal is on it.

Pure functions over deals, config and "today"; the thresholds come from the lint settings so
agenda and lint agree. Never reads files, runs git or prints: `render.agenda` lays it out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from pipectl import lint, tasks
from pipectl.config import Config
from pipectl.daily.sweep import DUE, Candidate, candidates
from pipectl.deal import Deal
from pipectl.jsonout import amount
from pipectl.owners import owner_matches

# Sections of the agenda, most urgent first: (key, heading).
SECTIONS: tuple[tuple[str, str], ...] = (
    ("overdue", "Overdue next steps"),
    ("due-today", "Due today"),
    ("closing", "In the closing stage"),
    ("stale", "Stale deals to nudge"),
    ("uncontacted", "New leads not yet contacted"),
    ("last-chance", "Last-chance candidates (pipectl sweep)"),
    ("snoozed", "Snoozed (pipectl unsnooze wakes one)"),
)
SECTION_KEYS = tuple(k for k, _ in SECTIONS)


@dataclass(frozen=True)
class AgendaItem:
    """One thing to do today: the deal, why it is on the list, and other reasons it could be."""

    section: str
    deal: Deal
    detail: str
    date: dt.date | None = None  # the date that orders the item in its section, if any
    also: tuple[str, ...] = ()


@dataclass(frozen=True)
class Agenda:
    """The day's plan for one owner (None: everyone), most urgent first."""

    today: dt.date
    owner: str | None
    items: tuple[AgendaItem, ...]

    def section(self, key: str) -> tuple[AgendaItem, ...]:
        return tuple(i for i in self.items if i.section == key)

    def counts(self) -> dict[str, int]:
        return {k: len(self.section(k)) for k in SECTION_KEYS}


def agenda(
    deals: Iterable[Deal], config: Config, today: dt.date, owner: str | None = None
) -> Agenda:
    """Open deals that need something today, each under its most urgent section.

    Every open task counts (the next step and the open entries of `tasks:`). Stale and
    new-lead limits are PL301's and PL306's settings; last-chance candidates are those
    `pipectl sweep` would send a last chance to. A rule turned off for a stage in
    pipeline.yaml keeps its section quiet for that stage. A snoozed deal is in the snoozed
    section only, until the day it wakes.
    """
    open_names = {s.name for s in config.open_stages}
    mine = [d for d in deals if d.stage in open_names and owner_matches(d, owner, config.team)]
    closing = config.open_stages[-1].name if config.open_stages else None
    last_chance = {c.deal.id: c for c in candidates(mine, config, today) if c.state == DUE}
    items: list[AgendaItem] = []
    for d in mine:
        if tasks.is_snoozed(d, today):  # silent to every time rule: listed as asleep only
            until = tasks.snoozed_until(d)
            items.append(AgendaItem("snoozed", d, tasks.snooze_note(d), until))
            continue
        found = _reasons(d, config, today, closing, last_chance)
        if found:
            first, *rest = found
            items.append(AgendaItem(first[0], d, first[1], first[2], tuple(r[0] for r in rest)))
    items.sort(key=_agenda_order)
    return Agenda(today, owner, tuple(items))


_Reason = tuple[str, str, dt.date | None]


def _reasons(
    d: Deal,
    config: Config,
    today: dt.date,
    closing: str | None,
    last_chance: Mapping[str, Candidate],
) -> list[_Reason]:
    """Every section the deal belongs in, most urgent first."""
    out: list[_Reason] = []
    todo = tasks.open_tasks(d)  # the next step first, then the open entries of `tasks:`
    behind = [t for t in todo if t.due is not None and t.due < today]
    if behind:
        first = min(behind, key=lambda t: t.due or today)
        due = first.due or today
        more = f" (+{len(behind) - 1} more late)" if len(behind) > 1 else ""
        detail = f"{first.summary} — due {due} ({_days(today - due)} late){more}"
        out.append(("overdue", detail, due))
    elif any(t.due == today for t in todo):
        out.append(("due-today", "; ".join(t.summary for t in todo if t.due == today), today))
    if d.stage == closing:
        close = d.date("expected_close")
        what = d.next_step or "no next step"
        out.append(("closing", what + (f"; expected close {close}" if close else ""), close))
    since = lint.last_activity(d)
    limit = lint.setting(config, "PL301", "days", stage=d.stage)
    if since is not None and _on(config, "PL301", d.stage) and 0 < limit < (today - since).days:
        idle = (today - since).days
        out.append(("stale", f"no touchpoint for {idle} days (nudge after {limit})", since))
    ignore = set(lint.setting(config, "PL306", "ignore_kinds"))
    if _on(config, "PL306", d.stage) and not any(t.kind not in ignore for t in d.touchpoints):
        created = d.date("created")
        window = lint.setting(config, "PL306", "days", stage=d.stage)
        if created is None:
            out.append(("uncontacted", "no contact logged yet", None))
        else:
            waited = (today - created).days
            late = f", past the {window}-day window" if waited > window else ""
            out.append(
                ("uncontacted", f"came in {_days_ago(waited)}, no contact yet{late}", created)
            )
    candidate = last_chance.get(d.id)
    if candidate is not None:
        why = "; ".join(candidate.reasons)
        out.append(("last-chance", f"{why}: send a last chance", d.date("created")))
    return out


def _on(config: Config, code: str, stage: str) -> bool:
    return lint.severity(config, code, stage) != "off"


def _agenda_order(item: AgendaItem) -> tuple[int, int, float, str]:
    """Section first; then the oldest date (stale: the longest silence) and biggest value."""
    date = item.date.toordinal() if item.date is not None else dt.date.max.toordinal()
    return (SECTION_KEYS.index(item.section), date, -(item.deal.value or 0.0), item.deal.id)


def _days(delta: dt.timedelta) -> str:
    return "1 day" if delta.days == 1 else f"{delta.days} days"


def _days_ago(days: int) -> str:
    if days <= 0:
        return "today"
    return "yesterday" if days == 1 else f"{days} days ago"


def agenda_json(result: Agenda) -> dict[str, object]:
    """The agenda as JSON-ready data with stable keys, items most urgent first."""
    from pipectl.jsonout import plain

    items = [
        {
            "section": i.section,
            "id": i.deal.id,
            "stage": i.deal.stage,
            "title": i.deal.title,
            "company": i.deal.company,
            "owner": i.deal.owner,
            "value": amount(i.deal.value),
            "next_step": i.deal.next_step,
            "next_step_due": i.deal.date("next_step_due"),
            "tasks": [
                {"n": n, "due": t.due, "summary": t.summary, "owner": t.owner}
                for n, t in enumerate(tasks.open_tasks(i.deal), 1)
            ],
            "snoozed_until": tasks.snoozed_until(i.deal) if i.section == "snoozed" else None,
            "detail": i.detail,
            "also": list(i.also),
        }
        for i in result.items
    ]
    data = {"today": result.today, "owner": result.owner, "counts": result.counts(), "items": items}
    return dict(plain(data))
