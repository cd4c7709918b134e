"""`pipectl changes` over a window it has read before (pipectl/caches/windows.py): the next
run keeps the last run's events, start and end rows, adds what the new commits did and
re-reads only the deal files whose blobs changed. Whatever happened in between, its answer is
the one a run with no cache at all gives, byte for byte; and it really does keep them."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from conftest import Cli, git
from test_changes import Timeline, build_story

from pipectl import changesread
from pipectl.gitrepo import GitRepo

WINDOW = ["--since", "2026-11-24", "--until", "2026-12-02", "--today", "2026-12-02"]


@pytest.fixture
def story(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return build_story(tmp_path, monkeypatch)


def _both(root: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> str:
    """The warm run's output, after checking that a run with no cache says the same."""
    warm = Cli(root)("changes", *WINDOW, *args)
    assert warm.exit_code == 0, warm.output
    monkeypatch.setenv("PIPECTL_NO_CACHE", "1")
    cold = Cli(root)("changes", *WINDOW, *args)
    monkeypatch.delenv("PIPECTL_NO_CACHE")
    assert warm.output == cold.output
    return warm.output


def _memos(root: Path) -> list[Path]:
    return sorted((root / ".git" / "pipectl" / "cache").glob("window-*.bin"))


class Onward:
    """Counts how runs of `changesread.read` were answered: from the kept parts or whole."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch):
        self.kept = self.whole = 0
        onward, whole = changesread._onward, changesread._whole

        def counted_onward(*a):  # type: ignore[no-untyped-def]
            found = onward(*a)
            self.kept += found is not None
            return found

        def counted_whole(*a):  # type: ignore[no-untyped-def]
            self.whole += 1
            return whole(*a)

        monkeypatch.setattr(changesread, "_onward", counted_onward)
        monkeypatch.setattr(changesread, "_whole", counted_whole)


def test_every_kind_of_new_commit_gives_the_answer_of_a_cold_run(
    story: Path, monkeypatch: pytest.MonkeyPatch
):
    t = Timeline(story, monkeypatch)
    runs = Onward(monkeypatch)
    first = _both(story, monkeypatch, "--json")
    assert runs.whole == 2 and len(_memos(story)) == 1  # the warm run kept its parts
    steps = [
        lambda: t.at("2026-12-01").run("log", "beta", "call", "Follow", "--date", "2026-12-01"),
        lambda: t.at("2026-12-01", "bob", 11).run("set", "kappa", "value=12000"),
        lambda: t.at("2026-12-01", "carol", 12).hand(
            "prospecting/kappa.md", "value: 12000", "value: 11000", "by hand"
        ),
        lambda: t.at("2026-12-01", "dave", 13).run("add", "Lambda", "--value", "700"),
        lambda: t.at("2026-12-02").run("move", "kappa", "qualifying"),
        lambda: t.at("2026-12-02", "bob", 11).run("lost", "delta", "--reason", "timing"),
        lambda: t.at("2026-12-02", "bob", 12).run("set", "eps", "expected_close=2027-03-01"),
    ]
    outputs = [first]
    for step in steps:
        step()
        outputs.append(_both(story, monkeypatch, "--json"))
    assert runs.kept == len(steps)  # each warm run went on from the last one's parts
    assert len(set(outputs)) == len(outputs)  # and each step showed


def test_renames_merges_and_hand_deletions_go_on_from_the_kept_parts(
    story: Path, monkeypatch: pytest.MonkeyPatch
):
    t = Timeline(story, monkeypatch)
    _both(story, monkeypatch, "--json")
    runs = Onward(monkeypatch)
    t.at("2026-12-01")
    git(story, "mv", "prospecting/beta.md", "prospecting/beta-corp.md")
    git(story, "commit", "-q", "-m", "beta is beta-corp")
    _both(story, monkeypatch, "--json")
    # a side branch merged: its commits come in through the merge's second parent
    git(story, "checkout", "-q", "-b", "side")
    t.at("2026-12-01", "bob", 11).run("set", "kappa", "value=9500")
    git(story, "checkout", "-q", "-")
    t.at("2026-12-01", "carol", 12).run("log", "eps", "email", "Hi", "--date", "2026-12-01")
    t.at("2026-12-01", "carol", 13)
    git(story, "merge", "-q", "--no-edit", "--no-ff", "side")
    _both(story, monkeypatch, "--json")
    t.at("2026-12-02")
    git(story, "rm", "-q", "prospecting/omega.md")
    git(story, "commit", "-q", "-m", "omega is gone")
    _both(story, monkeypatch, "--json")
    assert runs.kept == 3


def test_what_the_parts_cannot_follow_is_read_whole(story: Path, monkeypatch: pytest.MonkeyPatch):
    t = Timeline(story, monkeypatch)
    _both(story, monkeypatch, "--json")
    runs = Onward(monkeypatch)
    # pipeline.yaml changed: every row may be another (here the stale limits)
    config = story / "pipeline.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "\n# a comment\n", encoding="utf-8")
    t.at("2026-12-01").hand("pipeline.yaml", "# a comment", "# another", "config")
    _both(story, monkeypatch, "--json")
    assert (runs.kept, runs.whole) == (0, 2)
    # the history rewritten under the kept tip: the tip's line no longer passes through it
    t.at("2026-12-01", hour=11).run("set", "kappa", "value=1")
    _both(story, monkeypatch)
    git(story, "reset", "-q", "--hard", "HEAD~1")
    t.at("2026-12-01", hour=12).run("set", "kappa", "value=2")
    _both(story, monkeypatch)
    assert runs.kept == 1 and runs.whole == 5
    # a deal file that no longer parses at the end is said, from the kept parts too
    t.at("2026-12-02").hand("prospecting/kappa.md", "value: 2", "value: [2", "broken")
    out = _both(story, monkeypatch)
    assert "kappa" in out and runs.kept == 2


def test_a_damaged_or_foreign_memo_is_read_whole(story: Path, monkeypatch: pytest.MonkeyPatch):
    t = Timeline(story, monkeypatch)
    _both(story, monkeypatch, "--json")
    (memo,) = _memos(story)
    data = bytearray(memo.read_bytes())
    data[-5] ^= 0xFF
    memo.write_bytes(bytes(data))
    runs = Onward(monkeypatch)
    t.at("2026-12-01").run("log", "beta", "call", "Follow", "--date", "2026-12-01")
    _both(story, monkeypatch, "--json")
    assert runs.kept == 0 and runs.whole == 2
    # parts of another shape (an older pipectl's, a hand's): read whole, never a traceback
    monkeypatch.setattr(changesread.WindowMemo, "read", lambda self: {"tip": 1, "end": "x"})
    t.at("2026-12-01", hour=11).run("log", "beta", "call", "Again", "--date", "2026-12-01")
    _both(story, monkeypatch, "--json")
    assert runs.kept == 0 and runs.whole == 4


def test_only_a_few_windows_are_kept(story: Path, monkeypatch: pytest.MonkeyPatch):
    for since in ("2026-11-20", "2026-11-21", "2026-11-22", "2026-11-23", "2026-11-24"):
        result = Cli(story)("changes", "--since", since, "--until", "2026-11-29", "--json")
        assert result.exit_code == 0, result.output
    assert len(_memos(story)) == 4


def test_a_run_after_one_commit_reads_one_tree_and_the_blobs_it_changed(
    story: Path, monkeypatch: pytest.MonkeyPatch
):
    """The kept parts spare the start's tree and every deal whose blob held: one `ls-tree`
    (the tip's), and cat-file asked for the changed deal's blobs and pipeline.yaml only."""
    t = Timeline(story, monkeypatch)
    _both(story, monkeypatch, "--json")
    t.at("2026-12-01").run("log", "beta", "call", "Follow", "--date", "2026-12-01")
    calls: list[tuple[str, ...]] = []
    asked: list[str] = []
    run, stream = GitRepo.run, GitRepo.stream

    def spy_run(self, args, **kw):  # type: ignore[no-untyped-def]
        calls.append(tuple(args))
        return run(self, args, **kw)

    def spy_stream(self, args, *, input_bytes=None):  # type: ignore[no-untyped-def]
        calls.append(tuple(args))
        if input_bytes:
            asked.extend(input_bytes.decode().split())
        return stream(self, args, input_bytes=input_bytes)

    monkeypatch.setattr(GitRepo, "run", spy_run)
    monkeypatch.setattr(GitRepo, "stream", spy_stream)
    result = Cli(story)("changes", *WINDOW, "--json")
    assert result.exit_code == 0, result.output
    assert sum("ls-tree" in c for c in calls) == 1
    # beta's new blob and pipeline.yaml for the end; beta's old and new for what the commit did
    assert len(set(asked)) <= 3, asked


def test_a_file_that_does_not_parse_is_named_as_seen_from_where_pipectl_runs(
    story: Path, monkeypatch: pytest.MonkeyPatch
):
    t = Timeline(story, monkeypatch)
    t.at("2026-12-01").hand("prospecting/kappa.md", "value: 9000", "value: [9", "broken")
    monkeypatch.chdir(story)
    here = _both(story, monkeypatch)
    monkeypatch.chdir(story / "prospecting")
    below = _both(story, monkeypatch)
    assert "prospecting/kappa.md" in here and "prospecting/kappa.md" not in below


def test_a_window_whose_ends_held_is_answered_as_kept(story: Path, monkeypatch: pytest.MonkeyPatch):
    """Two ends that have not moved give the same answer (pipectl/pastmemo.py): after a
    commit past the window, each format prints what it printed, warnings too, and nothing of
    the history is read; other options, or no cache, work it out again, alike."""
    t = Timeline(story, monkeypatch)
    t.at("2026-11-29").hand("prospecting/kappa.md", "value: 9000", "value: [9", "broken")
    window = ["--since", "2026-11-24", "--until", "2026-11-29", "--today", "2026-12-02"]
    formats = (["--json"], ["--format", "markdown"], [])
    first = [Cli(story)("changes", *window, *f) for f in formats]
    assert all(r.exit_code == 0 and "skipped" in r.stderr for r in first), first[0].output
    t.at("2026-12-01").run("log", "beta", "call", "Follow", "--date", "2026-12-01")

    def never(*_a: object, **_kw: object) -> None:
        raise AssertionError("read again")

    from pipectl import history

    with monkeypatch.context() as m:
        m.setattr(changesread, "read", never)
        m.setattr(history, "read", never)
        again = [Cli(story)("changes", *window, *f) for f in formats]
    assert [(r.stdout, r.stderr) for r in again] == [(r.stdout, r.stderr) for r in first]
    runs = Onward(monkeypatch)
    other = Cli(story)("changes", *window, "--close-by", "all", "--json")
    assert other.exit_code == 0 and runs.kept + runs.whole == 1
    monkeypatch.setenv("PIPECTL_NO_CACHE", "1")
    cold = [Cli(story)("changes", *window, *f) for f in formats]
    assert [(r.stdout, r.stderr) for r in cold] == [(r.stdout, r.stderr) for r in first]
    assert runs.kept + runs.whole == 4


def test_kept_parts_of_the_same_two_ends_read_no_history(
    story: Path, monkeypatch: pytest.MonkeyPatch
):
    """`changesread.read` (the dashboard's week, the mail digest) over a window read before,
    whose tip has not moved: the kept parts as they are, without indexing the new commits."""
    from pipectl import history
    from pipectl.cli.changes import StaleRule, window_of
    from pipectl.store import Pipeline

    day = dt.date(2026, 11, 29)
    pipeline = Pipeline.open(story)
    w = window_of(pipeline, day - dt.timedelta(days=6), day, None, None, day)
    first = changesread.read(pipeline, w, StaleRule())
    Timeline(story, monkeypatch).at("2026-12-01").run("log", "beta", "call", "Follow")

    def never(*_a: object, **_kw: object) -> None:
        raise AssertionError("read the history")

    monkeypatch.setattr(history, "read", never)
    assert changesread.read(Pipeline.open(story), w, StaleRule()) == first


def test_a_large_answer_is_not_kept(story: Path, monkeypatch: pytest.MonkeyPatch):
    """An answer longer than pastmemo.MAX_KEPT (a busy month's JSON) is made again each time
    from the window's parts, and says the same."""
    from pipectl import pastmemo

    window = ["--since", "2026-11-24", "--until", "2026-11-29", "--json"]
    first = Cli(story)("changes", *window)
    kept = sorted((story / ".git" / "pipectl" / "cache").glob("past-*"))
    assert first.exit_code == 0 and len(kept) == 1
    kept[0].unlink()
    monkeypatch.setattr(pastmemo, "MAX_KEPT", len(first.stdout) - 1)
    made: list[object] = []
    read = changesread.read
    monkeypatch.setattr(changesread, "read", lambda *a: made.append(a) or read(*a))
    runs = Onward(monkeypatch)
    again = [Cli(story)("changes", *window).stdout for _ in range(2)]
    assert again == [first.stdout] * 2 and len(made) == 2 and runs.whole == 0
    assert not list((story / ".git" / "pipectl" / "cache").glob("past-*"))


def test_the_trends_window_keeps_no_parts_for_changes_to_take(
    story: Path, monkeypatch: pytest.MonkeyPatch
):
    """`report --weeks` reads the weeks' window without the stale rule; `changes` over the
    same days and period must not take those parts (it would say no deal went stale)."""
    args = ["--since", "2026-11-23", "--until", "2026-11-29", "--close-by", "all", "--json"]
    monkeypatch.setenv("PIPECTL_NO_CACHE", "1")
    cold = Cli(story)("changes", *args, "--today", "2026-11-29")
    monkeypatch.delenv("PIPECTL_NO_CACHE")
    assert [s["deal"] for s in json.loads(cold.stdout)["stale"]] == ["omega"]
    trends = Cli(story)("report", "--weeks", "1", "--today", "2026-11-29", "--json")
    assert trends.exit_code == 0, trends.output
    assert _memos(story)  # the weeks' window kept
    warm = Cli(story)("changes", *args, "--today", "2026-11-29")
    assert warm.stdout == cold.stdout


def test_grafts_are_seen_from_a_linked_worktree(story: Path, tmp_path: Path):
    """Grafts and replace refs live in the git dir every worktree shares: a run in a linked
    worktree keys its kept answers and parts on them too."""
    from pipectl.commitdays import grafts_of

    linked = tmp_path / "linked"
    git(story, "worktree", "add", "-q", str(linked))
    before = grafts_of(GitRepo(linked))
    (story / ".git" / "info").mkdir(exist_ok=True)
    (story / ".git" / "info" / "grafts").write_text(git(story, "rev-parse", "HEAD"))
    assert grafts_of(GitRepo(linked)) != before
