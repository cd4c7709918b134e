"""`lint --changed-since REV` (issue 18): only the findings on deal files changed since REV
(committed, staged or not, new) and the pipeline-wide ones, on a real git repository."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import Cli, git, make_repo

TODAY = "2026-11-27"
NO_OWNER = (  # an open deal without an owner: PL202 on it
    "---\ntitle: {t}\ncreated: 2026-11-01\nvalue: 100\nnext_step: Call\n"
    "next_step_due: 2026-12-20\n---\n"
)


def findings(root: Path, *args: str) -> list[dict]:
    r = Cli(root)("lint", "--format", "json", "--today", TODAY, "--exit-zero", *args)
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def test_only_the_changed_deals_and_the_pipelines_shape(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo")
    # a quota the open deals cannot cover: a pipeline-wide finding on pipeline.yaml
    (root / "pipeline.yaml").write_text("quota: 1000000\n")
    for name in ("alpha", "beta", "gamma", "delta"):
        (root / "prospecting").mkdir(exist_ok=True)
        (root / "prospecting" / f"{name}.md").write_text(NO_OWNER.format(t=name))
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    base = git(root, "rev-parse", "HEAD").strip()
    every = {f["path"] for f in findings(root)}
    assert {f"prospecting/{n}.md" for n in ("alpha", "beta", "gamma", "delta")} <= every
    # committed since, edited and not staged, and new and untracked
    (root / "prospecting" / "alpha.md").write_text(NO_OWNER.format(t="alpha 2"))
    git(root, "commit", "-q", "-am", "alpha")
    (root / "prospecting" / "beta.md").write_text(NO_OWNER.format(t="beta 2"))
    (root / "prospecting" / "eps.md").write_text(NO_OWNER.format(t="eps"))
    shown = {f["path"] for f in findings(root, "--changed-since", base)}
    assert shown == {
        "pipeline.yaml",
        "prospecting/alpha.md",
        "prospecting/beta.md",
        "prospecting/eps.md",
    }
    # HEAD: only what is not committed yet
    head = {f["path"] for f in findings(root, "--changed-since", "HEAD")}
    assert head == {"pipeline.yaml", "prospecting/beta.md", "prospecting/eps.md"}


def test_a_revision_that_is_none_is_one_line_and_exit_2(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo")
    assert Cli(root)("init").exit_code == 0
    for rev in ("no-such-branch", "--help"):
        r = Cli(root)("lint", "--changed-since", rev)
        assert r.exit_code == 2, r.output
        (line,) = r.stderr.strip().splitlines()
        assert line.startswith("pipectl: error: --changed-since:")
    r = Cli(root)("lint", "--all", "--changed-since", "HEAD")
    assert r.exit_code == 2 and "--changed-since" in r.stderr
