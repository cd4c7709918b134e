"""`pipectl changes`: the weekly review from git (pipectl/changes.py, pipectl/waterfall.py).

One backdated history (commits with their author and committer dates set, real git), by four
people: deals added, advanced, moved back by hand, won, lost and reopened; values changed by
pipectl and in an editor; close dates pushed out and pulled in; an owner change; touchpoints
logged by pipectl and by hand, one dated before the window; a deal deleted by hand; a deal
that goes stale in the window; and commits on both sides of the window that must not count.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from conftest import Cli, git, make_repo
from hypothesis import given, settings
from hypothesis import strategies as st

from pipectl import changes
from pipectl.config import parse_config
from pipectl.deal import Deal
from pipectl.waterfall import BUCKETS, waterfall

QUALIFIED = [
    a
    for c, w in {"budget": "ok", "need": "yes", "fit": "good", "timeline": "Q4"}.items()
    for a in ("--set", f"qualification.{c}={w}")
]
WINDOW = ["--since", "2026-11-23", "--until", "2026-11-29", "--today", "2026-11-30"]


class Timeline:
    """pipectl and git with their commits dated `day` (author and committer), by `who`."""

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch):
        self.root, self.mp, self.cli = root, monkeypatch, Cli(root)

    def at(self, day: str, who: str = "alice", hour: int = 10) -> Timeline:
        stamp = f"{day}T{hour:02d}:00:00+00:00"
        for var, value in (
            ("GIT_AUTHOR_DATE", stamp),
            ("GIT_COMMITTER_DATE", stamp),
            ("GIT_AUTHOR_NAME", who),
            ("GIT_AUTHOR_EMAIL", f"{who}@example.com"),
            ("PIPECTL_TODAY", day),
        ):
            self.mp.setenv(var, value)
        return self

    def run(self, *args: str) -> None:
        result = self.cli(*args)
        assert result.exit_code == 0, result.output

    def add(self, title: str, value: int, close: str | None, *more: str) -> None:
        dated = ["--expected-close", close] if close else []
        self.run(
            "add", title, "--value", str(value), "--owner", "alice", "--next-step", "Call",
            *dated, *QUALIFIED, *more,
        )  # fmt: skip

    def hand(self, rel: str, old: str, new: str, message: str) -> None:
        path = self.root / rel
        text = path.read_text(encoding="utf-8")
        assert old in text, (rel, old, text)
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
        git(self.root, "commit", "-q", "-am", message)


@pytest.fixture
def story(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return build_story(tmp_path, monkeypatch)


def build_story(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The backdated history the module's docstring tells."""
    root = make_repo(tmp_path / "repo")
    t = Timeline(root, monkeypatch)
    # before the window: the pipeline at the end of 2026-11-22
    t.at("2026-11-10").run("init")
    t.at("2026-11-10").add("Omega", 1000, None)  # undated; idle since the 10th: stale on the 25th
    t.at("2026-11-16").add("Acme", 10000, "2026-12-15")
    t.at("2026-11-17").add("Beta", 5000, "2026-12-20")
    t.at("2026-11-18").add("Gamma", 8000, "2026-12-10")
    t.at("2026-11-18").add("Delta", 3000, "2026-12-05")
    t.at("2026-11-19").add("Eps", 2000, "2027-02-01")  # due after the quarter: outside
    t.at("2026-11-19").add("Zeta", 4000, "2026-12-31")
    t.at("2026-11-20").run("lost", "zeta", "--reason", "price")
    t.at("2026-11-20").add("Theta", 500, None)
    # the window: 2026-11-23 .. 2026-11-29
    t.at("2026-11-23").run("move", "acme", "qualifying")
    t.at("2026-11-23", hour=11).run(
        "log", "acme", "call", "Discovery", "--outcome", "replied", "--date", "2026-11-23"
    )
    t.at("2026-11-24", "bob").run("set", "beta", "value=7000")
    t.at("2026-11-24", "carol", 11).hand("prospecting/gamma.md", "value: 8000", "value: 6000", "-")
    t.at("2026-11-24", "bob", 12).add("Iota", 1500, "2026-12-01")
    t.at("2026-11-25", "bob").run("set", "delta", "expected_close=2027-01-15")
    t.at("2026-11-25", "bob", 11).hand(
        "prospecting/beta.md", "expected_close: 2026-12-20", "expected_close: 2026-12-10", "sooner"
    )
    t.at("2026-11-25", "bob", 12).run(
        "log", "beta", "meeting", "Demo", "--outcome", "replied", "--date", "2026-11-25"
    )
    t.at("2026-11-26").run("won", "gamma")
    t.at("2026-11-26", "bob", 11).run("won", "iota")
    t.at("2026-11-26", "carol", 12)
    git(root, "mv", "qualifying/acme.md", "prospecting/acme.md")
    git(root, "commit", "-q", "-m", "acme back to prospecting")
    t.at("2026-11-27", "dave").add("Kappa", 9000, "2026-12-30")
    t.at("2026-11-27", "dave", 11).run("set", "eps", "expected_close=2026-12-28")
    t.at("2026-11-27", "dave", 12).run("move", "zeta", "prospecting", "--reopen")
    t.at("2026-11-28", "bob").run("set", "beta", "owner=bob")
    t.at("2026-11-28", "bob", 11).hand(
        "prospecting/beta.md",
        "touchpoints:\n",
        "touchpoints:\n  - {date: 2026-11-28, kind: email, summary: Recap, outcome: no-reply}\n",
        "recap email",
    )
    t.at("2026-11-28", "dave", 12).run("log", "delta", "email", "Intro", "--date", "2026-11-20")
    t.at("2026-11-28", "carol", 13)
    git(root, "rm", "-q", "prospecting/theta.md")
    git(root, "commit", "-q", "-m", "theta was a duplicate")
    # after the window
    t.at("2026-11-30").run("set", "acme", "value=99999")
    t.at("2026-11-30", hour=11).run("log", "omega", "call", "Late", "--date", "2026-11-29")
    return root


def forget_answers(root: Path) -> None:
    """The answers `changes` keeps whole (pipectl/pastmemo.py) gone: the next run over a
    window reads it again, through the caches beneath (the window's parts, briefs, facts)."""
    for kept in (root / ".git" / "pipectl" / "cache").glob("past-*"):
        kept.unlink()


def _json(root: Path, *args: str) -> dict:
    result = Cli(root)("changes", *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


# (deal, kind, old, new, amount, author, by hand), in the order of the commits
EXPECTED = [
    ("acme", "advanced", "prospecting", "qualifying", None, "alice", False),
    ("beta", "value_up", 5000, 7000, 2000, "bob", False),
    ("gamma", "value_down", 8000, 6000, -2000, "carol", True),
    ("iota", "added", None, "prospecting", 1500, "bob", False),
    ("delta", "slipped", "2026-12-05", "2027-01-15", 41, "bob", False),
    ("beta", "pulled_in", "2026-12-20", "2026-12-10", -10, "bob", True),
    ("gamma", "won", "prospecting", "won", None, "alice", False),
    ("iota", "won", "prospecting", "won", None, "bob", False),
    ("acme", "moved_back", "qualifying", "prospecting", None, "carol", True),
    ("kappa", "added", None, "prospecting", 9000, "dave", False),
    ("eps", "pulled_in", "2027-02-01", "2026-12-28", -35, "dave", False),
    ("zeta", "reopened", "lost", "prospecting", None, "dave", False),
    ("beta", "owner", "alice", "bob", None, "bob", False),
    ("theta", "removed", "prospecting", None, 500, "carol", True),
]


def _rows(data: dict) -> list[tuple]:
    return [
        (c["deal"], c["kind"], c["old"], c["new"], c["amount"], c["author"], c["by_hand"])
        for c in data["changes"]
    ]


def test_changes_json_lists_exactly_what_the_window_did(story: Path):
    data = _json(story, *WINDOW)
    assert _rows(data) == EXPECTED
    assert data["summary"]["won"] == 2 and "value_up" in data["summary"]
    assert data["window"]["since"] == "2026-11-23" and data["window"]["until"] == "2026-11-29"
    assert data["window"]["close_by"] == "2026-12-31"
    # the touchpoints dated in the window, each by the author of the commit that added it
    logged = data["touchpoints"]["logged"]
    assert [(t["deal"], t["rep"], t["date"], t["kind"], t["by_hand"]) for t in logged] == [
        ("acme", "alice", "2026-11-23", "call", False),
        ("beta", "bob", "2026-11-25", "meeting", False),
        ("beta", "bob", "2026-11-28", "email", True),
    ]
    assert data["touchpoints"]["by_rep"] == [
        {"rep": "bob", "count": 2, "kinds": {"email": 1, "meeting": 1},
         "outcomes": {"no-reply": 1, "replied": 1}},
        {"rep": "alice", "count": 1, "kinds": {"call": 1}, "outcomes": {"replied": 1}},
    ]  # fmt: skip
    assert [(s["deal"], s["stale_from"]) for s in data["stale"]] == [("omega", "2026-11-25")]


def test_the_waterfall_balances_and_equals_the_hand_computed_figures(story: Path):
    wf = _json(story, *WINDOW)["waterfall"]
    # at the end of 2026-11-22, open and due by 2026-12-31 (or undated): omega 1000, acme
    # 10000, beta 5000, gamma 8000, delta 3000, theta 500 (eps is due in February, zeta lost)
    assert wf["start"] == {"count": 6, "value": 27500}
    buckets = {b["name"]: (sorted(b["deals"]), b["count"], b["value"]) for b in wf["buckets"]}
    assert list(buckets) == list(BUCKETS)
    assert buckets == {
        "new": (["iota", "kappa"], 2, 10500),
        "pulled_in": (["eps"], 1, 2000),
        "reopened": (["zeta"], 1, 4000),
        "increased": (["beta"], 0, 2000),
        "decreased": (["gamma"], 0, -2000),
        "won": (["gamma", "iota"], -2, -7500),
        "lost": ([], 0, 0),
        "slipped": (["delta"], -1, -3000),
        "removed": (["theta"], -1, -500),
    }
    # omega 1000, acme 10000, beta 7000, eps 2000, zeta 4000, kappa 9000
    assert wf["end"] == {"count": 6, "value": 33000}
    assert wf["balanced"] is True
    assert wf["start"]["count"] + sum(b["count"] for b in wf["buckets"]) == wf["end"]["count"]
    assert wf["start"]["value"] + sum(b["value"] for b in wf["buckets"]) == wf["end"]["value"]
    # every open deal (no period): nothing slips or is pulled in; eps was there all along
    every = _json(story, *WINDOW, "--close-by", "all")["waterfall"]
    assert every["start"] == {"count": 7, "value": 29500} and every["end"]["count"] == 7
    names = {b["name"]: b["deals"] for b in every["buckets"]}
    assert names["slipped"] == [] and names["pulled_in"] == [] and every["balanced"]


def test_last_seven_days_is_the_same_window(story: Path):
    by_dates = _json(story, *WINDOW)
    last_week = _json(story, "--since", "7d", "--today", "2026-11-29")
    assert last_week["window"] == by_dates["window"]
    assert _rows(last_week) == EXPECTED


@pytest.mark.parametrize(
    ("since", "first"),
    [
        ("mon", "2026-11-23"),  # the last Monday up to --until, not the next one
        ("sun", "2026-11-29"),  # --until's own day when it is that weekday
        ("Thursday", "2026-11-26"),
        ("2w", "2026-11-16"),
        ("1m", "2026-10-30"),  # a month of days ending on --until, as 7d is a week
        ("1y", "2025-11-30"),
        ("-1m", "2026-10-30"),  # a date, from today (2026-11-30), as everywhere
    ],
)
def test_since_counts_back_from_the_windows_last_day(story: Path, since: str, first: str):
    data = _json(story, "--since", since, "--until", "2026-11-29", "--today", "2026-11-30")
    assert (data["window"]["since"], data["window"]["until"]) == (first, "2026-11-29")


def test_since_too_far_back_is_said_as_typed(story: Path):
    result = Cli(story)("changes", "--since", "9999y", "--today", "2026-11-30")
    assert result.exit_code == 2
    assert result.output == "pipectl: error: --since 9999y: that goes back before year 1\n"


def test_a_revision_range_compares_its_two_commits(story: Path):
    base = git(story, "rev-list", "-1", "--before=2026-11-22T23:59:59+00:00", "HEAD").strip()
    tip = git(story, "rev-list", "-1", "--before=2026-11-29T23:59:59+00:00", "HEAD").strip()
    data = _json(story, f"{base}..{tip}", "--today", "2026-11-30")
    assert data["window"]["base"] == base and data["window"]["tip"] == tip
    assert _rows(data) == EXPECTED
    # a range is its commits: delta's touchpoint dated before the window counts here
    assert [t["deal"] for t in data["touchpoints"]["logged"]] == ["acme", "beta", "beta", "delta"]
    assert data["waterfall"] == _json(story, *WINDOW)["waterfall"]
    # A...B starts from the merge base; B defaults to HEAD
    assert _json(story, f"{base}...{tip}")["window"]["base"] == base
    head = _json(story, base, "--today", "2026-11-30")
    assert head["window"]["tip"] == git(story, "rev-parse", "HEAD").strip()
    assert ("acme", "value_up", 10000, 99999, 89999, "alice", False) in _rows(head)


def test_markdown_renders_as_github_tables(story: Path):
    result = Cli(story)("changes", *WINDOW, "--format", "markdown")
    assert result.exit_code == 0, result.output
    text = result.output
    assert text.startswith("## Pipeline changes 2026-11-23 to 2026-11-29\n")
    headings = re.findall(r"^### (.+)$", text, re.MULTILINE)
    assert [h.split(" (")[0].split(":")[0] for h in headings] == [
        "Waterfall",
        "Changes",
        "Went stale",
        "Touchpoints logged by rep",
    ]
    tables = _md_tables(text)
    assert len(tables) == 4
    for header, sep, rows in tables:
        assert all(re.fullmatch(r"-{3,}", cell) for cell in sep), sep
        assert all(len(row) == len(header) for row in rows), (header, rows)
    waterfall, change_table, _, reps = tables
    assert waterfall[0] == ["Step", "Deals", "Count", "Value"]
    assert waterfall[2][0] == ["start", "", "6", "27,500"]
    assert waterfall[2][-1] == ["end", "", "6", "33,000"]
    assert ["- slipped out", "1", "-1", "-3,000"] in waterfall[2]
    assert len(change_table[2]) == len(EXPECTED)
    row = ["gamma", "value down", "8,000 → 6,000 (-2,000)", "carol (by hand)"]
    assert change_table[2][2][1:5] == row
    assert [r[0] for r in reps[2]] == ["bob", "alice"]


def _md_tables(text: str) -> list[tuple[list[str], list[str], list[list[str]]]]:
    """Each pipe table as GitHub reads it: a header row, the separator, the body rows; cells
    split at pipes that are not escaped."""
    blocks, current = [], []
    for line in [*text.splitlines(), ""]:
        if line.startswith("|"):
            assert line.endswith("|"), line
            cells = re.split(r"(?<!\\)\|", line)[1:-1]
            current.append([c.strip().replace("\\|", "|") for c in cells])
        elif current:
            blocks.append((current[0], current[1], current[2:]))
            current = []
    return blocks


def test_text_names_every_section(story: Path):
    result = Cli(story)("changes", *WINDOW)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Pipeline changes 2026-11-23 to 2026-11-29" in out
    assert "2026-12-05 → 2027-01-15 (+41 days)" in out
    assert "Went stale (1)" in out and "Touchpoints logged by rep (3)" in out
    assert "Waterfall: open pipeline (due by 2026-12-31 or undated), USD" in out


def test_a_markdown_cell_keeps_its_pipes_inside(story: Path, monkeypatch: pytest.MonkeyPatch):
    t = Timeline(story, monkeypatch)
    t.at("2026-11-29", "eve | mallory").run("set", "omega", "owner=a|b")
    tables = _md_tables(Cli(story)("changes", *WINDOW, "--format", "markdown").output)
    assert ["omega", "owner", "alice → a|b", "eve | mallory"] in [r[1:5] for r in tables[1][2]]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "2026-11-29", "--until", "2026-11-23"], "is before --since"),
        (["nope..HEAD"], "names no commit"),
        (["HEAD~1..HEAD", "--since", "7d"], "not both"),
        (["--format", "yaml"], "is not one of"),
        (["--until", "2026-11-01"], "before the first commit"),
        (["--until", "2026-12-01", "--today", "2026-11-30"], "is in the future"),
        (["--close-by", "someday"], "--close-by: 'someday' is not a date"),
        (["--since", "2026-12-20", "--today", "2026-11-30"], "--since 2026-12-20 is after today"),
        (["HEAD..HEAD~3"], "HEAD is not an ancestor of HEAD~3 (the older revision goes first"),
        (["HEAD..HEAD~3"], "first: HEAD~3..HEAD)"),
    ],
)
def test_mistakes_are_one_line(story: Path, args: list[str], message: str):
    result = Cli(story)("changes", *args)
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output


def test_a_warm_index_walks_only_the_new_commits(story: Path, monkeypatch: pytest.MonkeyPatch):
    """`changes` reads events through the history index: after one new commit, its one git
    log pass asks only for what is new (HEAD ^old tip)."""
    assert _json(story, *WINDOW)["changes"]
    from pipectl import gitlog

    seen: list[list[str]] = []
    real = gitlog.log

    def spy(git_, prefix, revisions):
        seen.append(list(revisions))
        return real(git_, prefix, revisions)

    monkeypatch.setattr(gitlog, "log", spy)
    old_head = git(story, "rev-parse", "HEAD").strip()
    Timeline(story, monkeypatch).at("2026-11-30", hour=12).run("set", "beta", "value=7500")
    cache = story / ".git" / "pipectl" / "cache"
    for kept in [*cache.glob("past-*"), *cache.glob("window-*")]:
        kept.unlink()  # the window's answer and parts forgotten: it is read from the index
    seen.clear()
    assert _rows(_json(story, *WINDOW)) == EXPECTED
    assert seen and all(f"^{old_head}" in revs or any(old_head in r for r in revs) for revs in seen)
    seen.clear()
    from pipectl import history

    def never(*_a: object, **_kw: object) -> None:
        raise AssertionError("read the history")

    monkeypatch.setattr(history, "read", never)  # the same two ends: the answer kept
    assert _rows(_json(story, *WINDOW)) == EXPECTED
    assert seen == []


def test_kinds_are_the_ones_documented():
    doc = (Path(__file__).resolve().parents[1] / "docs" / "review.md").read_text(encoding="utf-8")
    for kind in changes.KINDS:
        assert f"`{kind}`" in doc, kind
    for bucket in BUCKETS:
        assert f"`{bucket}`" in doc, bucket


def test_history_of_a_deal_shows_old_and_new_values(story: Path):
    """`history DEAL`: each changed field old → new, made by pipectl or by hand."""
    result = Cli(story)("history", "beta")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "fields changed: value 5,000 → 7,000" in lines[2]
    assert "edited by hand: expected_close 2026-12-20 → 2026-12-10" in lines[3]
    assert lines[4].split("  bob  ")[1].strip().startswith("touchpoint logged: meeting — Demo  ")
    assert "fields changed: owner alice → bob" in lines[5]
    assert "edited by hand: touchpoints +1" in lines[6]
    data = json.loads(Cli(story)("history", "zeta", "--json").output)
    assert [e["changes"] for e in data["events"]] == [
        [],  # created: the whole file is new
        [
            {"field": "stage_entered", "old": None, "new": "2026-11-20"},
            {"field": "closed", "old": None, "new": "2026-11-20"},
            {"field": "lost_reason", "old": None, "new": "price"},
            {"field": "next_step", "old": "Call", "new": None},
        ],
        [
            {"field": "stage_entered", "old": "2026-11-20", "new": "2026-11-27"},
            {"field": "closed", "old": "2026-11-20", "new": None},
            {"field": "lost_reason", "old": "price", "new": None},
        ],
    ]
    assert data["events"][2]["text"].startswith(
        "moved lost → prospecting (stage_entered 2026-11-20"
    )


def test_history_shows_a_mapping_entry_by_entry_and_the_notes_as_changed(
    story: Path, monkeypatch: pytest.MonkeyPatch
):
    t = Timeline(story, monkeypatch).at("2026-11-30", "carol", 14)
    t.hand("prospecting/omega.md", "  need: 'yes'\n", "  need: not any more\n", "need changed")
    with (story / "prospecting" / "omega.md").open("a", encoding="utf-8") as f:
        f.write("\nCalled twice, no answer.\n")
    git(story, "commit", "-q", "-am", "notes")
    data = json.loads(Cli(story)("history", "omega", "--json").output)
    assert data["events"][-2]["changes"] == [
        {"field": "qualification.need", "old": "yes", "new": "not any more"}
    ]
    assert data["events"][-1]["changes"] == [{"field": "body", "old": None, "new": None}]
    out = Cli(story)("history", "omega").output
    assert "edited by hand: qualification.need yes → not any more" in out
    assert "edited by hand: notes changed" in out
    # a mapping added where there was none: entry by entry too, not "(none) → 2 entries"
    t.at("2026-11-30", "carol", 16).run("add", "Pi", "--value", "100")
    qualified = "title: Pi\nqualification:\n  budget: ok\n  need: 'yes'\n"
    t.hand("prospecting/pi.md", "title: Pi\n", qualified, "qualified")
    data = json.loads(Cli(story)("history", "pi", "--json").output)
    assert data["events"][-1]["changes"] == [
        {"field": "qualification.budget", "old": None, "new": "ok"},
        {"field": "qualification.need", "old": None, "new": "yes"},
    ]


def test_the_waterfall_ends_are_what_report_as_of_shows(story: Path):
    """With every open deal (no period), the start is `report --as-of` the day before the
    window, the end `report --as-of` its last day."""
    wf = _json(story, *WINDOW, "--close-by", "all")["waterfall"]
    for end, day in (("start", "2026-11-22"), ("end", "2026-11-29")):
        result = Cli(story)("report", "--as-of", day, "--json")
        assert result.exit_code == 0, result.output
        fig = json.loads(result.output)
        assert (wf[end]["count"], wf[end]["value"]) == (fig["open_count"], fig["open_value"])


def test_a_window_from_before_the_first_commit_starts_empty(story: Path):
    data = _json(story, "--since", "2026-11-01", "--until", "2026-11-12", "--today", "2026-11-30")
    assert data["window"]["base"] is None
    assert [(c["deal"], c["kind"]) for c in data["changes"]] == [("omega", "added")]
    assert data["waterfall"]["start"] == {"count": 0, "value": 0}
    assert data["waterfall"]["end"] == {"count": 1, "value": 1000}
    new = next(b for b in data["waterfall"]["buckets"] if b["name"] == "new")
    assert new == {"name": "new", "deals": ["omega"], "count": 1, "value": 1000}


def test_a_quiet_window_lists_nothing_and_its_ends_agree(story: Path):
    data = _json(story, "--since", "2026-11-21", "--until", "2026-11-22", "--today", "2026-11-30")
    assert data["changes"] == [] and data["touchpoints"]["logged"] == []
    assert all(b["deals"] == [] for b in data["waterfall"]["buckets"])
    out = Cli(story)("changes", "--since", "2026-11-21", "--until", "2026-11-22").output
    assert "no changes to deals" in out


def test_a_pipeline_in_a_subfolder_of_a_busier_repository(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    repo = make_repo(tmp_path / "repo")
    (repo / "sales").mkdir()
    t = Timeline(repo / "sales", monkeypatch)
    t.at("2026-11-02").run("init")
    t.at("2026-11-03").add("Acme", 100, "2026-12-01")
    (repo / "README.txt").write_text("not a deal\n", encoding="utf-8")
    t.at("2026-11-10", "bob")
    git(repo, "add", "README.txt")
    git(repo, "commit", "-q", "-m", "unrelated")
    t.at("2026-11-10", "bob", 11).run("set", "acme", "value=250")
    data = _json(
        repo / "sales", "--since", "2026-11-09", "--until", "2026-11-15", "--today", "2026-11-16"
    )
    assert _rows(data) == [("acme", "value_up", 100, 250, 150, "bob", False)]
    assert data["waterfall"]["start"] == {"count": 1, "value": 100}
    assert data["waterfall"]["end"] == {"count": 1, "value": 250}


def test_a_deal_that_does_not_parse_at_an_end_is_said(story: Path, monkeypatch: pytest.MonkeyPatch):
    t = Timeline(story, monkeypatch).at("2026-11-30", "carol", 15)
    t.hand("prospecting/kappa.md", "value: 9000\n", "value: [9000\n", "broken")
    result = Cli(story)("changes", "--since", "2026-11-30", "--until", "2026-11-30")
    assert result.exit_code == 0, result.output
    assert "pipectl: warning: skipped" in result.output and "kappa.md" in result.output
    # its figures are unknown there: no value gone, not removed from the waterfall
    got = Cli(story)("changes", "--since", "2026-11-30", "--until", "2026-11-30", "--json")
    said, _, out = got.output.partition("\n")  # the warning, then the JSON
    assert said.startswith("pipectl: warning: skipped"), got.output
    data = json.loads(out)
    assert [c for c in data["changes"] if c["deal"] == "kappa"] == []
    wf = data["waterfall"]
    assert all("kappa" not in b["deals"] for b in wf["buckets"]), wf
    shown = Cli(story)("history", "kappa")
    assert "value 9,000 → (does not parse)" in shown.output, shown.output
    assert "[9000" not in shown.output


def test_outside_git_or_before_any_commit_there_is_nothing_to_compare(tmp_path: Path):
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "pipeline.yaml").write_text("currency: EUR\n")
    result = Cli(plain)("changes")
    assert result.exit_code == 2 and "not inside a git repository" in result.output
    empty = make_repo(tmp_path / "empty")
    assert Cli(empty)("init", "--no-commit").exit_code == 0
    result = Cli(empty)("changes", "--today", "2026-11-30")
    assert result.exit_code == 2 and "no commits yet" in result.output


def test_a_range_across_a_fork_is_refused_with_the_form_that_compares_it(
    story: Path, monkeypatch: pytest.MonkeyPatch
):
    """`changes side` (side..HEAD) where side forked off: the two trees are not one line's
    ends, so the waterfall would move by what no listed change did; `side...HEAD` reads it."""
    git(story, "checkout", "-q", "-b", "side", "HEAD~2")
    Timeline(story, monkeypatch).at("2026-11-29").run("set", "beta", "value=6100")
    git(story, "checkout", "-q", "-")
    refused = Cli(story)("changes", "side")
    assert refused.exit_code == 2
    assert "side is not an ancestor of HEAD" in refused.output and "side...HEAD" in refused.output
    assert Cli(story)("changes", "side...HEAD").exit_code == 0


@pytest.mark.parametrize(
    ("rules", "stale"),
    [
        ("rules: {stale: {days: 30}}", []),  # omega's limit is now 30 days: not stale yet
        ("rules: {stale: {severity: 'off'}}", []),
        # 5 days: omega went stale before the window; these three inside it
        ("rules: {stale: {stages: {prospecting: {days: 5}}}}", ["eps", "delta", "acme"]),
    ],
)
def test_went_stale_follows_the_stale_rule_of_the_end(
    story: Path, monkeypatch: pytest.MonkeyPatch, rules: str, stale: list[str]
):
    """PL301's settings as pipeline.yaml has them at the window's end."""
    Timeline(story, monkeypatch).at("2026-11-29", "carol").hand(
        "pipeline.yaml", "rules: {}", rules, "stale rule"
    )
    data = _json(story, *WINDOW)
    assert [s["deal"] for s in data["stale"]] == stale


def test_a_pull_request_is_what_its_branch_did_since_the_merge_base(
    story: Path, monkeypatch: pytest.MonkeyPatch
):
    t = Timeline(story, monkeypatch)
    fork = git(story, "rev-parse", "HEAD").strip()
    git(story, "checkout", "-q", "-b", "feature")
    t.at("2026-12-01", "dave").run("move", "kappa", "qualifying")
    t.at("2026-12-01", "dave", 11)
    git(story, "mv", "prospecting/omega.md", "prospecting/omega-corp.md")
    git(story, "commit", "-q", "-m", "omega's real name")
    git(story, "checkout", "-q", "main")
    t.at("2026-12-01", "bob", 12).run("set", "beta", "value=8000")
    result = Cli(story)("changes", "main...feature")
    assert result.exit_code == 2 and "not in HEAD's history" in result.output
    git(story, "checkout", "-q", "feature")
    data = _json(story, "main...feature", "--today", "2026-12-01")
    assert data["window"]["base"] == fork
    assert [(c["deal"], c["kind"], c["old"], c["new"]) for c in data["changes"]] == [
        ("kappa", "advanced", "prospecting", "qualifying"),
        ("omega-corp", "renamed", "omega", "omega-corp"),
    ]
    # a renamed deal is one deal: it neither left nor came in
    assert all(b["deals"] == [] for b in data["waterfall"]["buckets"])


STAGES = ("prospecting", "qualifying", "connecting", "closing", "won", "lost", "elsewhere")
amounts = st.one_of(st.none(), st.integers(0, 10**9), st.decimals(0, 10**6, places=2).map(float))
ends = st.dictionaries(
    st.sampled_from([f"d{i}" for i in range(12)]),
    st.tuples(
        st.sampled_from(STAGES),
        amounts,
        st.one_of(st.none(), st.dates(dt.date(2026, 10, 1), dt.date(2027, 3, 31))),
    ),
)


def _deals(side: dict) -> list[Deal]:
    return [
        Deal(i, stage, Path(f"{stage}/{i}.md"), {"value": v, "expected_close": due})
        for i, (stage, v, due) in side.items()
    ]


@settings(max_examples=300, deadline=None)
@given(ends, ends, st.one_of(st.none(), st.dates(dt.date(2026, 11, 1), dt.date(2027, 1, 31))))
def test_the_waterfall_always_balances_to_the_cent(start: dict, end: dict, close_by):
    """Any two ends, any amounts with cents (0.1 + 0.2 is 0.3 here), any period: start plus
    every bucket is the end exactly, each deal in the buckets its two states name."""
    config = parse_config({}, None, "")
    wf = waterfall((_deals(start), config), (_deals(end), config), {}, close_by)
    assert wf.balanced
    count = wf.start.count + sum(b.count_delta for b in wf.buckets)
    assert count == wf.end.count
    assert wf.start.value + sum(b.value_delta for b in wf.buckets) == wf.end.value
    for b in wf.buckets:
        assert b.count_delta == {"increased": 0, "decreased": 0}.get(
            b.name, len(b.deals) if b.name in ("new", "pulled_in", "reopened") else -len(b.deals)
        )
        assert b.name != "increased" or b.value_delta >= 0
        assert b.name != "decreased" or b.value_delta <= 0


def test_reps_and_owners_are_roster_handles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """With a `team:` roster, a commit's author is the member its email or name names, and
    `Alice Smith` → `alice` is no change of owner."""
    root = make_repo(tmp_path / "repo")
    t = Timeline(root, monkeypatch)
    t.at("2026-11-02").run("init")
    roster = (
        "team:\n  - {handle: alice, name: Alice Smith, emails: [a.smith@acme.example]}\n"
        "  - {handle: bob, name: Bob Jones}\n"
    )
    t.at("2026-11-02", hour=11).hand("pipeline.yaml", "rules: {}\n", "rules: {}\n" + roster, "team")
    t.at("2026-11-03").add("Acme", 100, "2026-12-01")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "a.smith@acme.example")
    monkeypatch.setenv("GIT_AUTHOR_NAME", "A. Smith (laptop)")
    t.run("log", "acme", "call", "Intro", "--date", "2026-11-03")
    t.at("2026-11-04", "Bob Jones").hand(
        "prospecting/acme.md", "owner: alice", "owner: Alice Smith", "her full name"
    )
    data = _json(root, "--since", "2026-11-03", "--until", "2026-11-04", "--today", "2026-11-05")
    assert data["touchpoints"]["by_rep"][0]["rep"] == "alice"
    assert [(c["kind"], c["author"]) for c in data["changes"]] == [("added", "alice")]
    bare = _json(root, "--since", "2026-11-04", "--until", "2026-11-04", "--today", "2026-11-05")
    assert bare["changes"] == []  # the edit named the same owner


def test_a_touchpoint_list_rewritten_by_hand_counts_only_the_new_entry(
    story: Path, monkeypatch: pytest.MonkeyPatch
):
    """An edit that rewrites the list (an entry reformatted over several lines) and adds one:
    both lists are read whole, and the entry already there is not counted again."""
    path = story / "prospecting" / "acme.md"
    text = path.read_text(encoding="utf-8")
    old = next(line for line in text.splitlines() if "Discovery" in line)
    rewritten = (
        "  - date: 2026-11-23\n    kind: call\n    summary: Discovery\n    outcome: replied\n"
        "  - date: 2026-11-29\n    kind: meeting\n    summary: Onsite\n"
    )
    Timeline(story, monkeypatch).at("2026-11-29", "erin").hand(
        "prospecting/acme.md", old + "\n", rewritten, "tidy the list"
    )
    logged = _json(story, *WINDOW)["touchpoints"]["logged"]
    assert [(t["deal"], t["rep"], t["summary"], t["by_hand"]) for t in logged][-1:] == [
        ("acme", "erin", "Onsite", True)
    ]
    assert sum(1 for t in logged if t["summary"] == "Discovery") == 1


def test_the_waterfall_is_in_the_base_currency_at_each_ends_rate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """A deal in EUR is worth its value at the start's rate at the start and at the end's at
    the end (the difference is in `increased`); one with no rate is counted in no sum; both
    ends are what `report --as-of` shows."""
    root = make_repo(tmp_path / "repo")
    t = Timeline(root, monkeypatch)
    t.at("2026-11-02").run("init")
    (root / "rates.csv").write_text(
        "currency,from,rate\nEUR,2026-01-01,1.10\nEUR,2026-11-25,1.20\n", encoding="utf-8"
    )
    git(root, "add", "rates.csv")
    git(root, "commit", "-q", "-m", "rates")
    t.at("2026-11-03").add("Euro", 1000, "2026-12-01", "--set", "currency=EUR")
    t.at("2026-11-03", hour=11).add("Pound", 500, "2026-12-01", "--set", "currency=GBP")
    t.at("2026-11-03", hour=12).add("Dollar", 300, "2026-12-01")
    t.at("2026-11-26", "bob").run("log", "dollar", "call", "Hi", "--date", "2026-11-26")
    window = ["--since", "2026-11-23", "--until", "2026-11-29", "--today", "2026-11-30"]
    data = _json(root, *window)
    wf = data["waterfall"]
    assert wf["start"] == {"count": 3, "value": 1400}  # 1000 × 1.10 + 300; pound: no rate
    assert wf["end"] == {"count": 3, "value": 1500}  # 1000 × 1.20 + 300
    increased = next(b for b in wf["buckets"] if b["name"] == "increased")
    assert increased == {"name": "increased", "deals": ["euro"], "count": 0, "value": 100}
    assert data["other_currencies"] == ["EUR"] and data["unconverted"] == ["pound"]
    for end, day in (("start", "2026-11-22"), ("end", "2026-11-29")):
        monkeypatch.setenv("PIPECTL_TODAY", "2026-11-30")
        result = Cli(root)("report", "--as-of", day, "--json")
        assert result.exit_code == 0, result.output
        fig = json.loads(result.output)
        assert (wf[end]["count"], wf[end]["value"]) == (fig["open_count"], fig["open_value"])
    out = Cli(root)("changes", *window).output
    assert "no rate into USD, counted but in no sum: pound" in out


def test_a_value_set_from_none_to_zero_moves_no_money(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """None and 0 are the same amount (the waterfall counts none as 0): neither up nor down."""
    root = make_repo(tmp_path / "repo")
    t = Timeline(root, monkeypatch)
    t.at("2026-11-20").run("init")
    t.at("2026-11-20").run("add", "Acme", "--owner", "alice")
    t.at("2026-11-24").run("set", "acme", "value=0")
    t.at("2026-11-25").run("set", "acme", "value=1200")
    t.at("2026-11-26").run("set", "acme", "value=0")
    data = _json(root, "--since", "2026-11-23", "--until", "2026-11-29", "--today", "2026-11-30")
    moves = [(c["kind"], c["old"], c["new"], c["amount"]) for c in data["changes"]]
    assert moves == [("value_up", 0, 1200, 1200), ("value_down", 1200, 0, -1200)]


def test_a_past_commits_bad_pipeline_yaml_names_that_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """The file on disk is fine: the message says the broken one is an older commit's."""
    root = make_repo(tmp_path / "repo")
    t = Timeline(root, monkeypatch)
    t.at("2026-11-02").run("init")
    t.at("2026-11-03").hand("pipeline.yaml", "rules: {}\n", "rules: {\n", "broken")
    broken = git(root, "rev-parse", "HEAD").strip()
    t.at("2026-11-04").hand("pipeline.yaml", "rules: {\n", "rules: {}\n", "mended")
    result = Cli(root)("changes", "HEAD~2..HEAD~1")
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and "Traceback" not in result.output
    assert "pipeline.yaml" in result.output and f"(at {broken[:8]})" in result.output
    assert Cli(root)("changes", "HEAD~1..HEAD").exit_code == 2  # its start is that commit too


def test_history_into_a_pipe_is_never_clipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A pipe (or a script) gets each line whole, as `list` gives its values; a width is
    asked for with $COLUMNS."""
    root = make_repo(tmp_path / "repo")
    t = Timeline(root, monkeypatch)
    t.at("2026-11-02").run("init")
    t.at("2026-11-03").add("Acme", 100, None)
    added = "".join(f"extra_{n}: the {n}th note of a long edit\n" for n in range(6))
    t.at("2026-11-04").hand("prospecting/acme.md", "title: Acme\n", "title: Acme\n" + added, "-")
    monkeypatch.delenv("COLUMNS", raising=False)
    out = Cli(root)("history", "acme").output
    assert "extra_5 (none) → the 5th note of a long edit" in out and "…" not in out
    assert max(map(len, out.splitlines())) > 200
    monkeypatch.setenv("COLUMNS", "100")
    assert "…" in Cli(root)("history", "acme").output


def test_history_by_an_old_id_follows_the_renames(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    root = make_repo(tmp_path / "repo")
    t = Timeline(root, monkeypatch)
    t.at("2026-11-02").run("init")
    t.at("2026-11-03").add("Beta Ltd", 100, None)
    t.at("2026-11-04").run("rename", "beta-ltd", "beta-corp")
    t.at("2026-11-05").run("rename", "beta-corp", "beta-group")
    now = Cli(root)("history", "beta-group")
    for old in ("beta-ltd", "beta-corp"):
        got = Cli(root)("history", old)
        assert got.exit_code == 0, got.output
        said, _, rest = got.output.partition("\n")
        assert said == f"pipectl: warning: {old} was renamed to beta-group: its history follows"
        assert rest == now.output
    assert Cli(root)("history", "beta-never").exit_code == 2
