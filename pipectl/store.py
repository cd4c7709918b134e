"""The Pipeline facade: find the root, list, resolve, read deals; `change()` opens a write.

The read side lives here (the one loader of deals, the careful reader of files); the write
side, `Change` with its snapshots, rollback, schema check and commit message, is in
`writes.py`, which `Pipeline.change()` hands out under the clone's lock.
"""

from __future__ import annotations

import difflib
import errno
import os
import stat
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pipectl import locking
from pipectl.capped import read_capped
from pipectl.config import CONFIG_FILE, Config, load_config
from pipectl.deal import Deal, DealText, decode, is_valid_id, parse_deal, split
from pipectl.errors import DealError, GitError, UsageError
from pipectl.gitrepo import GitRepo, find_git_root

if TYPE_CHECKING:
    from pipectl.caches.deals import Seen
    from pipectl.writes import Change

# A stage folder that is a link out of the pipeline: its files are neither listed nor read.
OUTSIDE_FOLDER = "is a stage folder linked to outside the pipeline; not read"

NO_GIT_WARNING = "not inside a git repository: changes are saved but there is no audit trail"

# A deal is a page of text; anything this big is refused rather than read into memory.
MAX_DEAL_BYTES = 32 << 20


class DealRef:
    """Where a deal lives: its id, stage folder and file.

    The loader makes one per file of the pipeline and holds them all while it reads, so a
    listed one (`listed`) is light: its stage folder's text, shared by the stage, and the file's
    name; its `Path` is made when first asked for. Compared as (id, stage, path).
    """

    __slots__ = ("_path", "folder", "id", "name", "stage")
    id: str
    stage: str
    folder: str
    name: str
    _path: Path | None

    def __init__(self, id: str, stage: str, path: Path):
        self.id, self.stage, self._path = id, stage, path
        self.folder, self.name = str(path.parent), path.name

    @classmethod
    def listed(cls, stage: str, folder: str, name: str) -> DealRef:
        """The ref of `name` (a `*.md` file) as listed in `folder`, the stage folder's text."""
        ref = cls.__new__(cls)
        ref.id, ref.stage, ref._path, ref.folder, ref.name = name[:-3], stage, None, folder, name
        return ref

    @property
    def path(self) -> Path:
        found = self._path
        if found is None:
            found = self._path = Path(self.folder, self.name)
        return found

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DealRef):
            return NotImplemented
        return (self.id, self.stage, self.path) == (other.id, other.stage, other.path)

    def __hash__(self) -> int:
        return hash((self.id, self.stage, self.path))

    def __repr__(self) -> str:
        return f"DealRef(id={self.id!r}, stage={self.stage!r}, path={self.path!r})"


@dataclass
class LoadResult:
    """Deals that parsed, and the files that did not (as DealErrors with their line)."""

    deals: list[Deal] = field(default_factory=list)
    errors: list[DealError] = field(default_factory=list)

    @classmethod
    def of(cls, items: Iterable[Deal | DealError]) -> LoadResult:
        """The deals and the errors of a reader's items, each in its order."""
        result = cls()
        for item in items:
            if isinstance(item, DealError):
                result.errors.append(item)
            else:
                result.deals.append(item)
        return result


def find_root(start: Path) -> Path:
    """The nearest folder at or above `start` holding pipeline.yaml."""
    if not start.is_dir():
        raise UsageError(f"{start}: no such folder")
    start = start.resolve()
    for folder in (start, *start.parents):
        # any pipeline.yaml but a folder: a link or a FIFO under that name is this pipeline's
        # (load_config refuses it with its reason), not a reason to look further up
        config = folder / CONFIG_FILE
        if config.is_symlink() or (config.exists() and not config.is_dir()):
            return folder
    raise UsageError(
        f"no {CONFIG_FILE} in {start} or any parent folder: run `pipectl init` or pass -C DIR"
    )


class Pipeline:
    """A pipeline on disk: the folder with pipeline.yaml and its stage folders."""

    # the commit read instead of the disk (`asof.PipelineAt`, `--as-of`); None: the worktree
    at: str | None = None

    def __init__(self, root: Path, config: Config | None = None):
        self.root = root
        self.config = config if config is not None else load_config(root / CONFIG_FILE)
        git_root = find_git_root(root)
        self.git = GitRepo(git_root) if git_root else None
        # bytes of each deal read for editing, so a change can tell it was changed meanwhile
        self.read_for_edit: dict[Path, bytes] = {}
        self._real_paths: dict[Path, Path] = {}

    @classmethod
    def open(cls, start: Path | None = None) -> Pipeline:
        return cls(find_root(start or Path.cwd()))

    # --- reading --------------------------------------------------------------------------

    def stage_dir(self, stage: str) -> Path:
        return self.root / stage

    def deal_refs(self, stages: Sequence[str] | None = None) -> list[DealRef]:
        """Every `*.md` file in the given (default: all) stage folders, sorted by stage order.

        A stage folder that resolves outside the pipeline is not even listed: DealError."""
        refs: list[DealRef] = []
        for stage in stages if stages is not None else self.config.stage_names:
            folder = self.stage_dir(stage)
            if not self.inside(folder):
                raise DealError(OUTSIDE_FOLDER, self.display(folder))
            try:
                entries = list(os.scandir(folder))
            except (FileNotFoundError, NotADirectoryError):
                continue
            text = os.fspath(folder)
            for name in sorted(e.name for e in entries):
                if name.endswith(".md") and not name.startswith("."):
                    refs.append(DealRef.listed(stage, text, name))
        return refs

    def load(
        self, stages: Sequence[str] | None = None, relative: bool = False, seen: Seen | None = None
    ) -> LoadResult:
        """Every deal of the given (default: all) stages, through the parsed-deal cache.

        The one loader of deals for every reading command: the cache answers what it holds,
        the careful reader (`_read_bytes`) everything else, and a file or a stage folder that
        cannot be read becomes a DealError in the result, never an exception. Deal paths are
        as `display` shows them, or relative to the root when `relative`; `seen`: the stat
        keys a walk of the folders just took (`caches.deals.DealCache.read`).
        """
        names = list(stages) if stages is not None else list(self.config.stage_names)
        try:
            return self._load(names, relative, seen)
        except (OSError, DealError):
            pass
        # a stage folder that cannot be listed, or is refused, must not hide the others: go
        # one at a time
        result = LoadResult()
        for stage in names:
            where = Path(stage) if relative else self.display(self.stage_dir(stage))
            try:
                one = self._load([stage], relative)
            except OSError as exc:
                result.errors.append(DealError(f"cannot read folder: {exc.strerror}", where, 1))
                continue
            except DealError as exc:
                result.errors.append(DealError(exc.message, where, 1))
                continue
            result.deals.extend(one.deals)
            result.errors.extend(one.errors)
        return result

    def _load(self, stages: Sequence[str], relative: bool, seen: Seen | None = None) -> LoadResult:
        from pipectl.caches.deals import DealCache
        from pipectl.caches.framed import default_dir

        git_dir = self.git.git_dir() if self.git is not None else None
        cache = DealCache(default_dir(self.root, git_dir))
        show = (lambda p: p.relative_to(self.root)) if relative else self.display

        def careful(ref: DealRef) -> Deal:
            try:
                return parse_deal(self._read_bytes(ref.path), show(ref.path), ref.stage)
            except DealError as exc:
                if not relative:
                    raise
                raise DealError(exc.message, show(ref.path), exc.line or 1) from None

        return LoadResult.of(cache.read(self.deal_refs(stages), show, careful, seen))

    def read_deal(self, ref: DealRef) -> Deal:
        return parse_deal(self._read_bytes(ref.path), self.display(ref.path), ref.stage)

    def read_text(self, ref: DealRef) -> DealText:
        data = self._read_bytes(ref.path)
        self.read_for_edit[ref.path] = data
        return split(decode(data, self.display(ref.path)), self.display(ref.path))

    def read_bytes(self, ref: DealRef) -> bytes:
        """A deal file's exact bytes, with the same refusals as every read."""
        return self._read_bytes(ref.path)

    def _read_bytes(self, path: Path) -> bytes:
        """Never follows a link out of the pipeline, blocks on a FIFO or reads a device."""
        shown = self.display(path)
        if not self.inside(path.parent):
            raise DealError("is in a folder linked to outside the pipeline; not read", shown)
        if path.is_symlink() and not _inside(_real(path), self._real(self.root)):
            raise DealError("is a symbolic link to outside the pipeline; not read", shown)
        return read_regular(path, shown, follow=True)

    def inside(self, path: Path) -> bool:
        """Whether `path`, every link on its way followed, is in the pipeline's folder (each
        folder resolved once a command: an import reads thousands of files from a few)."""
        return _inside(self._real(path), self._real(self.root))

    def _real(self, path: Path) -> Path:
        found = self._real_paths.get(path)
        if found is None:
            found = self._real_paths[path] = _real(path)
        return found

    def exact(self, deal_id: str) -> list[DealRef]:
        """The files of a deal named exactly: one stat per stage, no folder listed (so changing
        commands cost the same in a pipeline of 50 deals or 100,000). [] for a non-id."""
        if not is_valid_id(deal_id):
            return []
        name = f"{deal_id}.md"
        found = ((s, self.stage_dir(s) / name) for s in self.config.stage_names)
        return [DealRef(deal_id, s, p) for s, p in found if os.path.lexists(p)]

    def resolve(self, ref: str) -> DealRef:
        """A deal by id or unique id prefix; unknown or ambiguous refs list candidates."""
        exact = self.exact(ref)
        refs = [] if exact else self.deal_refs()
        exact = exact or [r for r in refs if r.id == ref]
        if len(exact) > 1:
            places = ", ".join(str(self.display(r.path)) for r in exact)
            raise UsageError(f"deal id {ref!r} exists in more than one stage: {places}")
        if exact:
            return exact[0]
        matches = [r for r in refs if r.id.startswith(ref)] if ref else []
        if len(matches) == 1:
            return matches[0]
        if matches:
            names = ", ".join(r.id for r in matches[:10])
            more = f" and {len(matches) - 10} more" if len(matches) > 10 else ""
            raise UsageError(f"{ref!r} is ambiguous: {names}{more}")
        close = difflib.get_close_matches(ref, [r.id for r in refs], n=5, cutoff=0.6)
        hint = f"did you mean: {', '.join(close)}?" if close else "`pipectl list` shows the ids"
        raise UsageError(f"no deal {ref!r} in this pipeline; {hint}")

    def require_stage(self, name: str) -> str:
        if self.config.stage(name) is None:
            stages = ", ".join(self.config.stage_names)
            raise UsageError(f"unknown stage {name!r} (stages: {stages})")
        return name

    def display(self, path: Path) -> Path:
        """A path as users should read it: relative to the working directory when inside it."""
        cwd = Path.cwd().resolve()
        try:  # the file itself is not resolved: a link is shown where it is, not its target
            return (_real(path.parent) / path.name).relative_to(cwd)
        except ValueError:
            pass
        try:  # a folder linked out of the pipeline: shown where it is, too
            return Path(os.path.abspath(path)).relative_to(cwd)
        except ValueError:
            return path

    # --- changing -------------------------------------------------------------------------

    def lock_path(self) -> Path:
        """Inside the git dir (`git_dir` refuses a `.git` file naming any other folder), or
        outside git in the pipeline's own folder; `locking` opens it without following links."""
        if self.git is not None:
            return self.git.git_dir() / "pipectl.lock"
        return self._real(self.root) / ".pipectl.lock"

    @contextmanager
    def change(self, commit: bool = True) -> Iterator[Change[Pipeline]]:
        """A unit of work: locked, all-or-nothing, one commit."""
        from pipectl.writes import Change, RollbackError  # the write side needs the read side

        if commit and self.git is not None:
            unfinished = self.git.unfinished()
            if unfinished is not None:  # git's porcelain warns; pipectl refuses, nothing written
                raise GitError(f"not committing: {unfinished}; or pass --no-commit")
        with locking.hold(self.lock_path()):
            ch = Change(self, commit and self.git is not None)
            try:
                yield ch
                ch.finish()
            except BaseException as exc:
                left = ch.rollback()
                if left:  # say so loudly: exit 3 must never claim all was put back
                    raise RollbackError(exc, left, self.display) from exc
                raise


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _real(path: Path) -> Path:
    """`path` with every link followed; a loop stays as it is (the open then fails with ELOOP)
    rather than raising as `Path.resolve` does."""
    return Path(os.path.realpath(path))


def read_regular(
    path: Path, shown: Path, *, follow: bool, limit: int | None = None, kind: str = "deal file"
) -> bytes:
    """The bytes of a regular file of at most `limit` (MAX_DEAL_BYTES) bytes, or a DealError
    saying why not.

    Never blocks on a FIFO or reads a device (opened non-blocking, checked before any read);
    without `follow`, a link at the name itself is refused. Where the file may be (inside the
    pipeline) is for the caller to check.
    """
    limit = MAX_DEAL_BYTES if limit is None else limit  # read now: tests lower the cap
    flags = os.O_RDONLY | os.O_NONBLOCK | (0 if follow else getattr(os, "O_NOFOLLOW", 0))
    try:
        with open(os.open(path, flags), "rb") as f:
            info = os.fstat(f.fileno())
            if stat.S_ISDIR(info.st_mode):
                raise DealError(f"is a directory, not a {kind}", shown)
            if not stat.S_ISREG(info.st_mode):
                raise DealError("is not a regular file; not read", shown)
            data = read_capped(f, info.st_size, limit)
    except IsADirectoryError:
        raise DealError(f"is a directory, not a {kind}", shown) from None
    except OSError as exc:
        if exc.errno == errno.ELOOP and not follow:
            raise DealError("is a symbolic link; not read", shown) from None
        raise DealError(f"cannot read: {exc.strerror}", shown) from None
    if len(data) > limit:
        raise DealError(f"is larger than {limit >> 20} MB; not read", shown)
    return data
