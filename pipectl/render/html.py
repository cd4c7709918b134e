"""The HTML dashboard: one self-contained page of report figures, charts as inline SVG.

No network (a Content-Security-Policy forbids every fetch), every user-supplied string
escaped; takes a `Report` (frozen figures) and returns the page's text, never computes a
figure or prints.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pipectl.changes import Changes
from pipectl.owners import owner_label
from pipectl.render import reasons as why_not
from pipectl.render.forecast_html import category_bars, quota_tiles
from pipectl.render.htmlassets import CSS, JS, csp_hash
from pipectl.render.htmltable import table
from pipectl.render.lint_html import lint_card
from pipectl.render.review_html import changes_card, trend_card, waterfall_card
from pipectl.render.svg import (
    AGING_COLORS,
    PALETTE,
    attr,
    e,
    hbars,
    legend,
    stacked,
    vbars,
    why,
)
from pipectl.render.text import money
from pipectl.report import Report
from pipectl.version import __version__


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.0f}%"


def _days(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f} d"


# --- tables ---------------------------------------------------------------------------------


# --- the page -------------------------------------------------------------------------------


def _filters(fig: Report) -> str:
    """Owner and stage pickers the page's own script works, offline: they hide the rows, bars
    and tiles of other owners and stages; the totals stay the pipeline's (one owner's own
    figures: `report --owner`)."""
    owners = [o.owner for o in fig.owners]
    stages = [s.stage for s in fig.stages if s.closed is None]

    def pick(name: str, label: str, values: list[str]) -> str:
        options = "".join(f'<option value="{attr(v)}">{e(v)}</option>' for v in values)
        return (
            f'<label>{e(label)} <select data-filter="{e(name)}"><option value="">all</option>'
            f"{options}</select></label>"
        )

    return (
        '<form class="filters" aria-label="filters">'
        + pick("owner", "Owner", owners)
        + pick("stage", "Stage", stages)
        + '<span class="sub">hides the rows and bars of the others; totals stay the '
        "pipeline's</span></form>"
    )


def _kpis(fig: Report) -> str:
    cur, out = fig.currency, fig.outcomes
    won_lost = f"{out.won_count:,} won / {out.lost_count:,} lost"
    # (data-key: the `report --json` key, label, shown text, exact value)
    tiles: list[tuple[str, str, str, Any]] = [
        ("open_count", "open deals", f"{fig.open_count:,}", fig.open_count),
        ("open_value", f"open value ({cur})", money(fig.open_value), fig.open_value),
        ("weighted_value", f"weighted ({cur})", money(fig.weighted_value), fig.weighted_value),
        ("won_value", f"won ({cur}), {out.won_count:,} deals", money(out.won_value), out.won_value),
        ("win_rate", f"win rate ({won_lost})", _pct(out.win_rate), out.win_rate),
        ("avg_cycle_days", "average sales cycle", _days(out.avg_cycle_days), out.avg_cycle_days),
        (
            "median_cycle_days",
            "median sales cycle",
            _days(out.median_cycle_days),
            out.median_cycle_days,
        ),
        (
            "velocity",
            f"velocity ({cur} per day)",
            money(fig.velocity.per_day),
            fig.velocity.per_day,
        ),
    ]
    reasons = why_not.headline(fig)
    divs = [
        f'<div class="kpi" data-key="{e(key)}" data-value="{attr(value)}">'
        f"<b>{e(shown)}</b><span>{e(label)}</span>{_kpi_why(reasons.get(key))}</div>"
        for key, label, shown, value in tiles
    ]
    return f'<section class="kpis" aria-label="headline figures">{"".join(divs)}</section>'


def _kpi_why(text: str | None) -> str:
    return "" if text is None else f'<span class="why" data-why="{e(text)}">{e(text)}</span>'


def _card(title: str, body: str, ident: str, wide: bool = False, note: str = "") -> str:
    cls = "card wide" if wide else "card"
    extra = f'<p class="sub">{e(note)}</p>' if note else ""
    return f'<section class="{cls}" id="{e(ident)}"><h2>{e(title)}</h2>{extra}{body}</section>'


def _funnel(fig: Report) -> str:
    rows = [
        (
            f.stage,
            float(f.reached),
            f"{f.reached:,} · {money(f.value)}",
            {"stage": f.stage, "reached": f.reached, "value": f.value},
        )
        for f in fig.funnel
    ]
    conv = [
        (
            f"→ {c.to_stage}",
            (c.rate or 0) * 100,
            _pct(c.rate),
            {"from": c.from_stage, "to": c.to_stage, "rate": c.rate, "why-unknown": c.why_unknown},
        )
        for c in fig.conversion
    ]
    reasons = "".join(why(r) for r in why_not.conversion(fig))
    return (
        hbars(rows, "funnel")
        + '<p class="sub">Conversion: the share that went on from the stage before (0–100%)</p>'
        + hbars(conv, "conversion", PALETTE[3], full=100)
        + reasons
    )


def _stages(fig: Report) -> str:
    rows = [
        (
            s.stage,
            float(s.value or 0),
            f"{s.count:,} · {money(s.value)} · w {money(s.weighted_value)}",
            {
                "stage": s.stage,
                "count": s.count,
                "value": s.value,
                "weighted-value": s.weighted_value,
            },
        )
        for s in fig.stages
        if s.closed is None
    ]
    reason = why_not.stages(fig)
    return hbars(rows, "stages", PALETTE[0]) + (why(reason) if reason else "")


def _forecast(fig: Report) -> str:
    rows = fig.forecast
    labels = [r.month or "no date" for r in rows]
    data = [
        {
            "month": r.month,
            "value": r.value,
            "weighted-value": r.weighted_value,
            "count": r.count,
        }
        for r in rows
    ]
    series = [
        ("value", [float(r.value or 0) for r in rows], PALETTE[1]),
        ("weighted", [float(r.weighted_value or 0) for r in rows], PALETTE[0]),
    ]
    notes = [money(r.weighted_value) for r in rows]
    chart = vbars(labels, series, "forecast", data, notes=notes)
    reasons = "".join(why(r) for r in why_not.forecast(fig))
    if not rows:
        return reasons
    keys = legend([("value", PALETTE[1]), ("weighted", PALETTE[0])])
    return keys + chart + reasons


def _time_in_stage(fig: Report) -> str:
    def text(avg: float | None, median: float | None, unknown: int) -> str:
        if unknown:
            return "unknown"
        return f"{_days(avg)} avg" + ("" if median is None else f" · {_days(median)} med")

    done = [
        (
            t.stage,
            t.avg_days or 0.0,
            text(t.avg_days, t.median_days, t.unknown_count),
            {
                "stage": t.stage,
                "avg-days": t.avg_days,
                "median-days": t.median_days,
                "count": t.count,
                "unknown-count": t.unknown_count,
            },
        )
        for t in fig.time_in_stage
    ]
    now = [
        (
            t.stage,
            t.open_avg_days or 0.0,
            text(t.open_avg_days, None, t.open_unknown_count) + f" · {t.open_count:,} deals",
            {
                "stage": t.stage,
                "open-avg-days": t.open_avg_days,
                "open-count": t.open_count,
                "open-unknown-count": t.open_unknown_count,
            },
        )
        for t in fig.time_in_stage
    ]
    reasons = why_not.time_in_stage(fig)
    return (
        hbars(done, "time-in-stage", PALETTE[2])
        + '<p class="sub">There now: average days so far</p>'
        + hbars(now, "time-in-stage-now", PALETTE[1])
        + "".join(why(r) for r in reasons)
    )


def _aging(fig: Report) -> str:
    aging = fig.aging
    names = aging.buckets
    rows = [(s.stage, s.counts) for s in aging.stages]
    keys = legend([(f"{n} days", AGING_COLORS[i]) for i, n in enumerate(names)])
    heads = [
        ("Deal", False),
        ("Stage", False),
        ("Owner", False),
        ("Days in stage", True),
        ("Age", True),
        ("Value", True),
    ]
    cells = [
        [
            (e(r.title), r.title),
            (e(r.stage), r.stage),
            (e(r.owner or ""), None),
            (e(r.days_in_stage if r.days_in_stage is not None else "–"), r.days_in_stage),
            (e(r.age_days if r.age_days is not None else "–"), r.age_days),
            (e(money(r.value)), r.value),
        ]
        for r in aging.oldest
    ]
    data = [{"deal": r.id, "owner": owner_label(r.owner), "stage": r.stage} for r in aging.oldest]
    oldest = table(heads, cells, "oldest", data)
    said = why_not.aging(fig)
    reason = why(said) if said else ""
    chart = stacked(rows, names, "aging")
    return keys + chart + reason + '<p class="sub">Waiting longest</p>' + oldest


def _trend(fig: Report) -> str:
    rows = fig.trend
    labels = [r.month for r in rows]
    data = [
        {
            "month": r.month,
            "win-rate": r.win_rate,
            "avg-cycle-days": r.avg_cycle_days,
            "won-count": r.won_count,
            "lost-count": r.lost_count,
        }
        for r in rows
    ]
    cycles = [float(r.avg_cycle_days or 0) for r in rows]
    notes = [f"{c:.0f} d" if c else "" for c in cycles]
    chart = vbars(
        labels,
        [("cycle days", cycles, PALETTE[1])],
        "trend",
        data,
        line=("win rate", [r.win_rate for r in rows], PALETTE[3]),
        notes=notes,
    )
    keys = legend(
        [
            ("average sales cycle (days, bars)", PALETTE[1]),
            ("win rate (0–100%, line)", PALETTE[3]),
        ]
    )
    return keys + chart if rows else chart


def _lost(fig: Report) -> str:
    rows = [
        (
            r.reason,
            float(r.count),
            f"{r.count:,} · {money(r.value)}",
            {"reason": r.reason, "count": r.count, "value": r.value},
        )
        for r in fig.lost_reasons
    ]
    return hbars(rows, "lost-reasons", PALETTE[4])


def _owners(fig: Report) -> str:
    heads = [
        ("Owner", False),
        ("Open", True),
        ("Open value", True),
        ("Weighted", True),
        ("Won", True),
        ("Won value", True),
        ("Lost", True),
        ("Win rate", True),
        ("Avg cycle", True),
        ("Median cycle", True),
    ]
    rows, data = [], []
    for o in fig.owners:
        out = o.outcomes
        rows.append(
            [
                (e(o.owner), o.owner),
                (e(o.open_count), o.open_count),
                (e(money(o.open_value)), o.open_value),
                (e(money(o.weighted_value)), o.weighted_value),
                (e(out.won_count), out.won_count),
                (e(money(out.won_value)), out.won_value),
                (e(out.lost_count), out.lost_count),
                (e(_pct(out.win_rate)), out.win_rate),
                (e(_days(out.avg_cycle_days)), out.avg_cycle_days),
                (e(_days(out.median_cycle_days)), out.median_cycle_days),
            ]
        )
        data.append(
            {
                "owner": o.owner,
                "won-value": out.won_value,
                "win-rate": out.win_rate,
                "open-count": o.open_count,
            }
        )
    return table(heads, rows, "owners", data)


def dashboard(
    fig: Report, findings: Sequence[Mapping[str, Any]] | None, review: Changes | None = None
) -> str:
    """The whole page. `findings`: current lint findings as dicts (None: lint unavailable);
    `review`: `pipectl changes` over the last seven days, for the waterfall and its table."""
    scope = f"as of {fig.as_of}"
    if fig.since or fig.until:
        scope += f" · window {fig.since or '…'} to {fig.until or '…'}"
    if fig.owner:
        scope += f" · owner {fig.owner}"
    warnings = []
    if fig.partial:
        warnings.append(
            "Shallow clone: git's history is cut. Days in stage that need it are shown as "
            "unknown, with why; funnel, conversion and trend count only the moves it shows."
        )
    if not fig.history:
        warnings.append(
            "No git history: days in stage come from the files only (unknown where they do "
            "not say), and conversion sees no moves."
        )
    if fig.converted_currencies:
        warnings.append(
            f"Every amount is in {fig.currency}: deals in {', '.join(fig.converted_currencies)} "
            "are converted through rates.csv (open deals at today's rate, closed ones at "
            "their close date's)."
        )
    for u in fig.unconverted:
        warnings.append(
            f"Unconverted, in no sum: {u.id} ({u.stage}), {money(u.value)} {u.currency}, "
            f"no rate into {fig.currency} on {u.rate_date}."
        )
    warn = "".join(
        f'<p class="warn" data-partial="{attr(fig.partial)}">{e(w)}</p>' for w in warnings
    )
    hist_note = " (partial)" if fig.partial else ""
    quota_note = f"attainment per period and rep, in {fig.currency} (docs/forecast.md)"
    cards = [
        *(
            [_card("Quotas", quota_tiles(fig), "quotas", wide=True, note=quota_note)]
            if fig.quotas
            else []
        ),
        _card(
            "Trends",
            trend_card(fig.trends),
            "trends",
            note=f"open value ({fig.currency}) at each week's or month's end, deals at their "
            "value today; new deals, slipped close dates, touchpoints (docs/review.md)",
        ),
        _card(
            "This week's waterfall",
            waterfall_card(review, fig.currency),
            "waterfall",
            note="the open pipeline seven days ago, what moved it, and now",
        ),
        _card(
            "Changes this week", changes_card(review), "changes", note="from git: pipectl changes"
        ),
        _card("Funnel", _funnel(fig), "funnel", note="deals that reached each stage"),
        _card(
            "Open pipeline by stage",
            _stages(fig),
            "stages",
            note=f"value in {fig.currency}, count and weighted value",
        ),
        _card(
            "Forecast by expected close",
            _forecast(fig),
            "forecast",
            note="open deals by expected close month; the number is the weighted value",
        ),
        _card(
            "Forecast by category",
            category_bars(fig),
            "forecast-categories",
            note="by quarter from this one; Σ: the running total of won + commit + best case",
        ),
        _card(
            "Days in stage" + hist_note,
            _time_in_stage(fig),
            "time-in-stage",
            note="finished stays (average days, from git moves), then deals there now",
        ),
        _card("Aging of open deals", _aging(fig), "aging", note="days in the current stage"),
        _card("Win rate and sales cycle by month", _trend(fig), "trend"),
        _card("Lost reasons", _lost(fig), "lost-reasons"),
        _card("By owner", _owners(fig), "owners", wide=True),
        _card("Lint findings", lint_card(findings), "lint", wide=True),
    ]
    csp = (
        f"default-src 'none'; style-src '{csp_hash(CSS)}'; script-src '{csp_hash(JS)}'; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{e(csp)}">\n'
        f"<title>Pipeline dashboard · {e(fig.as_of)}</title>\n"
        f"<style>{CSS}</style></head>\n<body>\n"
        f'<header><h1>Pipeline dashboard</h1><p class="sub">{e(scope)}</p>{warn}</header>\n'
        f'<main>{_kpis(fig)}\n{_filters(fig)}<div class="grid">{"".join(cards)}</div></main>\n'
        f'<footer><p class="sub">Made by pipectl {e(__version__)} from the pipeline\'s files and '
        "its git history.</p></footer>\n"
        f"<script>{JS}</script>\n</body></html>\n"
    )
