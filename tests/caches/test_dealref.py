"""A listed DealRef is light but is the same ref as one built from a Path."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pipectl.store import DealRef, Pipeline


def test_a_listed_ref_equals_the_ref_built_from_its_path(tmp_path: Path) -> None:
    folder = tmp_path / "lead"
    listed = DealRef.listed("lead", str(folder), "acme.md")
    built = DealRef("acme", "lead", folder / "acme.md")
    assert listed == built and hash(listed) == hash(built)
    assert {listed: 1}[built] == 1
    assert listed.id == "acme" and listed.path == folder / "acme.md"
    assert listed.path is listed.path  # made once, when first asked for
    assert (built.folder, built.name) == (str(folder), "acme.md")
    assert repr(listed) == repr(built)
    assert listed != DealRef("acme", "won", folder / "acme.md")


def test_the_loader_lists_light_refs_of_every_deal_file(
    pipeline: Path, write_deal: Callable[..., Path]
) -> None:
    p = Pipeline.open(pipeline)
    stage = p.config.stage_names[0]
    write_deal(pipeline, stage, "acme", "---\ntitle: Acme\n---\n")
    write_deal(pipeline, stage, "beta", "---\ntitle: Beta\n---\n")
    refs = p.deal_refs([stage])
    assert [r.id for r in refs] == ["acme", "beta"]
    assert all(r._path is None for r in refs)  # no Path per file while listing
    assert refs[0].path == p.stage_dir(stage) / "acme.md"
    assert p.resolve("acme") == refs[0]
    assert [d.id for d in p.load([stage]).deals] == ["acme", "beta"]
