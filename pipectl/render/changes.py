"""`pipectl changes` for people and programs: text tables, Markdown (a GitHub job summary or a
pull-request comment: headings and pipe tables) and the JSON form.

Takes a `changes.Changes` (frozen values), returns strings and plain data; computes no
figure itself and never prints.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from pipectl.changes import (
    ADDED,
    CLOSE_CLEARED,
    CLOSE_SET,
    KINDS,
    OWNER,
    PULLED_IN,
    REMOVED,
    RENAMED_TO,
    SLIPPED,
    VALUE_DOWN,
    VALUE_UP,
    Change,
    Changes,
)
from pipectl.render.text import money, table, visible
from pipectl.waterfall import Waterfall

PARTIAL = "partial: a shallow clone; commits before its boundary are not read"
# the waterfall's buckets as its rows name them (docs/review.md defines each)
STEP = {
    "new": "+ new",
    "pulled_in": "+ pulled in",
    "reopened": "+ reopened",
    "increased": "+ increased",
    "decreased": "- decreased",
    "won": "- won",
    "lost": "- lost",
    "slipped": "- slipped out",
    "removed": "- removed",
}
WORDS = {
    "moved_back": "moved back",
    VALUE_UP: "value up",
    VALUE_DOWN: "value down",
    PULLED_IN: "close pulled in",
    CLOSE_SET: "close date set",
    CLOSE_CLEARED: "close date cleared",
    RENAMED_TO: "renamed",
}


def _num(value: Decimal | float | int | None) -> int | float | None:
    """Money as JSON shows it: whole amounts as integers."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return int(value) if float(value).is_integer() else value


def _plain(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float | int | Decimal) and not isinstance(value, bool):
        return _num(value)
    return value if value is None or isinstance(value, str | bool) else str(value)


def _signed(value: Decimal | float) -> str:
    amount = float(value)
    return ("+" if amount > 0 else "-" if amount < 0 else "") + money(abs(amount))


def detail(c: Change) -> str:
    """What changed, old → new: stages, amounts (with the difference), dates (in days)."""
    if c.kind == ADDED:
        return f"in {c.new}" + ("" if c.amount is None else f", {money(c.amount)}")
    if c.kind == REMOVED:
        return f"from {c.old}"
    if c.kind in (VALUE_UP, VALUE_DOWN):
        return f"{money(c.old)} → {money(c.new)} ({_signed(c.amount or 0)})"
    if c.kind in (SLIPPED, PULLED_IN):
        days = int(c.amount or 0)
        return f"{c.old} → {c.new} ({'+' if days > 0 else ''}{days} days)"
    if c.kind in (CLOSE_SET, CLOSE_CLEARED, OWNER):
        return f"{c.old or '(none)'} → {c.new or '(none)'}"
    return f"{c.old} → {c.new}"


def _by(author: str, by_hand: bool) -> str:
    return author + (" (by hand)" if by_hand else "")


def _title(ch: Changes) -> str:
    w = ch.window
    if w.rev_range is not None:
        ends = f"{w.rev_range} ({(w.base or '')[:8] or 'the start'}..{w.tip[:8]})"
    else:
        ends = f"{w.since or 'the start'} to {w.until}"
    return f"Pipeline changes {ends}"


def _count(ch: Changes, kind: str) -> int:
    return sum(1 for c in ch.changes if c.kind == kind)


def _summary(ch: Changes) -> str:
    parts = [f"{n} {WORDS.get(k, k)}" for k in KINDS if (n := _count(ch, k))]
    return ", ".join(parts) if parts else "no changes to deals"


def _period(wf_close_by: dt.date | None) -> str:
    return f"due by {wf_close_by} or undated" if wf_close_by else "every open deal"


def _waterfall_rows(wf: Waterfall) -> list[list[str]]:
    rows = [["start", "", str(wf.start.count), money(float(wf.start.value))]]
    for b in wf.buckets:
        if b.deals:
            count = f"{'+' if b.count_delta > 0 else ''}{b.count_delta}" if b.count_delta else "0"
            rows.append([STEP[b.name], str(len(b.deals)), count, _signed(b.value_delta) or "0"])
    rows.append(["end", "", str(wf.end.count), money(float(wf.end.value))])
    return rows


def _change_rows(ch: Changes) -> list[list[str]]:
    return [
        [
            c.date.strftime("%Y-%m-%d"),
            c.deal,
            WORDS.get(c.kind, c.kind),
            detail(c),
            _by(c.author, c.by_hand),
            c.commit[:8],
        ]
        for c in ch.changes
    ]


def _rep_rows(ch: Changes) -> list[list[str]]:
    return [
        [
            r.rep,
            str(r.count),
            ", ".join(f"{k} {n}" for k, n in r.kinds),
            ", ".join(f"{k} {n}" for k, n in r.outcomes),
        ]
        for r in ch.reps
    ]


def _stale_rows(ch: Changes) -> list[list[str]]:
    return [
        [s.deal, s.stage, s.owner or "(none)", str(s.last_activity), str(s.stale_from)]
        for s in ch.stale
    ]


CHANGE_HEADERS = ["DATE", "DEAL", "CHANGE", "OLD → NEW", "BY", "COMMIT"]
REP_HEADERS = ["REP", "TOUCHPOINTS", "KINDS", "OUTCOMES"]
STALE_HEADERS = ["DEAL", "STAGE", "OWNER", "LAST ACTIVITY", "STALE FROM"]
WATERFALL_HEADERS = ["STEP", "DEALS", "COUNT", "VALUE"]


def _notes(ch: Changes) -> list[str]:
    out = []
    if ch.other_currencies:
        shown = ", ".join(ch.other_currencies)
        out.append(f"the waterfall's values in {shown} are in {ch.currency} at each end's rate")
    if ch.unconverted:
        out.append(
            f"no rate into {ch.currency}, counted but in no sum: {', '.join(ch.unconverted)}"
        )
    return out


def changes_text(ch: Changes) -> str:
    """Every section as a heading and a table; empty sections say so in one line."""
    parts = [_title(ch), _summary(ch)]
    parts += [f"note: {n}" for n in _notes(ch)]
    if ch.changes:
        parts += ["", table(CHANGE_HEADERS, _change_rows(ch), max_width=160)]
    parts += ["", f"Went stale ({len(ch.stale)})"]
    if ch.stale:
        parts.append(table(STALE_HEADERS, _stale_rows(ch)))
    parts += ["", f"Touchpoints logged by rep ({len(ch.logged)})"]
    if ch.reps:
        parts.append(table(REP_HEADERS, _rep_rows(ch)))
    wf = ch.waterfall
    parts += [
        "",
        f"Waterfall: open pipeline ({_period(ch.window.close_by)}), {ch.currency}",
        table(WATERFALL_HEADERS, _waterfall_rows(wf)),
    ]
    if ch.partial:
        parts += ["", PARTIAL]
    return "\n".join(parts)


def _cell(text: str) -> str:
    """A Markdown table cell: one line, its pipes escaped (GitHub splits cells at `|`)."""
    return visible(" ".join(str(text).split())).replace("\\", "\\\\").replace("|", "\\|")


def md_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A GitHub pipe table: header, separator, one row a line, every row as wide."""
    lines = ["| " + " | ".join(_cell(h) for h in headers) + " |"]
    lines.append("|" + "|".join("---" for _ in headers) + "|")
    lines += ["| " + " | ".join(_cell(c) or " " for c in row) + " |" for row in rows]
    return "\n".join(lines)


def changes_markdown(ch: Changes) -> str:
    """The changes as a job summary or a pull-request comment: a heading, the waterfall
    first (what a manager looks at), then each section's table."""
    title = f"## {_cell(_title(ch))}"
    parts = [title, "", _cell(_summary(ch))]
    parts += [line for n in _notes(ch) for line in ("", _cell(n[:1].upper() + n[1:] + "."))]
    wf = ch.waterfall
    parts += ["", f"### Waterfall: open pipeline ({_period(ch.window.close_by)}), {ch.currency}"]
    parts += ["", md_table([h.title() for h in WATERFALL_HEADERS], _waterfall_rows(wf))]
    if ch.changes:
        headers = [h.capitalize() for h in CHANGE_HEADERS]
        rows = [[*r[:5], f"`{r[5]}`"] for r in _change_rows(ch)]
        parts += ["", f"### Changes ({len(ch.changes)})", "", md_table(headers, rows)]
    if ch.stale:
        headers = [h.capitalize() for h in STALE_HEADERS]
        parts += ["", f"### Went stale ({len(ch.stale)})", "", md_table(headers, _stale_rows(ch))]
    if ch.reps:
        headers = [h.capitalize() for h in REP_HEADERS]
        parts += ["", f"### Touchpoints logged by rep ({len(ch.logged)})", ""]
        parts.append(md_table(headers, _rep_rows(ch)))
    if ch.partial:
        parts += ["", f"_{PARTIAL}_"]
    return "\n".join(parts) + "\n"


def changes_json(ch: Changes) -> dict[str, Any]:
    w, wf = ch.window, ch.waterfall
    return {
        "window": {
            "since": _plain(w.since),
            "until": _plain(w.until),
            "range": w.rev_range,
            "base": w.base,
            "tip": w.tip,
            "close_by": _plain(w.close_by),
        },
        "currency": ch.currency,
        "other_currencies": list(ch.other_currencies),
        "unconverted": list(ch.unconverted),
        "partial": ch.partial,
        "skipped": list(ch.skipped),
        "summary": {k: n for k in KINDS if (n := _count(ch, k))},
        "changes": [
            {
                "deal": c.deal,
                "kind": c.kind,
                "old": _plain(c.old),
                "new": _plain(c.new),
                "amount": _num(c.amount),
                "date": c.date.isoformat(),
                "author": c.author,
                "by_hand": c.by_hand,
                "commit": c.commit,
                "text": detail(c),
            }
            for c in ch.changes
        ],
        "stale": [
            {
                "deal": s.deal,
                "stage": s.stage,
                "owner": s.owner,
                "last_activity": s.last_activity.isoformat(),
                "stale_from": s.stale_from.isoformat(),
            }
            for s in ch.stale
        ],
        "touchpoints": {
            "by_rep": [
                {
                    "rep": r.rep,
                    "count": r.count,
                    "kinds": dict(r.kinds),
                    "outcomes": dict(r.outcomes),
                }
                for r in ch.reps
            ],
            "logged": [
                {
                    "deal": t.deal,
                    "rep": t.rep,
                    "date": _plain(t.touchpoint.date),
                    "kind": t.touchpoint.kind,
                    "outcome": t.touchpoint.outcome,
                    "summary": t.touchpoint.summary,
                    "commit": t.commit,
                    "by_hand": t.by_hand,
                }
                for t in ch.logged
            ],
        },
        "waterfall": {
            "start": {"count": wf.start.count, "value": _num(wf.start.value)},
            "buckets": [
                {
                    "name": b.name,
                    "deals": list(b.deals),
                    "count": b.count_delta,
                    "value": _num(b.value_delta),
                }
                for b in wf.buckets
            ],
            "end": {"count": wf.end.count, "value": _num(wf.end.value)},
            "balanced": wf.balanced,
        },
    }
