"""The history index built from nothing in bounded memory (pipectl/histbuild.py): records
spilled as git gives them, ordered by number, folded and written segment by segment. The
index it writes is the one the in-memory build writes, also when the spill is read back one
chunk at a time out of order (merges, commits dated before their parents) and the segments are
many; the walk's whole list is never made."""

# ruff: noqa: F811  (the fixture `t`, imported, is each test's parameter)
from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import git
from hypothesis import given, settings
from hypothesis import strategies as st
from test_history import Timeline
from test_history_index import (  # noqa: F401  (its fixtures, used by name)
    index_of,
    merge,
    merged_into_side,
    new_commits,
    outputs,
    rebase,
    run,
    t,
    template,
)

from pipectl import gitlog, histbuild, histindex
from pipectl.caches import history as stored
from pipectl.gitrepo import GitRepo


def skewed(t: Timeline) -> None:
    """Commits dated before their parents: git's log order is not the graph's."""
    t.on("2026-01-03").run("log", "gamma", "call", "Late entry", "--date", "2026-02-26")
    t.on("2026-02-25").run("log", "acme", "email", "Follow-up", "--date", "2026-02-26")
    t.on("2026-01-02").run("log", "beta", "note", "Backdated", "--date", "2026-02-26")


def _drop(t: Timeline) -> None:
    for folder in (t.root / ".git" / "pipectl" / "cache").glob("*/history"):
        shutil.rmtree(folder)


def _in_memory_index(t: Timeline) -> object:
    """The index as the in-memory build stores it (the walk's list, ordered, folded)."""
    _drop(t)
    repo = GitRepo(t.root)
    head = git(t.root, "rev-parse", "HEAD").strip()
    store = histindex.store_for(repo, t.pipe, "")
    assert store is not None
    ordered = histindex._ordered(head, gitlog.walk(repo, "", [head], frozenset()))
    fold = histindex._fold(ordered)
    grafts = histindex.grafts_of(repo)
    assert histindex._store(store, head, frozenset(), grafts, fold, ordered, [], 0)
    return index_of(t)


@pytest.mark.parametrize("change", [new_commits, merge, merged_into_side, rebase, skewed])
def test_the_streamed_index_is_the_in_memory_one(
    change: Callable[[Timeline], None], t: Timeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    change(t)
    # chunks of 3 records, one held at a time, segments of 4 commits: every path taken
    monkeypatch.setattr(histbuild, "CHUNK", 3)
    monkeypatch.setattr(histbuild, "_CACHED", 1)
    monkeypatch.setattr(stored, "SEGMENT_COMMITS", 4)
    want = _in_memory_index(t)
    assert want[0] is not None and len(want[0]["segments"]) > 3
    _drop(t)

    real_walk = gitlog.walk

    def whole_list(*args: object) -> None:
        raise AssertionError("the cold build made the walk's whole list")

    monkeypatch.setattr(gitlog, "walk", whole_list)
    run(t.cli, "report", "--json")  # the first command builds the index, streamed
    assert index_of(t) == want
    monkeypatch.setattr(gitlog, "walk", real_walk)
    warm = outputs(t.cli)
    monkeypatch.setenv("PIPECTL_NO_CACHE", "1")
    assert outputs(t.cli) == warm


def test_the_spill_sits_beside_the_index_and_is_gone_after(
    t: Timeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []
    real = histbuild._spill_file

    def spy(store: stored.Store):  # type: ignore[no-untyped-def]
        f = real(store)
        seen.append(str(Path(f.name).parent) if isinstance(f.name, str) else str(store.directory))
        return f

    monkeypatch.setattr(histbuild, "_spill_file", spy)
    _drop(t)
    run(t.cli, "report", "--json")
    (folder,) = (t.root / ".git" / "pipectl" / "cache").glob("*/history")
    assert len(seen) == 1
    assert not [p for p in folder.iterdir() if p.name.startswith(".spill-")]


def test_only_what_wants_the_summaries_reads_them(
    t: Timeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The head names each deal's summary in a file of its own: the week's review and a
    window of history read none of it (12 MB at 120,000 commits), the report reads it."""
    new_commits(t)
    run(t.cli, "report", "--json")  # the index up to date
    calls: list[str] = []
    real = stored.Store.summaries

    def spy(self: stored.Store, name: str):  # type: ignore[no-untyped-def]
        calls.append(name)
        return real(self, name)

    monkeypatch.setattr(stored.Store, "summaries", spy)
    run(t.cli, "history", "--since", "2026-02-01")
    run(t.cli, "changes", "--since", "2026-02-15", "--until", "2026-02-28", "--json")
    assert calls == []
    run(t.cli, "report", "--json")
    assert len(calls) == 1


@st.composite
def walks(draw: st.DrawFn) -> tuple[str, list[tuple[object, ...]]]:
    """A commit graph (merges, parents outside the walk) as git might walk it: in any order,
    each record (id, parents) shaped as gitlog's; ids of SHA-1's or SHA-256's width."""
    width = draw(st.sampled_from([20, 32]))
    n = draw(st.integers(1, 25))
    ids = [bytes([i + 1]) * width for i in range(n)]
    outside = [bytes([200 + i]) * width for i in range(3)]
    records = []
    for i in range(n):
        earlier = ids[:i] + outside
        parents = draw(st.lists(st.sampled_from(earlier), max_size=3, unique=True)) if i else []
        named = tuple(p.hex() for p in parents)
        records.append((ids[i].hex(), named, "A", "a@x", "d", "log", "s", ()))
    walk = draw(st.permutations(records))
    # git walks parent after child along a line, mostly: often keep that order
    if draw(st.booleans()):
        walk = list(reversed(records))
    return ids[-1].hex(), list(walk)


@settings(max_examples=300, deadline=None)
@given(walks(), st.integers(1, 4))
def test_the_spills_order_is_the_dicts(
    case: tuple[str, list[tuple[object, ...]]], chunk: int
) -> None:
    # the numbers kept packed, only the parents named out of line looked up: the same order
    # as the dict of every id the in-memory build uses
    head, walk = case
    want = histindex._ordered(head, walk)  # type: ignore[arg-type]
    with tempfile.TemporaryFile() as file:
        spill = histbuild._Spill(file)
        old_chunk = histbuild.CHUNK
        histbuild.CHUNK = chunk
        try:
            for rec in walk:
                spill.add(rec)  # type: ignore[arg-type]
            spill.close()
            got = [spill.get(n) for n in histbuild._order(head, spill)]
        finally:
            histbuild.CHUNK = old_chunk
    assert got == want
