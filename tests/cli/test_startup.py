"""Start-up stays light: what `pipectl --version`, `pipectl lint` and friends import, measured
in a fresh interpreter with `python -X importtime` (module names, never timings)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

# Heavy or presentation-only packages no read-only command needs at start-up (docs/libraries.md).
# The language server's pygls, lsprotocol and cattrs are only for `pipectl lsp` (issue 19).
HEAVY = {"rich", "ruamel", "git", "frontmatter", "pydantic", "pygments", "markdown_it"}
HEAVY |= {"pygls", "lsprotocol", "cattrs"}
# The web app's server is only for `pipectl serve` (issue 21).
HEAVY |= {"starlette", "uvicorn", "httpx", "httpx2", "anyio", "h11"}
DEAL = "---\ntitle: Acme\ncreated: 2026-11-02\nowner: alice\n---\n# Acme\n"


def imported(args: list[str], cwd: Path) -> set[str]:
    """Top-level packages imported by one `python -m pipectl ARGS` run."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "pipectl", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "HOME": str(cwd), "PIPECTL_TODAY": "2026-11-27"},
    )
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    names = set()
    for line in proc.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    assert "pipectl" in names  # the run was really measured
    return names


def test_version_imports_neither_typer_nor_yaml(tmp_path: Path) -> None:
    names = imported(["--version"], tmp_path)
    assert names.isdisjoint(HEAVY | {"typer", "click", "yaml", "multiprocessing"})


@pytest.mark.parametrize("fmt", ["text", "json", "github", "gitlab", "sarif"])
def test_lint_imports_nothing_heavy(
    pipeline: Path, write_deal: Callable[..., Path], fmt: str
) -> None:
    write_deal(pipeline, "prospecting", "acme", DEAL)
    names = imported(["lint", "--format", fmt], pipeline)
    assert names.isdisjoint(HEAVY), sorted(names & HEAVY)
    assert "multiprocessing" not in names  # a small pipeline is parsed in this process


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["serve", "--help"],
        ["list"],
        ["show", "acme"],
        ["log", "acme", "call", "Hi", "--no-commit"],
    ],
)
def test_everyday_commands_import_nothing_heavy(
    pipeline: Path, write_deal: Callable[..., Path], args: list[str]
) -> None:
    write_deal(pipeline, "prospecting", "acme", DEAL)
    names = imported(args, pipeline)
    assert names.isdisjoint(HEAVY), sorted(names & HEAVY)


def test_the_deny_list_would_catch_a_heavy_import(tmp_path: Path) -> None:
    """The check itself works: a run that does import a denied module is seen."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import ruamel.yaml"],
        capture_output=True,
        text=True,
    )
    names = {
        ln.rsplit("|", 1)[1].strip().split(".")[0]
        for ln in proc.stderr.splitlines()
        if ln.startswith("import time:")
    }
    assert "ruamel" in names


def test_the_command_ends_at_once_yet_a_profiler_still_writes(tmp_path: Path) -> None:
    # `pipectl` skips the interpreter's teardown at its end, but not under a profiler, whose
    # numbers are written after the run returns (cProfile's own exit code is its own)
    out = tmp_path / "run.prof"
    argv = [sys.executable, "-m", "cProfile", "-o", str(out), "-m", "pipectl", "nosuch"]
    profiled = subprocess.run(argv, capture_output=True, text=True, cwd=tmp_path)
    assert "no such command" in profiled.stderr and out.stat().st_size > 0
    plain = subprocess.run(
        [sys.executable, "-m", "pipectl", "nosuch"], capture_output=True, text=True, cwd=tmp_path
    )
    assert plain.returncode == 2 and "no such command 'nosuch'" in plain.stderr


@pytest.mark.parametrize(
    ("argv", "names"),
    [
        (["lint", "--format", "json"], ({"lint"}, set())),
        (["-C", "somewhere", "task", "list"], (set(), {"task"})),
        (["--directory=x", "accounts", "list"], (set(), {"accounts"})),
    ],
)
def test_a_run_builds_only_the_command_it_runs(
    argv: list[str], names: tuple[set[str], set[str]]
) -> None:
    """typer builds a parser for every command it is given: a run is given only its own
    command, or its own group (with its subcommands), so 40 unused parsers cost nothing."""
    from typer.main import get_command_name

    from pipectl.cli import app
    from pipectl.cli.app import _only_needed

    slim = _only_needed(argv)
    commands = {c.name or get_command_name(c.callback.__name__) for c in slim.registered_commands}
    assert (commands, {g.name for g in slim.registered_groups}) == names
    assert slim.registered_callback is app.registered_callback  # -C, --version: still there


@pytest.mark.parametrize("argv", [["--help"], ["nosuchcommand"], [], ["--version"]])
def test_help_and_unknown_names_see_the_whole_app(argv: list[str]) -> None:
    from pipectl.cli import app
    from pipectl.cli.app import _only_needed

    assert _only_needed(argv) is app
