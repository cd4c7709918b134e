"""The dashboard's quota tiles and forecast-by-category bars, opened in a real headless
Chromium (issue 16): every number the page shows equals `report --json`'s. The pipeline is
tests/test_quotas.py's (two reps, two quarters, a EUR deal); one browser run per module."""

from __future__ import annotations

import json

import pytest
from conftest import Cli
from render.test_html import Dom, dump_dom
from test_quotas import TODAY, build


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> dict:
    base = tmp_path_factory.mktemp("forecast-dash")
    root = build(base / "repo")
    out = base / "dashboard.html"
    r = Cli(root)("report", "--html", str(out), "--today", TODAY)
    assert r.exit_code == 0, r.output
    figures = json.loads(Cli(root)("report", "--json", "--today", TODAY).stdout)
    proc = dump_dom(out, base / "chrome")
    dom = Dom()
    dom.feed(proc.stdout)
    return {"figures": figures, "dom": dom}


def _number(text: str) -> float | None:
    return None if text in ("", "null") else float(json.loads(text))


def test_quota_tiles_show_the_reports_quota_rows(page: dict) -> None:
    tiles = [a for tag, a in page["dom"].elements if tag == "div" and "data-quota" in a]
    rows = page["figures"]["quotas"]
    assert len(tiles) == len(rows) == 6
    shown = {(json.loads(t["data-owner"]), json.loads(t["data-period"])): t for t in tiles}
    for row in rows:
        tile = shown[(row["owner"], row["period"])]
        for key in ("quota", "won", "attainment", "coverage", "gap"):
            want = row[key]
            got = _number(tile[f"data-{key}"])
            assert got == pytest.approx(want, abs=1e-4) if want is not None else got is None, key
        assert _number(tile["data-weighted-open"]) == row["weighted_open"]
    text = "".join(page["dom"].text)
    assert "won 40,000 of 100,000 USD" in text  # alice in 2026-Q4, as the page reads


def test_category_bars_stack_the_reports_categories(page: dict) -> None:
    dom = page["dom"]
    svgs = [a for tag, a in dom.elements if tag == "svg"]
    charts = [a.get("data-chart") for a in svgs]
    assert "forecast-categories" in charts and "forecast-categories-month" in charts
    chart = None
    bars, rects = [], []
    for tag, a in dom.elements:  # the first chart's: by quarter
        if tag == "svg":
            chart = a.get("data-chart")
        elif chart == "forecast-categories" and tag == "g" and "data-label" in a:
            bars.append(a)
        elif chart == "forecast-categories" and tag == "rect" and "data-part" in a:
            rects.append(a)
    quarters = page["figures"]["forecast_categories"]["quarter"]
    assert [json.loads(b["data-label"]) for b in bars] == [q["period"] for q in quarters]
    parts = ("won", "commit", "best_case", "pipeline")
    assert len(rects) == len(parts) * len(quarters)
    for i, q in enumerate(quarters):
        mine = rects[i * len(parts) : (i + 1) * len(parts)]
        assert [json.loads(r["data-part"]) for r in mine] == list(parts)
        assert [float(r["data-value"]) for r in mine] == [q[p] for p in parts]
    text = "".join(dom.text)
    for q in quarters:
        assert f"Σ {q['running_total']:,.0f}" in text
