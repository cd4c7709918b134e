"""Plain-text presentation: tables and deal views. The only core module that knows the screen.

Takes values, returns strings; printing is the CLI's job.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Sequence
from typing import Any

from pipectl.deal import Deal
from pipectl.money import money as money  # the renderers' formatter, from the kernel
from pipectl.textsafe import visible as visible  # the one sanitiser, from the kernel


def width_of(text: str) -> int:
    if text.isascii():  # the common case, without a table lookup per character
        return len(text)
    wide = sum(1 for c in text if not c.isascii() and unicodedata.east_asian_width(c) in "WF")
    return len(text) + wide


def clip(text: str, width: int) -> str:
    text = visible(text)
    if width_of(text) <= width:
        return text
    out, used = [], 0
    for c in text:
        w = width_of(c)
        if used + w > width - 1:
            break
        out.append(c)
        used += w
    return "".join(out) + "…"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], max_width: int = 120) -> str:
    """Columns padded to fit; the widest text column is clipped to keep within max_width."""
    cols = len(headers)
    rows = [[visible(str(c)) for c in row] for row in rows]
    widths = [max([width_of(headers[i])] + [width_of(r[i]) for r in rows]) for i in range(cols)]
    total = sum(widths) + 2 * (cols - 1)
    if total > max_width and cols:
        widest = max(range(cols), key=lambda i: widths[i])
        widths[widest] = max(8, widths[widest] - (total - max_width))
    lines = []
    for row in [list(headers), *rows]:
        cells = [clip(str(c), widths[i]) for i, c in enumerate(row)]
        pads = [c + " " * (widths[i] - width_of(c)) for i, c in enumerate(cells)]
        lines.append("  ".join(pads).rstrip())
    return "\n".join(lines)


def deal_rows(deals: Sequence[Deal]) -> list[list[str]]:
    rows = []
    for d in deals:
        due = d.date("next_step_due")
        rows.append(
            [
                d.id,
                d.stage,
                d.company or "",
                d.owner or "",
                money(d.value),
                d.next_step or "",
                due.isoformat() if due else "",
            ]
        )
    return rows


DEAL_HEADERS = ("ID", "STAGE", "COMPANY", "OWNER", "VALUE", "NEXT STEP", "DUE")


def deal_detail(deal: Deal, body: str, currency: str) -> str:
    """A deal as a person reads it: the main fields, qualification, touchpoints, notes."""
    f = deal.fields
    lines = [f"{deal.title}  [{deal.id}]", f"stage: {deal.stage}"]
    for key in ("company", "contact", "owner"):
        if f.get(key) is not None:
            lines.append(f"{key}: {f[key]}")
    if deal.value is not None:
        lines.append(f"value: {money(deal.value)} {f.get('currency') or currency}")
    for key in ("created", "stage_entered", "expected_close", "closed", "lost_reason"):
        if f.get(key) is not None:
            lines.append(f"{key}: {_text(f[key])}")
    if deal.next_step:
        due = deal.date("next_step_due")
        lines.append(f"next step: {deal.next_step}" + (f" (due {due})" if due else ""))
    if deal.tags:
        lines.append(f"tags: {', '.join(deal.tags)}")
    if deal.qualification:
        lines.append("qualification:")
        lines.extend(f"  {k}: {_text(v)}" for k, v in deal.qualification.items())
    known = {
        "title",
        "company",
        "contact",
        "owner",
        "value",
        "currency",
        "created",
        "stage_entered",
        "expected_close",
        "closed",
        "lost_reason",
        "next_step",
        "next_step_due",
        "tags",
        "qualification",
        "touchpoints",
    }
    for key, value in f.items():
        if key not in known:
            lines.append(f"{key}: {_text(value)}")
    if deal.touchpoints:
        lines.append(f"touchpoints ({len(deal.touchpoints)}):")
        for t in deal.touchpoints:
            outcome = f" [{t.outcome}]" if t.outcome else ""
            lines.append(f"  {t.date or '????-??-??'}  {t.kind:<8} {t.summary}{outcome}")
    lines = [visible(line) for line in lines]
    if body.strip():
        lines.extend(["", visible(body.strip("\r\n"), lines=True)])
    return "\n".join(lines)


def _text(value: Any) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value)
    return str(value)


BOLD, RED, YELLOW, DIM, RESET = "\x1b[1m", "\x1b[31m", "\x1b[33m", "\x1b[2m", "\x1b[0m"


def paint(text: str, style: str, color: bool) -> str:
    """Text in an ANSI style when colour is asked for (an empty text stays empty)."""
    return f"{style}{text}{RESET}" if color and text else text
