"""A shared bare remote and clones of one pipeline, for the team tests (real git, tmp_path)."""

from __future__ import annotations

from pathlib import Path

from conftest import QUALIFIED, Cli, git, make_repo


def clone(remote: Path, path: Path, name: str) -> Path:
    """A teammate's fresh clone with its own identity and pipectl's driver set up."""
    git(remote.parent, "clone", "-q", str(remote), str(path))
    git(path, "config", "user.name", name)
    git(path, "config", "user.email", f"{name}@example.com")
    git(path, "config", "commit.gpgsign", "false")
    result = Cli(path)("setup")
    assert result.exit_code == 0, result.output
    return path


def team(tmp_path: Path, *names: str) -> tuple[Path, list[Path]]:
    """A bare remote holding a pipeline with one deal (acme) and a clone per name."""
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(remote))
    first = make_repo(tmp_path / names[0])
    cli = Cli(first)
    for args in (
        ("init",),
        (
            "add",
            "Acme Corp",
            "--value",
            "1000",
            "--owner",
            "alice",
            "--date",
            "2026-11-02",
            *QUALIFIED,
        ),
        ("log", "acme", "email", "Intro email", "--date", "2026-11-02"),
    ):
        result = cli(*args)
        assert result.exit_code == 0, result.output
    git(first, "remote", "add", "origin", str(remote))
    git(first, "push", "-q", "-u", "origin", "main")
    return remote, [first] + [clone(remote, tmp_path / n, n) for n in names[1:]]


def ok(cwd: Path, *args: str) -> str:
    """Run pipectl in `cwd`, assert it succeeded, return its output."""
    result = Cli(cwd)(*args)
    assert result.exit_code == 0, result.output
    return result.output


def deal_text(cwd: Path, stage: str = "prospecting", deal_id: str = "acme-corp") -> str:
    return (cwd / stage / f"{deal_id}.md").read_text(encoding="utf-8")
