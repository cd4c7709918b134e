"""The only place that runs git: argument lists, never a shell string.

Plain `subprocess` rather than GitPython on these paths: GitPython's import alone costs more
than the git process it would start (LIBRARIES.md). Failures become GitError with git's own
reason in a line or two.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

from .errors import GitError

IDENTITY_HINT = (
    'git does not know who you are; set it with: git config user.name "Your Name" && '
    "git config user.email you@example.com (or run with --no-commit)"
)


def find_git_root(start: Path) -> Path | None:
    """The work tree holding `start`, found without starting git (a `.git` dir or file)."""
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return None


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

    def run(
        self, args: Sequence[str], *, check: bool = True, input_text: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}
        try:
            proc = subprocess.run(
                ["git", *args],
                cwd=self.root,
                capture_output=True,
                text=True,
                encoding="utf-8",
                errors="replace",
                input=input_text,
                env=env,
                check=False,
            )
        except FileNotFoundError:
            raise GitError("git is not installed or not on PATH") from None
        if check and proc.returncode != 0:
            raise GitError(f"git {args[0]} failed: {_short(proc.stderr or proc.stdout)}")
        return proc

    def rel(self, path: Path) -> str:
        """A path as git wants it: relative to the work tree, with forward slashes."""
        return path.resolve().relative_to(self.root.resolve()).as_posix()

    def add(self, paths: Sequence[Path]) -> None:
        if paths:
            self.run(["add", "--", *(self.rel(p) for p in paths)])

    def unstage_new(self, paths: Sequence[Path]) -> None:
        """Forget paths that `add` staged but no commit holds (used in rollback)."""
        if paths:
            self.run(
                ["rm", "--cached", "-q", "--ignore-unmatch", "--", *(self.rel(p) for p in paths)],
                check=False,
            )

    def commit_only(self, paths: Sequence[Path], message: str) -> None:
        """Commit exactly these paths (`--only`): the user's other staged work stays staged.

        The user's hooks run: no --no-verify.
        """
        self.run(
            ["commit", "--only", "-q", "-F", "-", "--", *(self.rel(p) for p in paths)],
            input_text=message,
        )

    def init(self) -> None:
        self.run(["init", "-q"])

    def user_name(self) -> str | None:
        proc = self.run(["config", "user.name"], check=False)
        return proc.stdout.strip() or None

    def git_dir(self) -> Path:
        dot = self.root / ".git"
        if dot.is_file():
            text = dot.read_text(encoding="utf-8", errors="replace").strip()
            if text.startswith("gitdir:"):
                target = Path(text[len("gitdir:") :].strip())
                return target if target.is_absolute() else (self.root / target).resolve()
        return dot
