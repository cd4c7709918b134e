"""The library face: `pipectl.open` and the example of docs/api.md, run as a user would."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO_ROOT

import pipectl
from pipectl.errors import PipectlError


def test_docs_example_runs_as_written() -> None:
    text = (REPO_ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    (code,) = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    command = [sys.executable, "-c", code]
    result = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "open pipeline: " in result.stdout
    assert "PL303" in result.stdout


def test_open_reads_what_the_cli_reads(tmp_path: Path) -> None:
    p = pipectl.open(REPO_ROOT / "example_pipeline" / "closing")  # found from inside, upwards
    assert p.root == (REPO_ROOT / "example_pipeline").resolve()
    deals, errors = p.deals(), p.errors()
    assert deals and errors
    assert {d.stage for d in deals} <= set(p.config.stage_names)
    found = p.lint(today=dt.date(2026, 11, 27))
    assert {f.code for f in found.findings} >= {"PL101", "PL303"}
    assert p.deal(deals[0].id) == deals[0]  # same fields, same pipeline-relative path


def test_open_outside_a_pipeline_is_a_pipectl_error(tmp_path: Path) -> None:
    with pytest.raises(PipectlError):
        pipectl.open(tmp_path)


def test_import_pipectl_stays_cheap() -> None:
    code = "import sys, pipectl; print(sorted(m for m in sys.modules if m.startswith('pipectl')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['pipectl', 'pipectl.version']"
