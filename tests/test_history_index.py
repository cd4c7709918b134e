"""The history index (pipectl/histindex.py): after every kind of history change, what each
history-based command prints is byte for byte what it prints without an index, and the
index is what a cold walk of the new history builds; a warm command walks only the commits
that are new, in one `git log` (processes counted, never timed)."""

from __future__ import annotations

import json
import marshal
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import Cli, git, make_repo
from test_history import Timeline, build_scenario

from pipectl import gitlog, histbuild, histindex, history, stagetime
from pipectl.gitrepo import GitRepo

TODAY = "2026-03-01"
DEALS = ("acme", "beta", "gamma", "delta", "delta-inc", "eps", "zeta")


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The five-deal scenario of tests/test_history.py, built once (copied by each test)."""
    root = tmp_path_factory.mktemp("template") / "repo"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HOME", str(root.parent))
        mp.setenv("GIT_CONFIG_GLOBAL", str(root.parent / "gitconfig"))
        mp.setenv("GIT_CONFIG_NOSYSTEM", "1")
        build_scenario(root, mp)
    return root


@pytest.fixture
def t(template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Timeline:
    root = tmp_path / "repo"
    shutil.copytree(template, root, symlinks=True)
    monkeypatch.setenv("PIPECTL_TODAY", TODAY)
    timeline = Timeline(root, monkeypatch)
    run(timeline.cli, "report", "--json")  # the index, as a first command leaves it
    return timeline


def run(cli: Cli, *args: str) -> str:
    r = cli(*args)
    assert r.exit_code in (0, 1), r.output
    return r.stdout


def outputs(cli: Cli) -> dict[str, str]:
    """What every history-based command prints; the report first (it brings the index up to
    date without reading any field), then history (which reads and stores the fields)."""
    out = {"report": run(cli, "report", "--json")}
    out["report text"] = run(cli, "report", "--since", "2026-01-15")
    out["history"] = run(cli, "history", "--json")
    out["history text"] = run(cli, "history")
    out["window"] = run(cli, "history", "--since", "2026-01-20", "--until", "2026-02-10", "--json")
    out["board"] = run(cli, "board", "--json", "--all")
    out["lint"] = run(cli, "lint", "--format", "json")
    for deal in sorted({e["deal"] for e in json.loads(out["history"])["events"]} | set(DEALS)):
        r = cli("history", deal, "--json")
        out[f"history {deal}"] = r.stdout if r.exit_code == 0 else f"exit {r.exit_code}"
    return out


def index_of(t: Timeline) -> tuple[Any, list[Any]]:
    """The stored index (its head and every record, fields left out: the report stores none,
    history stores those it shows), or None when none checks out."""
    repo = GitRepo(t.root)
    prefix = "" if t.pipe == t.root else t.pipe.relative_to(t.root).as_posix() + "/"
    store = histindex.store_for(repo, t.pipe, prefix)
    assert store is not None
    head = store.head()
    if head is None:
        return None, []
    records = [rec for entry in head["segments"] for rec in (store.segment(entry) or [None])]
    lives = store.lives(head["lives"])
    stored = store.summaries(head["summaries"])
    assert stored is not None
    # each as stored: its stops and its rows' bytes, here decoded
    summaries = {
        k: (stops, [(h, _bare(e)) for h, e in marshal.loads(rows)])
        for k, (stops, rows) in stored.items()
    }
    state = {**head, "summaries": summaries, "lives": lives}
    return state, [(*r[:-1], tuple(_bare(e) for e in r[-1])) for r in records]


def _bare(e: Any) -> Any:
    return (*e[: gitlog.E_FIELDS], None, *e[gitlog.E_FIELDS + 1 :])


def same_with_and_without_index(t: Timeline, monkeypatch: pytest.MonkeyPatch) -> None:
    warm = outputs(t.cli)
    kept = index_of(t)
    assert kept[0] is not None and kept[0]["tip"] == git(t.root, "rev-parse", "HEAD").strip()
    monkeypatch.setenv("PIPECTL_NO_CACHE", "1")
    cold = outputs(t.cli)
    monkeypatch.delenv("PIPECTL_NO_CACHE")
    for name in warm:
        assert warm[name] == cold[name], name
    # the index brought up to date is the index a cold walk of this history builds
    for folder in (t.root / ".git" / "pipectl" / "cache").glob("*/history"):
        shutil.rmtree(folder)
    run(t.cli, "report", "--json")
    assert index_of(t) == kept


# --- every kind of history change -----------------------------------------------------------


def new_commits(t: Timeline) -> None:
    t.on("2026-02-20").run("log", "gamma", "call", "Checked in", "--date", "2026-02-20")
    t.on("2026-02-21").add("Zeta", "--value", "90", "--date", "2026-02-21")
    t.on("2026-02-22").run("move", "zeta", "qualifying", "--date", "2026-02-22")


def hand_edit(t: Timeline) -> None:
    gamma = t.root / "prospecting" / "gamma.md"
    gamma.write_text(gamma.read_text().replace("value: 3000", "value: 3500") + "More notes.\n")
    t.on("2026-02-20").git("commit", "-q", "-am", "gamma: new value")


def git_mv(t: Timeline) -> None:
    t.git("mv", "prospecting/gamma.md", "connecting/gamma.md")
    t.on("2026-02-20").git("commit", "-q", "-m", "gamma to connecting", author="Bob Builder")


def rebase(t: Timeline) -> None:
    # drop "lost eps" from under the two commits after it: both are rewritten
    t.on("2026-02-20").git("rebase", "-q", "--onto", "HEAD~3", "HEAD~2")


def amend(t: Timeline) -> None:
    t.on("2026-02-20").git("commit", "-q", "--amend", "-m", "acme won (amended)")


def reset_back(t: Timeline) -> None:
    t.git("reset", "-q", "--hard", "HEAD~2")  # HEAD now an ancestor of the indexed tip


def merge(t: Timeline) -> None:
    t.git("checkout", "-q", "-b", "side", "HEAD~4")
    t.on("2026-01-27").run("log", "gamma", "email", "Sent the deck", "--date", "2026-01-27")
    t.on("2026-01-28").run("move", "gamma", "qualifying", "--date", "2026-01-28")
    t.git("checkout", "-q", "main")
    t.on("2026-02-16").run("log", "delta-inc", "call", "Terms", "--date", "2026-02-16")
    t.on("2026-02-17").git("merge", "-q", "--no-edit", "side")


def merged_into_side(t: Timeline) -> None:
    # the indexed tip becomes a merge's SECOND parent: the order of the old commits changes
    t.git("checkout", "-q", "-b", "side", "HEAD~4")
    t.on("2026-01-27").run("log", "gamma", "email", "Sent the deck", "--date", "2026-01-27")
    t.on("2026-02-17").git("merge", "-q", "--no-edit", "main")
    t.git("checkout", "-q", "main")
    t.git("merge", "-q", "--ff-only", "side")


def revert(t: Timeline) -> None:
    t.on("2026-02-20").git("revert", "--no-edit", "HEAD")  # acme back from won to closing


@pytest.mark.parametrize(
    "change",
    [new_commits, hand_edit, git_mv, rebase, amend, reset_back, merge, merged_into_side, revert],
)
def test_the_index_equals_a_cold_walk_after(
    change: Callable[[Timeline], None], t: Timeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    same_with_and_without_index(t, monkeypatch)  # as first built
    change(t)
    same_with_and_without_index(t, monkeypatch)


def test_a_change_after_history_stored_its_fields(
    t: Timeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    # history first this time: it brings the index up to date with the new commits' fields
    hand_edit(t)
    run(t.cli, "history")
    git_mv(t)
    rebase(t)
    same_with_and_without_index(t, monkeypatch)


def test_a_shallow_clone_deepened_and_unshallowed(
    t: Timeline, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--depth", "4", f"file://{t.root}", str(clone))
    c = Timeline(clone, monkeypatch)
    run(c.cli, "report", "--json")
    same_with_and_without_index(c, monkeypatch)
    assert json.loads(run(c.cli, "history", "--json"))["partial"] is True
    new_commits(t)  # fetched on top of the shallow clone: the boundary stays
    c.git("pull", "-q", "--ff-only")
    same_with_and_without_index(c, monkeypatch)
    c.git("fetch", "-q", "--deepen", "5")
    same_with_and_without_index(c, monkeypatch)
    c.git("fetch", "-q", "--unshallow")
    same_with_and_without_index(c, monkeypatch)
    assert json.loads(run(c.cli, "history", "--json"))["partial"] is False


def summary_files(t: Timeline) -> list[str]:
    """The summary files the stored head names: a base, then the layers after it."""
    store = histindex.store_for(GitRepo(t.root), t.pipe, "")
    assert store is not None
    head = store.head()
    assert head is not None
    names: list[str] = head["summaries"]
    return names


def test_summaries_change_in_layers_and_equal_a_cold_walk(
    t: Timeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    # enough deals that one commit's changes are a small part of them: each warm run then
    # stores only the summaries that changed, as a layer after the files it read
    gamma = (t.root / "prospecting" / "gamma.md").read_text()
    for i in range(40):
        name = f"filler{i:02d}"
        (t.root / "prospecting" / f"{name}.md").write_text(gamma.replace("gamma", name))
    t.git("add", "-A")
    t.on("2026-02-18").git("commit", "-q", "-m", "forty deals by hand")
    run(t.cli, "report", "--json")
    base = summary_files(t)
    assert len(base) == 1  # forty changed of 45: a new base
    # a touchpoint changes no summary: the head names the same files
    t.on("2026-02-19").run("log", "filler01", "call", "Asked", "--date", "2026-02-19")
    run(t.cli, "report", "--json")
    assert summary_files(t) == base
    # a move, a rename, a deletion: each a layer of what it changed
    t.on("2026-02-19").run("move", "filler01", "qualifying", "--date", "2026-02-19")
    run(t.cli, "report", "--json")
    t.on("2026-02-20").run("move", "filler01", "connecting", "--date", "2026-02-20")  # again
    run(t.cli, "report", "--json")
    t.git("mv", "prospecting/filler02.md", "prospecting/filler-two.md")  # a new id: the old
    t.on("2026-02-20").git("commit", "-q", "-m", "filler02 renamed")  # one's summary goes
    run(t.cli, "report", "--json")
    t.git("mv", "prospecting/filler-two.md", "prospecting/filler02.md")  # and comes back
    t.on("2026-02-21").git("commit", "-q", "-m", "filler02 named back")
    run(t.cli, "report", "--json")
    t.git("rm", "-q", "prospecting/filler03.md")
    t.on("2026-02-21").git("commit", "-q", "-m", "filler03 deleted")
    run(t.cli, "history")
    assert len(summary_files(t)) == 6 and summary_files(t)[0] == base[0]
    same_with_and_without_index(t, monkeypatch)  # each a cold walk's (and rebuilt as one)
    assert len(summary_files(t)) == 1
    for n in range(histbuild.MAX_LAYERS + 1):  # then a new base again, never more layers
        deal = f"filler{10 + n}"
        t.on("2026-02-22").run("move", deal, "qualifying", "--date", "2026-02-22")
        run(t.cli, "report", "--json")
        # a layer more each time, until a head would name more than MAX_LAYERS files
        assert len(summary_files(t)) == (n + 1) % histbuild.MAX_LAYERS + 1
    same_with_and_without_index(t, monkeypatch)


def test_a_base_and_layers_at_one_tip_are_files_of_their_own(t: Timeline) -> None:
    # two writers at one tip, one from older files than the other, or one writing a new
    # base: none may replace another's file, which a head of the other names
    store = histindex.store_for(GitRepo(t.root), t.pipe, "")
    assert store is not None
    tip, stored_one = "ab" * 20, ((("moved", "won", "closing", 739000),), b"rows")
    base = store.write_summaries(tip, 9, [("acme", stored_one)])
    after_base = store.write_summaries(tip, 9, [("acme", None)], base)
    after_more = store.write_summaries(tip, 9, [], [*(base or []), "sums-older"])
    assert base and after_base and after_more
    assert len({base[-1], after_base[-1], after_more[-1]}) == 3
    assert store.summaries(base) == {"acme": stored_one}
    assert store.summaries(after_base) == {}


def _damage_head(folder: Path) -> None:
    data = bytearray((folder / "head").read_bytes())
    data[-5] ^= 0xFF
    (folder / "head").write_bytes(bytes(data))


def _truncate_segment(folder: Path) -> None:
    seg = sorted(folder.glob("seg-*"))[0]
    seg.write_bytes(seg.read_bytes()[:-7])


def _foreign_lives(folder: Path) -> None:
    lives = next(folder.glob("lives-*"))
    lives.write_bytes(b"PIPECTL-DEALCACHE\x00" + lives.read_bytes()[18:])


def _truncate_summaries(folder: Path) -> None:
    sums = next(folder.glob("sums-*"))
    sums.write_bytes(sums.read_bytes()[:-3])


def _head_is_a_folder(folder: Path) -> None:
    (folder / "head").unlink()
    (folder / "head").mkdir()


def _group_writable_head(folder: Path) -> None:
    (folder / "head").chmod(0o666)


@pytest.mark.parametrize(
    "damage",
    [
        _damage_head,
        _truncate_segment,
        _foreign_lives,
        _truncate_summaries,
        _head_is_a_folder,
        _group_writable_head,
    ],
)
def test_a_damaged_or_foreign_index_is_ignored_and_rebuilt(
    damage: Callable[[Path], None], t: Timeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    new_commits(t)
    run(t.cli, "history")  # every file of the index written
    (folder,) = (t.root / ".git" / "pipectl" / "cache").glob("*/history")
    damage(folder)
    if (folder / "head").is_dir():
        warm = outputs(t.cli)  # nothing can be stored: every command reads git afresh
        (folder / "head").rmdir()
        monkeypatch.setenv("PIPECTL_NO_CACHE", "1")
        assert outputs(t.cli) == warm
        return
    same_with_and_without_index(t, monkeypatch)


def test_the_fold_gives_what_the_events_give(t: Timeline) -> None:
    # the stored arrivals and summaries follow the same rules as stagetime's and History's
    # own reading of the events
    merge(t)
    t.git("mv", "closing/delta-inc.md", "connecting/delta-inc.md")
    t.on("2026-02-20").git("commit", "-q", "-m", "delta back, by hand")
    repo = GitRepo(t.root)
    hist = history.read(repo, t.root)
    events = list(hist.events)
    plain = history.History(events, {d: hist.of(d) for d in hist.by_deal}, hist.partial)
    assert stagetime.arrivals_of(plain) == hist.arrivals
    assert set(plain.by_deal) == set(hist.by_deal)
    for deal in hist.by_deal:
        assert hist.lifecycle(deal) == plain.lifecycle(deal), deal
        # the report's tuples, read from the index's rows, say what the events say
        assert hist.stops(deal) == plain.stops(deal), deal
    assert [e for d in sorted(hist.by_deal) for e in hist.of(d)] == [
        e for d in sorted(plain.by_deal) for e in plain.of(d)
    ]


# --- what a warm command starts --------------------------------------------------------------


@pytest.fixture(scope="module")
def shim(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A `git` first on PATH that logs each invocation, then runs the real git."""
    real = shutil.which("git")
    assert real
    folder = tmp_path_factory.mktemp("shim")
    script = folder / "git"
    script.write_text(f'#!/bin/sh\necho "$*" >> "$GIT_CALLS"\nexec {real} "$@"\n')
    script.chmod(0o755)
    return folder


_REVISION = re.compile(r"\^?[0-9a-f]{40}")


def processes(shim: Path, root: Path, *args: str) -> list[tuple[str, list[str]]]:
    """Each git process one `pipectl ARGS` run started: its subcommand and revisions."""
    log = root.parent / "calls.log"
    log.unlink(missing_ok=True)
    env = {
        **os.environ,
        "PATH": f"{shim}{os.pathsep}{os.environ['PATH']}",
        "GIT_CALLS": str(log),
        "PIPECTL_TODAY": TODAY,
    }
    proc = subprocess.run(
        [sys.executable, "-m", "pipectl", *args], cwd=root, env=env, capture_output=True, text=True
    )
    assert proc.returncode in (0, 1), proc.stderr
    lines = log.read_text().split("\n")[:-1] if log.exists() else []
    out = []
    for line in lines:
        tokens = line.split(" ")
        words = [w for i, w in enumerate(tokens) if not w.startswith("-") and tokens[i - 1] != "-c"]
        out.append((words[0], [w for w in tokens if _REVISION.fullmatch(w)]))
    return out


def head_of(root: Path) -> str:
    return git(root, "rev-parse", "HEAD").strip()


def test_a_warm_report_walks_only_the_new_commits_in_one_git_log(shim: Path, t: Timeline) -> None:
    root = t.root
    assert processes(shim, root, "report", "--json") == []  # current: no git at all
    for step in (new_commits, hand_edit, git_mv):
        tip = head_of(root)
        step(t)
        # one git log, from HEAD down to the tip indexed: only the new commits; no other git
        # (HEAD is read from git's files; the report reads no field, so no cat-file)
        assert processes(shim, root, "report", "--json") == [("log", [head_of(root), "^" + tip])]
        assert processes(shim, root, "report") == []
    # the others read the same index: lint, the board, one deal's history
    tip = head_of(root)
    t.on("2026-02-23").run("log", "acme", "note", "Thank-you card", "--date", "2026-02-23")
    assert processes(shim, root, "lint") == [("log", [head_of(root), "^" + tip])]
    assert processes(shim, root, "board") == []
    # one deal's history: no walk; the fields the report did not read are read once and kept
    # (the first cat-file), and the deal's blobs for the old → new values in one more, cut
    # into keys and kept too (pipectl/caches/keys.py): the next run runs no git at all
    assert processes(shim, root, "history", "acme", "--json") == [("cat-file", [])] * 2
    assert processes(shim, root, "history", "acme", "--json") == []


def test_a_rewrite_is_walked_from_where_it_left_the_indexed_history(
    shim: Path, t: Timeline
) -> None:
    tip = head_of(t.root)
    rebase(t)
    # still one git log: HEAD's new commits down to what it shares with the index
    assert processes(shim, t.root, "report", "--json") == [("log", [head_of(t.root), "^" + tip])]
    tip = head_of(t.root)
    reset_back(t)
    assert processes(shim, t.root, "report", "--json") == [("log", [head_of(t.root), "^" + tip])]


def test_history_reads_each_field_once_and_stores_it(shim: Path, t: Timeline) -> None:
    hand_edit(t)
    calls = processes(shim, t.root, "history")
    assert [name for name, _ in calls].count("log") == 1 and "cat-file" in dict(calls)
    # the fields it read are in the index now: the next run reads none
    assert processes(shim, t.root, "history") == []
    assert processes(shim, t.root, "history", "--since", "2026-02-01") == []


def test_a_pipeline_in_a_subfolder_of_a_busier_repository(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # git's diffs stay inside the pipeline; every commit is in the graph (the others touch
    # no deal), and a side branch whose change a merge threw away keeps its events
    monkeypatch.setenv("PIPECTL_TODAY", TODAY)
    root = tmp_path / "big"
    t = build_scenario(root, monkeypatch, sub="sales")
    (root / "notes.md").write_text("unrelated\n")
    t.on("2026-02-16").git("add", "notes.md")
    t.on("2026-02-16").git("commit", "-q", "-m", "unrelated")
    run(t.cli, "report", "--json")
    t.git("checkout", "-q", "-b", "side")
    t.on("2026-02-17").run("log", "gamma", "call", "Lost in the merge", "--date", "2026-02-17")
    t.git("checkout", "-q", "main")
    (root / "notes.md").write_text("more\n")
    t.on("2026-02-18").git("commit", "-q", "-am", "unrelated again")
    t.on("2026-02-19").git("merge", "-q", "--no-edit", "-s", "ours", "side")
    same_with_and_without_index(t, monkeypatch)
    kinds = [e["text"] for e in json.loads(run(t.cli, "history", "gamma", "--json"))["events"]]
    assert "touchpoint logged: call — Lost in the merge" in kinds


def test_head_is_read_from_gits_files_as_git_reads_it(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo")
    repo = GitRepo(root)
    assert repo.head_commit() is None  # no commit yet: the caller asks git
    for i in range(3):
        (root / f"f{i}").write_text(str(i))
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", f"c{i}")

    def agrees() -> None:
        assert repo.head_commit() == git(root, "rev-parse", "HEAD").strip()

    agrees()  # a loose ref
    git(root, "pack-refs", "--all")
    assert not (root / ".git" / "refs" / "heads" / "main").exists()
    agrees()  # a packed ref
    git(root, "symbolic-ref", "refs/heads/alias", "refs/heads/main")
    git(root, "symbolic-ref", "HEAD", "refs/heads/alias")
    agrees()  # a symbolic ref naming another
    git(root, "checkout", "-q", "--detach", "HEAD~1")
    agrees()  # detached
    git(root, "checkout", "-q", "main")
    git(root, "worktree", "add", "-q", "-b", "other", str(tmp_path / "wt"), "HEAD~2")
    linked = GitRepo(tmp_path / "wt")
    assert linked.head_commit() == git(tmp_path / "wt", "rev-parse", "HEAD").strip()
    (root / ".git" / "HEAD").write_text("ref: refs/heads/../../../etc\n")
    assert repo.head_commit() is None  # nothing read outside refs/


def test_an_index_that_cannot_be_stored_changes_nothing(
    t: Timeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    (folder,) = (t.root / ".git" / "pipectl" / "cache").glob("*/history")
    shutil.rmtree(folder)
    folder.write_text("not a folder")  # nothing can be written under it
    new_commits(t)
    warm = outputs(t.cli)
    monkeypatch.setenv("PIPECTL_NO_CACHE", "1")
    assert outputs(t.cli) == warm
    assert folder.read_text() == "not a folder"


def test_the_keys_cache_uses_only_entries_of_its_shape(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # each entry is checked when used (caches/keys.py): one of another shape reads as missing
    # and is not written back, the others are used as they are
    from pipectl.caches import framed, keys
    from pipectl.caches.deals import _key

    monkeypatch.delenv(framed.DISABLE_ENV, raising=False)
    (tmp_path / "pipectl" / "cache").mkdir(parents=True)
    good = {"stage": "won", "body": "notes"}
    import marshal

    stored = {
        "a" * 40: marshal.dumps(good),
        "b" * 40: marshal.dumps({"stage": 3}),
        "c" * 40: ["x"],
        "d" * 40: marshal.dumps(good),
        "f" * 40: b"\xff not marshal",
    }
    framed.write(tmp_path / "pipectl" / "cache" / "keys.bin", keys.KIND, _key(keys._WHAT), stored)
    cache = keys.KeyCache(tmp_path)
    assert cache.get("a" * 40) == good
    assert cache.get("b" * 40) is None and cache.get("c" * 40) is None
    assert cache.get("f" * 40) is None
    cache.put("e" * 40, {"body": ""})
    cache.save()
    again = keys.KeyCache(tmp_path)
    # the entries not decoded this run are kept as they were, decoded when a run asks
    assert set(again.old) == {"a" * 40, "b" * 40, "d" * 40, "e" * 40, "f" * 40}
    assert again.get("d" * 40) == good and again.get("e" * 40) == {"body": ""}
    assert again.get("b" * 40) is None
