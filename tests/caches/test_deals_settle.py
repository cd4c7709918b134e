"""Each stage's cache file is let go as soon as its deals are read, and written exactly when
what it holds changed: never for a stage unchanged, always when an entry is no longer used,
even when the stage's new files are too recent to be stored."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from pipectl.caches import framed
from pipectl.caches.deals import DealCache
from pipectl.caches.framed import default_dir
from pipectl.store import Pipeline

DEAL = "---\ntitle: {title}\nvalue: 5\n---\n"
RECENT = 10**12  # a racy window in which the files written next are too recent to store


@pytest.fixture(autouse=True)
def _no_racy_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """Files written by a test are milliseconds old; let the cache keep them, unless told."""
    monkeypatch.setattr(framed, "RACY_WINDOW_NS", 0)


def _write(root: Path, stage: str, name: str, write_deal: Callable[..., Path]) -> Path:
    return write_deal(root, stage, name, DEAL.format(title=name))


def _files(p: Pipeline) -> dict[str, int]:
    assert p.git is not None
    folder = default_dir(p.root, p.git.git_dir())
    return {f.name: f.stat().st_ino for f in folder.glob("*.bin")}


def _entries(p: Pipeline, stage: str) -> list[str]:
    assert p.git is not None
    return sorted(DealCache(default_dir(p.root, p.git.git_dir()))._load(stage))


def test_a_stage_file_is_written_only_when_it_changed(
    pipeline: Path, write_deal: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    p = Pipeline.open(pipeline)
    first, second = p.config.stage_names[:2]
    for stage in (first, second):
        for name in ("a", "b", "c"):
            _write(pipeline, stage, f"{stage}-{name}", write_deal)
    cold = [d.id for d in p.load().deals]
    files = _files(p)
    assert set(files) == {f"{first}.bin", f"{second}.bin"}
    assert [d.id for d in p.load().deals] == cold
    assert _files(p) == files  # nothing changed: nothing written

    # in the first stage one file goes and a new one comes that is too recent to store: the
    # stage's file must still drop the gone entry; the second stage's is left as it is
    (pipeline / first / f"{first}-b.md").unlink()
    monkeypatch.setattr(framed, "RACY_WINDOW_NS", RECENT)
    write_deal(pipeline, first, f"{first}-new", DEAL.format(title="new"))
    warm = [d.id for d in p.load().deals]
    assert warm == [f"{first}-a", f"{first}-c", f"{first}-new", *cold[3:]]
    now = _files(p)
    assert now[f"{second}.bin"] == files[f"{second}.bin"]
    assert now[f"{first}.bin"] != files[f"{first}.bin"]
    assert _entries(p, first) == [f"{first}-a.md", f"{first}-c.md"]


def test_every_old_entry_used_and_a_recent_new_file_writes_nothing(
    pipeline: Path, write_deal: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    p = Pipeline.open(pipeline)
    stage = p.config.stage_names[0]
    for name in ("a", "b"):
        _write(pipeline, stage, name, write_deal)
    p.load()
    files = _files(p)
    monkeypatch.setattr(framed, "RACY_WINDOW_NS", RECENT)
    write_deal(pipeline, stage, "c", DEAL.format(title="c"))  # parsed, never stored
    assert [d.id for d in p.load().deals] == ["a", "b", "c"]
    assert _files(p) == files
    assert _entries(p, stage) == ["a.md", "b.md"]

    # no old entry used any more, only a recent file left: the file must forget the old ones
    for name in ("a", "b"):
        (pipeline / stage / f"{name}.md").unlink()
    assert [d.id for d in p.load().deals] == ["c"]
    assert _entries(p, stage) == []
