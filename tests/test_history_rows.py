"""`pipectl history`'s rows kept per segment of the history index (history.rendered): a warm
run reads only the segments that changed and makes only their rows; what it prints is byte
for byte what it prints without the index, after new commits, a rewrite, fields read later
for a window, rows made by other code and a damaged rows file (segments read counted, never
timed)."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from test_history import Timeline, build_scenario
from test_history_index import new_commits, rebase, run

from pipectl import gitlog, histindex
from pipectl.caches import history as stored
from pipectl.gitrepo import GitRepo
from pipectl.render import report as render

TODAY = "2026-03-01"
WINDOWS = [(), ("--since", "2026-01-20"), ("--since", "2026-01-20", "--until", "2026-02-10")]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("template") / "repo"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HOME", str(root.parent))
        mp.setenv("GIT_CONFIG_GLOBAL", str(root.parent / "gitconfig"))
        mp.setenv("GIT_CONFIG_NOSYSTEM", "1")
        build_scenario(root, mp)
    return root


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Segments of 3 commits (the scenario's history in several), and the names of the
    segments each run reads."""
    monkeypatch.setattr(stored, "SEGMENT_COMMITS", 3)
    names: list[str] = []
    segment = stored.Store.segment

    def counted(self: stored.Store, entry: tuple[Any, ...]) -> list[Any] | None:
        names.append(entry[0])
        return segment(self, entry)

    monkeypatch.setattr(stored.Store, "segment", counted)
    yield names


@pytest.fixture
def t(template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Timeline:
    root = tmp_path / "repo"
    shutil.copytree(template, root, symlinks=True)
    monkeypatch.setenv("PIPECTL_TODAY", TODAY)
    return Timeline(root, monkeypatch)


def folder(t: Timeline) -> Path:
    (found,) = (t.root / ".git" / "pipectl" / "cache").glob("*/history")
    return found


def cold(t: Timeline, monkeypatch: pytest.MonkeyPatch, *args: str) -> str:
    monkeypatch.setenv("PIPECTL_NO_CACHE", "1")
    try:
        return run(t.cli, "history", *args)
    finally:
        monkeypatch.delenv("PIPECTL_NO_CACHE")


def same_as_cold(t: Timeline, monkeypatch: pytest.MonkeyPatch) -> None:
    for args in WINDOWS:
        assert run(t.cli, "history", *args) == cold(t, monkeypatch, *args), args


def test_a_warm_history_reads_only_the_segments_that_changed(
    t: Timeline, reads: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    run(t.cli, "history")  # the index, every segment's rows kept
    segments = sorted((p.name for p in folder(t).glob("seg-*")), key=lambda n: int(n.split("-")[1]))
    assert len(segments) > 3
    assert sorted(p.name[5:] for p in folder(t).glob("rows-*")) == sorted(segments)
    reads.clear()
    first = run(t.cli, "history")
    assert reads == []  # every row kept: no segment read at all
    new_commits(t)
    reads.clear()
    warm = run(t.cli, "history")
    assert warm == cold(t, monkeypatch) and warm != first
    # the last segment (it took the new commits) and those made of it: those only
    assert reads and not set(reads) & set(segments[:-1])
    same_as_cold(t, monkeypatch)


def test_rows_follow_a_rewrite_of_indexed_commits(
    t: Timeline, reads: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    run(t.cli, "history")
    rebase(t)
    same_as_cold(t, monkeypatch)
    reads.clear()
    same_as_cold(t, monkeypatch)


def _a_day_beside_a_field_read(t: Timeline) -> str:
    """A day of a segment that has an event still lacking its fields on another day, and on
    that day only events that need none read: its window reads no field at all."""
    store = histindex.store_for(GitRepo(t.root), t.pipe, "")
    assert store is not None
    head = store.head()
    assert head is not None
    for entry in head["segments"]:
        needs: dict[str, bool] = {}
        for rec in store.segment(entry) or []:
            day = gitlog.when(rec[gitlog.R_DATE]).date().isoformat()
            for e in rec[gitlog.R_EVENTS]:
                needs[day] = needs.get(day, False) or gitlog.needs_diff(rec[gitlog.R_ACTION], e)
        if any(needs.values()):
            for day, need in needs.items():
                if not need:
                    return day
    raise AssertionError("the scenario has no such segment")


def test_fields_read_for_a_window_then_the_whole_history(
    t: Timeline, reads: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # the report stores no field; a window's history reads only its own events' fields: a
    # segment with events still lacking theirs keeps no rows that would show them without
    run(t.cli, "report", "--json")
    day = _a_day_beside_a_field_read(t)
    window = ("--since", day, "--until", day)
    assert run(t.cli, "history", *window) == cold(t, monkeypatch, *window)
    assert run(t.cli, "history") == cold(t, monkeypatch)
    same_as_cold(t, monkeypatch)


def _truncated(rows: Path) -> None:
    rows.write_bytes(rows.read_bytes()[:-4])


def _foreign(rows: Path) -> None:
    rows.write_bytes(b"PIPECTL-HISTSEG\x00" + rows.read_bytes()[16:])


def _swapped(rows: Path) -> None:
    # another segment's rows under this one's name: bound to their own name, not taken
    other = next(p for p in sorted(rows.parent.glob("rows-*")) if p != rows)
    rows.write_bytes(other.read_bytes())


@pytest.mark.parametrize("damage", [_truncated, _foreign, _swapped])
def test_a_damaged_rows_file_is_made_again(
    damage: Callable[[Path], None],
    t: Timeline,
    reads: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    run(t.cli, "history")
    rows = sorted(folder(t).glob("rows-*"))[0]
    damage(rows)
    reads.clear()
    assert run(t.cli, "history") == cold(t, monkeypatch)
    assert reads == [rows.name[5:]]  # that segment read again, its rows made and kept
    reads.clear()
    run(t.cli, "history")
    assert reads == []


def test_rows_made_by_other_code_are_not_used(
    t: Timeline, reads: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    run(t.cli, "history")
    kept = len(list(folder(t).glob("seg-*")))
    monkeypatch.setattr(render, "rows_made_by", lambda: b"other code")
    reads.clear()
    assert run(t.cli, "history") == cold(t, monkeypatch)
    assert len(reads) == kept


def test_no_rows_are_kept_without_the_index(
    t: Timeline, reads: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PIPECTL_NO_CACHE", "1")
    run(t.cli, "history")
    assert not list((t.root / ".git").glob("pipectl/cache/*/history/rows-*"))


def test_one_deals_history_reads_no_summary(
    t: Timeline, reads: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # the summaries of every deal are what a report reads; one deal's life is found by its
    # references into the segments alone (a deal has one exactly when it has a summary)
    run(t.cli, "history")
    want = {deal: cold(t, monkeypatch, deal) for deal in ("acme", "gamma")}
    summaries = stored.Store.summaries
    asked: list[str] = []

    def counted(self: stored.Store, name: str) -> dict[str, Any] | None:
        asked.append(name)
        return summaries(self, name)

    monkeypatch.setattr(stored.Store, "summaries", counted)
    for deal, text in want.items():
        assert run(t.cli, "history", deal) == text
    assert asked == []
    r = t.cli("history", "no-such-deal")
    assert r.exit_code != 0 and "no-such-deal" in r.output
