"""`pipectl history` on real repositories whose history is built with backdated commits."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
from pathlib import Path

import pytest
from conftest import Cli, git, make_repo

from pipectl import histfold, history
from pipectl.gitrepo import GitRepo
from pipectl.store import Pipeline


class Timeline:
    """Runs pipectl and git with GIT_AUTHOR_DATE / GIT_COMMITTER_DATE pinned to a day."""

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch, sub: str = ""):
        self.root = root
        self.pipe = root / sub if sub else root
        self.mp = monkeypatch
        self.cli = Cli(self.pipe)

    def on(self, day: str) -> Timeline:
        stamp = f"{day}T10:00:00+00:00"
        self.mp.setenv("GIT_AUTHOR_DATE", stamp)
        self.mp.setenv("GIT_COMMITTER_DATE", stamp)
        return self

    def run(self, *args: str) -> str:
        result = self.cli(*args)
        assert result.exit_code == 0, result.output
        return result.output

    def add(self, title: str, *args: str) -> str:
        """A realistic deal: enough lines that git's rename detection recognises its moves."""
        return self.run(
            "add",
            title,
            "--company",
            f"{title} Inc",
            "--contact",
            f"Jo <jo@{title}.example>",
            "--next-step",
            "Call back about pricing",
            "--tag",
            "inbound",
            *qualified(title),
            *args,
        )

    def git(self, *args: str, author: str = "Test User") -> str:
        email = author.split()[0].lower() + "@example.com"
        return git(self.root, "-c", f"user.name={author}", "-c", f"user.email={email}", *args)


def qualified(title: str) -> list[str]:
    """`add` options meeting every criterion, with evidence of this deal's own (deals that
    read alike would look like copies of each other to `git log --follow`)."""
    words = {"budget": "approved", "need": "reporting", "fit": "mid-size", "timeline": "Q2"}
    return [a for c, w in words.items() for a in ("--set", f"qualification.{c}={title} {w}")]


def build_scenario(root: Path, monkeypatch: pytest.MonkeyPatch, sub: str = "") -> Timeline:
    """Five deals with moves by pipectl and by hand, a rename of an id and a manual edit.

    Stays (stage: from -> to), for the hand computations in the tests:
      acme:  prospecting 01-05->01-10, qualifying ->01-20 (git mv by Bob), connecting ->02-01,
             closing ->02-15, won
      beta:  prospecting 01-06->01-16, qualifying ->01-26, lost (price)
      gamma: prospecting since 01-08 (open)
      delta: qualifying 01-09->01-19, connecting ->01-25 (renamed delta-inc on 01-21),
             closing since 01-25 (open)
      eps:   prospecting 01-10->01-30, lost (no-budget)
    """
    make_repo(root)
    t = Timeline(root, monkeypatch, sub)
    t.on("2026-01-02").run("init", *([str(t.pipe)] if sub else []))
    t.on("2026-01-05").add("Acme", "--value", "1000", "--owner", "alice", "--date", "2026-01-05")
    t.on("2026-01-06").add("Beta", "--value", "500", "--owner", "bob", "--date", "2026-01-06")
    t.on("2026-01-07").run(
        "log", "acme", "call", "Intro call", "--outcome", "replied", "--date", "2026-01-07"
    )
    t.on("2026-01-08").add(
        "Gamma",
        "--value",
        "3000",
        "--owner",
        "alice",
        "--expected-close",
        "2026-03-20",
        "--date",
        "2026-01-08",
    )
    t.on("2026-01-09").add(
        "Delta",
        "--value",
        "7000",
        "--owner",
        "carol",
        "--stage",
        "qualifying",
        "--expected-close",
        "2026-04-10",
        "--date",
        "2026-01-09",
    )
    t.on("2026-01-10").run("move", "acme", "qualifying", "--date", "2026-01-10")
    t.on("2026-01-10").add("Eps", "--value", "200", "--owner", "bob", "--date", "2026-01-10")
    # an edit in an editor, committed by hand
    acme = t.pipe / "qualifying" / "acme.md"
    acme.write_text(acme.read_text().replace("value: 1000", "value: 1500"))
    t.on("2026-01-12").git("commit", "-q", "-am", "bump acme")
    t.on("2026-01-16").run("move", "beta", "qualifying", "--date", "2026-01-16")
    t.on("2026-01-19").run("move", "delta", "connecting", "--date", "2026-01-19")
    # a move by hand, by someone else
    prefix = f"{sub}/" if sub else ""
    t.git("mv", f"{prefix}qualifying/acme.md", f"{prefix}connecting/acme.md")
    t.on("2026-01-20").git("commit", "-q", "-m", "acme to connecting", author="Bob Builder")
    # the id itself renamed by hand
    t.git("mv", f"{prefix}connecting/delta.md", f"{prefix}connecting/delta-inc.md")
    t.on("2026-01-21").git("commit", "-q", "-m", "rename delta")
    t.on("2026-01-25").run("move", "delta-inc", "closing", "--date", "2026-01-25")
    t.on("2026-01-25").run("set", "delta-inc", "probability=0.5")
    t.on("2026-01-26").run("lost", "beta", "--reason", "price", "--date", "2026-01-26")
    t.on("2026-01-30").run("lost", "eps", "--reason", "no-budget", "--date", "2026-01-30")
    t.on("2026-02-01").run("move", "acme", "closing", "--date", "2026-02-01")
    t.on("2026-02-15").run("won", "acme", "--date", "2026-02-15")
    return t


@pytest.fixture
def scenario(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Timeline:
    return build_scenario(tmp_path / "repo", monkeypatch)


def history_json(t: Timeline, *args: str) -> dict:
    return json.loads(t.run("history", *args, "--json"))


def test_history_equals_git_log_follow_for_every_deal(scenario: Timeline) -> None:
    pipeline = Pipeline.open(scenario.pipe)
    hist = history.read(pipeline.git, pipeline.root)
    refs = pipeline.deal_refs()
    assert {r.id for r in refs} == {"acme", "beta", "gamma", "delta-inc", "eps"}
    for ref in refs:
        rel = ref.path.relative_to(scenario.root).as_posix()
        follow = git(scenario.root, "log", "--follow", "--format=%H", "--", rel).split()
        assert [e.commit for e in hist.of(ref.id)] == follow[::-1], ref.id
        cli_commits = [e["commit"] for e in history_json(scenario, ref.id)["events"]]
        assert cli_commits == follow[::-1], ref.id


def test_deal_life_reads_as_what_happened(scenario: Timeline) -> None:
    events = history_json(scenario, "acme")["events"]
    assert [(e["kind"], e["from_stage"], e["stage"], e["by_hand"]) for e in events] == [
        ("created", None, "prospecting", False),
        ("logged", None, "prospecting", False),
        ("moved", "prospecting", "qualifying", False),
        ("edited", None, "qualifying", True),
        ("moved", "qualifying", "connecting", True),
        ("moved", "connecting", "closing", False),
        ("moved", "closing", "won", False),
    ]
    assert events[3]["fields"] == ["value"]
    assert events[4]["author"] == "Bob Builder"
    assert events[4]["action"] is None
    assert events[-1]["action"] == "won"
    assert [e["date"][:10] for e in events] == [
        "2026-01-05",
        "2026-01-07",
        "2026-01-10",
        "2026-01-12",
        "2026-01-20",
        "2026-02-01",
        "2026-02-15",
    ]


def test_manual_edit_and_git_mv_show_in_text_history(scenario: Timeline) -> None:
    out = scenario.run("history", "acme")
    assert "edited by hand: value" in out
    assert "moved qualifying → connecting by hand" in out
    assert "Bob Builder" in out
    assert "touchpoint logged: call — Intro call" in out


def test_renamed_deal_keeps_its_life_and_set_lists_fields(scenario: Timeline) -> None:
    events = history_json(scenario, "delta-inc")["events"]
    kinds = [e["kind"] for e in events]
    assert kinds == ["created", "moved", "renamed", "moved", "changed"]
    assert events[2]["old_deal"] == "delta" and events[2]["deal"] == "delta-inc"
    assert events[0]["deal"] == "delta"
    assert events[-1]["fields"] == ["probability"]
    # the old id still finds the deal's story through the prefix of the new one
    assert history_json(scenario, "delta")["deal"] == "delta-inc"


def test_whole_pipeline_history_with_window(scenario: Timeline) -> None:
    data = history_json(scenario, "--since", "2026-01-20", "--until", "2026-01-26")
    got = [(e["date"][:10], e["deal"], e["kind"]) for e in data["events"]]
    assert got == [
        ("2026-01-20", "acme", "moved"),
        ("2026-01-21", "delta-inc", "renamed"),
        ("2026-01-25", "delta-inc", "moved"),
        ("2026-01-25", "delta-inc", "changed"),
        ("2026-01-26", "beta", "moved"),
    ]
    assert data["partial"] is False
    text = scenario.run("history", "--since", "2026-02-01")
    assert "DEAL" in text and "moved closing → won" in text and "beta" not in text


def test_pipeline_in_a_subfolder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "big"
    make_repo(root)
    # deal-shaped files outside the pipeline never show up
    (root / "other" / "prospecting").mkdir(parents=True)
    (root / "other" / "prospecting" / "acme.md").write_text("---\ntitle: x\n---\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "unrelated")
    t = build_scenario(root, monkeypatch, sub="sales")
    pipeline = Pipeline.open(t.pipe)
    hist = history.read(pipeline.git, pipeline.root)
    acme = hist.of("acme")
    assert [e.kind for e in acme][:3] == ["created", "logged", "moved"]
    assert acme[0].path == "prospecting/acme.md"
    assert all(not e.path.startswith("other") for e in hist.events)
    follow = git(root, "log", "--follow", "--format=%H", "--", "sales/won/acme.md").split()
    assert [e.commit for e in acme] == follow[::-1]


def test_move_with_rewritten_content_is_still_a_move(cli: Cli, pipeline: Path) -> None:
    assert cli("add", "Tiny").exit_code == 0
    (pipeline / "prospecting" / "tiny.md").unlink()
    (pipeline / "closing").mkdir(exist_ok=True)
    (pipeline / "closing" / "tiny.md").write_text(
        "---\ntitle: Something else entirely\nvalue: 99\nowner: zed\n---\nAll new.\n"
    )
    git(pipeline, "add", "-A")
    git(pipeline, "commit", "-q", "-m", "rewrite")
    p = Pipeline.open(pipeline)
    events = history.read(p.git, p.root).of("tiny")
    assert [(e.kind, e.from_stage, e.stage) for e in events] == [
        ("created", None, "prospecting"),
        ("moved", "prospecting", "closing"),
    ]


def test_shallow_clone_is_flagged_partial(scenario: Timeline, tmp_path: Path) -> None:
    clone = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "3", f"file://{scenario.root}", str(clone)],
        check=True,
        capture_output=True,
    )
    data = json.loads(Cli(clone)("history", "--json").stdout)
    assert data["partial"] is True
    # the boundary commit (eps lost) is dropped: it would claim every deal was created then
    assert [(e["deal"], e["kind"], e["stage"]) for e in data["events"]] == [
        ("acme", "moved", "closing"),
        ("acme", "moved", "won"),
    ]
    assert "partial" in Cli(clone)("history").stdout
    assert history.read(GitRepo(scenario.root), scenario.root).partial is False


def test_empty_repository_and_no_repository(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "empty")
    r = Cli(repo)("init", "--no-commit")
    assert r.exit_code == 0, r.output
    r = Cli(repo)("history")
    assert r.exit_code == 0 and "no commits" in r.stdout
    assert history.read(GitRepo(repo), repo).events == ()
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "pipeline.yaml").write_text("currency: EUR\n")
    r = Cli(plain)("history")
    assert r.exit_code == 2
    assert "not inside a git repository" in r.stderr


def test_unknown_deal_is_a_usage_error(scenario: Timeline) -> None:
    r = scenario.cli("history", "nope")
    assert r.exit_code == 2
    assert "no deal 'nope'" in r.stderr


def test_git_processes_do_not_grow_with_deals(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    real_popen = subprocess.Popen

    class Counting(real_popen):  # type: ignore[misc,valid-type]
        def __init__(self, args, *a, **kw):  # type: ignore[no-untyped-def]
            if args and args[0] == "git":
                calls.append(" ".join(args[:6]))
            super().__init__(args, *a, **kw)

    counts = []
    for n in (2, 9):
        repo = make_repo(tmp_path / f"r{n}")
        cli = Cli(repo)
        assert cli("init").exit_code == 0
        for i in range(n):
            assert cli("add", f"Deal {i}").exit_code == 0
            assert cli("move", f"deal-{i}", "qualifying").exit_code == 0
            assert cli("set", f"deal-{i}", "value=10").exit_code == 0
        calls.clear()
        monkeypatch.setattr(subprocess, "Popen", Counting)
        assert cli("history", "--json").exit_code == 0
        assert cli("report", "--json").exit_code == 0
        monkeypatch.setattr(subprocess, "Popen", real_popen)
        counts.append(len(calls))
    assert counts[0] == counts[1] <= 4, calls


def test_parents_come_first_whatever_the_clocks_say() -> None:
    # the order is the graph's alone (dates play no part): parents first, a merge's first
    # parent's history before its second's
    parents = {"m": ("a1", "b2"), "a1": ("root",), "root": (), "b2": ("b1",), "b1": ("root",)}
    order = histfold.order("m", parents)
    assert order == ["root", "a1", "b1", "b2", "m"]
    assert histfold.order("m", {**parents, "m": ("b2", "a1")}) == ["root", "b1", "b2", "a1", "m"]
    linear = {"3": ("2",), "2": ("1",), "1": ()}
    assert histfold.order("3", linear) == ["1", "2", "3"]
    # a parent outside the mapping is placed already (an indexed commit, a shallow cut)
    assert histfold.order("m", {"m": ("a1", "x"), "a1": ("y",)}) == ["a1", "m"]


def test_merged_branches_keep_each_deal_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    t = build_scenario(tmp_path / "repo", monkeypatch)
    t.git("checkout", "-q", "-b", "side")
    t.on("2026-02-20").run("move", "gamma", "qualifying", "--date", "2026-02-20")
    t.git("checkout", "-q", "main")
    t.on("2026-02-18").run("log", "delta-inc", "email", "Sent the contract")
    t.on("2026-02-21").git("merge", "-q", "--no-edit", "side")
    p = Pipeline.open(t.pipe)
    hist = history.read(p.git, p.root)
    for ref in p.deal_refs():
        rel = ref.path.relative_to(t.root).as_posix()
        follow = git(t.root, "log", "--follow", "--format=%H", "--", rel).split()
        assert sorted(e.commit for e in hist.of(ref.id)) == sorted(follow), ref.id
    assert [e.kind for e in hist.of("gamma")] == ["created", "moved"]


def test_a_deleted_deal_keeps_its_history(cli: Cli, pipeline: Path) -> None:
    assert cli("add", "Zeta Corp", "--company", "Zeta", "--value", "10").exit_code == 0
    git(pipeline, "rm", "-q", "prospecting/zeta-corp.md")
    git(pipeline, "commit", "-q", "-m", "drop zeta")
    data = json.loads(cli("history", "zeta-corp", "--json").stdout)
    assert [(e["kind"], e["by_hand"]) for e in data["events"]] == [
        ("created", False),
        ("deleted", True),
    ]
    assert "deleted from prospecting by hand" in cli("history", "zeta-corp").stdout
    by_prefix = cli("history", "zeta", "--json")  # a unique prefix, as for a deal in a stage
    assert by_prefix.exit_code == 0 and json.loads(by_prefix.stdout) == data
    assert "renamed" not in by_prefix.stderr


# --- arrivals: lint's time in stage, read by the same log reader ---------------------------


def _commit_on(repo: Path, stamp: str, message: str) -> None:
    env = {"GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp}
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    env = {**os.environ, **env}
    subprocess.run(["git", "commit", "-q", "-m", message], cwd=repo, check=True, env=env)


def test_arrivals_are_each_paths_newest_add_or_rename_into_it(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    sales = repo / "sales"
    for stage in ("prospecting", "qualifying"):
        (sales / stage).mkdir(parents=True)
    body = "".join(f"line {i} of a deal long enough for rename detection\n" for i in range(8))
    for name in ("a", "b"):
        (sales / "prospecting" / f"{name}.md").write_text(f"---\ntitle: {name}\n---\n{body}")
    (repo / "elsewhere.md").write_text(body)
    # late in the evening west of Greenwich: the arrival is the author's own date
    _commit_on(repo, "2026-01-05T23:30:00-05:00", "add")
    git(repo, "mv", "sales/prospecting/a.md", "sales/qualifying/a.md")
    _commit_on(repo, "2026-02-01T10:00:00+00:00", "move a")
    git(repo, "mv", "sales/qualifying/a.md", "sales/qualifying/a2.md")
    git(repo, "mv", "elsewhere.md", "sales/prospecting/c.md")
    _commit_on(repo, "2026-03-01T10:00:00+00:00", "rename a, bring c in")
    (sales / "prospecting" / "b.md").write_text(f"---\ntitle: b edited\n---\n{body}")
    _commit_on(repo, "2026-04-01T10:00:00+00:00", "edit b: no arrival")
    arrivals = history.read_arrivals(GitRepo(repo), sales)
    assert arrivals.unavailable is None
    current = ("prospecting/b.md", "qualifying/a2.md", "prospecting/c.md")
    # a2 is a, renamed inside qualifying in March: it arrived in the folder in February
    days = [dt.date(2026, 1, 5), dt.date(2026, 2, 1), dt.date(2026, 3, 1)]
    assert [arrivals.get(path) for path in current] == days
    assert arrivals.get("qualifying/a.md") is None  # no file there now
    assert arrivals.get("c.md") is None and arrivals.get("../elsewhere.md") is None
    # arrivals are of deal files (STAGE/ID.md right under the pipeline's root), the only
    # paths time in stage asks about: with the whole repository as the root, none here is one
    whole = history.read_arrivals(GitRepo(repo), repo)
    assert whole.dates == {} and whole.unavailable is None


def test_arrivals_say_why_they_are_unknown(tmp_path: Path) -> None:
    assert history.read_arrivals(None, tmp_path).unavailable == "not a git repository"
    empty = make_repo(tmp_path / "empty")
    assert history.read_arrivals(GitRepo(empty), empty).unavailable == "no git history"
    origin = make_repo(tmp_path / "origin")
    for day in ("2026-01-01", "2026-02-01"):
        (origin / f"{day}.md").write_text(day)
        _commit_on(origin, f"{day}T10:00:00+00:00", day)
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{origin}", str(clone))
    # one test of shallowness for both readers: history is partial, arrivals are not guessed
    assert history.read(GitRepo(clone), clone).partial is True
    shallow = history.read_arrivals(GitRepo(clone), clone)
    assert (shallow.dates, shallow.unavailable) == ({}, "shallow git clone")


def test_history_table_aligns_wide_text_and_clips_the_widest_column() -> None:
    # the ASCII rows take table's fast path, the others the per-cell one: one layout for all
    from pipectl.render.text import table

    rows = [
        ["2026-01-02 10:11", "Ana", "moved a → b"],
        ["2026-01-03 09:00", "山田太郎", "created in a"],
        ["x\x1by", "Bo", "edited by hand: " + "v" * 40],
        ["2026-01-04 08:00", "Cy", "logged"],
    ]
    assert table(["DATE", "AUTHOR", "WHAT"], rows, max_width=40).split("\n") == [
        "DATE              AUTHOR    WHAT",
        "2026-01-02 10:11  Ana       moved a → b",
        "2026-01-03 09:00  山田太郎  created in a",
        "x\\x1by            Bo        edited by h…",
        "2026-01-04 08:00  Cy        logged",
    ]


def test_history_text_dates_to_the_minute_as_strftime() -> None:
    from pipectl.render.report import _minute

    zone = dt.timezone(dt.timedelta(hours=-5))
    for when in (dt.datetime(2026, 1, 2, 3, 4, 59, tzinfo=zone), dt.datetime(999, 12, 31, 23, 5)):
        assert _minute(when) == when.strftime("%Y-%m-%d %H:%M")
