"""The write side of the store: `Change`, one command's all-or-nothing unit of work.

Every change goes through `Pipeline.change()` (store.py), which holds the clone's lock and
yields a `Change`: it snapshots each file before touching it, writes through
temp-file-and-rename, checks every deal it writes against the schema (`check_write`), and makes
exactly one commit holding only the touched paths. If anything fails, every file is put back as
it was. `Change` is the only builder of commit messages: nothing else formats one or decides
what is safe in it.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from collections.abc import Mapping, Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

from pipectl import records, schema
from pipectl.config import Config
from pipectl.deal import DealText, decode, parse_yaml, split
from pipectl.errors import DealError, GitError, PipectlError, UsageError
from pipectl.gitrepo import GitRepo
from pipectl.yamltext import key_lines, line_of


class Pipeline(Protocol):
    """What the write side needs of `store.Pipeline`, named here so that the read side hands
    out a Change (`Pipeline.change`) without this module importing it back: no import cycle,
    not even one for the type checker (tests/test_layers.py)."""

    root: Path
    config: Config
    git: GitRepo | None
    read_for_edit: dict[Path, bytes]

    def display(self, path: Path) -> Path: ...

    def stage_dir(self, stage: str) -> Path: ...


# the pipeline a Change was handed out by: its callers get back their own (store's) type
P = TypeVar("P", bound=Pipeline)

# Commit subjects `shorten`ed to this many characters (log, next, set: free text from users).
SUBJECT_MAX = 100

# Runs of C0 and C1 control characters (line breaks among them) and Unicode's line and
# paragraph separators: in a commit message any could end a line early and forge a trailer.
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_TRAILER_KEY_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]*$")


class Change(Generic[P]):
    """The files one command touches, with their previous bytes, and its commit."""

    def __init__(self, pipeline: P, commit: bool):
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
        if not any(_within(self._resolve(path.parent), r) for r in roots):
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
        owner = next((p for p in self.also if _within(path, p.root)), self.pipeline)
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


def _within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


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
