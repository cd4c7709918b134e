"""The example pipeline: every rule fires on it, and with its deals fixed it lints clean.

The fixes live in tests/data/example_fixed/: replacement deal files (and rates.csv) laid over
a copy of example_pipeline/, plus DELETE, the files a fix removes (moved to another stage or
dropped).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from conftest import DATA, REPO_ROOT, Cli

from pipectl import lint
from pipectl.lint.rules_workspace import RULES as WORKSPACE_RULES

ROOT = REPO_ROOT
EXAMPLE = ROOT / "example_pipeline"
FIXES = DATA / "example_fixed"
TODAY = "2026-11-27"


def fixed_copy(dest: Path) -> Path:
    shutil.copytree(EXAMPLE, dest)
    for line in (FIXES / "DELETE").read_text().split():
        (dest / line).unlink()
    for src in [*FIXES.rglob("*.md"), FIXES / "rates.csv"]:  # the rate table's bad row fixed
        target = dest / src.relative_to(FIXES)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, target)
    return dest


def test_example_fires_every_rule_and_exits_1():
    r = Cli(EXAMPLE)("lint", "--today", TODAY, "--format", "json")
    assert r.exit_code == 1, r.output
    codes = {f["code"] for f in json.loads(r.stdout)}
    # the workspace rules need two pipelines: tests/test_workspace.py makes them fire
    assert codes == {rule.code for rule in lint.RULES if rule not in WORKSPACE_RULES}


def test_readme_quick_start_command_runs_as_written():
    readme = (ROOT / "README.md").read_text()
    assert f"pipectl -C example_pipeline lint --today {TODAY}" in readme
    r = Cli(EXAMPLE)("lint", "--today", TODAY)
    assert r.exit_code == 1
    assert r.stdout.rstrip().splitlines()[-1].startswith("Found ")


def test_example_with_its_deals_fixed_exits_0(tmp_path):
    fixed = fixed_copy(tmp_path / "example")
    r = Cli(fixed)("lint", "--today", TODAY)
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith("No problems found")
    assert (fixed / "pipeline.yaml").read_bytes() == (EXAMPLE / "pipeline.yaml").read_bytes()


def test_fixes_are_deal_changes_only():
    """The fixed pipeline is reached by editing deals, never by loosening pipeline.yaml."""
    assert not list(FIXES.rglob("*.yaml"))
    for line in (FIXES / "DELETE").read_text().split():
        assert (EXAMPLE / line).is_file(), line
