"""`--as-of DATE`: the pipeline as it stood at the end of a day, rebuilt from git (pipectl/asof.py).

One backdated history (commits with their author and committer dates set, real git): deals
added, moved by pipectl and by hand, values changed by pipectl and in an editor, touchpoints,
a deal deleted, pipeline.yaml changed. For several days D, what `--as-of D` shows must be what
the same command shows with `--today D` in a worktree the test checks out at D's last commit.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import Cli, git, make_repo

from pipectl import asof, history
from pipectl.gitrepo import GitRepo
from pipectl.store import Pipeline

QUALIFIED = [
    a
    for c, w in {"budget": "ok", "need": "yes", "fit": "good", "timeline": "Q2"}.items()
    for a in ("--set", f"qualification.{c}={w}")
]


class Timeline:
    """pipectl and git run with their commits dated `stamp` (author and committer)."""

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch):
        self.root, self.mp, self.cli = root, monkeypatch, Cli(root)

    def at(self, stamp: str) -> Timeline:
        self.mp.setenv("GIT_AUTHOR_DATE", stamp)
        self.mp.setenv("GIT_COMMITTER_DATE", stamp)
        return self

    def run(self, *args: str) -> None:
        result = self.cli(*args)
        assert result.exit_code == 0, result.output

    def add(self, title: str, value: int, day: str, *more: str) -> None:
        self.run(
            "add", title, "--company", f"{title} Inc", "--contact", f"Jo <jo@{title}.example>",
            "--value", str(value), "--next-step", "Call back", "--due", day,
            "--expected-close", "2026-03-31", *QUALIFIED, "--date", day, *more,
        )  # fmt: skip

    def hand_edit(self, rel: str, old: str, new: str, message: str) -> None:
        path = self.root / rel
        text = path.read_text(encoding="utf-8")
        assert old in text, (rel, old)
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
        git(self.root, "commit", "-q", "-am", message)


# each day's last commit, as the history below makes them (the commit's own time zone)
DAYS = [
    "2026-01-05",
    "2026-01-08",
    "2026-01-12",
    "2026-01-13",
    "2026-01-16",
    "2026-01-19",
    "2026-01-21",
    "2026-01-23",
    "2026-01-27",
]


@pytest.fixture
def story(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = make_repo(tmp_path / "repo")
    t = Timeline(root, monkeypatch)
    t.at("2026-01-05T09:00:00+00:00").run("init")
    t.add("Acme", 1000, "2026-01-05")
    t.at("2026-01-06T10:00:00+00:00").add("Beta", 500, "2026-01-06")
    t.add("Gamma", 300, "2026-01-06")
    t.at("2026-01-08T11:00:00+00:00").run(
        "log", "acme", "call", "Discovery", "--date", "2026-01-08"
    )
    t.at("2026-01-10T11:00:00+00:00").run("move", "acme", "qualifying", "--date", "2026-01-10")
    # a value changed in an editor, committed by hand
    t.at("2026-01-12T15:00:00+00:00").hand_edit(
        "prospecting/beta.md", "value: 500", "value: 800", "beta: bigger"
    )
    # late in the evening of the 12th where it was made (21:30 UTC) ...
    t.at("2026-01-12T23:30:00+02:00").run(
        "log", "gamma", "email", "Sent deck", "--outcome", "replied", "--date", "2026-01-12"
    )
    # ... and just after midnight there: the 13th, though still the 12th in UTC
    t.at("2026-01-13T00:30:00+02:00").run("set", "acme", "value=1500")
    # a move by hand: git mv and a commit without pipectl's trailers
    t.at("2026-01-15T09:00:00+00:00")
    git(root, "mv", "prospecting/gamma.md", "qualifying/gamma.md")
    git(root, "commit", "-q", "-m", "gamma qualified")
    # a deal file no command reads (lint's stray-file), there for a week
    (root / "drafts").mkdir()
    (root / "drafts" / "zeta.md").write_text("---\ntitle: Zeta\n---\n", encoding="utf-8")
    git(root, "add", "drafts/zeta.md")
    git(root, "commit", "-q", "-m", "a draft")
    # pipeline.yaml changed: another probability and a stale limit
    t.at("2026-01-18T09:00:00+00:00").hand_edit(
        "pipeline.yaml",
        "{name: qualifying, probability: 0.2}",
        "{name: qualifying, probability: 0.3}",
        "qualifying is likelier",
    )
    t.hand_edit("pipeline.yaml", "rules: {}", "rules:\n  stale: {days: 5}", "stale after 5 days")
    t.at("2026-01-20T09:00:00+00:00").run("won", "acme", "--date", "2026-01-20")
    t.at("2026-01-22T09:00:00+00:00")
    git(root, "rm", "-q", "prospecting/beta.md", "drafts/zeta.md")
    git(root, "commit", "-q", "-m", "beta was a duplicate")
    t.at("2026-01-23T09:00:00+00:00").add("Delta", 700, "2026-01-23")
    t.at("2026-01-25T09:00:00+00:00").run(
        "lost", "gamma", "--reason", "price", "--date", "2026-01-25"
    )
    for var in ("GIT_AUTHOR_DATE", "GIT_COMMITTER_DATE"):
        monkeypatch.delenv(var)
    return root


def last_commit_of(root: Path, day: str) -> str | None:
    """D's last commit computed independently: first-parent commits whose committer date,
    in their own zone, is D or earlier; the newest of them."""
    out = git(root, "log", "--first-parent", "--format=%H %cI", "HEAD").split("\n")
    for line in out:
        sha, _, when = line.partition(" ")
        if sha and when[:10] <= day:
            return sha
    return None


# --- the kernel -----------------------------------------------------------------------------


def test_commit_on_takes_each_commits_own_day(story: Path):
    git_repo = GitRepo(story)
    for day in DAYS:
        assert asof.commit_on(git_repo, dt.date.fromisoformat(day)) == last_commit_of(story, day)
    on_12th = asof.commit_on(git_repo, dt.date(2026, 1, 12))
    subject = git(story, "log", "-1", "--format=%s", on_12th or "").strip()
    assert "gamma" in subject.lower()  # the 23:30 +02:00 touchpoint, not the 00:30 one
    assert asof.commit_on(git_repo, dt.date(2026, 1, 4)) is None
    assert asof.commit_on(git_repo, dt.date(2030, 1, 1)) == git(story, "rev-parse", "HEAD").strip()


def test_commit_on_in_a_repository_without_commits(tmp_path: Path):
    assert asof.commit_on(GitRepo(make_repo(tmp_path / "empty")), dt.date(2026, 1, 1)) is None


def _deals(pipeline: Pipeline) -> list[tuple[str, str, dict[str, object]]]:
    return [(d.id, d.stage, dict(d.fields)) for d in pipeline.load().deals]


def test_pipeline_at_is_the_checkout_of_that_commit(story: Path, tmp_path: Path):
    git_repo = GitRepo(story)
    for n, day in enumerate(DAYS):
        sha = last_commit_of(story, day)
        assert sha is not None
        then = asof.pipeline_at(story, git_repo, sha)
        wt = tmp_path / f"wt{n}"
        git(story, "worktree", "add", "-q", "--detach", str(wt), sha)
        checkout = Pipeline(wt)
        assert then.at == sha and checkout.at is None
        assert _deals(then) == _deals(checkout), day
        assert replace(then.config, path=None) == replace(checkout.config, path=None), day
        assert then.config.text == checkout.config.text
        for ref in checkout.deal_refs():
            assert then.resolve(ref.id).stage == ref.stage
            assert then.read_bytes(then.resolve(ref.id)) == checkout.read_bytes(ref)
        hist = history.read(git_repo, story, at=sha)
        there = history.read(GitRepo(wt), wt)
        assert hist.arrivals == there.arrivals, day
        assert {k: list(hist.lifecycle(k)) for k in hist.by_deal} == {
            k: list(there.lifecycle(k)) for k in there.by_deal
        }, day
        assert list(hist.events) == list(there.events), day


def test_the_deleted_deal_and_the_old_config_come_back(story: Path):
    git_repo = GitRepo(story)
    sha = asof.commit_on(git_repo, dt.date(2026, 1, 16))
    assert sha is not None
    then = asof.pipeline_at(story, git_repo, sha)
    assert then.resolve("beta").stage == "prospecting"
    assert then.resolve("gamma").stage == "qualifying"
    assert then.config.stage("qualifying").probability == 0.2  # type: ignore[union-attr]
    assert [d.fields["value"] for d in then.load(["prospecting"]).deals] == [800]
    now = Pipeline(story)
    assert now.config.stage("qualifying").probability == 0.3  # type: ignore[union-attr]
    with pytest.raises(Exception, match="nothing can be changed"):
        then.change()


def test_a_pipeline_in_a_subfolder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    root = make_repo(tmp_path / "mono")
    (root / "README.md").write_text("---\nnot a deal of ours\n", encoding="utf-8")
    git(root, "add", "README.md")
    sales = root / "sales"
    sales.mkdir()
    t = Timeline(sales, monkeypatch)
    t.at("2026-02-01T09:00:00+00:00").run("init")
    t.add("Omega", 100, "2026-02-01")
    t.at("2026-02-03T09:00:00+00:00").run("move", "omega", "qualifying", "--date", "2026-02-03")
    git_repo = GitRepo(root)
    sha = asof.commit_on(git_repo, dt.date(2026, 2, 1))
    assert sha is not None
    then = asof.pipeline_at(sales, git_repo, sha)
    assert [(d.id, d.stage) for d in then.load().deals] == [("omega", "prospecting")]
    assert set(then.tree) >= {"pipeline.yaml", "prospecting/omega.md"}
    assert "README.md" not in then.tree
    hist = history.read(git_repo, sales, at=sha)
    assert [e.kind for e in hist.events] == ["created"]


def test_reading_a_day_writes_nothing_in_the_worktree(story: Path):
    def state() -> dict[str, int]:
        return {
            str(p): p.stat().st_mtime_ns
            for p in story.rglob("*")
            if ".git" not in p.relative_to(story).parts
        }

    Pipeline(story).load()  # the worktree's caches as any command leaves them
    status = git(story, "status", "--porcelain")  # git refreshes its index here
    before = state()
    index = (story / ".git" / "index").stat().st_mtime_ns
    git_repo = GitRepo(story)
    for day in DAYS:
        sha = asof.commit_on(git_repo, dt.date.fromisoformat(day))
        assert sha is not None
        asof.pipeline_at(story, git_repo, sha).load()
        history.read(git_repo, story, at=sha).arrivals  # noqa: B018
    assert state() == before
    assert (story / ".git" / "index").stat().st_mtime_ns == index  # before git status refreshes it
    assert git(story, "status", "--porcelain") == status == ""
    assert _deals(Pipeline(story)) == _deals(Pipeline(story))  # the deal cache still the worktree's
    assert {d.id for d in Pipeline(story).load().deals} == {"acme", "delta", "gamma"}


def test_one_ls_tree_and_one_cat_file_however_many_deals(
    story: Path, monkeypatch: pytest.MonkeyPatch
):
    started: list[str] = []
    run, stream = GitRepo.run, GitRepo.stream

    def counted_run(self, args, **kw):  # type: ignore[no-untyped-def]
        started.append(next(a for a in args if not a.startswith("-") and "=" not in a))
        return run(self, args, **kw)

    def counted_stream(self, args, **kw):  # type: ignore[no-untyped-def]
        started.append(args[0])
        return stream(self, args, **kw)

    monkeypatch.setattr(GitRepo, "run", counted_run)
    monkeypatch.setattr(GitRepo, "stream", counted_stream)
    git_repo = GitRepo(story)
    sha = asof.commit_on(git_repo, dt.date(2026, 1, 16))
    assert started == ["log"]
    started.clear()
    assert sha is not None
    assert len(asof.pipeline_at(story, git_repo, sha).load().deals) == 3
    assert started == ["ls-tree", "cat-file"]


# --- the commands: `--as-of D` is a checkout of D's last commit with `--today D` -------------

COMMANDS = [
    ("report", "--json"),
    ("report",),
    ("lint", "--format", "json", "--exit-zero"),
    ("lint", "--exit-zero"),
    ("list", "--json"),
    ("list",),
    ("board", "--json", "--all"),
    ("board", "--all"),
    ("agenda", "--json", "--owner", "all"),
    ("agenda", "--owner", "all"),
    ("history", "--json"),
    ("history", "acme"),
]


def _run(where: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> str:
    monkeypatch.chdir(where)  # paths show relative to the working directory, as for a user
    result = Cli(where)(*args)
    assert result.exit_code == 0, (args, result.output)
    return result.output


def test_every_command_as_of_a_day_is_that_days_checkout(
    story: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    def state() -> dict[str, int]:
        files = story.rglob("*")
        return {str(p): p.stat().st_mtime_ns for p in files if ".git" not in p.parts}

    status = git(story, "status", "--porcelain")
    before = state()
    seen: dict[str, set[str]] = {}
    for n, day in enumerate(DAYS):
        sha = last_commit_of(story, day)
        assert sha is not None
        wt = tmp_path / f"day{n}"
        git(story, "worktree", "add", "-q", "--detach", str(wt), sha)
        for command in COMMANDS:
            then = _run(story, monkeypatch, *command, "--as-of", day)
            pinned = () if command[0] == "history" else ("--today", day)  # it has no today
            there = _run(wt, monkeypatch, *command, *pinned)
            assert then == there, (day, command)
            seen.setdefault(" ".join(command), set()).add(then)
    # the days differ from each other, so the equality above says something
    assert all(len(outputs) >= 5 for outputs in seen.values()), {k: len(v) for k, v in seen.items()}
    assert state() == before
    assert status == git(story, "status", "--porcelain") == ""


def test_a_past_day_judged_later_reads_no_commit_after_it(
    story: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """`--as-of D --today T`, T later: the trends' slips and touchpoints and the dashboard's
    week of changes come from D's commits only, as in a checkout of D judged on T (they had
    counted the commits after D up to T)."""
    day, later = DAYS[1], DAYS[-1]
    sha = last_commit_of(story, day)
    assert sha is not None and sha != last_commit_of(story, later)
    wt = tmp_path / "then"
    git(story, "worktree", "add", "-q", "--detach", str(wt), sha)
    for args in (("report", "--weeks", "4", "--json"), ("report", "--weeks", "4")):
        then = _run(story, monkeypatch, *args, "--as-of", day, "--today", later)
        assert then == _run(wt, monkeypatch, *args, "--today", later), args
    pages = []
    for where, extra in ((story, ("--as-of", day)), (wt, ())):
        page = tmp_path / f"{where.name}.html"
        _run(where, monkeypatch, "report", "--html", str(page), "--today", later, *extra)
        pages.append(page.read_text(encoding="utf-8"))
    assert pages[0] == pages[1]


def test_as_of_a_day_judges_that_day(story: Path, monkeypatch: pytest.MonkeyPatch):
    """The 16th: beta still there at its hand-edited value, gamma moved by hand, the old
    probability; acme not yet won."""
    data = json.loads(_run(story, monkeypatch, "report", "--as-of", "2026-01-16", "--json"))
    listed = json.loads(_run(story, monkeypatch, "list", "--as-of", "2026-01-16", "--json"))
    assert {(d["id"], d["stage"]) for d in listed} == {
        ("acme", "qualifying"),
        ("beta", "prospecting"),
        ("gamma", "qualifying"),
    }
    values = {d["id"]: d["fields"]["value"] for d in listed}
    assert values == {"acme": 1500, "beta": 800, "gamma": 300}
    now = json.loads(_run(story, monkeypatch, "report", "--json", "--today", "2026-01-16"))
    assert data != now
    # --today beside --as-of is honoured: the pipeline of the 16th, judged on the 30th
    on = ("lint", "--exit-zero", "--as-of", "2026-01-16")
    later = _run(story, monkeypatch, *on, "--today", "2026-01-30")
    sooner = _run(story, monkeypatch, *on)
    assert "no touchpoint for 18 days" in later and "for 18 days" not in sooner
    assert "drafts/zeta.md" in sooner  # a stray file then, gone now
    assert "zeta" not in _run(story, monkeypatch, "lint", "--exit-zero")


@pytest.mark.parametrize(
    ("day", "message"),
    [
        ("2026-01-04", "--as-of 2026-01-04 is before the first commit"),
        ("2999-01-01", "--as-of 2999-01-01 is in the future"),
        ("soon", "--as-of: 'soon' is not a date"),
    ],
)
def test_days_that_cannot_be_shown(story: Path, day: str, message: str):
    for command in ("report", "list", "board", "lint"):
        result = Cli(story)(command, "--as-of", day)
        assert result.exit_code == 2, (command, result.output)
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and message in lines[0], (command, result.output)


def test_a_day_already_read_parses_nothing_again(story: Path, monkeypatch: pytest.MonkeyPatch):
    from pipectl.caches import blobs

    parsed: list[str] = []
    real = blobs.parse_deal

    def counting(data: bytes, path: Path, stage: str):  # type: ignore[no-untyped-def]
        parsed.append(path.stem)
        return real(data, path, stage)

    monkeypatch.setattr(blobs, "parse_deal", counting)
    git_repo = GitRepo(story)
    day16, day21 = (asof.commit_on(git_repo, dt.date(2026, 1, d)) for d in (16, 21))
    assert day16 is not None and day21 is not None
    first = _deals(asof.pipeline_at(story, git_repo, day16))
    assert sorted(parsed) == ["acme", "beta", "gamma"]
    parsed.clear()
    assert _deals(asof.pipeline_at(story, git_repo, day16)) == first
    assert parsed == []
    asof.pipeline_at(story, git_repo, day21).load()  # acme won since: only its new blob
    assert parsed == ["acme"]
    parsed.clear()
    assert _deals(asof.pipeline_at(story, git_repo, day16)) == first  # back and forth
    assert parsed == []
    # a cache file gone bad is a miss, never a wrong deal
    for path in (story / ".git" / "pipectl" / "cache").glob("*/blobs.bin"):
        path.write_bytes(path.read_bytes()[:-5] + b"xxxxx")
    parsed.clear()
    assert _deals(asof.pipeline_at(story, git_repo, day16)) == first
    assert sorted(parsed) == ["acme", "beta", "gamma"]
    monkeypatch.setenv("PIPECTL_NO_CACHE", "1")
    parsed.clear()
    assert _deals(asof.pipeline_at(story, git_repo, day16)) == first
    assert sorted(parsed) == ["acme", "beta", "gamma"]


def test_a_days_history_is_kept_and_read_back_whole(
    story: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """The fold of a day is kept: asked again (after a new commit too), no segment before it
    is folded again, and every event, life and arrival is still that day's."""
    from pipectl import histindex

    folds: list[int] = []
    real = histindex._fold
    monkeypatch.setattr(histindex, "_fold", lambda recs: folds.append(len(recs)) or real(recs))
    git_repo = GitRepo(story)
    history.read(git_repo, story).arrivals  # noqa: B018  (HEAD's index stored)

    def whole(h: history.History) -> tuple[object, ...]:
        lives = {k: (list(h.of(k)), list(h.lifecycle(k))) for k in h.by_deal}
        window = history.window(h.events, dt.date(2026, 1, 10), dt.date(2026, 1, 15))
        return h.arrivals, lives, list(h.events), window

    for n, day in enumerate(("2026-01-12", "2026-01-19", "2026-01-23")):
        sha = last_commit_of(story, day)
        assert sha is not None
        wt = tmp_path / f"h{n}"
        git(story, "worktree", "add", "-q", "--detach", str(wt), sha)
        there = whole(history.read(GitRepo(wt), wt))
        folds.clear()
        assert whole(history.read(git_repo, story, at=sha)) == there, day
        assert len(folds) == 1  # the first time: HEAD's index cut and folded
        folds.clear()
        assert whole(history.read(git_repo, story, at=sha)) == there, day
        assert folds == []  # kept
    monkeypatch.setenv("GIT_AUTHOR_DATE", "2026-02-01T09:00:00+00:00")
    monkeypatch.setenv("GIT_COMMITTER_DATE", "2026-02-01T09:00:00+00:00")
    assert Cli(story)("log", "delta", "call", "Later").exit_code == 0
    folds.clear()
    assert whole(history.read(git_repo, story, at=sha)) == there
    assert folds == []  # a new commit on top changes nothing of the 23rd


def test_a_merged_side_branch_counts_from_its_merge(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """HEAD's first-parent line is the branch's story: a deal added on a side branch is not
    in the pipeline of a day before the merge, and is from the merge on; each day is still
    its checkout (the history of a merge commit cut out of HEAD's order)."""
    root = make_repo(tmp_path / "repo")
    t = Timeline(root, monkeypatch)
    t.at("2026-03-01T09:00:00+00:00").run("init")
    t.add("Alpha", 100, "2026-03-01")
    git(root, "checkout", "-q", "-b", "side")
    t.at("2026-03-02T09:00:00+00:00").add("Bravo", 200, "2026-03-02")
    t.at("2026-03-03T09:00:00+00:00").run("log", "bravo", "call", "Intro", "--date", "2026-03-03")
    git(root, "checkout", "-q", "main")
    t.at("2026-03-03T10:00:00+00:00").add("Charlie", 300, "2026-03-03")
    t.at("2026-03-04T09:00:00+00:00")
    git(root, "merge", "-q", "--no-ff", "-m", "merge side", "side")
    t.at("2026-03-05T09:00:00+00:00").run("move", "alpha", "qualifying", "--date", "2026-03-05")
    for var in ("GIT_AUTHOR_DATE", "GIT_COMMITTER_DATE"):
        monkeypatch.delenv(var)
    ids = {}
    for n, day in enumerate(("2026-03-02", "2026-03-03", "2026-03-04", "2026-03-05")):
        sha = last_commit_of(root, day)
        assert sha is not None
        wt = tmp_path / f"m{n}"
        git(root, "worktree", "add", "-q", "--detach", str(wt), sha)
        for command in (("report", "--json"), ("list", "--json"), ("lint", "--exit-zero")):
            then = _run(root, monkeypatch, *command, "--as-of", day)
            assert then == _run(wt, monkeypatch, *command, "--today", day), (day, command)
        listed = json.loads(_run(root, monkeypatch, "list", "--json", "--as-of", day))
        ids[day] = sorted(d["id"] for d in listed)
    assert ids["2026-03-02"] == ["alpha"]
    assert ids["2026-03-03"] == ["alpha", "charlie"]  # bravo only on the side branch yet
    assert ids["2026-03-04"] == ["alpha", "bravo", "charlie"]


def test_history_as_of_a_day_stops_there_and_finds_that_days_deals(story: Path):
    r = Cli(story)("history", "beta", "--as-of", "2026-01-15", "--json")
    assert r.exit_code == 0, r.output
    events = json.loads(r.stdout)["events"]
    assert [e["date"][:10] for e in events] == ["2026-01-06", "2026-01-12"]  # before its rm
    later = json.loads(Cli(story)("history", "acme", "--as-of", "2026-01-12", "--json").stdout)
    assert all(e["date"][:10] <= "2026-01-12" for e in later["events"])
    bad = Cli(story)("history", "--all", "--as-of", "2026-01-15")
    assert bad.exit_code == 2 and "--as-of" in bad.stderr


def test_a_past_days_report_is_kept(story: Path, monkeypatch: pytest.MonkeyPatch):
    """`report --as-of` of a day asked before (pipectl/pastmemo.py): after a new commit, the
    same bytes without working them out again; other options, or no cache, work them out."""
    from pipectl.cli import reports

    asked = [("report", "--as-of", "2026-01-16", "--json"), ("report", "--as-of", "2026-01-16")]
    first = [_run(story, monkeypatch, *args) for args in asked]
    (story / "note.txt").write_text("later\n", encoding="utf-8")
    git(story, "add", "note.txt")
    git(story, "commit", "-q", "-m", "a later commit")

    def never(*_args: object, **_kw: object) -> None:
        raise AssertionError("worked out again")

    with monkeypatch.context() as m:
        m.setattr(reports, "figures_of", never)
        m.setattr(asof, "pipeline_at", never)  # a kept answer reads not even the day's tree
        assert [_run(story, monkeypatch, *args) for args in asked] == first
    made: list[object] = []
    real = reports.figures_of

    def counted(*args: object, **kw: object) -> object:
        made.append(args)
        return real(*args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(reports, "figures_of", counted)
    _run(story, monkeypatch, "report", "--as-of", "2026-01-16", "--json", "--owner", "ana")
    assert len(made) == 1
    monkeypatch.setenv("PIPECTL_NO_CACHE", "1")
    assert [_run(story, monkeypatch, *args) for args in asked] == first
    assert len(made) == 3


def test_a_day_before_a_shallow_clones_first_commit_says_so(story: Path, tmp_path: Path):
    """The clone lacks the older commits, not the history: the message says how to get them."""
    clone = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{story}", str(clone))
    result = Cli(clone)("report", "--as-of", "2026-01-06")
    assert result.exit_code == 2
    assert "is before the first commit of this shallow clone" in result.output
    assert "--deepen" in result.output and "Traceback" not in result.output


def test_history_as_of_a_day_before_the_deal_says_it_came_later(story: Path):
    result = Cli(story)("history", "delta", "--as-of", "2026-01-20")
    assert result.exit_code == 2
    assert "no deal 'delta' as of 2026-01-20: delta came later" in result.output
    nowhere = Cli(story)("history", "nosuch", "--as-of", "2026-01-05")
    assert nowhere.exit_code == 2 and "no deal 'nosuch' in this pipeline" in nowhere.output


def test_history_help_names_no_today_it_does_not_take(story: Path):
    shown = Cli(story)("history", "--help")
    assert shown.exit_code == 0 and "--as-of" in shown.output and "--today" not in shown.output
    assert Cli(story)("history", "--today", "2026-01-20").exit_code == 2
