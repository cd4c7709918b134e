"""A whole-run result cache: `pipectl lint` run again on an unchanged pipeline replays its
findings instead of recomputing them.

Keyed on everything a run can read: the stat (mtime_ns, ctime_ns, size, inode, mode) of every
file and folder under the pipeline root (deals, pipeline.yaml, stray files), where git's HEAD
points (history-based rules), the code of pipectl itself, and the caller's own key (today,
the rules chosen). Any difference is a miss; a tree holding a file changed in the last few
seconds is never stored (see framed.RACY_WINDOW_NS). Stored beside the parsed-deal cache in
the framed format (pipectl/caches/framed.py); anything that does not check out is a miss.
Never trusted, never prints.
"""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipectl.caches import framed

if TYPE_CHECKING:
    from pipectl.caches.dealparse import StatKey

KIND = framed.Kind(b"PIPECTL-RESULTS\x00", 2)  # a new version for each new payload layout


class ResultCache:
    """One stored result per name (e.g. "lint") for one pipeline."""

    def __init__(self, directory: Path | None, name: str, root: Path, git_dir: Path | None):
        self.path = None if directory is None else directory / f"{name}.result"
        self.root = root
        self.git_dir = git_dir
        self._key: bytes | None = None
        self._racy = False
        self._listings: dict[str, list[Any]] = {}

    def key(self, extra: Any) -> bytes:
        """The digest of every input; computed once, before the run reads anything."""
        if self._key is None:
            start = time.time_ns()
            entries: list[Any] = []
            newest = _walk(str(self.root), entries, 0)
            entries.append(_git_state(self.git_dir))
            entries.append(code_state())
            entries.append(extra)
            self._racy = newest >= start - framed.RACY_WINDOW_NS
            self._key = framed.digest_of(entries)
            self._listings = {e[0]: e[1] for e in entries[:-3] if type(e[1]) is list}
        return self._key

    def seen(self, folder: str) -> dict[str, StatKey] | None:
        """What the key's walk saw of each plain file of `folder` (by name: mtime_ns,
        ctime_ns, size, inode), taken once: the loader that runs next need not `lstat` every
        deal file again (a twentieth of a cold lint). None for a folder it did not list."""
        listing = self._listings.pop(folder, None)
        if listing is None:
            return None
        return {
            e[0]: (e[2], e[3], e[4], e[5])
            for e in listing
            if len(e) == 6 and type(e[1]) is int and stat.S_ISREG(e[1])
        }

    def get(self, extra: Any) -> Any | None:
        """The stored result for exactly these inputs, or None."""
        if self.path is None:
            return None
        return framed.read(self.path, KIND, self.key(extra))

    def put(self, extra: Any, value: Any) -> None:
        """Store `value` (plain data) for these inputs, unless a file was too fresh to trust."""
        if self.path is None:  # nothing is kept: the walk of every file for the key is spared
            return
        key = self.key(extra)
        if self._racy:
            return
        framed.write(self.path, KIND, key, value)


def for_pipeline(root: Path, git_dir: Path | None, name: str) -> ResultCache:
    directory = None if os.environ.get(framed.DISABLE_ENV) else framed.default_dir(root, git_dir)
    return ResultCache(directory, name, root, git_dir)


def _key_of(st: os.stat_result) -> tuple[int, int, int, int, int]:
    return (st.st_mode, st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino)


def _name(entry: os.DirEntry[str]) -> str:
    return entry.name


def _walk(folder: str, out: list[Any], depth: int) -> int:
    """Append (folder, [(name, stat key)...]) for `folder` and every folder below it (hidden
    entries and `.git` aside: pipectl reads none); links also with their target's key.
    Returns the newest mtime or ctime seen."""
    try:
        with os.scandir(folder) as it:
            entries = sorted(it, key=_name)
    except OSError as exc:
        out.append((folder, exc.errno))
        return 0
    newest = 0
    listing: list[Any] = []
    out.append((folder, listing))
    below: list[str] = []
    for entry in entries:
        name = entry.name
        if name.startswith("."):
            continue
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError as exc:
            listing.append((name, exc.errno))
            continue
        mode = st.st_mode
        if stat.S_ISDIR(mode):  # its listing below says what changed; its times add nothing
            listing.append((name, mode, st.st_ino))
            if depth < 32:
                below.append(entry.path)
            continue
        mtime, ctime = st.st_mtime_ns, st.st_ctime_ns
        listing.append((name, mode, mtime, ctime, st.st_size, st.st_ino))
        newest = max(newest, mtime, ctime)
        if stat.S_ISLNK(mode):
            try:
                target = os.stat(entry.path)
            except OSError as exc:
                listing.append((name, "->", exc.errno))
                continue
            listing.append((name, "->", _key_of(target)))
            newest = max(newest, target.st_mtime_ns, target.st_ctime_ns)
            if stat.S_ISDIR(target.st_mode) and depth == 0:  # a linked stage folder
                below.append(entry.path)
    for path in below:
        newest = max(newest, _walk(path, out, depth + 1))
    return newest


def _git_state(git_dir: Path | None) -> Any:
    """Where HEAD points, read from files (no git process): history cannot change without it."""
    if git_dir is None:
        return None
    common = git_dir
    state: list[Any] = []
    try:
        text = (git_dir / "commondir").read_text().strip()
        common = (git_dir / text).resolve()
    except OSError:
        pass
    for name in ("HEAD", "shallow", "info/grafts"):
        state.append((name, _read(git_dir / name) if name == "HEAD" else _stat(common / name)))
    head = state[0][1]
    if isinstance(head, bytes) and head.startswith(b"ref: "):
        ref = head[5:].strip().decode("utf-8", "replace")
        state.append((ref, _read(common / ref)))
    state.append(("packed-refs", _stat(common / "packed-refs")))
    state.append(("replace", _stat(common / "refs" / "replace")))
    return state


def _read(path: Path) -> bytes | int:
    try:
        return path.read_bytes()
    except OSError as exc:
        return exc.errno or -1


def _stat(path: Path) -> Any:
    try:
        return _key_of(os.stat(path))
    except OSError as exc:
        return exc.errno


_CODE: list[Any] = []


def code_state() -> Any:
    """pipectl's own version and source files: a changed rule must not replay old findings."""
    if not _CODE:
        from pipectl.version import __version__

        package = Path(__file__).parents[1]  # all of pipectl, not only this folder
        files = sorted(str(p.relative_to(package)) for p in package.rglob("*.py"))
        _CODE.append((__version__, [(f, _stat(package / f)) for f in files]))
    return _CODE[0]
