"""The merge driver: `pipectl setup` for a clone, and the driver git runs on its three files.

Never prints, and never takes the pipeline lock: git runs the driver in the middle of a
rebase or merge that `pipectl sync` may be holding the lock for.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from pipectl import schema
from pipectl.config import CONFIG_FILE, load_config
from pipectl.errors import GitError, PipectlError, UsageError
from pipectl.gitrepo import GitRepo, find_git_root
from pipectl.mergesetup import ATTRIBUTES_FILE, add_attributes, register
from pipectl.store import Pipeline
from pipectl.team.merge import Labels, MergeResult, TextMerge, merge_deal

MERGE_LABELS: Labels = ("yours", "base", "theirs")
REBASE_LABELS: Labels = ("upstream", "base", "yours")


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


def run_driver(base: Path, ours: Path, theirs: Path, cwd: Path, path: str = "") -> MergeResult:
    """Merge git's three temp files, writing the result into `ours` as git expects.

    `path` is the file's path in the work tree (git's %P; git runs the driver at the top of
    the work tree): its pipeline's schema judges the merged frontmatter.
    """
    git = GitRepo(cwd)
    labels = labels_for(cwd)
    try:
        texts = [p.read_bytes().decode("utf-8") for p in (base, ours, theirs)]
    except UnicodeDecodeError:
        clean = _merge_file(git, [ours, base, theirs], labels)
        return MergeResult("", () if clean else ("file (merged as text)",))
    deal_schema = schema_for(cwd, path)
    result = merge_deal(texts[0], texts[1], texts[2], text_merger(git), labels, schema=deal_schema)
    if result.text != texts[1]:
        ours.write_bytes(result.text.encode("utf-8", errors="surrogateescape"))
    return result


def schema_for(cwd: Path, path: str) -> schema.Schema | None:
    """The schema of the pipeline a deal file at `path` belongs to: its stage folder's parent
    holds pipeline.yaml (without a path, `cwd` does). None when there is no pipeline, the
    file is in no stage folder, or pipeline.yaml cannot be read (mid-merge itself, perhaps):
    then the merge goes on as it would without a schema, never failing for it."""
    stage = Path(path).parent if path else None
    root = cwd / stage.parent if stage is not None else cwd
    try:
        config = load_config(root / CONFIG_FILE) if (root / CONFIG_FILE).is_file() else None
    except PipectlError:
        return None
    if config is None or (stage is not None and config.stage(stage.name) is None):
        return None
    return schema.for_config(config)
