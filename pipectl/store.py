"""The Pipeline facade: find the root, list, resolve, read deals, and change them atomically.

Every change goes through `Pipeline.change()`: it holds the clone's lock, snapshots each file
before touching it, writes through temp-file-and-rename, and makes exactly one commit holding
only the touched paths. If anything fails, every file is put back as it was. `Change` is the
only builder of commit messages: nothing else formats one or decides what is safe in it.
"""

from __future__ import annotations

import difflib
import errno
import hashlib
import os
import re
import secrets
import stat
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipectl import locking, records, schema
from pipectl.config import CONFIG_FILE, Config, load_config
from pipectl.deal import Deal, DealText, decode, is_valid_id, parse_deal, parse_yaml, split
from pipectl.errors import DealError, GitError, PipectlError, UsageError
from pipectl.gitrepo import GitRepo, find_git_root
from pipectl.yamltext import key_lines, line_of

# A stage folder that is a link out of the pipeline: its files are neither listed nor read.
OUTSIDE_FOLDER = "is a stage folder linked to outside the pipeline; not read"

NO_GIT_WARNING = "not inside a git repository: changes are saved but there is no audit trail"

# A deal is a page of text; anything this big is refused rather than read into memory.
MAX_DEAL_BYTES = 32 << 20

# Commit subjects `shorten`ed to this many characters (log, next, set: free text from users).
SUBJECT_MAX = 100

# Runs of C0 and C1 control characters (line breaks among them) and Unicode's line and
# paragraph separators: in a commit message any could end a line early and forge a trailer.
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_TRAILER_KEY_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]*$")


@dataclass(frozen=True)
class DealRef:
    """Where a deal lives: its id, stage folder and file."""

    id: str
    stage: str
    path: Path


@dataclass
class LoadResult:
    """Deals that parsed, and the files that did not (as DealErrors with their line)."""

    deals: list[Deal] = field(default_factory=list)
    errors: list[DealError] = field(default_factory=list)


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
            for entry in sorted(entries, key=lambda e: e.name):
                if entry.name.endswith(".md") and not entry.name.startswith("."):
                    refs.append(DealRef(entry.name[:-3], stage, Path(entry.path)))
        return refs

    def load(self, stages: Sequence[str] | None = None, relative: bool = False) -> LoadResult:
        """Every deal of the given (default: all) stages, through the parsed-deal cache.

        The one loader of deals for every reading command: the cache answers what it holds,
        the careful reader (`_read_bytes`) everything else, and a file or a stage folder that
        cannot be read becomes a DealError in the result, never an exception. Deal paths are
        as `display` shows them, or relative to the root when `relative`.
        """
        names = list(stages) if stages is not None else list(self.config.stage_names)
        try:
            return self._load(names, relative)
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

    def _load(self, stages: Sequence[str], relative: bool) -> LoadResult:
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

        result = LoadResult()
        for item in cache.read(self.deal_refs(stages), show, careful):
            if isinstance(item, DealError):
                result.errors.append(item)
            else:
                result.deals.append(item)
        return result

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
    def change(self, commit: bool = True) -> Iterator[Change]:
        """A unit of work: locked, all-or-nothing, one commit."""
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


class Change:
    """The files one command touches, with their previous bytes, and its commit."""

    def __init__(self, pipeline: Pipeline, commit: bool):
        self.pipeline = pipeline
        self.commit = commit
        self.before: dict[Path, bytes | None] = {}
        self.created: list[Path] = []
        self.new_dirs: list[Path] = []
        self.staged: list[Path] = []  # untracked files this change staged, to unstage on failure
        self.message: str | None = None
        self.committed = False
        self._folders: dict[Path, Path] = {}
        # An import writes thousands of new files: one fsync each costs more than the import
        # (0.5-10 ms a file); it may turn this off and rely on git's own durability instead.
        self.sync = True
        # `--force`: a deal may be written without the fields its stage requires (lint keeps
        # flagging it); a value the schema refuses is never written
        self.force = False
        self._modes: dict[Path, int] = {}  # the mode a new file takes (a moved deal's own)
        # other pipelines of the same repository this change may write into (a deal moved
        # between pipelines, pipectl/crossing.py): their files are checked by their schema
        self.also: list[Pipeline] = []

    def _snapshot(self, path: Path) -> None:
        if path in self.before:
            return
        if path.is_symlink():
            raise DealError(
                "is a symbolic link; pipectl does not write through links",
                self.pipeline.display(path),
            )
        boundary = self._resolve(self.pipeline.root)  # as for reads: the pipeline, no further
        roots = [boundary, *(self._resolve(p.root) for p in self.also)]
        if not any(_inside(self._resolve(path.parent), r) for r in roots):
            raise DealError(
                f"is outside {boundary} (a folder on its way is a symbolic link); not written",
                self.pipeline.display(path),
            )
        try:
            self.before[path] = path.read_bytes()
        except FileNotFoundError:
            self.before[path] = None
            self.created.append(path)
        except OSError as exc:  # a stage name taken by a file, a directory named like a deal
            where = self.pipeline.display(path)
            raise DealError(f"cannot write: {exc.strerror or exc}", where) from None
        seen = self.pipeline.read_for_edit.get(path)
        if seen is not None and self.before[path] != seen:
            gone = self.before.pop(path) is None
            if gone:
                self.created.remove(path)
            what = "was deleted or moved" if gone else "was changed"
            raise DealError(
                f"{what} while pipectl was working on it; nothing written, run the command again",
                self.pipeline.display(path),
            )

    def _resolve(self, folder: Path) -> Path:
        """Each folder resolved once per change: an import writes thousands of files to a few."""
        found = self._folders.get(folder)
        if found is None:
            found = self._folders[folder] = folder.resolve()
        return found

    def write(
        self,
        path: Path,
        text: str | bytes,
        *,
        fields: Mapping[str, Any] | None = None,
        _moved_from: Path | None = None,
    ) -> None:
        """Write a file; a deal file is checked against the schema first (see `_check`).

        `fields`, when the caller has them, are the new frontmatter: not parsed again.
        """
        self._snapshot(path)
        self._check(path, text, fields, _moved_from)
        missing = [d for d in (path.parent, *path.parent.parents) if not d.exists()]
        self.new_dirs.extend(reversed(missing))
        try:
            data = text.encode("utf-8") if isinstance(text, str) else text
            _atomic_write(path, data, self.sync, self._modes.get(path))
        except OSError as exc:  # a full disk, a read-only file system: the change rolls back
            raise DealError(
                f"cannot write: {exc.strerror or exc}", self.pipeline.display(path)
            ) from None

    def create(self, path: Path, text: str) -> None:
        if path.exists() or path.is_symlink():
            raise UsageError(f"{self.pipeline.display(path)} already exists")
        self.write(path, text)

    def move(self, src: Path, dst: Path, text: str | bytes | None = None) -> None:
        """Move a deal file, optionally with new content, as one step to roll back."""
        if dst.exists() or dst.is_symlink():
            raise UsageError(f"{self.pipeline.display(dst)} already exists")
        self._snapshot(src)
        data = self.before[src] if text is None else text
        if data is None:
            raise DealError("disappeared while pipectl was working", self.pipeline.display(src))
        self._modes[dst] = src.stat().st_mode & 0o7777  # a 0600 deal stays 0600 where it goes
        self.write(dst, data, _moved_from=src)
        try:
            src.unlink()
        except OSError as exc:
            shown = self.pipeline.display(src)
            raise DealError(f"cannot move: {exc.strerror or exc}", shown) from None

    def delete(self, path: Path) -> None:
        """Remove a file as one step to roll back; the commit records its removal."""
        self._snapshot(path)
        shown = self.pipeline.display(path)
        if self.before[path] is None:
            raise DealError("disappeared while pipectl was working", shown)
        try:
            path.unlink()
        except OSError as exc:
            raise DealError(f"cannot delete: {exc.strerror or exc}", shown) from None

    def _check(
        self,
        path: Path,
        text: str | bytes,
        fields: Mapping[str, Any] | None,
        moved_from: Path | None,
    ) -> None:
        source = moved_from or path
        before = self.before.get(source)
        owner = next((p for p in self.also if _inside(path, p.root)), self.pipeline)
        check_write(owner, path, text, before, source, force=self.force, fields=fields)

    def set_message(
        self,
        subject: str,
        action: str,
        deals: str | Sequence[str] | None = None,
        *,
        body: Sequence[Sequence[str]] = (),
        trailers: Mapping[str, str] | None = None,
        shorten: bool = False,
    ) -> None:
        """The commit's message: subject, paragraphs of body lines, then the trailers.

        `Pipectl-Action`, one `Pipectl-Deal` per deal id, then `Pipectl-KEY` for each extra
        trailer. Every part is sanitised here (see `one_line`); `shorten` cuts the subject to
        SUBJECT_MAX characters. Empty body paragraphs are left out.
        """
        ids = [deals] if isinstance(deals, str) else list(deals or ())
        lines = [f"Pipectl-Action: {one_line(action)}"]
        lines += [f"Pipectl-Deal: {one_line(i)}" for i in ids if one_line(i)]
        for key, value in (trailers or {}).items():
            if not _TRAILER_KEY_RE.match(key):
                raise ValueError(f"not a trailer name: {key!r}")
            lines.append(f"Pipectl-{key}: {one_line(value)}")
        paragraphs = [
            "\n".join(_body_line(line) for line in paragraph) for paragraph in body if paragraph
        ]
        head = one_line(subject, SUBJECT_MAX if shorten else None)
        self.message = "\n\n".join([head, *paragraphs, "\n".join(lines)]) + "\n"

    @property
    def changed(self) -> bool:
        return any(_current(p) != b for p, b in self.before.items())

    def finish(self) -> None:
        git = self.pipeline.git
        if not self.commit or git is None or not self.changed:
            return
        paths = list(self.before)
        self._refuse_uncommitted(git)
        new = [p for p in self.created if p.exists()]
        git.add(new)
        try:
            git.commit_only(paths, self.message or "pipectl change\n")
        except GitError as exc:
            if "did not match any file" not in str(exc):
                raise
            # a path git does not know: a deal moved away from a path never committed (nothing
            # to record there), or a deal made by hand and not committed yet (it goes in)
            existing = [p for p in paths if p.exists()]
            self.staged = git.untracked(existing)
            git.add(self.staged)
            left = self._left_behind(git, self.staged)
            git.commit_only([*existing, *left], self.message or "pipectl change\n")
        self.committed = True

    def _left_behind(self, git: GitRepo, new: Sequence[Path]) -> list[Path]:
        """The old places of deals new to git here that a hand `mv` (or a move killed before
        its commit) took out of another stage folder: committed with them, so HEAD never
        holds one deal in two stages."""
        pipeline = self.pipeline
        names = {p.name for p in new if _stage_of(pipeline, p) is not None}
        if not names:
            return []
        folders = [pipeline.stage_dir(s) for s in pipeline.config.stage_names]
        committed = git.head_blobs(folders)  # from HEAD's tree: a folder gone from disk too
        found = []
        for stage in pipeline.config.stage_names:
            for name in names:
                old = pipeline.stage_dir(stage) / name
                if git.rel(old) in committed and not os.path.lexists(old) and old not in new:
                    found.append(old)
        return found

    def _refuse_uncommitted(self, git: GitRepo) -> None:
        """A deal whose file held changes not yet committed when pipectl read it would carry
        them into pipectl's commit under pipectl's name: refuse (the change rolls back). A deal
        never committed at all goes in, as before."""
        deals = [p for p, data in self.before.items() if data is not None and _is_deal(p)]
        if not deals:
            return
        committed = git.head_blobs([p.parent for p in deals])
        differ: list[tuple[Path, str, str, bytes]] = []
        for path in deals:
            rel = git.rel(path)
            oid = committed.get(rel)
            data = self.before[path]
            if oid is not None and data is not None and _blob_id(data, len(oid)) != oid:
                differ.append((path, rel, oid, data))
        if not differ:
            return
        # other bytes may still be the same blob: a CRLF checkout under core.autocrlf, a
        # clean filter; git says what it would store (for all of them at once)
        stored = git.stored_ids([(rel, data) for _, rel, _, data in differ])
        for path, rel, oid, _ in differ:
            if stored.get(rel) != oid:
                shown = self.pipeline.display(path)
                raise DealError(
                    "has changes not committed yet, which pipectl's commit would take as its "
                    f"own: commit them first (git commit -- {shown}), or run with --no-commit",
                    shown,
                )

    def rollback(self) -> list[tuple[Path, str]]:
        """Put every file back as it was, then check it is: the files that are not, each with
        why (a full disk, a read-only file system), for the caller to report."""
        if self.committed:
            return []
        why: dict[Path, str] = {}
        for path, data in reversed(list(self.before.items())):
            try:
                if data is None:
                    path.unlink(missing_ok=True)
                elif _current(path) != data:
                    _atomic_write(path, data)
            except OSError as exc:
                why[path] = exc.strerror or str(exc)
        for folder in reversed(self.new_dirs):
            with suppress(OSError):
                folder.rmdir()
        left = []
        for path, data in self.before.items():
            try:
                now = _current(path)
            except OSError as exc:
                now, why[path] = b"", exc.strerror or str(exc)
            if now != data:
                left.append((path, why.get(path, "not as it was")))
        if self.pipeline.git is not None and (self.created or self.staged):
            try:
                self.pipeline.git.unstage_new([*self.created, *self.staged])
            except PipectlError:
                left += [(p, "still staged in git's index") for p in self.created]
        return left


class RollbackError(GitError):
    """A change failed and some files could not be put back: which, why, and how to mend."""

    def __init__(self, cause: BaseException, left: Sequence[tuple[Path, str]], show: Any):
        parts = [f"{show(p)} ({why})" for p, why in left]
        names = " ".join(str(show(p)) for p, _ in left)
        super().__init__(
            f"{cause}; and the rollback could not put back: {', '.join(parts)}. Nothing was "
            f"committed; once there is room, `git checkout HEAD -- {names}` restores a committed "
            "file, and `git rm --cached` then delete a new one"
        )


def one_line(text: str, limit: int | None = None) -> str:
    """Text fit for one line of a commit message (a subject, a trailer's value).

    The one sanitiser of commit messages: control characters and line breaks become spaces,
    runs of white space one space, the ends are trimmed; over `limit`, the text is cut with `…`.
    """
    line = " ".join(_CONTROL_RE.sub(" ", text).split())
    return line if limit is None or len(line) <= limit else line[: limit - 1] + "…"


def _body_line(text: str) -> str:
    """A body line keeps its indent and spacing; each run of control characters is a space."""
    return _CONTROL_RE.sub(" ", text)


def check_write(
    pipeline: Pipeline,
    path: Path,
    text: str | bytes,
    before: bytes | None,
    source: Path | None = None,
    *,
    force: bool = False,
    fields: Mapping[str, Any] | None = None,
) -> None:
    """Refuse a deal write that brings in what the schema refuses (`schema.refusals`): the
    first problem, with the new text's line, as a DealError. `before` is the old bytes (None:
    a new file) at `source` (where the deal was, when it moves); `force` lets a deal lack what
    its stage requires. An account or contact file is checked by its kind (`records.py`).
    Other files pass."""
    stage = _stage_of(pipeline, path)
    if stage is None:
        _check_record(pipeline, path, text, source)
        return
    shown = pipeline.display(source or path)  # a refused move leaves the deal where it was
    data = text.encode("utf-8") if isinstance(text, str) else text
    new_text = split(decode(data, shown), shown)
    after = fields if fields is not None else parse_yaml(new_text, shown)
    old_stage = _stage_of(pipeline, source or path) or stage
    old = _fields_or_none(before)
    problems = schema.for_config(pipeline.config).refusals(old, after, stage, old_stage)
    if force:
        problems = [p for p in problems if not p.missing]
    if not problems:
        return
    first = problems[0]
    line = 1 if first.missing else _line_of(new_text, (first.key, *first.where))
    more = problems[1:]
    extra = f" (and {len(more)} more: {', '.join(p.key for p in more)})" if more else ""
    raise DealError(first.message + extra, shown, line)


def _check_record(pipeline: Pipeline, path: Path, text: str | bytes, source: Path | None) -> None:
    kind = records.kind_of_path(pipeline.root, path)
    if kind is None:
        return
    shown = pipeline.display(source or path)
    data = text.encode("utf-8") if isinstance(text, str) else text
    found = records.parse_record(data, shown, kind)
    for key, why in records.problems(kind, found.fields):
        raise DealError(why, shown, found.line_of(key))


def _is_deal(path: Path) -> bool:
    return path.suffix == ".md" and not path.name.startswith(".")


def _blob_id(data: bytes, size: int) -> str:
    """The id git gives these bytes as a blob (SHA-1, or SHA-256 in a repo that uses it)."""
    digest = hashlib.sha256() if size == 64 else hashlib.sha1()
    digest.update(b"blob %d\0" % len(data))
    digest.update(data)
    return digest.hexdigest()


def _stage_of(pipeline: Pipeline, path: Path) -> str | None:
    """The stage of a deal file's path; None for any other file."""
    if path.suffix != ".md" or path.parent.parent != pipeline.root:
        return None
    stage = path.parent.name
    return stage if pipeline.config.stage(stage) is not None else None


def _fields_or_none(data: bytes | None) -> Mapping[str, Any] | None:
    """The frontmatter of a file's old bytes; None for no file or one that does not parse
    (then every problem of the new text is its own)."""
    if data is None:
        return None
    try:
        return parse_yaml(split(decode(data)))
    except DealError:
        return None


def _line_of(text: DealText, keys: tuple[str | int, ...]) -> int:
    try:
        found = line_of(text.yaml, list(keys), text.yaml_first_line)
    except RecursionError:
        found = None
    if found is None and len(keys) > 1:
        found = key_lines(text.yaml, text.yaml_first_line).get(str(keys[0]))
    return found or 1


def _current(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


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
            data = f.read(limit + 1)
    except IsADirectoryError:
        raise DealError(f"is a directory, not a {kind}", shown) from None
    except OSError as exc:
        if exc.errno == errno.ELOOP and not follow:
            raise DealError("is a symbolic link; not read", shown) from None
        raise DealError(f"cannot read: {exc.strerror}", shown) from None
    if len(data) > limit:
        raise DealError(f"is larger than {limit >> 20} MB; not read", shown)
    return data


def _atomic_write(path: Path, data: bytes, sync: bool = True, mode: int | None = None) -> None:
    """Write beside the target, then rename over it: readers see old or new, never half.

    The temp file gets an unguessable name and is created exclusively, never through a link a
    repository might hold under that name; it reaches the disk before the rename (unless `sync`
    is off: see Change.sync).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.pipectl-{os.getpid()}-{secrets.token_hex(4)}.tmp")
    with suppress(FileNotFoundError):  # a new file: the mode asked for, else the umask's
        mode = path.stat().st_mode & 0o7777
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(tmp, flags, 0o666)
    try:
        with open(fd, "wb") as f:
            f.write(data)
            if sync:
                f.flush()
                os.fsync(f.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
