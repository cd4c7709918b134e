"""A lint's load takes the stat of each deal file from the result cache's walk, made just
before, instead of an `lstat` of its own; a file that is no plain file, or one the walk did
not see, is still looked at; a file rewritten after the walk is never served stale."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from pathlib import Path

import pytest

from pipectl.caches import deals as dealcache
from pipectl.caches import framed
from pipectl.caches import results as resultcache
from pipectl.lint import runner
from pipectl.store import Pipeline

TODAY = dt.date(2026, 11, 27)
DEAL = "---\ntitle: {t}\ncreated: 2026-09-01\nowner: alice\nvalue: {v}\nnext_step: Call\n---\n"


@pytest.fixture(autouse=True)
def _no_racy_window(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(framed, "RACY_WINDOW_NS", 0)


def _lint(root: Path) -> list[tuple[object, ...]]:
    return [dataclasses.astuple(f) for f in runner.run(Pipeline(root), TODAY).findings]


def _write(root: Path, stage: str, name: str, value: object) -> Path:
    path = root / stage / f"{name}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(DEAL.format(t=name, v=value), encoding="utf-8")
    return path


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    asked: list[str] = []
    real = dealcache._Folders.stat

    def stat(self: dealcache._Folders, folder: str, name: str) -> os.stat_result:
        asked.append(name)
        return real(self, folder, name)

    monkeypatch.setattr(dealcache._Folders, "stat", stat)
    return asked


def test_the_walks_stats_serve_the_load(pipeline: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for i in range(5):
        _write(pipeline, "qualifying", f"d{i}", "lots" if i == 2 else 100)
    (pipeline / "qualifying" / "linked.md").symlink_to(pipeline / "qualifying" / "d0.md")
    asked = _counting(monkeypatch)
    found = _lint(pipeline)
    assert asked == ["linked.md"]  # only the link, which the walk does not vouch for
    with monkeypatch.context() as m:  # without the walk's stats: the same findings
        m.setenv(framed.DISABLE_ENV, "1")
        assert _lint(pipeline) == found
    assert any("lots" in str(f) for f in found)


def test_a_file_rewritten_after_the_walk_is_read_again(
    pipeline: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _write(pipeline, "qualifying", "acme", 100)
    seen = resultcache.ResultCache.seen

    def rewritten(self: resultcache.ResultCache, folder: str) -> object:
        keys = seen(self, folder)
        if folder.endswith("qualifying"):  # between the walk and the read
            path.write_text(DEAL.format(t="acme", v="'a lot more'"), encoding="utf-8")
        return keys

    with monkeypatch.context() as m:
        m.setattr(resultcache.ResultCache, "seen", rewritten)
        first = _lint(pipeline)
    assert any("a lot more" in str(f) for f in first)  # the file as read, not as walked
    # the next run sees the file's new stat: not the stored parse under the walk's key,
    # which no longer matches it, but a parse of what is there
    asked = _counting(monkeypatch)
    assert _lint(pipeline) == first
    path.write_text(DEAL.format(t="acme", v=5), encoding="utf-8")
    assert not any("a lot more" in str(f) for f in _lint(pipeline))
    assert asked == []
