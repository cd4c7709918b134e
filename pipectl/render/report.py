"""Plain-text presentation of `pipectl history` and `pipectl report`.

Takes events and a `Report` (frozen values), returns strings; never computes a figure
itself and never prints.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pipectl.fielddiff import BODY, FieldChange
from pipectl.history import CHANGED, CREATED, DELETED, EDITED, LOGGED, MOVED, RENAMED, Event
from pipectl.jsonout import plain
from pipectl.render.text import money, table, visible
from pipectl.report import Report
from pipectl.version import __version__

PARTIAL_NOTE = (
    "partial: this is a shallow clone, so history-based figures miss the oldest commits "
    "(run `git fetch --unshallow` for all of them)"
)


def describe(e: Event, changes: Sequence[FieldChange] | None = None) -> str:
    """One event in words: 'moved qualifying → closing', 'edited by hand: value, owner';
    with `changes`, each field's old → new: 'edited by hand: value 8,000 → 6,000'."""
    names = list(e.fields)
    if changes is not None:
        # a logged event's touchpoint is its own description
        names = [
            change_text(c) for c in changes if not (e.kind == LOGGED and c.field == "touchpoints")
        ]
    fields = f": {', '.join(names)}" if names else ""
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
        return f"touchpoint logged: {summary}" + (f" ({', '.join(names)})" if names else "")
    elif e.kind == CHANGED:
        return f"fields changed{fields or ': ' + e.subject}"
    elif e.kind == EDITED:
        return f"edited{hand}{fields}"
    elif e.kind == DELETED:
        text = f"deleted from {e.stage}"
    else:
        text = e.kind
    if changes is not None:
        return text + hand + (f" ({', '.join(names)})" if names else "")
    return text + hand + (f" ({', '.join(e.fields)} changed)" if e.fields else "")


# values longer than this are cut in a line of history (--json has them whole)
_SHOWN = 40


def value_text(field: str, value: Any) -> str:
    """A field's value in a line of history: dates ISO, amounts grouped, lists counted."""
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, int | float):
        return money(value) if field == "value" else str(value)
    if isinstance(value, list):
        inline = "[" + ", ".join(str(v) for v in value) + "]"
        scalar = all(not isinstance(v, list | dict) for v in value)
        return inline if scalar and len(inline) <= _SHOWN else f"{len(value)} items"
    if isinstance(value, dict):
        return f"{len(value)} entries"
    text = " ".join(visible(str(value)).split())
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"


def _counted(field: str, *lists: list[Any]) -> bool:
    return any(value_text(field, v).endswith(" items") for v in lists)


def change_text(c: FieldChange) -> str:
    """'value 8,000 → 6,000'; a list of records by what was added and removed:
    'touchpoints +1'; the notes: 'notes changed'."""
    if c.field == BODY:
        return "notes changed"
    if isinstance(c.old, list) and isinstance(c.new, list) and _counted(c.field, c.new, c.old):
        added = sum(1 for v in c.new if v not in c.old)
        removed = sum(1 for v in c.old if v not in c.new)
        parts = [f"+{added}"] * bool(added) + [f"-{removed}"] * bool(removed)
        return f"{c.field} {' '.join(parts) or 'reordered'}"
    return f"{c.field} {value_text(c.field, c.old)} → {value_text(c.field, c.new)}"


def history_text(
    events: Sequence[Event],
    one_deal: bool,
    partial: bool,
    changes: Sequence[Sequence[FieldChange]] | None = None,
    width: int = 160,
) -> str:
    """The audit trail as a table: date, author, (deal,) what happened, commit; with
    `changes` (one per event), each field's old → new value; its longest cells clipped to
    keep within `width`."""
    return history_table(history_rows(events, one_deal, changes), one_deal, partial, width)


def history_rows(
    events: Sequence[Event],
    one_deal: bool,
    changes: Sequence[Sequence[FieldChange]] | None = None,
) -> list[list[str]]:
    """The cells of `history_text`'s table, one row an event (plain data: the history index
    keeps those of every deal's events, `rows_made_by` says by which code)."""
    return [
        [
            _minute(e.date),
            e.author,
            *([] if one_deal else [e.deal]),
            describe(e, None if changes is None else changes[i]),
            e.commit[:8],
        ]
        for i, e in enumerate(events)
    ]


def history_table(
    rows: Sequence[Sequence[str]], one_deal: bool, partial: bool, width: int = 160
) -> str:
    """`history_text` of the rows `history_rows` made."""
    headers = ["DATE", "AUTHOR", *([] if one_deal else ["DEAL"]), "WHAT", "COMMIT"]
    out = table(headers, rows, max_width=width)
    return out + ("\n" + PARTIAL_NOTE if partial else "")


@functools.cache
def rows_made_by() -> bytes:
    """A digest of the code of `history_rows` (this module: the rows it made are kept with it);
    the version's when the module cannot be read (a packed install)."""
    try:
        code = Path(__file__).read_bytes()
    except OSError:
        code = __version__.encode()
    return hashlib.blake2b(code, digest_size=32).digest()


def _minute(when: dt.datetime) -> str:
    """`%Y-%m-%d %H:%M`: cut from isoformat, a third of strftime's cost on ~120,000 lines
    (strftime's %Y pads no year before 1000)."""
    return when.isoformat(" ", "minutes")[:16] if when.year >= 1000 else f"{when:%Y-%m-%d %H:%M}"


def event_json(e: Event, changes: Sequence[FieldChange] | None = None) -> dict[str, Any]:
    """An event as JSON; with `changes`, each changed field's old and new value too."""
    data: dict[str, Any] = {
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
        "text": describe(e, changes),
    }
    if changes is not None:
        data["changes"] = [
            {"field": c.field, "old": plain(c.old), "new": plain(c.new)} for c in changes
        ]
    return data


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
        f"Open: {fig.open_count} deal{'' if fig.open_count == 1 else 's'}, "
        f"{money(fig.open_value)} {cur}, "
        f"weighted {money(fig.weighted_value)} {cur}",
    ]
    parts += conversion_lines(fig)
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
    parts += quota_lines(fig)
    parts += retention_lines(fig)
    parts += recurring_lines(fig)
    parts += trend_lines(fig)
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


def quota_lines(fig: Report) -> list[str]:
    """Quota attainment per period and rep, and the forecast by category per quarter."""
    lines: list[str] = []
    if fig.quotas:
        rows = [
            [
                q.period + (" *" if q.current else ""),
                visible(q.owner),
                money(q.quota),
                money(q.won),
                _pct(q.attainment),
                money(q.weighted_open),
                "-" if q.coverage is None else f"{q.coverage:.2f}×",
                money(q.gap),
            ]
            for q in fig.quotas
        ]
        headers = ["PERIOD", "OWNER", "QUOTA", "WON", "ATTAINED", "WEIGHTED OPEN", "COVERAGE"]
        lines += [
            "",
            f"Quotas ({fig.currency}; * the period of today)",
            table([*headers, "GAP"], rows),
        ]
    if fig.categories_by_quarter:
        rows = [
            [
                c.period,
                *(money(v) for v in (c.won, c.commit, c.best_case, c.pipeline)),
                money(c.running_total),
            ]
            for c in fig.categories_by_quarter
        ]
        headers = ["QUARTER", "WON", "COMMIT", "BEST CASE", "PIPELINE", "RUNNING TOTAL"]
        lines += ["", "Forecast by category (running total: won + commit + best case)"]
        lines.append(table(headers, rows))
    return lines


def trend_lines(fig: Report) -> list[str]:
    """The weeks of `report --weeks N`, and touchpoints per rep per week."""
    t = fig.trends
    if t is None:
        return []
    rows = [
        [
            w.start.isoformat(),
            str(w.open_count),
            money(w.open_value),
            str(w.new_count),
            str(w.slipped),
            str(w.touchpoints),
        ]
        for w in t.weeks
    ]
    headers = ["WEEK", "OPEN", "VALUE", "NEW", "SLIPPED", "TOUCHPOINTS"]
    lines = ["", "Trends by week (open deals at each week's end, at their value today)"]
    lines.append(table(headers, rows))
    if t.activity:
        weeks = [w.start for w in t.weeks]
        reps = sorted({a.rep for a in t.activity})
        count = {(a.start, a.rep): a.count for a in t.activity}
        rows = [[visible(r), *(str(count.get((w, r), 0)) for w in weeks)] for r in reps]
        lines += ["", "Touchpoints logged per rep and week (by the files' dates; who, from git)"]
        lines.append(table(["REP", *(w.strftime("%m-%d") for w in weeks)], rows))
    return lines


def retention_lines(fig: Report) -> list[str]:
    """Renewals renewed and churned, when there are any (not in the won and lost above)."""
    r = fig.retention
    if r is None or not (r.renewed_count or r.churned_count or r.open_count):
        return []
    cur = fig.currency
    return [
        "",
        f"Retention: renewed {r.renewed_count} ({money(r.renewed_value)} {cur}), churned "
        f"{r.churned_count} ({money(r.churned_value)} {cur}), gross retention "
        f"{_pct(r.gross_retention)}; {r.open_count} renewals open ({money(r.open_value)} {cur})",
    ]


def recurring_lines(fig: Report) -> list[str]:
    """Recurring revenue, when some deal states it (line items or `mrr:`)."""
    rec = fig.recurring
    if rec is None or (not rec.won and not rec.open_mrr and not rec.open_one_off):
        return []
    cur = fig.currency
    lines = [
        "",
        f"Recurring ({cur}): open MRR {money(rec.open_mrr)}, ARR {money(rec.open_arr)}; "
        f"one-off {money(rec.open_one_off)}; first year {money(rec.open_first_year)}",
    ]
    if rec.won:
        rows = [
            [m.month, str(m.deals), money(m.new_mrr), money(m.one_off), money(m.first_year)]
            for m in rec.won
        ]
        headers = ["MONTH", "WON", "NEW MRR", "ONE-OFF", "FIRST YEAR"]
        lines += ["", "Recurring revenue won", table(headers, rows)]
    return lines


def conversion_lines(fig: Report) -> list[str]:
    """What was converted into the report's currency, and the deals that could not be."""
    lines = []
    if fig.converted_currencies:
        shown = ", ".join(visible(c) for c in fig.converted_currencies)
        lines.append(
            f"amounts in {visible(fig.currency)}: {shown} converted through rates.csv "
            "(open deals at today's rate, closed ones at their close date's)"
        )
    if fig.unconverted:
        n = len(fig.unconverted)
        lines.append(f"unconverted: {n} deal{'s' if n != 1 else ''} with no rate, in no sum:")
        lines += [
            f"  {visible(u.id)} ({u.stage}): {money(u.value)} {visible(u.currency)}, "
            f"no rate into {visible(fig.currency)} on {u.rate_date}"
            for u in fig.unconverted
        ]
    return lines


def _window(fig: Report) -> str:
    if fig.since and fig.until:
        return f", closed {fig.since} to {fig.until}"
    if fig.since:
        return f", since {fig.since}"
    if fig.until:
        return f", until {fig.until}"
    return ""
