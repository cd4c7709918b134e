"""The language server lints a keystroke with `lint.run(..., focus=True)`: only the buffer's
file and its id's other files are read. For every deal of the example pipeline (a duplicate
id and every family of rule among them) and of a broken copy, the findings on that file are
exactly those of a whole run."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from conftest import REPO_ROOT, git, make_repo

from pipectl import lint
from pipectl.caches import framed
from pipectl.config import config_from_bytes
from pipectl.store import Pipeline

TODAY = dt.date(2026, 12, 2)


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = make_repo(tmp_path_factory.mktemp("focus") / "repo")
    shutil.copytree(REPO_ROOT / "example_pipeline", root, dirs_exist_ok=True)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "example")
    return root


def _on(result: lint.LintResult, rel: str) -> list[lint.Finding]:
    return [f for f in result.findings if f.path == rel]


def test_every_deal_focused_as_in_a_whole_run(example: Path) -> None:
    pipeline = Pipeline(example)
    whole = lint.run(pipeline, TODAY)
    deals = sorted(p.relative_to(example).as_posix() for p in example.glob("*/*.md"))
    assert "closing/granite-bank.md" in deals and "qualifying/granite-bank.md" in deals
    seen = set()
    for rel in deals:
        data = (example / rel).read_bytes()
        focused = lint.run(Pipeline(example), TODAY, unsaved={rel: data}, focus=True)
        assert _on(focused, rel) == _on(whole, rel), rel
        seen |= {f.code for f in _on(whole, rel)}
    assert {"PL104", "PL102", "PL303"} <= seen  # the comparison covered these rules


def test_an_unsaved_edit_focused_as_the_saved_file_linted(example: Path, tmp_path: Path) -> None:
    rel = "closing/granite-bank.md"
    edited = (example / rel).read_bytes().replace(b"owner:", b"ownr:", 1)
    copy = Path(shutil.copytree(example, tmp_path / "copy"))
    (copy / rel).write_bytes(edited)
    saved = lint.run(Pipeline(copy), TODAY)
    focused = lint.run(Pipeline(example), TODAY, unsaved={rel: edited}, focus=True)
    assert _on(focused, rel) == _on(saved, rel)
    assert _on(saved, rel)


def test_a_config_read_from_a_buffer_is_never_replayed(
    example: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pipeline.yaml's buffer: lint's stored result is of the file on disk, not of it."""
    monkeypatch.setattr(framed, "RACY_WINDOW_NS", 0)  # the files just written may be kept
    assert "PL303" in {f.code for f in lint.run(Pipeline(example), TODAY).findings}
    text = (example / "pipeline.yaml").read_bytes()
    quiet = text.replace(b"rules:\n", b"rules:\n  overdue-next-step: {severity: off}\n", 1)
    config = config_from_bytes(quiet, example / "pipeline.yaml")
    again = lint.run(Pipeline(example, config), TODAY, unsaved={"pipeline.yaml": quiet})
    assert "PL303" not in {f.code for f in again.findings}


def test_arrivals_are_read_again_only_when_head_moves(example: Path) -> None:
    """The server's keystrokes share git's arrivals until a commit moves HEAD."""
    from pipectl.lsp import diagnostics

    first = diagnostics._arrivals(Pipeline(example))
    assert first is not None and diagnostics._arrivals(Pipeline(example)) is first
    (example / "prospecting" / "new-lead.md").write_text("---\ntitle: New\n---\n", "utf-8")
    git(example, "add", "-A")
    git(example, "commit", "-q", "-m", "new lead")
    again = diagnostics._arrivals(Pipeline(example))
    assert again is not first and again is not None
    rel = "prospecting/new-lead.md"
    assert again.get(rel) is not None and first.get(rel) is None
