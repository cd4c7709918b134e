"""The lint result cache: an unchanged pipeline replays its findings without running a rule;
any input a rule can read (deal files, stray files, pipeline.yaml, git HEAD, today, the rules
chosen, pipectl's code) makes it run again and agree with a cold run."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import git

from pipectl.caches import framed
from pipectl.caches import results as resultcache
from pipectl.lint import runner
from pipectl.store import Pipeline

TODAY = dt.date(2026, 11, 27)
DEAL = "---\ntitle: Acme\ncreated: 2026-09-01\nowner: alice\nvalue: 100\nnext_step: Call\n---\n"


@pytest.fixture(autouse=True)
def _no_racy_window(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(framed, "RACY_WINDOW_NS", 0)


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """One entry per lint run that really loaded deals and ran the rules."""
    seen: list[int] = []
    real = runner._check

    def counting(ctx, chosen, shared):  # type: ignore[no-untyped-def]
        seen.append(1)
        return real(ctx, chosen, shared)

    monkeypatch.setattr(runner, "_check", counting)
    return seen


def lint(root: Path, today: dt.date = TODAY, select: tuple[str, ...] = ()) -> list[tuple]:
    return [dataclasses.astuple(f) for f in runner.run(Pipeline(root), today, select).findings]


def cold(root: Path, today: dt.date = TODAY, select: tuple[str, ...] = ()) -> list[tuple]:
    os.environ[framed.DISABLE_ENV] = "1"
    try:
        return lint(root, today, select)
    finally:
        del os.environ[framed.DISABLE_ENV]


def test_unchanged_pipeline_replays_without_running_rules(
    pipeline: Path, write_deal: Callable[..., Path], runs: list[int]
) -> None:
    write_deal(pipeline, "qualifying", "acme", DEAL)
    first = lint(pipeline)
    assert first and runs == [1]
    assert lint(pipeline) == first == cold(pipeline)
    assert runs == [1, 1]  # the second run replayed; the cold one ran


@pytest.mark.parametrize(
    "change",
    ["stray-file", "config", "today", "select", "code", "new-deal", "chmod"],
)
def test_every_input_is_part_of_the_key(
    pipeline: Path,
    write_deal: Callable[..., Path],
    runs: list[int],
    change: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    write_deal(pipeline, "qualifying", "acme", DEAL)
    today, select = TODAY, ()
    lint(pipeline)
    runs.clear()
    if change == "stray-file":
        (pipeline / "notes").mkdir()
        (pipeline / "notes" / "lost-deal.md").write_text(DEAL)
    elif change == "config":
        with open(pipeline / "pipeline.yaml", "a", encoding="utf-8") as f:
            f.write("required_fields: [title, created, currency]\n")
    elif change == "today":
        today = TODAY + dt.timedelta(days=400)
    elif change == "select":
        select = ("PL1",)
    elif change == "code":
        monkeypatch.setattr(resultcache, "_CODE", [("another pipectl", [])])
    elif change == "new-deal":
        write_deal(pipeline, "closing", "beta", DEAL.replace("owner: alice\n", ""))
    elif change == "chmod":
        (pipeline / "qualifying" / "acme.md").chmod(0o000)
    try:
        assert lint(pipeline, today, select) == cold(pipeline, today, select)
        assert runs == [1, 1]  # both ran: nothing was replayed
    finally:
        (pipeline / "qualifying" / "acme.md").chmod(0o644)


def test_hidden_files_do_not_invalidate(
    pipeline: Path, write_deal: Callable[..., Path], runs: list[int]
) -> None:
    write_deal(pipeline, "qualifying", "acme", DEAL)
    lint(pipeline)
    (pipeline / "qualifying" / ".acme.md.swp").write_text("editor state")
    lint(pipeline)
    assert runs == [1]


def test_moving_head_to_another_history_reruns_history_rules(
    pipeline: Path, write_deal: Callable[..., Path], runs: list[int]
) -> None:
    """Same files, different history: the arrival date in a stage comes from git."""
    text = "---\ntitle: Acme\ncreated: 2026-01-01\nowner: alice\nvalue: 1\nnext_step: Call\n---\n"
    path = write_deal(pipeline, "qualifying", "acme", text)
    env = {"GIT_AUTHOR_DATE": "2026-01-05T10:00:00", "GIT_COMMITTER_DATE": "2026-01-05T10:00:00"}
    os.environ.update(env)
    try:
        git(pipeline, "add", "--", str(path))
        git(pipeline, "commit", "-q", "-m", "old arrival")
        git(pipeline, "branch", "old")
        git(pipeline, "reset", "-q", "--soft", "HEAD~1")
        os.environ.update({k: "2026-11-25T10:00:00" for k in env})
        git(pipeline, "commit", "-q", "-m", "recent arrival")
    finally:
        for k in env:
            os.environ.pop(k, None)
    recent = lint(pipeline, select=("PL302",))
    git(pipeline, "checkout", "-q", "old")  # identical files: git rewrites none of them
    runs.clear()
    old = lint(pipeline, select=("PL302",))
    assert runs == [1]
    assert old == cold(pipeline, select=("PL302",))
    assert old != recent


def test_a_tree_with_fresh_files_is_not_stored(
    pipeline: Path,
    write_deal: Callable[..., Path],
    runs: list[int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(framed, "RACY_WINDOW_NS", 60_000_000_000)
    write_deal(pipeline, "qualifying", "acme", DEAL)
    lint(pipeline)
    lint(pipeline)
    assert runs == [1, 1]


def test_a_damaged_result_file_is_ignored(
    pipeline: Path, write_deal: Callable[..., Path], runs: list[int]
) -> None:
    write_deal(pipeline, "qualifying", "acme", DEAL)
    expected = lint(pipeline)
    [stored] = (pipeline / ".git" / "pipectl" / "cache").glob("*/lint.result")
    data = stored.read_bytes()
    stored.write_bytes(data[:-5] + b"XXXXX")
    assert lint(pipeline) == expected
    assert runs == [1, 1]
    assert lint(pipeline) == expected
    assert runs == [1, 1]  # rebuilt, then replayed


def test_the_code_key_covers_every_module_of_pipectl(monkeypatch: pytest.MonkeyPatch) -> None:
    """An edited rule must not replay the findings of the old one, wherever its module sits."""
    monkeypatch.setattr(resultcache, "_CODE", [])
    _version, files = resultcache.code_state()
    names = {name for name, _stat in files}
    assert {"store.py", "lint/runner.py", "caches/results.py"} <= names
