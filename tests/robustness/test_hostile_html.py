"""The HTML dashboard escapes every user string: strings that break out of HTML text, of a
quoted attribute, of a <script> or <style> element and of inline SVG, put in every place a
user controls (title, company, contact, owner, notes, lost reason, tags, next step,
touchpoint summaries, unknown keys, even the deal's file name), never become markup.

Checked without a browser: the page's source never holds a hostile string raw, and parsing
it gives exactly the page's own elements (one script, one style, no handler attributes).
tests/render/test_html.py loads a page in headless Chromium as well.
"""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import Cli, git, make_repo

HOSTILE = (
    "<script>alert('t')</script>",
    "</script><script>alert(1)</script>",
    '"><svg onload=alert(2)>',
    "' onmouseover='alert(3)",
    "</title></svg><img src=x onerror=alert(4)>",
    "<style>*{display:none}</style>",
    "</style><script>alert(5)</script>",
    "<![CDATA[</text><script>alert(6)</script>]]>",
    "<!-- <iframe src=javascript:alert(7)>",
    '<a href="javascript:alert(8)">x</a>',
    "<foreignObject><body onload=alert(9)>",
    "&lt;already&gt; &amp; &#x3C;",
)
HANDLERS = ("onload", "onerror", "onmouseover", "onclick", "onfocus")
FORBIDDEN_TAGS = {"img", "iframe", "object", "embed", "foreignobject", "a", "body_", "base"}


class Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []
        self.script_text: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, {k: v or "" for k, v in attrs}))
        self._in = tag

    def handle_endtag(self, tag):
        self._in = None

    def handle_data(self, data):
        (self.script_text if self._in in ("script", "style") else self.text).append(data)


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory) -> tuple[str, Page]:
    mp = pytest.MonkeyPatch()
    base = tmp_path_factory.mktemp("hostile-html")
    home = base / "home"
    home.mkdir()
    for key, value in {
        "HOME": str(home),
        "GIT_CONFIG_GLOBAL": str(home / "gitconfig"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "PIPECTL_NO_CACHE": "1",
    }.items():
        mp.setenv(key, value)
    try:
        yield build(base)
    finally:
        mp.undo()


def yaml_str(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def build(base: Path) -> tuple[str, Page]:
    repo = make_repo(base / "repo")
    cli = Cli(repo)
    assert cli("init").exit_code == 0
    # lost reasons come from pipeline.yaml: a hostile one is allowed there
    config = repo / "pipeline.yaml"
    config.write_text(
        config.read_text().replace(
            "lost_reasons: [", f"lost_reasons: [{yaml_str(HOSTILE[4])}, {yaml_str(HOSTILE[7])}, "
        )
    )
    git(repo, "commit", "-q", "-am", "hostile lost reasons")
    for i, s in enumerate(HOSTILE):
        t = HOSTILE[(i + 1) % len(HOSTILE)]
        args = [
            "add",
            s,
            "--id",
            f"deal-{i}",
            "--company",
            t,
            "--contact",
            s,
            "--owner",
            t,
            "--value",
            str(100 * (i + 1)),
            "--next-step",
            s,
            "--due",
            "2026-01-02",
            "--expected-close",
            "2026-03-01",
            "--tag",
            s,
            "--date",
            "2026-01-01",
        ]
        assert cli(*args).exit_code == 0
        r = cli("log", f"deal-{i}", "call", s, "--date", "2026-01-05")
        assert r.exit_code == 0, r.output
        assert cli("set", f"deal-{i}", f"x-{i}={s}", f"qualification.budget={t}").exit_code == 0
        with (repo / "prospecting" / f"deal-{i}.md").open("a") as f:
            f.write(f"\n{s}\n{t}\n")
        git(repo, "commit", "-q", "-am", f"notes {i}")
        if i % 3 == 1:
            assert (
                cli("move", f"deal-{i}", "closing", "--date", "2026-01-20", "--force").exit_code
                == 0
            )
        if i % 3 == 2:
            assert cli("won", f"deal-{i}", "--date", "2026-02-01").exit_code == 0
    for i, reason in enumerate((HOSTILE[4], HOSTILE[7])):
        r = cli("lost", f"deal-{3 * i}", "--reason", reason, "--date", "2026-02-03")
        assert r.exit_code == 0, r.output
    # a file name is the user's too (and lint names it in findings)
    evil = repo / "closing" / "<svg onload=alert(10)>.md"
    evil.write_text(f"---\ntitle: {yaml_str(HOSTILE[2])}\nowner: {yaml_str(HOSTILE[3])}\n---\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "hostile file name")
    out = base / "dashboard.html"
    r = cli("report", "--html", str(out), "--today", "2026-03-01")
    assert r.exit_code == 0, r.output
    html = out.read_text(encoding="utf-8")
    page = Page()
    page.feed(html)
    return html, page


def test_no_hostile_string_is_in_the_source_raw(dashboard):
    html, _page = dashboard
    for s in (*HOSTILE, "<svg onload=alert(10)>"):
        if any(c in s for c in "<>\"'"):
            assert s not in html, s


def test_only_the_pages_own_elements(dashboard):
    _html, page = dashboard
    tags = [t for t, _ in page.tags]
    assert tags.count("script") == 1 and tags.count("style") == 1
    assert tags.count("body") == 1 and tags.count("html") == 1 and tags.count("title") >= 1
    assert not FORBIDDEN_TAGS & set(tags), set(tags)
    for tag, attrs in page.tags:
        assert not [a for a in attrs if a.startswith("on")], (tag, attrs)
        for name in ("href", "src", "action", "xlink:href", "formaction"):
            assert name not in attrs, (tag, attrs)  # the page links nowhere, by design
    assert not any("alert(" in text for text in page.script_text)


def test_hostile_strings_are_shown_as_text(dashboard):
    """Not vacuous: the owners, lost reasons and the file name are on the page, as text."""
    _html, page = dashboard
    text = "".join(page.text)
    for shown in (HOSTILE[1], HOSTILE[4], HOSTILE[7], "<svg onload=alert(10)>"):
        assert shown in text, shown
    # the lost-reason chart carries each reason in an attribute too: decoded, it is exactly
    # the reason as `report --json` prints it, nothing cut or re-escaped
    reasons = [a["data-reason"] for _t, a in page.tags if "data-reason" in a]
    for reason in (HOSTILE[4], HOSTILE[7]):
        assert json.dumps(reason) in reasons, (reason, reasons)


def test_content_security_policy_forbids_scripts_from_anywhere_else(dashboard):
    _html, page = dashboard
    csp = [a["content"] for t, a in page.tags if t == "meta" and "http-equiv" in a]
    assert csp and "default-src 'none'" in csp[0] and "script-src 'sha256-" in csp[0]
