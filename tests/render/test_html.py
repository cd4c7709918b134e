"""`pipectl report --html`: the dashboard checked in a real headless Chromium.

CI installs Debian's chromium (.ci/run); without it these tests fail rather than skip.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import Cli, make_repo

from pipectl.report import Report

TODAY = "2026-03-01"
XSS_TITLE = "<script>alert(1)</script>"
XSS_OWNER = '<img src=x onerror="document.title=1">'
CHARTS = {
    "funnel",
    "conversion",
    "stages",
    "forecast",
    "time-in-stage",
    "aging",
    "trend",
    "lost-reasons",
}


class Dom(HTMLParser):
    """Elements with their attributes, and the text of the page, from the dumped DOM."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {k: v or "" for k, v in attrs}))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def having(self, name: str) -> list[dict[str, str]]:
        return [a for _, a in self.elements if name in a]


def dump_dom(page: Path, profile: Path) -> subprocess.CompletedProcess[str]:
    """The DOM of `page` after its script ran, from one headless Chromium run."""
    proc = subprocess.run(
        [
            chromium(),
            *("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"),
            *("--disable-background-networking", "--disable-component-update", "--disable-sync"),
            f"--user-data-dir={profile}",
            *("--enable-logging=stderr", "--v=0", "--dump-dom"),
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.fail("chromium is not installed: run .ci/run (apt-get install chromium)")
    return path


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> dict:
    mp = pytest.MonkeyPatch()
    base = tmp_path_factory.mktemp("dash")
    home = base / "home"
    home.mkdir()
    mp.setenv("HOME", str(home))
    mp.setenv("GIT_CONFIG_GLOBAL", str(home / "gitconfig"))
    mp.setenv("GIT_CONFIG_NOSYSTEM", "1")
    try:
        return build_page(base)
    finally:
        mp.undo()


def run(cli: Cli, *args: str) -> str:
    r = cli(*args)
    assert r.exit_code in (0, 1), r.output
    return r.stdout


def build_page(base: Path) -> dict:
    repo = make_repo(base / "repo")
    cli = Cli(repo)
    run(cli, "init")
    run(
        cli,
        "add",
        XSS_TITLE,
        "--id",
        "xss",
        "--value",
        "900",
        "--owner",
        XSS_OWNER,
        "--expected-close",
        "2026-04-01",
        "--date",
        "2026-01-03",
    )
    run(cli, "add", "Acme", "--value", "1200", "--owner", "alice", "--date", "2026-01-05")
    run(cli, "move", "acme", "qualifying", "--date", "2026-01-15")
    run(cli, "won", "acme", "--date", "2026-02-04")
    run(
        cli,
        "add",
        "Beta",
        "--value",
        "400",
        "--owner",
        "bob",
        "--date",
        "2026-01-06",
        "--expected-close",
        "2026-03-15",
    )
    run(cli, "add", "Gone", "--value", "300", "--owner", "bob", "--date", "2026-01-07")
    run(cli, "lost", "gone", "--reason", "price", "--date", "2026-02-10")
    figures = json.loads(run(cli, "report", "--json", "--today", TODAY))
    out = base / "dashboard.html"
    assert f"wrote {out}" in run(cli, "report", "--html", str(out), "--today", TODAY)
    lint_json = run(cli, "lint", "--format", "json", "--today", TODAY)
    proc = dump_dom(out, base / "chrome")
    dom = Dom()
    dom.feed(proc.stdout)
    return {
        "figures": figures,
        "html": out.read_text(),
        "dom": dom,
        "raw_dom": proc.stdout,
        "stderr": proc.stderr,
        "lint": lint_json,
    }


def test_page_loads_without_console_errors(page: dict) -> None:
    console = [ln for ln in page["stderr"].splitlines() if "CONSOLE" in ln]
    assert console == []
    html_tag = page["dom"].elements[0]
    assert html_tag[0] == "html" and html_tag[1].get("data-ready") == "1"  # our script ran


def test_charts_are_inline_svg(page: dict) -> None:
    charts = {
        a["data-chart"] for tag, a in page["dom"].elements if tag == "svg" and "data-chart" in a
    }
    assert charts >= CHARTS
    bars = [a for tag, a in page["dom"].elements if tag == "rect"]
    assert len(bars) > 10


def test_no_network_and_self_contained(page: dict) -> None:
    html = page["html"]
    csp = [a["content"] for a in page["dom"].having("http-equiv")]
    assert csp and csp[0].startswith("default-src 'none';")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "<link" not in html and "@import" not in html


def test_user_strings_are_text_never_markup(page: dict) -> None:
    dom = page["dom"]
    scripts = [a for tag, a in dom.elements if tag == "script"]
    assert len(scripts) == 1  # only the page's own
    assert not [a for tag, a in dom.elements if tag == "img"]
    text = "".join(dom.text)
    assert XSS_TITLE in text and XSS_OWNER in text  # shown, as text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page["html"]


def test_figures_match_report_json(page: dict) -> None:
    fig, dom = page["figures"], page["dom"]
    kpis = {a["data-key"]: json.loads(a["data-value"]) for a in dom.having("data-key")}
    for key in (
        "won_value",
        "win_rate",
        "avg_cycle_days",
        "median_cycle_days",
        "open_value",
        "weighted_value",
        "open_count",
    ):
        assert kpis[key] == fig[key], key
    assert kpis["velocity"] == fig["velocity"]["per_day"]
    assert fig["won_value"] == 1200 and fig["win_rate"] == 0.5  # the page is not empty

    def rows(chart_attr: str) -> list[dict[str, str]]:
        return [a for tag, a in dom.elements if tag == "g" and chart_attr in a]

    stages = {
        json.loads(a["data-stage"]): a for a in rows("data-weighted-value") if "data-stage" in a
    }
    for name, s in fig["stages"].items():
        if s["closed"] is None:
            assert json.loads(stages[name]["data-count"]) == s["count"]
            assert json.loads(stages[name]["data-value"]) == s["value"]
            assert json.loads(stages[name]["data-weighted-value"]) == s["weighted_value"]
    months = [
        json.loads(a["data-month"])
        for tag, a in dom.elements
        if tag == "g" and "data-weighted-value" in a and "data-month" in a
    ]
    assert months == [f["month"] for f in fig["forecast"]]
    rates = [json.loads(a["data-rate"]) for a in rows("data-rate")]
    assert rates == [c["rate"] for c in fig["conversion"]]
    reasons = {
        json.loads(a["data-reason"]): json.loads(a["data-count"]) for a in rows("data-reason")
    }
    assert reasons == {r["reason"]: r["count"] for r in fig["lost_reasons"]}
    owners = {
        json.loads(a["data-owner"]): a
        for tag, a in dom.elements
        if tag == "tr" and "data-owner" in a
    }
    assert set(owners) == set(fig["owners"])
    for name, o in fig["owners"].items():
        assert json.loads(owners[name]["data-won-value"]) == o["won_value"]
        assert json.loads(owners[name]["data-win-rate"]) == o["win_rate"]


def test_lint_findings_are_listed(page: dict) -> None:
    findings = json.loads(page["lint"])
    items = findings["findings"] if isinstance(findings, dict) else findings
    rows = [a for tag, a in page["dom"].elements if tag == "tr" and "data-code" in a]
    assert len(items) > 0
    assert sorted(json.loads(a["data-code"]) for a in rows) == sorted(f["code"] for f in items)


def test_phone_width_has_a_viewport_and_fluid_charts(page: dict) -> None:
    html = page["html"]
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in html
    assert "svg{display:block;width:100%;height:auto}" in html


def test_a_big_pipeline_lists_the_most_severe_findings_and_counts_them_all() -> None:
    from pipectl.render import html as render_html
    from pipectl.render.lint_html import LINT_ROWS

    figures = _tiny_figures()
    findings = [
        {
            "code": "PL203",
            "name": "no-next-step",
            "severity": "warning",
            "path": f"p/d{i}.md",
            "line": 1,
            "column": 1,
            "message": "open deal has no next step",
            "deal_id": f"d{i}",
        }
        for i in range(450)
    ] + [
        {
            "code": "PL401",
            "name": "unqualified",
            "severity": "error",
            "path": "z/x.md",
            "line": 2,
            "column": 1,
            "message": "<b>not</b> qualified",
            "deal_id": "x",
        }
    ]
    page = render_html.dashboard(figures, findings)
    dom = Dom()
    dom.feed(page)
    rows = [a for tag, a in dom.elements if tag == "tr" and "data-code" in a]
    assert len(rows) == LINT_ROWS
    assert json.loads(rows[0]["data-code"]) == "PL401"  # errors first
    assert "450" in "".join(dom.text) and "&lt;b&gt;not&lt;/b&gt;" in page


def _tiny_figures() -> Report:
    from pipectl import history, report
    from pipectl.config import default_config

    return report.report([], default_config(), history.History(), dt.date(2026, 3, 1))


# --- what the charts draw, and the reasons beside them (no browser needed) -----------------


def _dashboard_of(*deals: tuple[str, str]) -> str:
    """The page for deals (stage, frontmatter lines) outside git, as of TODAY."""
    from pipectl import history, report
    from pipectl.config import default_config
    from pipectl.deal import parse_deal
    from pipectl.render import html as render_html

    parsed = [
        parse_deal(f"---\n{text}\n---\n".encode(), Path(f"{stage}/d{i}.md"), stage)
        for i, (stage, text) in enumerate(deals)
    ]
    fig = report.report(
        parsed, default_config(), history.History(available=False), dt.date(2026, 3, 1)
    )
    return render_html.dashboard(fig, [])


def _card(page: str, ident: str) -> str:
    found = re.search(rf'<section class="card[^"]*" id="{ident}">(.*?)</section>', page, re.S)
    assert found is not None, ident
    return found.group(1)


def test_conversion_bars_are_drawn_on_a_0_to_100_percent_scale() -> None:
    from pipectl.render import svg

    created = "created: 2026-02-01"
    page = _dashboard_of(
        *[("prospecting", created)] * 2,
        *[("qualifying", created + "\nstage_entered: 2026-02-10")] * 2,
        ("won", created + "\nclosed: 2026-02-20"),  # imported won: in no stage before
    )
    chart = _card(page, "funnel").split('data-chart="conversion"')[1].split("</svg>")[0]
    bars = re.findall(r'data-rate="([^"]*)".*?<rect [^>]*width="([\d.]+)"', chart, re.S)
    full = svg.W - svg.BAR_LEFT - svg.BAR_RIGHT
    drawn = [(json.loads(rate), float(width)) for rate, width in bars]
    # 3 of 5 went on from prospecting: 60%, the largest rate, drawn at 60% of the width
    assert drawn[0] == (0.6, round(0.6 * full, 1))
    assert drawn[1] == (1 / 3, round(full / 3, 1))
    # the won deal "reached" connecting and closing, but no deal was ever in them: a dash
    # and why, not 100%
    assert [rate for rate, _ in drawn[2:]] == [None, None]
    texts = re.findall(r'class="muted">([^<]*)</text>', chart)
    assert texts == ["60%", "33%", "–", "–"]
    assert "connecting → closing: no deal passed through connecting" in _card(page, "funnel")


def test_panels_of_zeros_and_dashes_say_why() -> None:
    nothing = _dashboard_of()
    for ident in ("stages", "forecast", "aging"):
        assert 'data-why="no open deals"' in _card(nothing, ident), ident
    assert "no open deals" in _card(nothing, "time-in-stage")
    tiles = re.findall(r'<div class="kpi" data-key="(\w+)"(.*?)</div>', nothing, re.S)
    why = {key: re.search(r'data-why="([^"]*)"', tile) for key, tile in tiles}
    said = {key: m.group(1) if m else None for key, m in why.items()}
    assert said["open_value"] == said["weighted_value"] == "no open deals"
    assert said["win_rate"] == "no deal won or lost"
    assert said["avg_cycle_days"] == said["velocity"] == "no deal won"
    assert said["open_count"] is None  # a 0 that says it all

    unvalued = _dashboard_of(("prospecting", "created: 2026-02-01"), ("closing", "title: x"))
    assert "no open deal has a value" in _card(unvalued, "stages")
    forecast = _card(unvalued, "forecast")
    assert "no open deal has a value" in forecast
    assert "no open deal has an expected close date" in forecast
    days = _card(unvalued, "time-in-stage")
    assert "no git history: finished stays come from moves in git" in days
    # the closing deal says nothing of when it got there, and git is not there to tell
    assert "closing: 1 deal there now: no stage_entered and not a git repository" in days
    assert "in no bucket, days in stage unknown" in _card(unvalued, "aging")

    valued = _dashboard_of(
        ("prospecting", "created: 2026-02-01\nvalue: 100\nexpected_close: 2026-04-01"),
        ("prospecting", "created: 2026-02-01"),
    )
    assert "1 of 2 open deals have no value" in _card(valued, "stages")
    assert "1 of 2 open deals have no expected close date" in _card(valued, "forecast")
    assert "no open deal has a value" not in valued
