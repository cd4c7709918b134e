"""`pipectl sync`: fetch the shared remote, rebase local commits onto it, push, retry on a race.

Runs git only through GitRepo and holds the clone's lock throughout. On a real conflict it
stops and leaves git's own rebase-in-progress state for the user; it never forces a push.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from pathlib import PurePosixPath

from pipectl import locking, mergesetup
from pipectl.errors import GitError, UsageError
from pipectl.gitrepo import GitRepo
from pipectl.store import Pipeline

DEFAULT_RETRIES = 5


class SyncConflict(GitError):
    """The rebase stopped on a conflict; the repository is in git's conflict state."""

    multiline = True  # what conflicted, one file a line, then the steps


@dataclass(frozen=True)
class SyncResult:
    """What a sync did: commits taken from the remote, commits pushed, push attempts lost."""

    remote: str
    branch: str
    pulled: int
    pushed: int
    retries: int
    registered_driver: bool


def sync(
    pipeline: Pipeline, remote: str | None = None, retries: int = DEFAULT_RETRIES
) -> SyncResult:
    """Fetch, rebase onto the remote branch, push; a push lost to a race is retried."""
    git = pipeline.git
    if git is None:
        raise UsageError("not inside a git repository: nothing to sync")
    with locking.hold(pipeline.lock_path()):
        return _sync(git, remote, retries)


def _sync(git: GitRepo, remote: str | None, retries: int) -> SyncResult:
    _refuse_busy(git)
    branch = _branch(git)
    remote, remote_branch = _upstream(git, branch, remote)
    tracking = f"refs/remotes/{remote}/{remote_branch}"
    registered = False
    if mergesetup.registered_command(git) is None:
        mergesetup.register(git)
        registered = True
    _refuse_dirty(git)
    pulled = 0
    for attempt in range(retries + 1):
        _fetch(git, remote, remote_branch, tracking)
        upstream = _rev(git, tracking)
        if upstream is not None:
            behind = _count(git, f"HEAD..{upstream}")
            if behind:
                _rebase(git, upstream, remote)
                pulled += behind
        ahead = _count(git, f"{upstream}..HEAD" if upstream else "HEAD")
        if ahead == 0:
            return SyncResult(remote, branch, pulled, 0, attempt, registered)
        args = ["push", "--porcelain", remote, f"HEAD:refs/heads/{remote_branch}"]
        if _config(git, f"branch.{branch}.remote") is None:
            args.insert(1, "-u")
        proc = git.run(args, check=False)
        if proc.returncode == 0:
            return SyncResult(remote, branch, pulled, ahead, attempt, registered)
        reason = _push_reason(proc.stdout + "\n" + proc.stderr)
        _fetch(git, remote, remote_branch, tracking)
        if _rev(git, tracking) == upstream:
            # the remote did not move: no race to retry, a real refusal
            raise GitError(f"git push to {remote} was refused: {reason}")
        # someone pushed first; a little jitter keeps racing clones from colliding again
        time.sleep(random.uniform(0, 0.2) * attempt)
    raise GitError(
        f"others kept pushing to {remote} first; gave up after {retries + 1} attempts "
        "(your commits are safe here: run `pipectl sync` again)"
    )


def _fetch(git: GitRepo, remote: str, branch: str, tracking: str) -> None:
    proc = git.run(["fetch", "-q", remote, f"+refs/heads/{branch}:{tracking}"], check=False)
    if proc.returncode == 0:
        return
    if "couldn't find remote ref" in proc.stderr:
        return  # an empty remote, or a branch nobody pushed yet: the push creates it
    raise GitError(f"git fetch from {remote} failed: {_last_lines(proc.stderr)}")


def _rebase(git: GitRepo, upstream: str, remote: str) -> None:
    proc = git.run(["rebase", "-q", upstream], check=False)
    if proc.returncode == 0:
        return
    if not _rebasing(git):
        raise GitError(f"git rebase failed: {_last_lines(proc.stderr or proc.stdout)}")
    raise SyncConflict(conflict_message(git, remote))


def conflict_message(git: GitRepo, remote: str) -> str:
    """What conflicted, and the exact steps to finish or to give up."""
    proc = git.run(["status", "--porcelain=v1", "-z", "--untracked-files=no"], check=False)
    entries = [e for e in proc.stdout.split("\0") if len(e) > 3]
    unmerged = [(e[:2], e[3:]) for e in entries if e[:2] in _UNMERGED]
    lines = [f"sync stopped: your commits and {remote}'s change the same thing (rebase paused)"]
    by_id: dict[str, list[str]] = {}
    for _code, path in unmerged:
        if path.endswith(".md"):
            by_id.setdefault(PurePosixPath(path).stem, []).append(path)
    for deal_id, paths in by_id.items():
        added = [p for code, p in unmerged if p in paths and code in ("AU", "UA", "AA")]
        if len({PurePosixPath(p).parent for p in added}) > 1:
            where = ", ".join(added)
            lines.append(
                f"  {deal_id}: moved to two different stages ({where}); keep one: "
                f"`git rm` the other file(s), `git add` the one to keep"
            )
            continue
        for code, path in unmerged:
            if path in paths and code not in ("DD",):
                lines.append(f"  {path}: {_explain(code)}")
    for code, path in unmerged:
        if not path.endswith(".md"):
            lines.append(f"  {path}: {_explain(code)}")
    lines.append(
        "fix each file (the lines between <<<<<<< and >>>>>>> : keep what is right, delete the "
        "markers; `upstream` is the remote's side, `yours` is your commit),"
    )
    lines.append("then: git add FILES && git rebase --continue, and run `pipectl sync` again;")
    lines.append("to give up: git rebase --abort (your commits stay as they were)")
    return "\n".join(lines)


_UNMERGED = {"DD", "AU", "UD", "UA", "DU", "AA", "UU"}


def _explain(code: str) -> str:
    if code == "UU":
        return "both sides changed the same field or lines"
    if code == "AA":
        return "both sides added this file"
    if code in ("UD", "DU"):
        return "changed on one side, deleted or moved away on the other"
    return "conflict"


def _refuse_busy(git: GitRepo) -> None:
    if _rebasing(git):
        raise UsageError(
            "a rebase is in progress: finish it (git add FILES && git rebase --continue) "
            "or give up (git rebase --abort), then run `pipectl sync` again"
        )
    if (git.git_dir() / "MERGE_HEAD").exists():
        raise UsageError("a merge is in progress: finish it (git commit) or git merge --abort")


def _rebasing(git: GitRepo) -> bool:
    gd = git.git_dir()
    return (gd / "rebase-merge").is_dir() or (gd / "rebase-apply").is_dir()


def _refuse_dirty(git: GitRepo) -> None:
    proc = git.run(["status", "--porcelain=v1", "--untracked-files=no"])
    changed = [ln[3:] for ln in proc.stdout.splitlines() if ln.strip()]
    if changed:
        shown = ", ".join(changed[:5]) + (
            f" and {len(changed) - 5} more" if len(changed) > 5 else ""
        )
        raise UsageError(
            f"uncommitted changes in {shown}: commit them (pipectl commands commit for you) "
            "or set them aside, then sync"
        )


def _branch(git: GitRepo) -> str:
    proc = git.run(["symbolic-ref", "-q", "--short", "HEAD"], check=False)
    branch = proc.stdout.strip()
    if proc.returncode != 0 or not branch:
        raise UsageError("HEAD is detached: check out a branch before syncing")
    if _rev(git, "HEAD") is None:
        raise UsageError(f"branch {branch} has no commits yet: nothing to sync")
    return branch


def _upstream(git: GitRepo, branch: str, remote: str | None) -> tuple[str, str]:
    """The remote and its branch: the branch's upstream, else origin (or the only remote)."""
    remotes = git.run(["remote"]).stdout.split()
    configured = _config(git, f"branch.{branch}.remote")
    merge = _config(git, f"branch.{branch}.merge")
    if remote is None:
        remote = configured if configured and configured != "." else None
    if remote is None:
        if "origin" in remotes:
            remote = "origin"
        elif len(remotes) == 1:
            remote = remotes[0]
        elif not remotes:
            raise UsageError(
                "this clone has no remote: add the shared one with `git remote add origin URL`"
            )
        else:
            raise UsageError(f"which remote? pass --remote (one of: {', '.join(remotes)})")
    elif remote not in remotes:
        raise UsageError(f"no remote {remote!r} (remotes: {', '.join(remotes) or 'none'})")
    name = branch
    if merge and merge.startswith("refs/heads/") and remote == configured:
        name = merge[len("refs/heads/") :]
    return remote, name


def _config(git: GitRepo, key: str) -> str | None:
    return git.run(["config", "--get", key], check=False).stdout.strip() or None


def _rev(git: GitRepo, ref: str) -> str | None:
    proc = git.run(["rev-parse", "-q", "--verify", f"{ref}^{{commit}}"], check=False)
    return proc.stdout.strip() or None if proc.returncode == 0 else None


def _count(git: GitRepo, spec: str) -> int:
    return int(git.run(["rev-list", "--count", spec]).stdout.strip() or 0)


def _push_reason(output: str) -> str:
    for line in output.splitlines():
        if line.startswith("!"):
            return " ".join(line.split("\t")[-1].split())
    return _last_lines(output)


def _last_lines(text: str) -> str:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    lines = [ln for ln in lines if not ln.startswith("hint:")]
    return " / ".join(lines[-2:]) if lines else "no reason given"
