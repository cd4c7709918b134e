"""Shared fixtures: real git repositories in tmp folders, isolated from the machine's config."""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import settings
from typer.testing import CliRunner

from pipectl.cli import app

# The clone's root and the test data kept in it: tests need nothing beside the clone.
REPO_ROOT = Path(__file__).resolve().parents[1]
DATA = REPO_ROOT / "tests" / "data"

# CI (CI=true) replays the same Hypothesis examples on every run, so a landing never hangs on
# luck; a developer's run explores new ones each time (and the long runs in docs/ go further).
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """No global git identity, no machine settings, no pinned date leaking in."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    scratch = home / "tmp"  # files pipectl keeps for the user (a refused edit) stay in here
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / "gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for var in (
        "PIPECTL_TODAY",
        "PIPECTL_OWNER",
        "GITHUB_ACTIONS",
        "VISUAL",
        "EDITOR",
        "GIT_AUTHOR_NAME",
        "GIT_AUTHOR_EMAIL",
        "GIT_COMMITTER_NAME",
        "GIT_COMMITTER_EMAIL",
        "EMAIL",
        "NO_COLOR",
    ):
        monkeypatch.delenv(var, raising=False)


def git(cwd: Path, *args: str) -> str:
    """Run git in `cwd` and return its stdout (raises on failure)."""
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout


# `add` options that meet the default qualification criteria: a deal may then enter the
# stages from the gate (connecting) on, as a qualified deal does
QUALIFIED = tuple(
    arg
    for c in ("budget", "need", "fit", "timeline")
    for arg in ("--set", f"qualification.{c}=yes")
)


def make_repo(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.name", "Test User")
    git(path, "config", "user.email", "test@example.com")
    git(path, "config", "commit.gpgsign", "false")
    return path


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """An empty git repository with a local identity."""
    return make_repo(tmp_path / "repo")


class Cli:
    """Runs pipectl in-process through typer's CliRunner, in a given folder."""

    def __init__(self, cwd: Path):
        self.cwd = cwd
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None):
        return self.runner.invoke(app, ["-C", str(self.cwd), *args], input=input)


@pytest.fixture
def pipeline(repo: Path) -> Path:
    """A pipeline initialised with `pipectl init` (one commit) in a fresh repo."""
    result = Cli(repo)("init")
    assert result.exit_code == 0, result.output
    return repo


@pytest.fixture
def cli(pipeline: Path) -> Cli:
    return Cli(pipeline)


@pytest.fixture
def write_deal() -> Callable[..., Path]:
    """Write raw deal text (bytes or str, exactly as given) into a stage folder."""

    def write(root: Path, stage: str, deal_id: str, text: str | bytes) -> Path:
        path = root / stage / f"{deal_id}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
        return path

    return write


def commit_count(cwd: Path) -> int:
    return int(git(cwd, "rev-list", "--count", "HEAD").strip())


def last_commit_paths(cwd: Path) -> list[str]:
    out = git(cwd, "show", "--name-only", "--no-renames", "--format=", "HEAD")
    return sorted(line for line in out.splitlines() if line)


@pytest.fixture
def no_window_memo(monkeypatch: pytest.MonkeyPatch) -> None:
    """`pipectl changes` reads every window whole: a window run before is otherwise answered
    from what its last run kept (caches/windows.py) before the caches below it are asked."""
    from pipectl.caches import windows

    monkeypatch.setattr(windows.WindowMemo, "read", lambda self: None)
