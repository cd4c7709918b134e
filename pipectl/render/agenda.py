"""Terminal layout of the agenda: sections most urgent first, aligned rows.

Takes the value of `daily.agenda` and returns a string; colour only when asked for.
"""

from __future__ import annotations

from collections.abc import Sequence

from pipectl.daily.agenda import SECTIONS, Agenda, AgendaItem
from pipectl.render.text import BOLD, clip, money, paint, visible, width_of


def agenda(result: Agenda, width: int, *, color: bool = False) -> str:
    """Sections most urgent first; per deal its id, stage, value and what to do."""
    who = visible(result.owner or "everyone")
    if not result.items:
        return f"Nothing on the agenda for {who} on {result.today}."
    lines = [paint(f"Agenda for {who}, {result.today}: {_items(len(result.items))}", BOLD, color)]
    show_owner = result.owner is None
    rows = [_agenda_row(i, show_owner) for i in result.items]
    laid = _aligned(rows, width)
    for key, heading in SECTIONS:
        section = [lines for i, lines in zip(result.items, laid, strict=True) if i.section == key]
        if section:
            lines += ["", paint(f"{heading} ({len(section)})", BOLD, color)]
            lines += [line for item_lines in section for line in item_lines]
    return "\n".join(lines)


def _aligned(rows: Sequence[Sequence[str]], width: int) -> list[list[str]]:
    """Rows with aligned columns and the last cell after them, or (for every row, when one
    does not fit) on a line of its own below them."""
    widths = [max(width_of(r[k]) for r in rows) for k in range(len(rows[0]) - 1)]
    starts = [
        "  " + "  ".join(c + " " * (widths[k] - width_of(c)) for k, c in enumerate(r[:-1]))
        for r in rows
    ]
    if all(width_of(s) + 2 + width_of(r[-1]) <= width for s, r in zip(starts, rows, strict=True)):
        return [[s + "  " + r[-1]] for s, r in zip(starts, rows, strict=True)]
    return [[s.rstrip(), clip("      " + r[-1], width)] for s, r in zip(starts, rows, strict=True)]


def _items(n: int) -> str:
    return "1 item" if n == 1 else f"{n} items"


def _agenda_row(item: AgendaItem, show_owner: bool) -> list[str]:
    d = item.deal
    row = [d.id, d.stage, money(d.value)]
    if show_owner:
        row.append(d.owner or "-")
    also = f" (also: {', '.join(item.also)})" if item.also else ""
    # user text (ids, owners, next steps) is escaped before widths are measured
    return [visible(cell) for cell in [*row, f"{item.detail}{also}"]]


# `pipectl agenda --format tsv|csv`: one item a line, most urgent first, as agenda --json
AGENDA_FIELDS = (
    "section",
    "id",
    "stage",
    "title",
    "owner",
    "value",
    "next_step",
    "next_step_due",
    "detail",
    "also",
)


def agenda_records(result: Agenda) -> list[list[object]]:
    from pipectl.jsonout import amount

    return [
        [
            i.section,
            i.deal.id,
            i.deal.stage,
            i.deal.title,
            i.deal.owner,
            amount(i.deal.value),
            i.deal.next_step,
            i.deal.date("next_step_due"),
            i.detail,
            ",".join(i.also),
        ]
        for i in result.items
    ]
