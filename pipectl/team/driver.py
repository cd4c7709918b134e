"""The merge driver's plumbing: register it in a clone, and run it on git's three files.

Never prints, and never takes the pipeline lock: git runs the driver in the middle of a
rebase or merge that `pipectl sync` may be holding the lock for.
"""

from __future__ import annotations

import shlex
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pipectl.errors import GitError, UsageError
from pipectl.gitrepo import GitRepo, find_git_root
from pipectl.store import Change, Pipeline
from pipectl.team.merge import Labels, MergeResult, TextMerge, merge_deal

DRIVER = "pipectl"
# Every Markdown file one folder down: the stage folders, including stages added later.
# A file there that is no deal is merged as plain text by the driver.
ATTRIBUTES_LINE = f"*/*.md merge={DRIVER}"
DRIVER_NAME = "pipectl deal merge (touchpoints united, fields three-way, body as text)"
ATTRIBUTES_FILE = ".gitattributes"

MERGE_LABELS: Labels = ("yours", "base", "theirs")
REBASE_LABELS: Labels = ("upstream", "base", "yours")


def driver_command(use_path: bool = False) -> str:
    """The shell command git runs for a deal file that both sides changed.

    By default this Python's own path: it works from GUIs and IDEs whose PATH lacks pipectl,
    and the config holding it is per clone, so a machine-specific path is right there.
    """
    program = "pipectl" if use_path else f"{shlex.quote(sys.executable)} -m pipectl"
    return f"{program} merge-driver %O %A %B %P"


def registered_command(git: GitRepo) -> str | None:
    proc = git.run(["config", "--get", f"merge.{DRIVER}.driver"], check=False)
    return proc.stdout.strip() or None


def register(git: GitRepo, use_path: bool = False) -> str:
    """Set merge.pipectl.driver and .name in the clone's own config (never committed)."""
    command = driver_command(use_path)
    git.run(["config", f"merge.{DRIVER}.name", DRIVER_NAME])
    git.run(["config", f"merge.{DRIVER}.driver", command])
    return command


def has_entry(attributes: str) -> bool:
    return any(f"merge={DRIVER}" in line.split() for line in attributes.splitlines())


def attributes_with_entry(existing: str | None) -> str | None:
    """The .gitattributes text with pipectl's line added, or None when it is there already."""
    if existing is None:
        return (
            f"# deal files: merged by pipectl (`pipectl setup` once per clone)\n{ATTRIBUTES_LINE}\n"
        )
    if has_entry(existing):
        return None
    nl = "\r\n" if "\r\n" in existing else "\n"
    sep = "" if not existing or existing.endswith("\n") else nl
    return f"{existing}{sep}{ATTRIBUTES_LINE}{nl}"


def add_attributes(change: Change, root: Path) -> bool:
    """Within a change (e.g. `pipectl init`'s), add the entry to root/.gitattributes."""
    path = root / ATTRIBUTES_FILE
    try:
        existing: str | None = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        existing = None
    new = attributes_with_entry(existing)
    if new is not None:
        change.write(path, new)
    return new is not None


@dataclass(frozen=True)
class Setup:
    """What `setup` did: the registered command and whether .gitattributes was changed."""

    command: str
    attributes: Path
    attributes_added: bool
    committed: bool


def setup(pipeline: Pipeline, use_path: bool = False, commit: bool = True) -> Setup:
    """Make this clone merge deal files with pipectl: config, and the attributes entry."""
    if pipeline.git is None:
        raise UsageError("not inside a git repository: a merge driver needs one")
    with pipeline.change(commit) as ch:
        added = add_attributes(ch, pipeline.root)
        ch.set_message("setup: merge deal files with pipectl's merge driver", "setup")
    command = register(pipeline.git, use_path)
    return Setup(command, pipeline.root / ATTRIBUTES_FILE, added, ch.committed)


# --- running as git's driver ----------------------------------------------------------------


def labels_for(cwd: Path) -> Labels:
    """During a rebase "ours" is the upstream side: name the sides so users are not misled."""
    root = find_git_root(cwd)
    if root is not None:
        git_dir = GitRepo(root).git_dir()
        if (git_dir / "rebase-merge").is_dir() or (git_dir / "rebase-apply").is_dir():
            return REBASE_LABELS
    return MERGE_LABELS


def text_merger(git: GitRepo) -> TextMerge:
    """git's own line-based three-way merge (`git merge-file`) over texts."""

    def merge(base: str, ours: str, theirs: str, labels: Labels) -> tuple[str, bool]:
        with tempfile.TemporaryDirectory(prefix="pipectl-merge-") as tmp:
            files = [Path(tmp, name) for name in ("ours", "base", "theirs")]
            for f, text in zip(files, (ours, base, theirs), strict=True):
                f.write_bytes(text.encode("utf-8"))
            clean = _merge_file(git, files, labels)
            return files[0].read_bytes().decode("utf-8", errors="surrogateescape"), clean

    return merge


def _merge_file(git: GitRepo, files: list[Path], labels: Labels) -> bool:
    """`git merge-file` in place into files[0]; True when there was no conflict."""
    args = ["merge-file", "-q"]
    for label in labels:
        args += ["-L", label]
    proc = git.run([*args, *(str(f) for f in files)], check=False)
    if not 0 <= proc.returncode <= 127:
        raise GitError(f"git merge-file failed: {proc.stderr.strip() or proc.returncode}")
    return proc.returncode == 0


def text_fallback(base: Path, ours: Path, theirs: Path, cwd: Path) -> bool:
    """git's plain line merge of the three files into `ours`; True when clean."""
    return _merge_file(GitRepo(cwd), [ours, base, theirs], labels_for(cwd))


def run_driver(base: Path, ours: Path, theirs: Path, cwd: Path) -> MergeResult:
    """Merge git's three temp files, writing the result into `ours` as git expects."""
    git = GitRepo(cwd)
    labels = labels_for(cwd)
    try:
        texts = [p.read_bytes().decode("utf-8") for p in (base, ours, theirs)]
    except UnicodeDecodeError:
        clean = _merge_file(git, [ours, base, theirs], labels)
        return MergeResult("", () if clean else ("file (merged as text)",))
    result = merge_deal(texts[0], texts[1], texts[2], text_merger(git), labels)
    if result.text != texts[1]:
        ours.write_bytes(result.text.encode("utf-8", errors="surrogateescape"))
    return result
