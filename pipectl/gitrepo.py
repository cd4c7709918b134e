"""The only place that runs git: argument lists, never a shell string. No other module starts
a process (tests/test_gitrepo.py checks that none but cli/deals.py, for $EDITOR, imports
subprocess); streams and non-blocking pipes are offered here, always reaped.

Plain `subprocess` rather than GitPython on these paths: GitPython's import alone costs more
than the git process it would start (docs/libraries.md). Failures become GitError with git's
own reason in a line or two.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import tempfile
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from pipectl.errors import GitError
from pipectl.gitidentity import GitIdentity, resolve
from pipectl.gitpipes import Pipes, feed, widen

_MANY = 200  # more paths than this go to git through stdin or a file, not as arguments
# for the git processes that read much of the history (log, cat-file --batch): git maps its
# packs in windows of up to 1 GiB (8 GiB in all), so their resident set followed the pack
# (git log: 445 MB at 120,000 commits, 210 MB with these, the same time). Its cache of delta
# bases keeps git's own default (96 MB): at 32 MB the same walk took 5% longer (docs/
# performance.md, P8 and P13)
BOUNDED_PACK = (
    "-c",
    "core.packedGitWindowSize=16m",
    "-c",
    "core.packedGitLimit=64m",
)

IDENTITY_HINT = (
    'git does not know who you are; set it once with: git config --global user.name "Your Name"'
    " && git config --global user.email you@example.com (or run with --no-commit)"
)


class GitNotFound(GitError):
    """git could not be started at all (not installed, not on PATH), as opposed to failing."""


def find_git_root(start: Path) -> Path | None:
    """The work tree holding `start`, found without starting git, as git finds it: a `.git`
    file, or a `.git` folder that is a git directory (git passes over one that is not, say an
    empty `.git` from an archive, and so must pipectl, or the two would name other repos)."""
    for folder in (start, *start.parents):
        dot = folder / ".git"
        if dot.is_file() or (dot.is_dir() and is_git_dir(dot)):
            return folder
    return None


def is_git_dir(path: Path) -> bool:
    """Whether git would take `path` for a git directory (setup.c's is_git_directory): a HEAD,
    and objects/ and refs/ there or in the common dir a linked worktree's `commondir` names."""
    try:
        if not (path / "HEAD").is_file():
            return False
        common = path
        if (path / "commondir").is_file():
            target = Path((path / "commondir").read_text(encoding="utf-8").strip())
            common = target if target.is_absolute() else path / target
        return (common / "objects").is_dir() and (common / "refs").is_dir()
    except (OSError, UnicodeDecodeError, ValueError):
        return False


def _short(stderr: str) -> str:
    lines = [ln.strip() for ln in stderr.strip().splitlines() if ln.strip()]
    for ln in lines:
        if "Please tell me who you are" in ln or "unable to auto-detect email" in ln:
            return IDENTITY_HINT
        if "Author identity unknown" in ln or "empty ident name" in ln:
            return IDENTITY_HINT
    for ln in lines:
        if "index.lock" in ln and "File exists" in ln:
            return (
                ln.removeprefix("fatal: ")
                + " (another git process is running; if none is, remove that file)"
            )
    fatal = [ln for ln in lines if ln.startswith(("fatal:", "error:"))]
    if fatal:
        return " / ".join(fatal[:2])
    lines = [ln for ln in lines if not ln.startswith(("hint:", "Run", "git config", "to set"))]
    return " / ".join(lines[-2:]) if lines else "git failed"


class GitRepo:
    """A git work tree; every call runs one `git` process."""

    def __init__(self, root: Path):
        self.root = root
        self._resolved: dict[Path, Path] = {}
        self._git_dir: Path | None = None

    def run(
        self, args: Sequence[str], *, check: bool = True, input_text: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        try:
            proc = subprocess.run(
                ["git", *args],
                cwd=self.root,
                capture_output=True,
                text=True,
                encoding="utf-8",
                errors="replace",
                input=input_text,
                env=_env(),
                check=False,
            )
        except FileNotFoundError:
            raise GitNotFound("git is not installed or not on PATH") from None
        if check and proc.returncode != 0:
            raise GitError(f"git {args[0]} failed: {_short(proc.stderr or proc.stdout)}")
        return proc

    def _start(self, args: Sequence[str], **pipes: Any) -> subprocess.Popen[bytes]:
        """git started with these pipes (bytes, stdout always piped), not waited for."""
        try:
            return subprocess.Popen(
                ["git", *args], cwd=self.root, env=_env(), stdout=subprocess.PIPE, **pipes
            )
        except FileNotFoundError:
            raise GitNotFound("git is not installed or not on PATH") from None

    def stream(self, args: Sequence[str], *, input_bytes: bytes | None = None) -> Iterator[bytes]:
        """git's output in chunks while it runs: one process, however long the output.

        For `git log` over years of history and `git cat-file --batch`; stdin is fed from a
        thread so neither side can block the other. A nonzero exit raises GitError at the end.
        """
        with tempfile.TemporaryFile() as err:
            stdin = subprocess.DEVNULL if input_bytes is None else subprocess.PIPE
            proc = self._start(args, stdin=stdin, stderr=err)
            widen(proc.stdout)
            feeder = None
            if input_bytes is not None:
                feeder = threading.Thread(target=feed, args=(proc.stdin, input_bytes))
                feeder.start()
            assert proc.stdout is not None
            done = False
            try:
                while chunk := os.read(proc.stdout.fileno(), 1 << 16):
                    yield chunk
                done = True
            finally:
                if not done:
                    proc.kill()  # the reader stopped early: do not wait for the rest
                proc.stdout.close()
                code = proc.wait()
                if feeder is not None:
                    feeder.join()
            if code != 0:
                err.seek(0)
                text = err.read().decode("utf-8", "replace")
                raise GitError(f"git {args[0]} failed: {_short(text)}")

    @contextlib.contextmanager
    def pipes(self, args: Sequence[str]) -> Iterator[Pipes]:
        """git with non-blocking pipes to its stdin and from its stdout (stderr discarded), for
        a caller that feeds it and reads its answers between other work on one thread.

        However the block ends, git is reaped and both pipes closed; if git is still running
        then (the caller failed or stopped early), it is killed first, never waited for.
        """
        proc = self._start(args, stdin=subprocess.PIPE, stderr=subprocess.DEVNULL, bufsize=0)
        try:
            yield Pipes(proc)
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            for pipe in (proc.stdin, proc.stdout):
                if pipe is not None:
                    pipe.close()  # unbuffered: closing cannot fail on a dead process

    def rel(self, path: Path) -> str:
        """A path as git wants it: relative to the work tree, with forward slashes."""
        # Resolving costs a syscall per path component; an import passes thousands of files
        # from a few folders, so folders are resolved once each.
        folders = self._resolved
        parent = folders.get(path.parent)
        if parent is None:
            parent = folders[path.parent] = path.parent.resolve()
        root = folders.get(self.root)
        if root is None:
            root = folders[self.root] = self.root.resolve()
        target = parent / path.name if path.name not in ("", ".", "..") else path.resolve()
        return target.relative_to(root).as_posix()

    def add(self, paths: Sequence[Path]) -> None:
        if len(paths) > _MANY:
            # `git add` matches every pathspec against every file (20 s for 8,800 new deals);
            # update-index takes the paths as they are, from stdin, so no argument limit either
            names = "".join(self.rel(p) + "\0" for p in paths)
            self.run(["update-index", "--add", "-z", "--stdin"], input_text=names)
        elif paths:
            self.run(["add", "--", *(self.rel(p) for p in paths)])

    def untracked(self, paths: Sequence[Path]) -> list[Path]:
        """Those of `paths` that the index does not hold (e.g. a deal made by hand)."""
        names = [self.rel(p) for p in paths]
        out = self.run(["ls-files", "-z", "--", *(f":(literal){n}" for n in names)]).stdout
        known = set(out.split("\0"))
        return [p for p, n in zip(paths, names, strict=True) if n not in known]

    def unstage_new(self, paths: Sequence[Path]) -> None:
        """Forget paths that `add` staged but no commit holds (used in rollback)."""
        if paths:
            with self._pathspec(paths) as spec:
                # -f: the file may hold other bytes than the index by now (rolled back)
                self.run(["rm", "--cached", "-f", "-q", "--ignore-unmatch", *spec], check=False)

    def commit_only(self, paths: Sequence[Path], message: str) -> None:
        """Commit exactly these paths (`--only`): the user's other staged work stays staged.

        The user's hooks run: no --no-verify.
        """
        if len(paths) > _MANY and self._commit_staged(paths, message):
            return
        with self._pathspec(paths) as spec:
            self.run(["commit", "--only", "-q", "-F", "-", *spec], input_text=message)

    def _commit_staged(self, paths: Sequence[Path], message: str) -> bool:
        """Many paths and nothing else staged: stage them and make a plain commit.

        `commit --only` matches every path against every index entry (1 s of 6 for an import
        of 8,800 deals). When the index holds no other change, a plain commit of the staged
        paths is the same commit. False, having done nothing, when anything else is staged.
        """
        names = {self.rel(p) for p in paths}
        staged = self.run(
            ["diff", "--cached", "--no-renames", "--name-only", "-z", "HEAD", "--"], check=False
        )
        if staged.returncode != 0 or not set(staged.stdout.split("\0")[:-1]) <= names:
            return False
        listed = "".join(n + "\0" for n in sorted(names))
        self.run(["update-index", "--add", "--remove", "-z", "--stdin"], input_text=listed)
        try:
            self.run(["commit", "-q", "-F", "-"], input_text=message)
        except GitError:
            # the index goes back to HEAD for these paths, as a failed `--only` leaves it
            with self._pathspec(paths) as spec:
                self.run(["reset", "-q", "HEAD", *spec], check=False)
            raise
        return True

    @contextlib.contextmanager
    def _pathspec(self, paths: Sequence[Path]) -> Iterator[list[str]]:
        """`-- PATHS`, or for many paths a NUL-separated file: the argument list has a limit."""
        if len(paths) <= _MANY:
            yield ["--", *(self.rel(p) for p in paths)]
            return
        with tempfile.NamedTemporaryFile("wb", prefix="pipectl-paths-", delete=False) as f:
            f.write(b"".join(self.rel(p).encode("utf-8") + b"\0" for p in paths))
        try:
            yield [f"--pathspec-from-file={f.name}", "--pathspec-file-nul"]
        finally:
            os.unlink(f.name)

    def init(self) -> None:
        self.run(["init", "-q"])

    def head_blobs(self, folders: Sequence[Path]) -> dict[str, str]:
        """The object id of each file HEAD holds in these folders (repo-relative path -> id),
        from one `git ls-tree`; {} before the first commit."""
        if not folders:
            return {}
        names = sorted({self.rel(f) for f in folders})
        proc = self.run(["ls-tree", "-r", "-z", "HEAD", "--", *names], check=False)
        if proc.returncode != 0:
            return {}
        out: dict[str, str] = {}
        for entry in proc.stdout.split("\0"):
            meta, tab, name = entry.partition("\t")
            parts = meta.split()
            if tab and len(parts) == 3 and parts[1] == "blob":
                out[name] = parts[2]
        return out

    def stored_ids(self, files: Sequence[tuple[str, bytes]]) -> dict[str, str]:
        """The blob id git would give each (repo-relative path, bytes) if it were added now:
        after the path's filters (core.autocrlf, `eol`, `text`, a clean filter), so a deal
        checked out with CRLF under autocrlf is the blob HEAD holds.

        Git converts by the path's attributes; paths with the same ones are converted alike,
        so one `git check-attr` groups them and one `git hash-object --path` per group (per
        _MANY files) hashes their bytes from temporary files: a sweep's hundred deals cost
        two git processes, not a hundred.
        """
        if not files:
            return {}
        groups: dict[tuple[str, ...], list[int]] = {}
        if len(files) == 1:
            groups[()] = [0]
        else:
            names = "".join(f"{rel}\0" for rel, _ in files)
            out = self.run(["check-attr", "-z", "--stdin", *_FILTER_ATTRS], input_text=names)
            fields = out.stdout.split("\0")
            per_path: dict[str, list[str]] = {}
            for i in range(0, len(fields) - 2, 3):  # path, attribute, value
                per_path.setdefault(fields[i], []).append(f"{fields[i + 1]}={fields[i + 2]}")
            for i, (rel, _) in enumerate(files):
                groups.setdefault(tuple(per_path.get(rel, ())), []).append(i)
        found: dict[str, str] = {}
        with tempfile.TemporaryDirectory(prefix="pipectl-hash-") as tmp:
            temps = []
            for i, (_, data) in enumerate(files):
                temps.append(os.path.join(tmp, str(i)))
                with open(temps[-1], "wb") as f:
                    f.write(data)
            for members in groups.values():
                for at in range(0, len(members), _MANY):
                    chunk = members[at : at + _MANY]
                    path = f"--path={files[chunk[0]][0]}"
                    ids = self.run(["hash-object", path, "--", *(temps[i] for i in chunk)])
                    for i, oid in zip(chunk, ids.stdout.split(), strict=True):
                        found[files[i][0]] = oid
        return found

    def identity(self) -> GitIdentity:
        """Who commits here, as git picks its author (gitidentity.resolve). Git is started
        only when $GIT_AUTHOR_NAME or $GIT_AUTHOR_EMAIL is unset."""
        env = os.environ
        if env.get("GIT_AUTHOR_NAME", "").strip() and env.get("GIT_AUTHOR_EMAIL", "").strip():
            return resolve(env, {})
        keys = r"^(author|user)\.(name|email)$"
        proc = self.run(["config", "-z", "--get-regexp", keys], check=False)  # 1: none set
        values: dict[str, str] = {}
        for entry in proc.stdout.split("\0"):  # the last value of a key wins, as in git
            key, _, value = entry.partition("\n")
            values[key.lower()] = value.strip()
        return resolve(env, values)

    def git_dir(self) -> Path:
        """The git directory: `.git`, or where a `.git` file's `gitdir:` line points (a linked
        worktree, a submodule). pipectl keeps its lock and caches there, so a line naming any
        folder that is not a git directory is refused (GitError), as git refuses it, before
        anything is created in it."""
        if self._git_dir is not None:
            return self._git_dir
        dot = self.root / ".git"
        found = dot
        if dot.is_file():
            try:
                with open(os.open(dot, os.O_RDONLY | os.O_NONBLOCK), "rb") as f:
                    text = f.read(4096).decode("utf-8", errors="replace").strip()
            except OSError as exc:
                raise GitError(f"cannot read: {exc.strerror or exc}", dot) from None
            if not text.startswith("gitdir:"):
                raise GitError("not a git repository file (no 'gitdir:' line)", dot)
            target = Path(text[len("gitdir:") :].strip())
            found = target if target.is_absolute() else (self.root / target).resolve()
        if not is_git_dir(found):
            raise GitError(
                f"points to {found}, which is not a git directory; nothing done there", dot
            )
        self._git_dir = found
        return found

    def unfinished(self) -> str | None:
        """Why a commit here now would be wrong, as git's porcelain would warn: a rebase,
        merge, cherry-pick or revert in progress, or a detached HEAD; None when all is well.

        Read from the git dir's own marker files, without starting git.
        """
        git_dir = self.git_dir()
        for marker, what, finish in _UNFINISHED:
            if (git_dir / marker).exists():
                return f"a {what} is in progress: finish it ({finish}) or abort it first"
        try:
            head = (git_dir / "HEAD").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None
        if not head.startswith("ref:"):
            return "HEAD is detached: a commit here is on no branch; `git switch BRANCH` first"
        return None

    def common_dir(self) -> Path:
        """The git dir every worktree shares (objects, packed refs, `shallow`): the one a
        linked worktree's `commondir` names, else the git dir itself."""
        git_dir = self.git_dir()
        with contextlib.suppress(OSError, ValueError):
            named = (git_dir / "commondir").read_text(encoding="utf-8", errors="replace")
            target = Path(named.strip())
            return target if target.is_absolute() else (git_dir / target).resolve()
        return git_dir

    def shallow_boundary(self) -> frozenset[str]:
        """The commits whose parents a shallow clone lacks; empty when the clone is whole.

        The one test of shallowness (history and lint both ask it), read from git's `shallow`
        file as git itself decides, without starting git. Never empty for a shallow clone,
        even if the file lists nothing.
        """
        try:  # a linked worktree's `shallow` is the main git dir's
            text = (self.common_dir() / "shallow").read_text(encoding="ascii", errors="replace")
        except OSError:
            return frozenset()
        return frozenset(text.split()) or frozenset({"shallow"})

    def head_commit(self) -> str | None:
        """The commit HEAD is at, read from git's own files without starting git: a detached
        HEAD, or the branch it names as a loose or a packed ref. None when the files do not
        tell (no commit yet, a ref store kept otherwise): then ask `git rev-parse`.

        A history index that is current costs no git process at all this way.
        """
        git_dir = self.git_dir()
        common = self.common_dir()
        try:
            text = (git_dir / "HEAD").read_text(encoding="ascii", errors="replace").strip()
            for _ in range(5):  # a symbolic ref may name another
                if not text.startswith("ref:"):
                    return text if _OBJECT_ID.fullmatch(text) else None
                ref = text[4:].strip()
                if not ref.startswith("refs/") or ".." in ref.split("/"):
                    return None
                loose = [git_dir / ref, common / ref] if ref.startswith("refs/worktree/") else []
                for place in loose or [common / ref]:
                    if place.is_file():
                        text = place.read_text(encoding="ascii", errors="replace").strip()
                        break
                else:
                    return _packed_ref(common / "packed-refs", ref)
        except OSError:
            return None
        return None


# The attributes that decide how git converts a file's bytes before it stores them.
_FILTER_ATTRS = ("text", "eol", "crlf", "filter", "ident", "working-tree-encoding")

# Git's own markers of an operation that stopped half-way, what to call it, and how to end it.
_UNFINISHED = (
    ("rebase-merge", "rebase", "git rebase --continue"),
    ("rebase-apply", "rebase or am", "git rebase --continue or git am --continue"),
    ("MERGE_HEAD", "merge", "git commit"),
    ("CHERRY_PICK_HEAD", "cherry-pick", "git cherry-pick --continue"),
    ("REVERT_HEAD", "revert", "git revert --continue"),
)


# Variables that tell git where a repository, its index, objects or config file are: git's own
# list of what belongs to one repository (`git rev-parse --local-env-vars`), less the `-c`
# settings (GIT_CONFIG_PARAMETERS, GIT_CONFIG_COUNT: the user's options, not a place), plus the
# quarantine of a pre-receive hook. Inside another repository's hook git sets them for that
# repository; kept, they sent pipectl's commits there while it reported success. pipectl finds
# its repository from the pipeline's folder (find_git_root) and every git it starts must find
# the same one, from its working directory, so none of them is passed on: a value naming the
# pipeline's own repository changes nothing by going, any other would commit elsewhere.
# (Setting GIT_DIR to the repository found instead would skip git's safe.directory check.)
LOCATION_ENV = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_IMPLICIT_WORK_TREE",
    "GIT_COMMON_DIR",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_QUARANTINE_PATH",
    "GIT_GRAFT_FILE",
    "GIT_SHALLOW_FILE",
    "GIT_REPLACE_REF_BASE",
    "GIT_NO_REPLACE_OBJECTS",
    "GIT_PREFIX",
    "GIT_INTERNAL_SUPER_PREFIX",
    "GIT_CONFIG",
)


def _env() -> dict[str, str]:
    """git's environment: the user's, less LOCATION_ENV; never a prompt, messages in English
    (parsed in `_short`), and output buffered: into a pipe, git log otherwise writes (and
    wakes its reader) once a commit, and a long walk took 5% longer (docs/performance.md)."""
    env = {k: v for k, v in os.environ.items() if k not in LOCATION_ENV}
    return {**env, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", "GIT_FLUSH": "0"}


_OBJECT_ID = re.compile(r"[0-9a-f]{40}([0-9a-f]{24})?")


def _packed_ref(path: Path, ref: str) -> str | None:
    """The object id `packed-refs` gives `ref` (the id, a space, the name, per line)."""
    try:
        with open(path, encoding="ascii", errors="replace") as f:
            for line in f:
                sha, _, name = line.rstrip("\n").partition(" ")
                if name == ref and _OBJECT_ID.fullmatch(sha):
                    return sha
    except OSError:
        pass
    return None
