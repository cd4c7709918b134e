"""The dashboard's quota tiles and forecast-by-category bars (docs/forecast.md's figures).

Takes a `Report` and returns HTML fragments for render/html.py's page; every figure shown is
one of the report's, with its exact value in a data attribute that tests compare with
`report --json`. Computes nothing, prints nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from pipectl.quotas import CategoryRow
from pipectl.render.svg import PALETTE, attr, e, legend, vstacked
from pipectl.render.text import money
from pipectl.report import Report

# the parts of a forecast bar, bottom up: the surest first
_PARTS = (("won", PALETTE[3]), ("commit", PALETTE[0]), ("best_case", PALETTE[1]))
_PIPELINE = ("pipeline", PALETTE[6])


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.0f}%"


def quota_tiles(fig: Report) -> str:
    """One tile per quota row (team first in each period): attainment, with won, quota,
    coverage and gap beneath it."""
    rows = sorted(fig.quotas, key=lambda q: (q.period, q.owner != "team", q.owner))
    cur = fig.currency
    tiles = []
    for q in rows:
        coverage = "–" if q.coverage is None else f"{q.coverage:.2f}×"
        data = {
            "period": q.period,
            "owner": q.owner,
            "quota": q.quota,
            "won": q.won,
            "attainment": q.attainment,
            "weighted-open": q.weighted_open,
            "coverage": q.coverage,
            "gap": q.gap,
        }
        attrs = "".join(f' data-{k}="{attr(v)}"' for k, v in data.items())
        now = " (now)" if q.current else ""
        tiles.append(
            f'<div class="kpi quota"{attrs}><b>{e(_pct(q.attainment))}</b>'
            f"<span>{e(q.owner)} · {e(q.period)}{e(now)}</span>"
            f"<span>won {e(money(q.won))} of {e(money(q.quota))} {e(cur)}</span>"
            f"<span>coverage {e(coverage)} · gap {e(money(q.gap))}</span></div>"
        )
    return f'<div class="kpis" data-quotas="{len(rows)}">{"".join(tiles)}</div>'


def category_bars(fig: Report) -> str:
    """The forecast by category per quarter, then per month, as stacked bars (won, commit,
    best case, then pipeline), the running total of won + commit + best case above each."""
    keys = legend([(n.replace("_", " "), c) for n, c in (*_PARTS, _PIPELINE)])
    by_quarter = _bars(fig.categories_by_quarter, "forecast-categories")
    by_month = _bars(fig.categories_by_month, "forecast-categories-month")
    return f'{keys}{by_quarter}<p class="sub">by month</p>{by_month}'


def _bars(rows: Sequence[CategoryRow], chart: str) -> str:
    parts = [
        (name, [float(getattr(r, name)) for r in rows], color)
        for name, color in (*_PARTS, _PIPELINE)
    ]
    totals = [f"Σ {money(r.running_total)}" for r in rows]
    return vstacked([r.period for r in rows], parts, chart, totals)
