"""Terminal layout of the daily views: the board as columns, the agenda, the sweep list.

Takes the values of `daily` and `daily_sweep` and returns strings; colour (ANSI) only when
the caller asks for it. Never prints, never reads files or the environment.
"""

from __future__ import annotations

from collections.abc import Sequence

from .daily import SECTIONS, Agenda, AgendaItem, Card, Column
from .daily_sweep import ANSWERED, DUE, EXPIRED, WAITING, Candidate, SweepResult
from .render import clip, money, width_of

GAP = 2
MIN_COLUMN = 22
MAX_COLUMN = 34

_BOLD, _RED, _YELLOW, _DIM, _RESET = "\x1b[1m", "\x1b[31m", "\x1b[33m", "\x1b[2m", "\x1b[0m"


def _paint(text: str, style: str, color: bool) -> str:
    return f"{style}{text}{_RESET}" if color and text else text


# A cell line: (plain text, the same text painted). Widths come from the plain text.
_Line = tuple[str, str]


def _plain(text: str) -> _Line:
    return (text, text)


# --- the board ------------------------------------------------------------------------------


def board(
    columns: Sequence[Column],
    width: int,
    *,
    currency: str = "",
    color: bool = False,
    show_owner: bool = True,
    limit: int = 0,
) -> str:
    """Stages side by side; when they do not fit in `width`, several rows of columns.

    With a `limit`, each column shows that many cards (biggest first) and counts the rest.
    """
    if not columns:
        return "no stages"
    per_row = max(1, min(len(columns), (width + GAP) // (MIN_COLUMN + GAP)))
    rows = -(-len(columns) // per_row)
    per_row = -(-len(columns) // rows)  # balance the rows: 4 stages in 2 rows are 2 + 2
    col_width = min(MAX_COLUMN, (width - GAP * (per_row - 1)) // per_row)
    col_width = max(10, col_width)
    blocks = []
    for start in range(0, len(columns), per_row):
        cells = [
            _column(c, col_width, currency, color, show_owner, limit)
            for c in columns[start : start + per_row]
        ]
        blocks.append(_side_by_side(cells, col_width))
    out = "\n\n".join(blocks)
    total = sum(c.count for c in columns if c.closed is None)
    value = sum(c.value for c in columns if c.closed is None)
    footer = [f"open: {_deals(total)} · {money(value)} {currency}".rstrip()]
    if any(card.warnings for c in columns for card in c.cards):
        footer.append("!N: N lint warnings or errors (pipectl lint)")
    return out + "\n\n" + "\n".join(clip(line, width) for line in footer)


def _deals(n: int) -> str:
    return "1 deal" if n == 1 else f"{n:,} deals"


def _column(
    col: Column, width: int, currency: str, color: bool, show_owner: bool, limit: int
) -> list[_Line]:
    head = clip(col.stage.upper(), width)
    summary = clip(f"{_deals(col.count)} · {money(col.value)} {currency}".rstrip(), width)
    lines: list[_Line] = [
        (head, _paint(head, _BOLD, color)),
        _plain(summary),
        _plain("-" * width),
    ]
    shown = col.cards[:limit] if limit > 0 else col.cards
    for i, card in enumerate(shown):
        if i:
            lines.append(_plain(""))
        lines.extend(_card(card, width, color, show_owner))
    if len(shown) < col.count:
        more = f"… {col.count - len(shown)} more"
        lines += [_plain(""), (clip(more, width), _paint(clip(more, width), _DIM, color))]
    return lines


def _card(card: Card, width: int, color: bool, show_owner: bool) -> list[_Line]:
    flag = f"!{card.warnings}" if card.warnings else ""
    ident = clip(card.id, width - (len(flag) + 1 if flag else 0))
    pad = " " * (width - width_of(ident) - len(flag))
    style = _RED if card.worst == "error" else _YELLOW
    first = (
        (ident + pad + flag, ident + pad + _paint(flag, style, color)) if flag else _plain(ident)
    )
    company = clip("  " + (card.company or "-"), width)
    days = "?" if card.days_in_stage is None else str(card.days_in_stage)
    facts = [money(card.value), f"{days}d"]
    if show_owner and card.owner:
        facts.append(card.owner)
    detail = clip("  " + " · ".join(facts), width)
    return [first, _plain(company), (detail, _paint(detail, _DIM, color))]


def _side_by_side(cells: Sequence[list[_Line]], width: int) -> str:
    height = max(len(c) for c in cells)
    lines = []
    for i in range(height):
        parts = []
        for cell in cells:
            plain, painted = cell[i] if i < len(cell) else ("", "")
            parts.append(painted + " " * (width - width_of(plain)))
        lines.append((" " * GAP).join(parts).rstrip())
    return "\n".join(lines)


# --- the agenda -----------------------------------------------------------------------------


def agenda(result: Agenda, width: int, *, color: bool = False) -> str:
    """Sections most urgent first; per deal its id, stage, value and what to do."""
    who = result.owner or "everyone"
    if not result.items:
        return f"Nothing on the agenda for {who} on {result.today}."
    lines = [_paint(f"Agenda for {who}, {result.today}: {_items(len(result.items))}", _BOLD,
                    color)]  # fmt: skip
    show_owner = result.owner is None
    rows = [_agenda_row(i, show_owner) for i in result.items]
    laid = _aligned(rows, width)
    for key, heading in SECTIONS:
        section = [lines for i, lines in zip(result.items, laid, strict=True) if i.section == key]
        if section:
            lines += ["", _paint(f"{heading} ({len(section)})", _BOLD, color)]
            lines += [line for item_lines in section for line in item_lines]
    return "\n".join(lines)


def _aligned(rows: Sequence[Sequence[str]], width: int) -> list[list[str]]:
    """Rows with aligned columns and the last cell after them, or (for every row, when one
    does not fit) on a line of its own below them."""
    widths = [max(width_of(r[k]) for r in rows) for k in range(len(rows[0]) - 1)]
    starts = ["  " + "  ".join(c + " " * (widths[k] - width_of(c)) for k, c in enumerate(r[:-1]))
              for r in rows]  # fmt: skip
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
    return [*row, f"{item.detail}{also}"]


# --- the sweep ------------------------------------------------------------------------------


def sweep(result: SweepResult, width: int, kind: str, reason: str) -> str:
    """Each candidate with why it is one and what happened (or would happen) to it."""
    if not result.candidates:
        return f"No deals to sweep on {result.today}: none past the sales cycle or out of attempts."
    rows = [[c.deal.id, c.deal.stage, c.deal.owner or "-", "; ".join(c.reasons)]
            for c in result.candidates]  # fmt: skip
    widths = [max(width_of(r[k]) for r in rows) for k in range(3)]
    lines = []
    for c, row in zip(result.candidates, rows, strict=True):
        cells = [x + " " * (widths[k] - width_of(x)) for k, x in enumerate(row[:3])]
        lines.append(clip("  ".join([*cells, row[3]]), width))
        lines.append(clip("  -> " + _what(c, result, kind, reason), width))
    return "\n".join(lines) + "\n\n" + _summary(result)


def _what(c: Candidate, result: SweepResult, kind: str, reason: str) -> str:
    deal_id = c.deal.id
    if c.state == DUE:
        if deal_id in result.sent:
            verb = "would send" if result.dry_run else "sent"
            return f"{verb} by {kind} today, answer by {result.deadline}"
        return "none sent yet (--last-chance sends one)"
    if c.state == WAITING:
        until = f" until {c.deadline}" if c.deadline else ""
        return f"sent {c.last_chance or '?'}, waiting{until}"
    if c.state == EXPIRED:
        if deal_id in result.closed:
            verb = "would close" if result.dry_run else "closed"
            return f"no answer since {c.last_chance or '?'}: {verb} as lost ({reason})"
        return f"expired {c.deadline} with no answer (--close closes it)"
    assert c.state == ANSWERED
    return f"answered {c.answered} after the last chance of {c.last_chance}: kept"


def _summary(result: SweepResult) -> str:
    n = len(result.candidates)
    found = f"{n} candidate{'s' if n != 1 else ''}"
    sent, closed = len(result.sent), len(result.closed)
    if result.dry_run:
        if not sent and not closed:
            return f"dry run: {found}, nothing to do today"
        todo = []
        if sent:
            todo.append(f"--last-chance would send {sent}")
        if closed:
            todo.append(f"--close would close {closed} as lost")
        return f"dry run, nothing changed: {found}; " + ", ".join(todo)
    done = []
    if sent:
        done.append(f"sent {sent} last chance{'s' if sent != 1 else ''}")
    if closed:
        done.append(f"closed {closed} as lost")
    if not done:
        return f"{found}; nothing to do today"
    commit = " in one commit" if result.committed else " (not committed)"
    return f"{found}; " + ", ".join(done) + commit
