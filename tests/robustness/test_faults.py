"""Faults during a change: every file ends exactly as before (or, once committed, exactly as
after), never in between; the exit code and message say what happened.

Failures are injected at each step of a write in turn: creating the temp file, writing it
(a full disk), syncing it, setting its mode, renaming it over the deal (a read-only file
system), removing a moved deal's old file, and each git command. Tests run as root, where
`chmod a-w` stops no write, so a read-only file or file system is simulated by raising
EROFS / EACCES from the write step rather than by permissions.
"""

from __future__ import annotations

import errno
import os
import sys
from pathlib import Path

import pytest
from conftest import REPO_ROOT, Cli, commit_count, git, last_commit_paths
from test_hostile import Frozen, commit_all, snapshot

import pipectl.store
import pipectl.writes
from pipectl import gitrepo
from pipectl.errors import GitError

DEAL = """---
title: Acme Corp   # the customer
company: "Acme"
value: 12000
created: 2026-11-02
tags: [enterprise]
touchpoints:
  - {date: 2026-11-02, kind: email, summary: Intro}
---
# Acme

Notes by hand.
"""
OTHER = "---\r\ntitle: Other\r\nvalue: 5\r\n---\r\nno final newline"

# Each changing command, as CLI words; all touch the deal `acme`.
OPS = {
    "add": ("add", "Brand New", "--value", "10", "--date", "2026-11-27"),
    "move": ("move", "acme", "qualifying", "--date", "2026-11-27"),
    "won": ("won", "acme", "--date", "2026-11-27"),
    "lost": ("lost", "acme", "--reason", "price", "--date", "2026-11-27"),
    "log": ("log", "acme", "call", "Discovery", "--outcome", "replied", "--date", "2026-11-27"),
    "next": ("next", "acme", "Send proposal", "--due", "2026-12-01"),
    "set": ("set", "acme", "value=15000", "qualification.budget=approved"),
}


@pytest.fixture
def busy(pipeline: Path, write_deal) -> Path:
    """A pipeline with two deals and the user's own work in progress: a staged new file and an
    unstaged edit, which no fault (and no success) may disturb."""
    write_deal(pipeline, "prospecting", "acme", DEAL)
    write_deal(pipeline, "closing", "other", OTHER)
    commit_all(pipeline)
    (pipeline / "notes.txt").write_text("staged work\n")
    git(pipeline, "add", "notes.txt")
    with (pipeline / "pipeline.yaml").open("a") as f:
        f.write("# unstaged edit\n")
    return pipeline


# --- injected failures at each write step ----------------------------------------------------


# The error each file-system step fails with: a full disk, a failing device, a read-only file
# or file system.
CODES = {
    "create temp": errno.ENOSPC,
    "write": errno.ENOSPC,
    "fsync": errno.EIO,
    "chmod": errno.EPERM,
    "rename": errno.EROFS,
    "unlink source": errno.EROFS,
}


class Injector:
    """Counts the write steps of a change and fails the `fail_at`-th one (1-based), once."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, fail_at: int = 0, error: str = "oserror"):
        self.steps: list[str] = []
        self.fail_at = fail_at
        self.error = error
        self.fired: str | None = None
        real_os = os
        injector = self

        class OsProxy:
            def __getattr__(self, name):
                return getattr(real_os, name)

            def open(self, path, flags, *args):
                if flags & real_os.O_CREAT:
                    injector.step("create temp")
                return real_os.open(path, flags, *args)

            def fsync(self, fd):
                injector.step("fsync")
                return real_os.fsync(fd)

            def chmod(self, *args, **kwargs):
                injector.step("chmod")
                return real_os.chmod(*args, **kwargs)

            def replace(self, src, dst):
                injector.step("rename")
                return real_os.replace(src, dst)

        class FileProxy:
            def __init__(self, f):
                self._f = f

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                return self._f.__exit__(*exc)

            def __getattr__(self, name):
                return getattr(self._f, name)

            def write(self, data):
                injector.step("write")
                return self._f.write(data)

        def proxied_open(*args, **kwargs):
            return FileProxy(open(*args, **kwargs))

        real_unlink = Path.unlink

        def unlink(path, missing_ok=False):
            if sys._getframe(1).f_code.co_name == "move":
                injector.step("unlink source")
            return real_unlink(path, missing_ok=missing_ok)

        real_run = gitrepo.GitRepo.run

        def run(repo, args, **kwargs):
            if args[0] in ("add", "commit"):
                injector.step(f"git {args[0]}")
            return real_run(repo, args, **kwargs)

        monkeypatch.setattr(pipectl.writes, "os", OsProxy())
        monkeypatch.setattr(pipectl.writes, "open", proxied_open, raising=False)
        monkeypatch.setattr(Path, "unlink", unlink)
        monkeypatch.setattr(gitrepo.GitRepo, "run", run)

    def step(self, name: str) -> None:
        self.steps.append(name)
        if len(self.steps) != self.fail_at:
            return
        self.fired = name
        if self.error == "interrupt":
            raise KeyboardInterrupt  # a signal arriving mid-write
        if name.startswith("git"):
            raise GitError(f"git failed: injected failure at {name}")
        raise OSError(CODES[name], os.strerror(CODES[name]))


def steps_of(op: str, busy: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The write steps `op` goes through when nothing fails (run on a copy of the state)."""
    with monkeypatch.context() as m:
        inj = Injector(m)
        r = Cli(busy)(*OPS[op])
        assert r.exit_code == 0, r.output
    return inj.steps


@pytest.mark.parametrize("op", sorted(OPS))
def test_a_failure_at_each_write_step_leaves_every_file_as_before(op, busy, monkeypatch):
    frozen = Frozen(busy)
    plan = steps_of(op, busy, monkeypatch)
    after = Frozen(busy)
    # undo the successful run by hand (restore bytes, drop its commit) to retry with faults
    git(busy, "update-ref", "HEAD", "HEAD~1")
    git(busy, "read-tree", "HEAD")
    git(busy, "add", "notes.txt")
    for path in set(after.files) - set(frozen.files):
        (busy / path).unlink()
    for path, data in frozen.files.items():
        if isinstance(data, bytes):
            (busy / path).write_bytes(data)
    frozen.assert_unchanged()
    assert {"create temp", "write", "fsync", "rename", "git commit"} <= set(plan)
    for k in range(1, len(plan) + 1):
        for error in ("oserror", "interrupt"):
            with monkeypatch.context() as m:
                inj = Injector(m, fail_at=k, error=error)
                r = Cli(busy)(*OPS[op])
            assert inj.fired == plan[k - 1], (k, inj.steps)
            if error == "interrupt":
                assert r.exit_code != 0
            elif plan[k - 1].startswith("git"):
                assert r.exit_code == 3, r.output
                assert f"injected failure at {plan[k - 1]}" in r.stderr
            else:
                assert r.exit_code == 2, (plan[k - 1], r.output)
                assert "pipectl: error: " in r.stderr
                assert os.strerror(CODES[plan[k - 1]]) in r.stderr
                assert "Traceback" not in r.output
            frozen.assert_unchanged()
    # and with nothing failing, the result is exactly the first run's
    r = Cli(busy)(*OPS[op])
    assert r.exit_code == 0
    assert Frozen(busy).files == after.files
    assert Frozen(busy).status == after.status


# --- git refuses ---------------------------------------------------------------------------


@pytest.mark.parametrize("op", sorted(OPS))
def test_a_refusing_pre_commit_hook_rolls_back(op, busy):
    hook = busy / ".git" / "hooks" / "pre-commit"
    hook.parent.mkdir(exist_ok=True)
    hook.write_text("#!/bin/sh\necho 'hook says: no deals on Fridays' >&2\nexit 1\n")
    hook.chmod(0o755)
    frozen = Frozen(busy)
    r = Cli(busy)(*OPS[op])
    assert r.exit_code == 3, r.output
    assert "hook says: no deals on Fridays" in r.stderr
    frozen.assert_unchanged()
    hook.unlink()
    assert Cli(busy)(*OPS[op]).exit_code == 0


@pytest.mark.parametrize("op", sorted(OPS))
def test_a_present_index_lock_exits_3_and_keeps_files(op, busy):
    lock = busy / ".git" / "index.lock"
    lock.write_text("")
    frozen = Frozen(busy)
    r = Cli(busy)(*OPS[op])
    assert r.exit_code == 3, r.output
    assert "index.lock" in r.stderr
    frozen.assert_unchanged()
    assert lock.exists()  # someone else's lock is theirs to remove


@pytest.mark.parametrize("op", sorted(OPS))
def test_missing_identity_exits_3_with_the_hint(op, busy):
    git(busy, "config", "--unset", "user.name")
    git(busy, "config", "--unset", "user.email")
    frozen = Frozen(busy)
    r = Cli(busy)(*OPS[op])
    assert r.exit_code == 3, r.output
    assert gitrepo.IDENTITY_HINT in r.stderr
    frozen.assert_unchanged()


# --- the deal changes under pipectl's feet --------------------------------------------------


def _between_read_and_write(monkeypatch, action):
    real = pipectl.store.Pipeline.read_text

    def read_text(self, ref):
        text = real(self, ref)
        action(ref.path)
        return text

    monkeypatch.setattr(pipectl.store.Pipeline, "read_text", read_text)


HAND = {
    "deleted": lambda p: p.unlink(),
    "moved": lambda p: git(p.parents[1], "mv", f"prospecting/{p.name}", "connecting/"),
    "edited": lambda p: p.write_bytes(p.read_bytes().replace(b"Notes by hand.", b"New notes.")),
}
EXPECTED = {
    "deleted": "was deleted or moved",
    "moved": "was deleted or moved",
    "edited": "was changed",
}


@pytest.mark.parametrize("op", ["move", "won", "lost", "log", "next", "set"])
@pytest.mark.parametrize("hand", sorted(HAND))
def test_a_deal_changed_by_hand_mid_command_is_not_overwritten(op, hand, busy, monkeypatch):
    path = busy / "prospecting" / "acme.md"
    before_commits = commit_count(busy)
    _between_read_and_write(monkeypatch, HAND[hand])
    r = Cli(busy)(*OPS[op])
    monkeypatch.undo()
    assert r.exit_code == 2, r.output
    assert f"prospecting/acme.md: {EXPECTED[hand]} while pipectl was working" in r.stderr
    # the hand's version stands: pipectl wrote nothing, resurrected nothing, committed nothing
    assert commit_count(busy) == before_commits
    if hand == "edited":
        assert b"New notes." in path.read_bytes()
        assert path.read_bytes() == DEAL.replace("Notes by hand.", "New notes.").encode()
    else:
        assert not path.exists()
    if hand == "moved":
        assert (busy / "connecting" / "acme.md").read_bytes() == DEAL.encode()
    for stage in ("qualifying", "won", "lost"):
        assert not (busy / stage / "acme.md").exists()


def test_success_commits_only_the_touched_paths(busy):
    frozen = Frozen(busy)
    r = Cli(busy)(*OPS["move"])
    assert r.exit_code == 0
    assert last_commit_paths(busy) == ["prospecting/acme.md", "qualifying/acme.md"]
    assert commit_count(busy) == frozen.commits + 1
    # the user's staged and unstaged work is still exactly theirs
    assert git(busy, "diff", "--cached", "--name-only") == "notes.txt\n"
    assert git(busy, "diff", "--name-only") == "pipeline.yaml\n"


# --- a hard kill: no rollback runs, yet every file is whole ----------------------------------

KILLER = """
import os, sys
from pathlib import Path
import pipectl.writes as writes
from pipectl import gitrepo
from pipectl.cli import run

at, steps = int(sys.argv[1]), [0]
def step():
    steps[0] += 1
    if steps[0] == at:
        os._exit(137)  # like kill -9: no exception, no rollback, no cleanup

class Os:
    def __getattr__(self, name):
        return getattr(os, name)
    def open(self, path, flags, *args):
        if flags & os.O_CREAT:
            step()
        return os.open(path, flags, *args)
    def fsync(self, fd):
        step()
        return os.fsync(fd)
    def replace(self, src, dst):
        step()
        return os.replace(src, dst)

real_unlink, real_run = Path.unlink, gitrepo.GitRepo.run
def unlink(path, missing_ok=False):
    if sys._getframe(1).f_code.co_name == "move":
        step()
    return real_unlink(path, missing_ok=missing_ok)
def git_run(repo, args, **kwargs):
    if args[0] == "commit":
        step()
    return real_run(repo, args, **kwargs)
writes.os, Path.unlink, gitrepo.GitRepo.run = Os(), unlink, git_run
code = run(sys.argv[2:])
print(f"steps={steps[0]}", file=sys.stderr)
sys.exit(code)
"""


@pytest.mark.parametrize("op", ["move", "set"])
def test_a_hard_kill_at_any_step_leaves_each_file_whole(op, busy):
    """No rollback runs after kill -9; the rename still keeps each file old or new, whole."""
    import subprocess

    def pipectl(at: int):
        env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
        return subprocess.run(
            [sys.executable, "-c", KILLER, str(at), "-C", str(busy), *OPS[op]],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
        )

    frozen = Frozen(busy)
    done = pipectl(0)
    assert done.returncode == 0, done.stderr
    steps = int(done.stderr.rsplit("steps=", 1)[1])
    assert steps >= 4  # create, fsync, rename (twice for a move), commit
    after = snapshot(busy)
    deal_paths = {"prospecting/acme.md", "qualifying/acme.md"}
    for at in range(1, steps + 1):
        if commit_count(busy) > frozen.commits:
            git(busy, "update-ref", "HEAD", "HEAD~1")
        git(busy, "read-tree", "HEAD")
        git(busy, "add", "notes.txt")
        for path in set(snapshot(busy)) - set(frozen.files):
            (busy / path).unlink()
        for path, data in frozen.files.items():
            if isinstance(data, bytes):
                (busy / path).write_bytes(data)
        frozen.assert_unchanged()
        killed = pipectl(at)
        assert killed.returncode == 137, (at, killed.stderr)
        now = snapshot(busy)
        for path in deal_paths | {"closing/other.md", "notes.txt", "pipeline.yaml"}:
            if path in now:
                assert now[path] in (frozen.files.get(path), after.get(path)), (at, path)
        assert deal_paths & set(now), at  # the deal never vanishes
        leftovers = set(now) - set(frozen.files) - set(after)
        assert all(Path(p).name.startswith(".acme.md.pipectl-") for p in leftovers), leftovers


# --- a deal made by hand and not committed yet -----------------------------------------------


@pytest.mark.parametrize("op", ["log", "set", "move"])
def test_a_deal_not_yet_committed_goes_into_the_commit(op, busy):
    """It used to fail with `pathspec ... did not match any file(s) known to git` (exit 3)."""
    (busy / "prospecting" / "acme.md").rename(busy / "prospecting" / "fresh.md")
    git(busy, "commit", "-q", "-m", "fresh is new", "--", "prospecting/acme.md")
    words = [w.replace("acme", "fresh") for w in OPS[op]]
    assert git(busy, "status", "--porcelain", "--", "prospecting").startswith("?? ")
    hook = busy / ".git" / "hooks" / "pre-commit"
    hook.parent.mkdir(exist_ok=True)
    hook.write_text("#!/bin/sh\nexit 1\n")
    hook.chmod(0o755)
    frozen = Frozen(busy)
    r = Cli(busy)(*words)
    assert r.exit_code == 3, r.output
    frozen.assert_unchanged()  # still untracked, not left staged
    hook.unlink()
    r = Cli(busy)(*words)
    assert r.exit_code == 0, r.output
    where = "qualifying" if op == "move" else "prospecting"
    assert last_commit_paths(busy) == [f"{where}/fresh.md"]
    assert git(busy, "status", "--porcelain", "--", "prospecting", "qualifying") == ""
