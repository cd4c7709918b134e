"""A deal read through the parse cache keeps its stage folder, not a Path of its own, and is
the same value as the deal parsed from its file: equal, hashed, shown, pickled alike."""

from __future__ import annotations

import dataclasses
import os
import pickle
from collections.abc import Callable
from pathlib import Path

import pytest

from pipectl.deal import Deal, parse_deal
from pipectl.store import Pipeline

TEXT = "---\ntitle: Acme\ntouchpoints:\n  - {date: 2026-01-02, kind: call, summary: hi}\n---\n"


def test_a_deal_at_a_folder_is_the_deal_at_its_path() -> None:
    folder = Path("lead")
    at = Deal.at("acme", "lead", folder, {"title": "Acme"}, {"title": 2})
    whole = Deal("acme", "lead", folder / "acme.md", {"title": "Acme"}, {"title": 2})
    assert at == whole and at.moved(folder / "x.md").path == folder / "x.md" != whole.path
    assert at.path == folder / "acme.md" and at.posix == "lead/acme.md" == whole.posix
    assert repr(at) == repr(whole)
    assert pickle.loads(pickle.dumps(at)) == whole
    assert at.folder is folder and whole.folder is None
    assert at != Deal.at("acme", "won", Path("won"), {"title": "Acme"}, {"title": 2})
    with pytest.raises(dataclasses.FrozenInstanceError):
        at.id = "other"  # type: ignore[misc]


@pytest.mark.parametrize("folder", [".", "/", "a/b", "../up"])
def test_posix_is_the_paths_posix_text(folder: str) -> None:
    deal = Deal.at("acme", "lead", Path(folder), {}, {})
    assert deal.posix == deal.path.as_posix() == (Path(folder) / "acme.md").as_posix()


def test_the_loader_gives_deals_at_their_shared_folder_cold_and_warm(
    pipeline: Path, write_deal: Callable[..., Path]
) -> None:
    p = Pipeline.open(pipeline)
    stage = p.config.stage_names[0]
    for name in ("acme", "beta"):
        path = write_deal(pipeline, stage, name, TEXT)
        os.utime(path, ns=(1_000_000_000, 1_000_000_000))  # old enough to be stored
    runs = [p.load([stage], relative=True).deals for _ in range(2)]  # cold, then from the cache
    for deals in runs:
        assert [d.path for d in deals] == [Path(stage, "acme.md"), Path(stage, "beta.md")]
        assert deals[0].folder is deals[1].folder  # one Path for the stage, none per deal
        parsed = [
            parse_deal((pipeline / d.path).read_bytes(), Path(stage, f"{d.id}.md"), stage)
            for d in deals
        ]
        assert deals == parsed
        assert [d.touchpoints for d in deals] == [d.touchpoints for d in parsed]
