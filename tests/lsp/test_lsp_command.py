"""`pipectl lsp` without its extra: one line naming the extra, exit 2, never a traceback; and
its help is there for `pipectl --help` to list."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import Cli

# pygls made unimportable, as where the `lsp` extra is not installed
WITHOUT_PYGLS = (
    "import sys; sys.modules['pygls'] = None; "
    "from pipectl.__main__ import main; sys.exit(main(['lsp']))"
)


def test_without_the_extra_one_line_and_exit_2(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", WITHOUT_PYGLS],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr == (
        "pipectl: error: pipectl lsp needs the lsp extra: pip install 'pipectl[lsp]'\n"
    )
    assert done.stdout == ""


def test_help_lists_lsp(tmp_path: Path) -> None:
    result = Cli(tmp_path)("--help")
    assert result.exit_code == 0
    assert "lsp" in result.output
    result = Cli(tmp_path)("lsp", "--help")
    assert result.exit_code == 0 and "Language Server Protocol" in result.output
