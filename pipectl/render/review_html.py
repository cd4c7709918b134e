"""The dashboard's weekly-review cards: trend lines by week or month (a toggle the page's own
script works, offline), this week's waterfall, and this week's changes as a table.

Takes the report's trends and a `pipectl changes` reading of the last seven days; returns HTML
fragments for render/html.py's page, each figure's exact value in a data attribute. Computes
nothing but the running totals a waterfall draws; prints nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pipectl.changes import Changes
from pipectl.render.changes import STEP, WORDS, detail
from pipectl.render.svg import PALETTE, e, empty, line, steps
from pipectl.render.text import money
from pipectl.trends import Trends


def trend_card(t: Trends | None) -> str:
    """Open value at each week's end (or month's), and the new deals, slips and touchpoints
    beneath, with a Weeks/Months toggle."""
    if t is None or not t.weeks:
        return empty("no trends: run with --weeks N")
    weekly = [
        (w.start.isoformat(), w.open_count, w.open_value, w.new_count, w.slipped, w.touchpoints)
        for w in t.weeks
    ]
    monthly = [
        (f"{m.start:%Y-%m}", m.open_count, m.open_value, m.new_count, m.slipped, m.touchpoints)
        for m in t.months
    ]
    toggle = (
        '<div class="toggle" role="group" aria-label="granularity">'
        '<button type="button" data-show="week" aria-pressed="true">Weeks</button>'
        '<button type="button" data-show="month" aria-pressed="false">Months</button></div>'
    )
    return toggle + _view("week", weekly, hidden=False) + _view("month", monthly, hidden=True)


def _view(name: str, rows: Sequence[tuple[str, int, Any, int, int, int]], hidden: bool) -> str:
    labels = [r[0][5:] if name == "week" else r[0] for r in rows]  # 11-23: a week's Monday
    values = [float(r[2] or 0) for r in rows]
    data = [
        {"period": r[0], "open-count": r[1], "open-value": r[2], "new": r[3], "slipped": r[4],
         "touchpoints": r[5]}
        for r in rows
    ]  # fmt: skip
    chart = line(labels, values, f"trend-{name}", data, PALETTE[0])
    head = "".join(f'<th class="n">{e(label)}</th>' for label in labels)
    body = "".join(
        f"<tr><th>{e(title)}</th>"
        + "".join(f'<td class="n">{e(str(r[i]))}</td>' for r in rows)
        + "</tr>"
        for title, i in (("open deals", 1), ("new deals", 3), ("slipped", 4), ("touchpoints", 5))
    )
    table = (
        f'<div class="scroll"><table data-table="trend-{e(name)}"><thead><tr><th></th>{head}'
        f"</tr></thead><tbody>{body}</tbody></table></div>"
    )
    attr = " hidden" if hidden else ""
    return f'<div data-granularity="{e(name)}"{attr}>{chart}{table}</div>'


def waterfall_card(ch: Changes | None, currency: str) -> str:
    """The open pipeline at the start of the seven days, each bucket that moved it, the end."""
    if ch is None:
        return empty("no git history of these seven days: no waterfall")
    wf = ch.waterfall
    total = float(wf.start.value)
    rows = [("start", 0.0, total, f"{wf.start.count} · {money(total)} {currency}")]
    for b in wf.buckets:
        if not b.deals:
            continue
        after = total + float(b.value_delta)
        sign = "+" if b.value_delta > 0 else ""
        rows.append(
            (STEP[b.name], total, after, f"{len(b.deals)} · {sign}{money(float(b.value_delta))}")
        )
        total = after
    end = float(wf.end.value)
    rows.append(("end", 0.0, end, f"{wf.end.count} · {money(end)} {currency}"))
    return steps(rows, "waterfall")


def changes_card(ch: Changes | None) -> str:
    """This week's changes, newest last, as `pipectl changes` lists them."""
    if ch is None or not ch.changes:
        return empty("no changes to deals in these seven days")
    rows = "".join(
        f'<tr data-kind="{e(c.kind)}" data-deal="{e(c.deal)}"><td>{e(c.date.strftime("%Y-%m-%d"))}'
        f"</td><td>{e(c.deal)}</td><td>{e(WORDS.get(c.kind, c.kind))}</td><td>{e(detail(c))}</td>"
        f"<td>{e(c.author)}{' (by hand)' if c.by_hand else ''}</td></tr>"
        for c in ch.changes
    )
    return (
        '<div class="scroll"><table data-table="changes"><thead><tr><th>Date</th><th>Deal</th>'
        f"<th>Change</th><th>Old → new</th><th>By</th></tr></thead><tbody>{rows}</tbody></table>"
        "</div>"
    )
