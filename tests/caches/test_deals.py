"""The parsed-deal cache: after every kind of change a warm run finds exactly what a cold run
finds, re-parsing only what changed; a corrupt or foreign cache is ignored, never trusted."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import git

from pipectl.caches import dealparse, framed
from pipectl.caches import deals as cache
from pipectl.caches import results as resultcache
from pipectl.lint.runner import run as lint
from pipectl.store import Pipeline

TODAY = dt.date(2026, 11, 27)

DEAL = """\
---
title: {title}
company: {title}
owner: alice
value: 12000
created: 2026-09-01
stage_entered: 2026-10-01
expected_close: 2026-12-15
next_step: Send pricing proposal
next_step_due: {due}
qualification:   # a comment
  budget: 15k approved
  need: yes
tags: [enterprise]
touchpoints:
  - {{date: 2026-10-02, kind: email, summary: Intro email, outcome: no-reply}}
  - {{date: 2026-11-05, kind: call, summary: Discovery call, outcome: replied}}
---
# {title}

Notes.
"""


@pytest.fixture(autouse=True)
def _no_racy_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """Files written by a test are milliseconds old; let the cache keep them anyway."""
    monkeypatch.setattr(framed, "RACY_WINDOW_NS", 0)


@pytest.fixture(autouse=True)
def _no_result_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests are about parsing: lint must not replay whole results (test_results.py)."""

    def uncached(root: Path, git_dir: Path | None, name: str) -> resultcache.ResultCache:
        return resultcache.ResultCache(None, name, root, git_dir)

    monkeypatch.setattr(resultcache, "for_pipeline", uncached)


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every file the cache had to parse, by name."""
    seen: list[str] = []
    real = dealparse.parse_deal

    def counting(data: bytes, path: Path, stage: str):  # type: ignore[no-untyped-def]
        seen.append(path.name)
        return real(data, path, stage)

    monkeypatch.setattr(dealparse, "parse_deal", counting)
    return seen


def make(root: Path, write_deal: Callable[..., Path], n: int = 6) -> None:
    stages = ["prospecting", "qualifying", "connecting", "closing"]
    for i in range(n):
        due = "2026-11-20" if i % 2 else "2026-12-20"
        write_deal(root, stages[i % 4], f"deal-{i}", DEAL.format(title=f"Deal {i}", due=due))
    write_deal(root, "won", "won-1", DEAL.format(title="Won", due="2026-12-20"))


def findings(root: Path, today: dt.date = TODAY, cold: bool = False) -> list[tuple]:
    if cold:
        os.environ[framed.DISABLE_ENV] = "1"
    try:
        return [dataclasses.astuple(f) for f in lint(Pipeline(root), today).findings]
    finally:
        os.environ.pop(framed.DISABLE_ENV, None)


def later(path: Path) -> None:
    """Move the mtime on, as a later edit would (the test writes within one tick)."""
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))


def edit(root: Path) -> None:
    path = root / "qualifying" / "deal-1.md"
    path.write_text(path.read_text().replace("value: 12000\n", ""))
    later(path)


def edit_same_size(root: Path) -> None:
    path = root / "prospecting" / "deal-0.md"
    path.write_text(path.read_text().replace("2026-12-20", "2026-11-02"))
    later(path)


def move(root: Path) -> None:
    (root / "connecting" / "deal-2.md").rename(root / "closing" / "deal-2.md")


def delete(root: Path) -> None:
    (root / "closing" / "deal-3.md").unlink()


def break_yaml(root: Path) -> None:
    path = root / "prospecting" / "deal-4.md"
    path.write_text(path.read_text().replace("owner: alice", "owner: [alice"))
    later(path)


def require_currency(root: Path) -> None:
    text = (root / "pipeline.yaml").read_text()
    (root / "pipeline.yaml").write_text(text + "required_fields: [title, created, currency]\n")


def rename_stage_in_config(root: Path) -> None:
    text = (root / "pipeline.yaml").read_text()
    (root / "pipeline.yaml").write_text(text.replace("name: closing", "name: proposal"))
    (root / "closing").rename(root / "proposal")


CHANGES = {
    "edit": (edit, 1),
    "edit-same-size": (edit_same_size, 1),
    "move": (move, 1),
    "delete": (delete, 0),
    "broken-yaml": (break_yaml, 1),
    "config": (require_currency, 0),
    "stage-renamed": (rename_stage_in_config, 1),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_warm_run_equals_cold_run_after_each_change(
    pipeline: Path, write_deal: Callable[..., Path], parses: list[str], change: str
) -> None:
    make(pipeline, write_deal)
    cold_before = findings(pipeline, cold=True)
    parses.clear()
    assert findings(pipeline) == cold_before  # fills the cache
    assert len(parses) == 7
    parses.clear()
    assert findings(pipeline) == cold_before
    assert parses == []  # everything came from the cache

    apply, reparsed = CHANGES[change]
    apply(pipeline)
    cold_after = findings(pipeline, cold=True)
    parses.clear()
    assert findings(pipeline) == cold_after
    assert len(parses) == reparsed  # exactly what changed, nothing more
    assert cold_after != cold_before


def test_clock_change_is_seen_by_date_rules(
    pipeline: Path, write_deal: Callable[..., Path], parses: list[str]
) -> None:
    make(pipeline, write_deal)
    assert findings(pipeline) == findings(pipeline, cold=True)
    parses.clear()
    later_day = TODAY + dt.timedelta(days=90)
    warm = findings(pipeline, later_day)
    assert parses == []
    assert warm == findings(pipeline, later_day, cold=True)
    assert warm != findings(pipeline, TODAY)


def test_cached_values_keep_their_types(pipeline: Path, write_deal: Callable[..., Path]) -> None:
    text = (
        "---\ntitle: Types\ncreated: 2026-11-02\nat: 2026-11-02 10:30:00+02:00\n"
        "naive: 2026-11-02 10:30:00\nnested: {a: [1, 2.5, {d: 2026-01-01}], b: null}\n"
        "flag: yes\nnum: 017\nbig: 123456789012345678901234567890\nstr: '2026-11-02'\n"
        "odd: !!set {a, b}\n2026-01-01: date as a key\nempty: {}\n---\nbody\n"
    )
    write_deal(pipeline, "prospecting", "types", text)
    write_deal(pipeline, "prospecting", "plain", DEAL.format(title="Plain", due="2026-12-01"))
    p = Pipeline(pipeline)
    first = {d.id: d for d in p.load().deals}
    second = {d.id: d for d in p.load().deals}
    os.environ[framed.DISABLE_ENV] = "1"
    try:
        cold = {d.id: d for d in p.load().deals}
    finally:
        del os.environ[framed.DISABLE_ENV]
    for deal_id in ("types", "plain"):
        assert second[deal_id] == cold[deal_id] == first[deal_id]
        assert _types(second[deal_id].fields) == _types(cold[deal_id].fields)
    at = second["types"].fields["at"]
    assert isinstance(at, dt.datetime) and at.utcoffset() == dt.timedelta(hours=2)


def _types(value: object) -> object:
    if isinstance(value, dict):
        return {k: _types(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_types(v) for v in value]
    return type(value)


def _cache_files(root: Path) -> list[Path]:
    return sorted((root / ".git" / "pipectl" / "cache").glob("*/*.bin"))


@pytest.mark.parametrize(
    "damage",
    ["truncate", "flip-byte", "bad-magic", "empty", "garbage", "foreign-python", "group-writable"],
)
def test_corrupt_or_foreign_cache_is_ignored_and_rebuilt(
    pipeline: Path,
    write_deal: Callable[..., Path],
    parses: list[str],
    damage: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    make(pipeline, write_deal)
    expected = findings(pipeline, cold=True)
    findings(pipeline)
    files = _cache_files(pipeline)
    assert files
    for f in files:
        data = f.read_bytes()
        if damage == "truncate":
            f.write_bytes(data[: len(data) // 2])
        elif damage == "flip-byte":
            f.write_bytes(data[:-10] + bytes([data[-10] ^ 0xFF]) + data[-9:])
        elif damage == "bad-magic":
            f.write_bytes(b"X" + data[1:])
        elif damage == "empty":
            f.write_bytes(b"")
        elif damage == "garbage":
            f.write_bytes(cache.MAGIC + os.urandom(200))
        elif damage == "group-writable":
            f.chmod(0o664)
    if damage == "foreign-python":
        monkeypatch.setattr(framed.sys, "version", "2.7.18 (some other python)")
    parses.clear()
    assert findings(pipeline) == expected
    assert len(parses) == 7  # nothing was taken from the damaged cache
    parses.clear()
    assert findings(pipeline) == expected
    assert parses == []  # and it was rebuilt


def test_cache_lives_in_the_git_dir_and_never_in_the_tree(
    pipeline: Path, write_deal: Callable[..., Path]
) -> None:
    make(pipeline, write_deal)
    git(pipeline, "add", "-A")
    git(pipeline, "commit", "-q", "-m", "deals")
    findings(pipeline)
    assert _cache_files(pipeline)
    assert git(pipeline, "status", "--porcelain", "--ignored") == ""


def test_without_git_the_user_cache_dir_is_used(
    tmp_path: Path, write_deal: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "plain"
    root.mkdir()
    (root / "pipeline.yaml").write_text("currency: EUR\n")
    make(root, write_deal, n=2)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert findings(root) == findings(root, cold=True)
    assert list((tmp_path / "xdg" / "pipectl").glob("*/*.bin"))
    assert sorted(p.name for p in root.iterdir()) == sorted(
        ["pipeline.yaml", "prospecting", "qualifying", "won"]
    )


def test_disabled_cache_writes_nothing(pipeline: Path, write_deal: Callable[..., Path]) -> None:
    make(pipeline, write_deal)
    findings(pipeline, cold=True)
    assert _cache_files(pipeline) == []


def test_recent_files_are_parsed_but_never_stored(
    pipeline: Path, write_deal: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rewrite inside one timestamp tick keeps mtime and size: such files are not cached."""
    monkeypatch.setattr(framed, "RACY_WINDOW_NS", 60_000_000_000)
    path = write_deal(pipeline, "prospecting", "fresh", DEAL.format(title="AAAA", due="2026-12-01"))
    p = Pipeline(pipeline)
    assert [d.title for d in p.load().deals] == ["AAAA"]
    st = path.stat()
    with open(path, "r+b") as f:  # same inode, same size, same mtime: only the bytes differ
        f.write(path.read_bytes().replace(b"AAAA", b"BBBB"))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert [d.title for d in p.load().deals] == ["BBBB"]


def test_pool_parses_the_same_as_one_process(
    pipeline: Path, write_deal: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    make(pipeline, write_deal, n=40)
    write_deal(pipeline, "closing", "broken", "---\ntitle: [x\n---\n")
    expected = findings(pipeline, cold=True)
    monkeypatch.setattr(dealparse, "PARALLEL_MIN", 4)
    used: list[int] = []
    real = dealparse._parse_parallel

    def spy(jobs: list, workers: int, store: bool):  # type: ignore[no-untyped-def]
        used.append(workers)
        return real(jobs, workers, store)

    monkeypatch.setattr(dealparse, "_parse_parallel", spy)
    monkeypatch.setattr(cache.os, "sched_getaffinity", lambda _pid: {0, 1}, raising=False)
    assert findings(pipeline, cold=True) == expected
    assert used and used[0] == 2


def test_list_and_lint_agree_through_the_cache(
    pipeline: Path, write_deal: Callable[..., Path]
) -> None:
    make(pipeline, write_deal)
    env = {**os.environ, "PIPECTL_TODAY": TODAY.isoformat()}
    args = ["python", "-m", "pipectl", "-C", str(pipeline), "list", "--json"]
    cold = subprocess.run(args, env={**env, framed.DISABLE_ENV: "1"}, capture_output=True)
    warm1 = subprocess.run(args, env=env, capture_output=True)
    warm2 = subprocess.run(args, env=env, capture_output=True)
    assert cold.returncode == 0, cold.stderr
    assert cold.stdout == warm1.stdout == warm2.stdout


def test_a_link_beside_cached_deals_takes_the_careful_reader(
    pipeline: Path, write_deal: Callable[..., Path]
) -> None:
    """A link is never cached, also in a stage whose other files all come from the cache."""
    make(pipeline, write_deal)
    (pipeline / "won" / "alias.md").symlink_to(pipeline / "won" / "won-1.md")
    expected = findings(pipeline, cold=True)
    assert findings(pipeline) == expected
    assert findings(pipeline) == expected  # every regular file is a cache hit by now
    assert any(f[3] == "won/alias.md" for f in expected)
