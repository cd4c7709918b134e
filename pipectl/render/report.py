"""Plain-text presentation of `pipectl history` and `pipectl report`.

Takes events and a `Report` (frozen values), returns strings; never computes a figure
itself and never prints.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pipectl.history import CHANGED, CREATED, DELETED, EDITED, LOGGED, MOVED, RENAMED, Event
from pipectl.render.text import money, table, visible
from pipectl.report import Report

PARTIAL_NOTE = (
    "partial: this is a shallow clone, so history-based figures miss the oldest commits "
    "(run `git fetch --unshallow` for all of them)"
)


def describe(e: Event) -> str:
    """One event in words: 'moved qualifying → closing', 'edited by hand: value, owner'."""
    fields = f": {', '.join(e.fields)}" if e.fields else ""
    hand = " by hand" if e.by_hand else ""
    if e.kind == CREATED:
        text = f"created in {e.stage}"
    elif e.kind == MOVED:
        text = f"moved {e.from_stage} → {e.stage}"
        if e.old_deal:
            text += f", renamed from {e.old_deal}"
    elif e.kind == RENAMED:
        text = f"renamed from {e.old_deal}"
    elif e.kind == LOGGED:
        summary = e.subject.split(": ", 1)[1] if ": " in e.subject else e.subject
        return f"touchpoint logged: {summary}"
    elif e.kind == CHANGED:
        return f"fields changed{fields or ': ' + e.subject}"
    elif e.kind == EDITED:
        return f"edited{hand}{fields}"
    elif e.kind == DELETED:
        text = f"deleted from {e.stage}"
    else:
        text = e.kind
    return text + hand + (f" ({', '.join(e.fields)} changed)" if e.fields else "")


def history_text(events: Sequence[Event], one_deal: bool, partial: bool) -> str:
    """The audit trail as a table: date, author, (deal,) what happened, commit."""
    headers = ["DATE", "AUTHOR", *([] if one_deal else ["DEAL"]), "WHAT", "COMMIT"]
    rows = [
        [
            e.date.strftime("%Y-%m-%d %H:%M"),
            e.author,
            *([] if one_deal else [e.deal]),
            describe(e),
            e.commit[:8],
        ]
        for e in events
    ]
    out = table(headers, rows, max_width=160)
    return out + ("\n" + PARTIAL_NOTE if partial else "")


def event_json(e: Event) -> dict[str, Any]:
    return {
        "commit": e.commit,
        "date": e.date.isoformat(),
        "author": e.author,
        "email": e.email,
        "deal": e.deal,
        "kind": e.kind,
        "stage": e.stage,
        "from_stage": e.from_stage,
        "old_deal": e.old_deal,
        "action": e.action,
        "by_hand": e.by_hand,
        "fields": list(e.fields),
        "subject": e.subject,
        "path": e.path,
        "old_path": e.old_path,
        "text": describe(e),
    }


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f}%"


def _days(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def report_text(fig: Report) -> str:
    """Every section of the report, each a heading and a table."""
    cur = fig.currency
    out = fig.outcomes
    parts = [
        f"Pipeline report as of {fig.as_of}{_window(fig)}"
        + (f", owner {visible(fig.owner)}" if fig.owner else ""),
        f"Open: {fig.open_count} deals, {money(fig.open_value)} {cur}, "
        f"weighted {money(fig.weighted_value)} {cur}",
    ]
    if fig.other_currencies:
        shown = ", ".join(visible(c) for c in fig.other_currencies)
        parts.append(f"note: values in {shown} are summed as is")
    rows = [[s.stage, str(s.count), money(s.value), money(s.weighted_value)] for s in fig.stages]
    parts += ["", table(["STAGE", "DEALS", "VALUE", "WEIGHTED"], rows)]
    parts += [
        "",
        f"Won {out.won_count} ({money(out.won_value)} {cur}), lost {out.lost_count}, "
        f"win rate {_pct(out.win_rate)}",
        f"Sales cycle (won, created → closed): average {_days(out.avg_cycle_days)} days, "
        f"median {_days(out.median_cycle_days)} days",
        f"Velocity: {money(fig.velocity.per_day)} {cur} per day",
    ]
    if fig.forecast:
        rows = [
            [
                f.month or "no date",
                str(f.count),
                money(f.value),
                money(f.weighted_value),
                "past" if f.past else "",
            ]
            for f in fig.forecast
        ]
        headers = ["MONTH", "DEALS", "VALUE", "WEIGHTED", ""]
        parts += ["", "Forecast by expected close", table(headers, rows)]
    note = " (partial)" if fig.partial else ""
    rows = [
        [
            t.stage,
            str(t.count),
            "?" if t.unknown_count else _days(t.avg_days),
            "?" if t.unknown_count else _days(t.median_days),
            str(t.open_count),
            "?" if t.open_unknown_count else _days(t.open_avg_days),
        ]
        for t in fig.time_in_stage
    ]
    headers = ["STAGE", "STAYS DONE", "AVG DAYS", "MEDIAN", "THERE NOW", "THEIR AVG SO FAR"]
    parts += ["", f"Days in stage{note}", table(headers, rows)]
    parts += [f"?: {t.stage}: {t.why_unknown}" for t in fig.time_in_stage if t.why_unknown]
    rows = [
        [f"{c.from_stage} → {c.to_stage}", f"{c.advanced}/{c.reached}", _pct(c.rate)]
        for c in fig.conversion
    ]
    parts += ["", f"Conversion{note}", table(["STEP", "DEALS", "RATE"], rows)]
    parts += [
        f"-: {c.from_stage} → {c.to_stage}: {c.why_unknown}"
        for c in fig.conversion
        if c.why_unknown and c.reached
    ]
    if fig.lost_reasons:
        rows = [[r.reason, str(r.count), money(r.value)] for r in fig.lost_reasons]
        parts += ["", "Lost reasons", table(["REASON", "DEALS", "VALUE"], rows)]
    if fig.owners:
        rows = [
            [
                o.owner,
                str(o.open_count),
                money(o.open_value),
                money(o.weighted_value),
                str(o.outcomes.won_count),
                str(o.outcomes.lost_count),
                _pct(o.outcomes.win_rate),
                _days(o.outcomes.avg_cycle_days),
            ]
            for o in fig.owners
        ]
        headers = ["OWNER", "OPEN", "VALUE", "WEIGHTED", "WON", "LOST", "WIN RATE", "CYCLE"]
        parts += ["", "By owner", table(headers, rows)]
    if not fig.history:
        parts += ["", "no git history here: days in stage and conversion use the files only"]
    if fig.partial:
        parts += ["", PARTIAL_NOTE]
    return "\n".join(parts)


def _window(fig: Report) -> str:
    if fig.since and fig.until:
        return f", closed {fig.since} to {fig.until}"
    if fig.since:
        return f", since {fig.since}"
    if fig.until:
        return f", until {fig.until}"
    return ""
