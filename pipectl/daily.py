"""The day's views of a pipeline: the board (deals as columns) and a rep's agenda.

Pure functions over deals, config, lint findings and "today", returning frozen values; the
thresholds come from the lint settings so agenda and lint agree. Never reads files, runs git
or prints: the CLI loads the deals and `render_board` lays the values out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from . import lint
from .config import Config, Stage
from .daily_sweep import DUE, Candidate, candidates, owner_matches
from .deal import Deal

# --- the board ------------------------------------------------------------------------------

# Severities that put a flag on a card (info findings do not).
FLAG_SEVERITIES = ("error", "warning")


@dataclass(frozen=True)
class Card:
    """One deal on the board."""

    id: str
    company: str | None
    owner: str | None
    value: float | None
    days_in_stage: int | None
    warnings: int  # lint findings at warning or error
    worst: str | None  # "error", "warning" or None


@dataclass(frozen=True)
class Column:
    """One stage of the board with its cards, biggest value first."""

    stage: str
    closed: str | None
    cards: tuple[Card, ...]

    @property
    def count(self) -> int:
        return len(self.cards)

    @property
    def value(self) -> float:
        """The sum of the values the cards have (a card without a value adds nothing)."""
        return float(sum(c.value for c in self.cards if c.value is not None))


def days_in_stage(deal: Deal, today: dt.date) -> int | None:
    """Days since the deal entered its stage: `stage_entered`, else `closed`, else `created`."""
    since = deal.date("stage_entered") or deal.date("closed") or deal.date("created")
    return None if since is None else (today - since).days


def flags_by_deal(findings: Iterable[lint.Finding]) -> dict[str, tuple[lint.Finding, ...]]:
    """Warnings and errors grouped by deal id; pipeline-wide findings are left out."""
    out: dict[str, list[lint.Finding]] = {}
    for f in findings:
        if f.deal_id is not None and f.severity in FLAG_SEVERITIES:
            out.setdefault(f.deal_id, []).append(f)
    return {k: tuple(v) for k, v in out.items()}


def board(
    deals: Iterable[Deal],
    stages: Sequence[Stage],
    today: dt.date,
    flags: Mapping[str, Sequence[lint.Finding]] | None = None,
    owner: str | None = None,
) -> tuple[Column, ...]:
    """A column per stage in pipeline order, empty stages included, cards biggest first."""
    flags = flags or {}
    by_stage: dict[str, list[Card]] = {s.name: [] for s in stages}
    for d in deals:
        if d.stage not in by_stage or not owner_matches(d, owner):
            continue
        found = flags.get(d.id, ())
        severities = {f.severity for f in found}
        worst = next((s for s in FLAG_SEVERITIES if s in severities), None)
        by_stage[d.stage].append(
            Card(d.id, d.company, d.owner, d.value, days_in_stage(d, today), len(found), worst)
        )
    return tuple(
        Column(s.name, s.closed, tuple(sorted(by_stage[s.name], key=_card_order))) for s in stages
    )


def board_json(columns: Sequence[Column], today: dt.date, owner: str | None) -> dict[str, Any]:
    """The board as JSON-ready data with stable keys: every stage and every card."""
    stages = [
        {"stage": c.stage, "closed": c.closed, "count": c.count, "value": _number(c.value),
         "cards": [{"id": k.id, "company": k.company, "owner": k.owner,
                    "value": _number(k.value), "days_in_stage": k.days_in_stage,
                    "lint_findings": k.warnings, "worst": k.worst} for k in c.cards]}
        for c in columns
    ]  # fmt: skip
    return {"today": today.isoformat(), "owner": owner, "stages": stages}


def _card_order(card: Card) -> tuple[float, str]:
    return (-(card.value or 0.0), card.id)


# --- the agenda -----------------------------------------------------------------------------

# Sections of the agenda, most urgent first: (key, heading).
SECTIONS: tuple[tuple[str, str], ...] = (
    ("overdue", "Overdue next steps"),
    ("due-today", "Due today"),
    ("closing", "In the closing stage"),
    ("stale", "Stale deals to nudge"),
    ("uncontacted", "New leads not yet contacted"),
    ("last-chance", "Last-chance candidates (pipectl sweep)"),
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

    Stale and new-lead limits are PL301's and PL306's settings; last-chance candidates are
    those `pipectl sweep` would send a last chance to. A rule turned off for a stage in
    pipeline.yaml keeps its section quiet for that stage.
    """
    open_names = {s.name for s in config.open_stages}
    mine = [d for d in deals if d.stage in open_names and owner_matches(d, owner)]
    closing = config.open_stages[-1].name if config.open_stages else None
    last_chance = {c.deal.id: c for c in candidates(mine, config, today) if c.state == DUE}
    items: list[AgendaItem] = []
    for d in mine:
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
    step = d.next_step or "next step"
    due = d.date("next_step_due")
    if due is not None and due < today:
        out.append(("overdue", f"{step} — due {due} ({_days(today - due)} late)", due))
    elif due == today:
        out.append(("due-today", step, due))
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
            out.append(("uncontacted", f"came in {_days_ago(waited)}, no contact yet{late}",
                        created))  # fmt: skip
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
    from .jsonout import plain

    items = [
        {
            "section": i.section,
            "id": i.deal.id,
            "stage": i.deal.stage,
            "title": i.deal.title,
            "company": i.deal.company,
            "owner": i.deal.owner,
            "value": _number(i.deal.value),
            "next_step": i.deal.next_step,
            "next_step_due": i.deal.date("next_step_due"),
            "detail": i.detail,
            "also": list(i.also),
        }
        for i in result.items
    ]
    data = {"today": result.today, "owner": result.owner, "counts": result.counts(),
            "items": items}  # fmt: skip
    return dict(plain(data))


def _number(value: float | None) -> float | int | None:
    """12000.0 as 12000: whole amounts read as the user wrote them."""
    return int(value) if value is not None and float(value).is_integer() else value
