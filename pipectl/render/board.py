"""Terminal layout of the board: one column per stage, cards side by side.

Takes the values of `daily.board` and returns a string; colour (ANSI) only when the caller
asks for it. Never prints, never reads files or the environment.
"""

from __future__ import annotations

import textwrap
from collections import Counter
from collections.abc import Sequence

from pipectl.daily.board import Card, Column
from pipectl.render.text import BOLD, DIM, RED, YELLOW, clip, money, paint, visible, width_of

GAP = 2
MIN_COLUMN = 22
MAX_COLUMN = 34


# A cell line: (plain text, the same text painted). Widths come from the plain text.
_Line = tuple[str, str]


def _plain(text: str) -> _Line:
    return (text, text)


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
    lacking = [k for c in columns for k in c.cards if k.unconverted]
    if lacking:
        shown = ", ".join(f"{k.id} ({k.currency})" for k in lacking)
        footer.append(visible(f"unconverted (no rate, in no total): {shown}"))
    if any(card.warnings for c in columns for card in c.cards):
        footer.append("!N: N lint warnings or errors (pipectl lint)")
    if any(card.snoozed_until for c in columns for card in c.cards):
        footer.append("zz DATE: snoozed until then (pipectl unsnooze)")
    unknown = Counter(card.days_unknown for c in columns for card in c.cards if card.days_unknown)
    lines = [clip(line, width) for line in footer]
    for why, n in unknown.items():  # a reason is worth its whole words: wrapped, not clipped
        text = visible(f"?d: days in stage unknown for {_deals(n)}: {why}")
        lines += textwrap.wrap(text, max(20, width), subsequent_indent="  ")
    return out + "\n\n" + "\n".join(lines)


def _deals(n: int) -> str:
    return "1 deal" if n == 1 else f"{n:,} deals"


def _column(
    col: Column, width: int, currency: str, color: bool, show_owner: bool, limit: int
) -> list[_Line]:
    head = clip(col.stage.upper(), width)
    summary = f"{_deals(col.count)} · {money(col.value)} {currency}".rstrip()
    if col.unconverted_count:
        summary += f" +{col.unconverted_count}?"  # deals with no rate, not in the value
    summary = clip(summary, width)
    lines: list[_Line] = [
        (head, paint(head, BOLD, color)),
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
        lines += [_plain(""), (clip(more, width), paint(clip(more, width), DIM, color))]
    return lines


def _card(card: Card, width: int, color: bool, show_owner: bool) -> list[_Line]:
    flag = f"!{card.warnings}" if card.warnings else ""
    ident = clip(card.id, width - (len(flag) + 1 if flag else 0))
    pad = " " * (width - width_of(ident) - len(flag))
    style = RED if card.worst == "error" else YELLOW
    first = (ident + pad + flag, ident + pad + paint(flag, style, color)) if flag else _plain(ident)
    company = clip("  " + (card.company or "-"), width)
    days = "?" if card.days_in_stage is None else str(card.days_in_stage)
    # a deal in another currency shows its own amount (the column's total is in the base)
    shown = money(card.value) if card.currency is None else f"{money(card.amount)} {card.currency}"
    facts = [visible(shown) + ("?" if card.unconverted else ""), f"{days}d"]
    if show_owner and card.owner:
        facts.append(card.owner)
    detail = clip("  " + " · ".join(facts), width)
    lines = [first, _plain(company), (detail, paint(detail, DIM, color))]
    if card.snoozed_until is not None:
        asleep = clip(f"  zz {card.snoozed_until}", width)
        lines.append((asleep, paint(asleep, DIM, color)))
    return lines


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
