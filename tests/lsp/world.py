"""A pipeline for the language server's tests: a real git repo with deals that lint flags,
and helpers that run the CLI on it as a subprocess (the server's and lint's own processes)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import git, make_repo

TODAY = "2026-12-02"

# What the server and the CLI run with: the pinned day, and no machine-wide git settings
ENV = {**os.environ, "PIPECTL_TODAY": TODAY, "GIT_CONFIG_NOSYSTEM": "1"}

TEAM = """
team:
  - {handle: carol, name: Carol Diaz}
  - {handle: dmitri, name: Dmitri Ivanov}
"""

# no owner (PL202), no created (PL102), an overdue next step, a criterion typo, a bad date
PROBLEMS = """---
title: Acme rollout
company: Acme Corp
value: 12000
stage_entered: 2026-11-20
next_step: Send the pricing proposal
next_step_due: 2026-11-01
qualification:
  budgt: approved
  need: yes
touchpoints:
  - {date: 2026-11-20, kind: call, summary: Discovery, outcome: replied}
---
# Acme rollout

Notes from the first call.
"""

CLEAN = """---
title: Globex renewal
company: Globex
owner: carol
value: 5000
created: 2026-11-25
stage_entered: 2026-11-25
next_step: Book the demo
next_step_due: 2026-12-09
touchpoints:
  - {date: 2026-11-30, kind: email, summary: Intro, outcome: replied}
---
Globex wants the renewal before January.
"""


def pipectl(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipectl", *args],
        cwd=cwd,
        env=ENV,
        capture_output=True,
        text=True,
        check=False,
    )


def make_world(base: Path) -> Path:
    """`pipectl init` in a fresh repo, a roster, and two committed deals."""
    root = make_repo(base / "repo")
    done = pipectl(root, "init")
    assert done.returncode == 0, done.stderr
    with (root / "pipeline.yaml").open("a", encoding="utf-8") as f:
        f.write(TEAM)
    (root / "prospecting").mkdir(exist_ok=True)
    (root / "prospecting" / "acme.md").write_text(PROBLEMS, encoding="utf-8")
    (root / "qualifying").mkdir(exist_ok=True)
    (root / "qualifying" / "globex.md").write_text(CLEAN, encoding="utf-8")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "deals")
    return root


def lint_json(root: Path, rel: str) -> list[dict[str, object]]:
    """`pipectl lint --format json FILE` on the saved file."""
    done = pipectl(root, "lint", "--format", "json", "--exit-zero", rel)
    assert done.returncode == 0, done.stderr
    return list(json.loads(done.stdout))


def copy_world(root: Path, into: Path) -> Path:
    """A copy of the repo (its git too), for the CLI to change."""
    return Path(shutil.copytree(root, into / "copy", symlinks=True))


SEVERITY = {1: "error", 2: "warning", 3: "info"}


def as_findings(diagnostics: list[object]) -> list[tuple[object, ...]]:
    """Diagnostics as lint's (code, severity, line, column, message), in lint's order."""
    out = []
    for d in diagnostics:
        start = d.range.start  # type: ignore[attr-defined]
        sev = SEVERITY[int(d.severity)]  # type: ignore[attr-defined]
        out.append((d.code, sev, start.line + 1, start.character + 1, d.message))  # type: ignore[attr-defined]
    return sorted(out, key=lambda f: (f[2], f[3], f[0], f[4]))


def lint_findings(found: list[dict[str, object]]) -> list[tuple[object, ...]]:
    out = [(f["code"], f["severity"], f["line"], f["column"], f["message"]) for f in found]
    return sorted(out, key=lambda f: (f[2], f[3], f[0], f[4]))


def apply_edits(text: str, edits: list[object]) -> str:
    """Apply LSP text edits (ASCII text: UTF-16 units are characters), last first."""
    lines = text.split("\n")
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line) + 1)

    def offset(pos: object) -> int:
        return starts[pos.line] + pos.character  # type: ignore[attr-defined]

    spans = sorted(
        ((offset(e.range.start), offset(e.range.end), e.new_text) for e in edits),  # type: ignore[attr-defined]
        reverse=True,
    )
    for start, end, new in spans:
        text = text[:start] + new + text[end:]
    return text
