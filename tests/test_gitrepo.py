"""gitrepo.py, the only place that runs git: shallow clones told one way, the streaming and
non-blocking pipe APIs (git always reaped, killed when the caller fails), and no other module
able to start a process of its own."""

from __future__ import annotations

import ast
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO_ROOT, git, make_repo

from pipectl.errors import GitError
from pipectl.gitrepo import GitNotFound, GitRepo

# cli/deals.py runs the user's $EDITOR, which is not git
MAY_IMPORT_SUBPROCESS = {"gitrepo.py", "cli/deals.py"}


def _history(root: Path, commits: int) -> Path:
    make_repo(root)
    for i in range(commits):
        (root / "file.md").write_text(f"version {i}\n")
        git(root, "add", "file.md")
        git(root, "commit", "-q", "-m", f"commit {i}")
    return root


def test_shallow_boundary_of_a_real_shallow_clone(tmp_path: Path) -> None:
    origin = _history(tmp_path / "origin", 4)
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--depth", "2", f"file://{origin}", str(clone))
    assert git(clone, "rev-parse", "--is-shallow-repository").strip() == "true"
    oldest_kept = git(clone, "rev-parse", "HEAD~1").strip()
    assert GitRepo(clone).shallow_boundary() == {oldest_kept}
    assert GitRepo(origin).shallow_boundary() == frozenset()
    # a linked worktree keeps no `shallow` of its own: the main git dir's counts
    linked = tmp_path / "linked"
    git(clone, "worktree", "add", "-q", str(linked))
    assert git(linked, "rev-parse", "--is-shallow-repository").strip() == "true"
    assert GitRepo(linked).shallow_boundary() == {oldest_kept}
    # deepened to the whole history, the clone is whole again
    git(clone, "fetch", "-q", "--unshallow")
    assert GitRepo(clone).shallow_boundary() == GitRepo(linked).shallow_boundary() == frozenset()


def test_stream_yields_all_of_gits_output_and_raises_on_failure(tmp_path: Path) -> None:
    root = _history(tmp_path / "repo", 3)
    repo = GitRepo(root)
    assert b"".join(repo.stream(["log", "--format=%s"])) == b"commit 2\ncommit 1\ncommit 0\n"
    with pytest.raises(GitError, match="git log failed"):
        list(repo.stream(["log", "no-such-revision"]))


def test_git_writes_its_output_buffered_whatever_the_user_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # into a pipe, git log flushes once a commit unless GIT_FLUSH=0: a write, and a wake of
    # pipectl's reader, per commit (the 120,000-commit walk was 5% slower so)
    root = _history(tmp_path / "repo", 1)
    monkeypatch.setenv("GIT_FLUSH", "1")
    alias = ["-c", "alias.flushing=!printenv GIT_FLUSH", "flushing"]
    assert b"".join(GitRepo(root).stream(alias)) == b"0\n"
    assert GitRepo(root).run(alias).stdout == "0\n"


def _recorded_popen(monkeypatch: pytest.MonkeyPatch) -> list[subprocess.Popen[bytes]]:
    started: list[subprocess.Popen[bytes]] = []
    real = subprocess.Popen

    class Recording(real):  # type: ignore[misc,valid-type]
        def __init__(self, *args: Any, **kwargs: Any):
            super().__init__(*args, **kwargs)
            started.append(self)

    monkeypatch.setattr(subprocess, "Popen", Recording)
    return started


def test_pipes_feed_and_read_git_without_waiting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _history(tmp_path / "repo", 1)
    blob = git(root, "rev-parse", "HEAD:file.md").strip()
    started = _recorded_popen(monkeypatch)
    out = b""
    with GitRepo(root).pipes(["cat-file", "--batch"]) as pipes:
        assert pipes.read() is None  # nothing asked yet: no answer, and no wait
        request = f"{blob}\n".encode()
        while request:
            request = request[pipes.write(request) :]
        pipes.close_input()
        assert pipes.input_closed
        while (data := pipes.read()) != b"":
            if data is None:
                pipes.wait_ready(to_write=False)
            else:
                out += data
        assert pipes.wait() == 0
    assert out == f"{blob} blob 10\nversion 0\n\n".encode()
    (proc,) = started
    assert proc.returncode == 0 and proc.stdin is not None and proc.stdin.closed


def test_pipes_kill_and_reap_git_when_the_caller_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _history(tmp_path / "repo", 1)
    started = _recorded_popen(monkeypatch)
    with pytest.raises(RuntimeError), GitRepo(root).pipes(["cat-file", "--batch"]):
        raise RuntimeError("the caller failed while git waited for input")
    (proc,) = started
    assert proc.returncode is not None and proc.returncode < 0  # killed, and reaped
    assert proc.stdout is not None and proc.stdout.closed


def test_git_missing_is_told_apart_from_git_failing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _history(tmp_path / "repo", 1)
    repo = GitRepo(root)
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    with pytest.raises(GitNotFound, match="not installed"):
        repo.run(["status"])
    with pytest.raises(GitNotFound):
        list(repo.stream(["log"]))
    with pytest.raises(GitNotFound), repo.pipes(["cat-file", "--batch"]):
        pass
    assert issubclass(GitNotFound, GitError)  # every caller of GitError still catches it


def test_no_module_but_gitrepo_imports_subprocess() -> None:
    package = REPO_ROOT / "pipectl"
    importers = set()
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            else:
                continue
            if any(name.split(".")[0] == "subprocess" for name in names):
                importers.add(path.relative_to(package).as_posix())
    assert importers - MAY_IMPORT_SUBPROCESS == set()
    assert "gitrepo.py" in importers
