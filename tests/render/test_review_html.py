"""The dashboard's weekly-review cards in a real headless Chromium driven by Playwright (the
system Chromium; no browser download): trend points equal `report --json --weeks 12`'s
weeks, the Weeks/Months toggle works offline, the waterfall and the changes table equal
`pipectl changes --since 7d --json`. The story is tests/test_trends.py's backdated history."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import Cli
from render.test_html import chromium
from test_trends import TODAY, story  # noqa: F401  (the module's fixture)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium(), args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture(scope="module")
def page(story: Path, browser, tmp_path_factory: pytest.TempPathFactory):  # noqa: F811
    out = tmp_path_factory.mktemp("review") / "dashboard.html"
    r = Cli(story)("report", "--html", str(out), "--today", TODAY)
    assert r.exit_code == 0, r.output
    tab = browser.new_page(viewport={"width": 1400, "height": 900})
    errors: list[str] = []
    tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    tab.on(
        "request", lambda req: errors.append(req.url) if not req.url.startswith("file:") else None
    )
    tab.goto(out.as_uri())
    tab.wait_for_selector("html[data-ready='1']")
    yield tab, errors
    tab.close()


def test_trend_points_are_the_reports_weeks(story: Path, page) -> None:  # noqa: F811
    tab, errors = page
    weeks = json.loads(Cli(story)("report", "--json", "--today", TODAY, "--weeks", "12").stdout)
    want = [(w["week"], w["open_value"], w["new_count"]) for w in weeks["trends"]["weeks"]]
    points = tab.eval_on_selector_all(
        "svg[data-chart='trend-week'] g.point",
        "els => els.map(e => [JSON.parse(e.dataset.period), JSON.parse(e.dataset.openValue),"
        " JSON.parse(e.dataset.new)])",
    )
    assert [tuple(p) for p in points] == want
    assert errors == []


def test_the_toggle_shows_months_then_weeks_again(page) -> None:
    tab, _ = page
    week = tab.locator("[data-granularity='week']")
    month = tab.locator("[data-granularity='month']")
    assert week.is_visible() and not month.is_visible()
    tab.click("button[data-show='month']")
    assert month.is_visible() and not week.is_visible()
    assert tab.get_attribute("button[data-show='month']", "aria-pressed") == "true"
    labels = tab.eval_on_selector_all(
        "svg[data-chart='trend-month'] g.point", "els => els.map(e => JSON.parse(e.dataset.period))"
    )
    assert labels == ["2026-09", "2026-10", "2026-11"]  # twelve Mondays from 09-07
    tab.click("button[data-show='week']")
    assert week.is_visible() and not month.is_visible()


def test_waterfall_and_changes_equal_pipectl_changes(story: Path, page) -> None:  # noqa: F811
    tab, _ = page
    ch = Cli(story)("changes", "--since", "7d", "--today", TODAY, "--json")
    assert ch.exit_code == 0, ch.output
    data = json.loads(ch.stdout)
    steps = tab.eval_on_selector_all(
        "svg[data-chart='waterfall'] g.step",
        "els => els.map(e => [JSON.parse(e.dataset.label), JSON.parse(e.dataset.to)])",
    )
    wf = data["waterfall"]
    assert steps[0] == ["start", wf["start"]["value"]]
    assert steps[-1] == ["end", wf["end"]["value"]]
    # the quarter's open deals: Acme (10,000) and undated Gamma (2,000); Beta's close date went
    # past the quarter before the week. Acme won this week: Gamma remains
    assert (steps[0][1], steps[-1][1]) == (10000 + 2000, 2000)
    rows = tab.eval_on_selector_all(
        "table[data-table='changes'] tbody tr", "els => els.map(e => e.dataset.kind)"
    )
    assert rows == [c["kind"] for c in data["changes"]]
    assert "won" in rows


CLIPPED = """() => { const out = [];
  document.querySelectorAll('svg[data-chart] text').forEach(t => {
    const s = t.ownerSVGElement.getBoundingClientRect(), r = t.getBoundingClientRect();
    if (r.width && (r.right > s.right + 0.5 || r.left < s.left - 0.5))
      out.push(t.ownerSVGElement.dataset.chart + ': ' + t.textContent); });
  return out; }"""


@pytest.mark.parametrize("width", [390, 1400])
def test_no_chart_text_is_clipped_and_nothing_scrolls_sideways(
    story: Path,  # noqa: F811
    browser,
    tmp_path: Path,
    width: int,
) -> None:
    out = tmp_path / "dashboard.html"
    assert Cli(story)("report", "--html", str(out), "--today", TODAY).exit_code == 0
    tab = browser.new_page(viewport={"width": width, "height": 900})
    try:
        tab.goto(out.as_uri())
        tab.wait_for_selector("html[data-ready='1']")
        assert tab.evaluate(CLIPPED) == []
        assert tab.evaluate("document.documentElement.scrollWidth") <= width
        # counts carry thousands separators as money does; the worst files come first
        assert tab.locator("table[data-table='lint-files']").count() == 1
    finally:
        tab.close()


def test_the_owner_and_stage_filters_work_offline(page) -> None:
    tab, errors = page
    owners = tab.eval_on_selector_all(
        "table[data-table='owners'] tbody tr", "els => els.map(e => JSON.parse(e.dataset.owner))"
    )
    assert len(owners) >= 1
    visible = (
        "els => els.filter(e => getComputedStyle(e).display !== 'none')"
        ".map(e => JSON.parse(e.dataset.%s))"
    )
    tab.select_option("select[data-filter='owner']", label=owners[0])
    shown = tab.eval_on_selector_all("table[data-table='owners'] tbody tr", visible % "owner")
    assert shown == [owners[0]]
    tab.select_option("select[data-filter='owner']", label="all")
    tab.select_option("select[data-filter='stage']", label="prospecting")
    stages = tab.eval_on_selector_all("table[data-table='oldest'] tbody tr", visible % "stage")
    assert stages and set(stages) == {"prospecting"}
    bars = tab.eval_on_selector_all("svg[data-chart='stages'] g.bar", visible % "stage")
    assert bars == ["prospecting"]
    tab.select_option("select[data-filter='stage']", label="all")
    assert errors == []
