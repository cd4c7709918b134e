"""The mechanisms behind speed at scale, checked by counting, never by timing: git processes
per command do not grow with the number of deals, and a deal named exactly is found without
listing the pipeline."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import pytest
from conftest import git, make_repo

from pipectl import store
from pipectl.errors import UsageError

STAGES = ("prospecting", "qualifying", "connecting", "closing")


def build(root: Path, deals: int) -> Path:
    """A pipeline whose every deal was added, edited and moved in its own commits."""
    make_repo(root)
    subprocess.run(
        [sys.executable, "-m", "pipectl", "init"], cwd=root, check=True, capture_output=True
    )
    for i in range(deals):
        path = root / "prospecting" / f"deal-{i:03d}.md"
        path.write_text(f"---\ntitle: Deal {i}\ncreated: 2026-01-0{1 + i % 9}\n---\n# Deal {i}\n")
        git(root, "add", "--", str(path))
        git(root, "commit", "-q", "-m", f"add deal-{i:03d}")
        with open(path, "a", encoding="utf-8") as f:
            f.write("More notes.\n")
        dst = root / STAGES[1 + i % 3] / path.name
        git(root, "mv", str(path), str(dst))
        git(root, "commit", "-q", "-a", "-m", f"move deal-{i:03d}")
    return root


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


def git_calls(shim: Path, root: Path, *args: str) -> list[str]:
    """The git subcommands one `pipectl ARGS` run started, in order, with no history index
    (a current index needs no git at all: tests/test_history_index.py counts that)."""
    log = root.parent / f"calls-{root.name}.log"
    log.unlink(missing_ok=True)
    for index in (root / ".git" / "pipectl" / "cache").glob("*/history"):
        shutil.rmtree(index)
    env = {
        **os.environ,
        "PATH": f"{shim}{os.pathsep}{os.environ['PATH']}",
        "GIT_CALLS": str(log),
        "PIPECTL_TODAY": "2026-11-27",
    }
    proc = subprocess.run(
        [sys.executable, "-m", "pipectl", *args], cwd=root, env=env, capture_output=True, text=True
    )
    assert proc.returncode in (0, 1), proc.stderr
    # one line per git process: split at newlines only, since splitlines() would also cut at
    # the record separator that history's --format holds
    lines = log.read_text().split("\n")[:-1] if log.exists() else []
    return [_subcommand(line.split(" ")) for line in lines]


def _subcommand(argv: list[str]) -> str:
    skip = False
    for token in argv:
        if skip:
            skip = False
        elif token in ("-c", "-C"):
            skip = True
        elif not token.startswith("-"):
            return token
    return "?"


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("small") / "repo", 2)


@pytest.fixture(scope="module")
def large(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("large") / "repo", 25)


@pytest.mark.parametrize(
    "args", [["history"], ["history", "deal-001"], ["report"], ["report", "--json"], ["lint"]]
)
def test_git_processes_do_not_grow_with_deals(
    shim: Path, small: Path, large: Path, args: list[str]
) -> None:
    few = git_calls(shim, small, *args)
    many = git_calls(shim, large, *args)
    # the same git commands, whatever the number of deals (concurrent ones log in any order)
    assert Counter(few) == Counter(many)
    assert len(many) <= 4, many
    if args[0] == "history":
        assert "log" in many  # the history really came from git, in one pass


def test_lint_reads_every_arrival_from_one_git_log(
    shim: Path, large: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the deals were moved by hand without stage_entered: time in stage needs git's history,
    # and shallowness is read from the git dir, not asked of git. Cold: an earlier test's lint
    # of the same pipeline left a whole-run result that a replay reads without git (the test
    # passed alone and failed after the others)
    monkeypatch.setenv("PIPECTL_NO_CACHE", "1")
    assert git_calls(shim, large, "lint") == ["log"]


def test_the_board_reads_every_arrival_for_itself_and_lint_from_one_git_log(
    shim: Path, large: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # each card's days in stage and lint's time-in-stage rule share the one pass (lint runs
    # cold: a replayed lint would read nothing)
    monkeypatch.setenv("PIPECTL_NO_CACHE", "1")
    assert git_calls(shim, large, "board") == ["log"]


@pytest.mark.parametrize(
    "args",
    [
        ["log", "deal-001", "call", "Hi"],
        ["move", "deal-001", "closing", "--force"],
        ["set", "deal-001", "value=5"],
    ],
)
def test_changing_commands_start_a_fixed_number_of_git_processes(
    shim: Path, tmp_path: Path, args: list[str]
) -> None:
    few = git_calls(shim, build(tmp_path / "few", 2), *args)
    many = git_calls(shim, build(tmp_path / "many", 12), *args)
    assert Counter(few) == Counter(many)
    assert "commit" in many and len(many) <= 3, many


def test_a_deal_named_exactly_is_found_without_listing_the_stages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = build(tmp_path / "repo", 3)
    pipeline = store.Pipeline(root)
    listed: list[str] = []
    real = store.os.scandir

    def spy(path):  # type: ignore[no-untyped-def]
        listed.append(str(path))
        return real(path)

    monkeypatch.setattr(store.os, "scandir", spy)
    ref = pipeline.resolve("deal-001")
    assert (ref.id, ref.path) == ("deal-001", root / "connecting" / "deal-001.md")
    assert listed == []
    with pytest.raises(UsageError, match="ambiguous"):  # prefixes still work, by listing
        pipeline.resolve("deal-00")
    assert listed


def test_a_long_historys_first_report_reads_the_deals_after_building_its_index(
    large: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the first report of a long history builds the index before it reads the deals (the
    # build's state and the deals are not held at once); any other reads them while git
    # walks: the same report either way
    from conftest import Cli

    from pipectl import histindex, history

    repo = tmp_path / "repo"
    shutil.copytree(large, repo, symlinks=True)
    monkeypatch.setenv("PIPECTL_TODAY", "2026-11-27")
    order: list[tuple[str, bool]] = []
    real_read, real_load = history.read, store.Pipeline.load

    def read(*args: object, **kw: object) -> object:
        order.append(("history", threading.current_thread() is threading.main_thread()))
        return real_read(*args, **kw)  # type: ignore[arg-type]

    def load(self: store.Pipeline, *args: object, **kw: object) -> object:
        order.append(("deals", threading.current_thread() is threading.main_thread()))
        return real_load(self, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(history, "read", read)
    monkeypatch.setattr(store.Pipeline, "load", load)
    cli = Cli(repo)
    overlapped = cli("report", "--json").stdout  # short: read while git walks
    assert ("history", False) in order and ("deals", True) in order
    for index in (repo / ".git" / "pipectl" / "cache").glob("*/history"):
        shutil.rmtree(index)
    monkeypatch.setattr(histindex, "LONG_HISTORY_BYTES", -1)  # any history is long now
    order.clear()
    assert cli("report", "--json").stdout == overlapped
    assert order == [("history", True), ("deals", True)]  # built first, then the deals
    order.clear()
    assert cli("report", "--json").stdout == overlapped  # an index kept: overlapped again
    assert ("history", False) in order
