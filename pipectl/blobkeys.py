"""Deal files as git stored them (blobs), cut into each top-level key's text: how history
tells which fields a commit changed, cheaply and without parsing YAML.

Reads blobs only through `git cat-file --batch` started by `gitrepo.GitRepo`; knows nothing of
commits or events. Never prints.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping

from pipectl.deal import decode, split
from pipectl.errors import DealError, GitError
from pipectl.gitpipes import Pipes
from pipectl.gitrepo import BOUNDED_PACK, GitRepo
from pipectl.yamltext import TOP_KEY_RE

Keys = dict[str, str]  # a top-level key (or "body") -> its text in the file
EMPTY: Keys = {"content": ""}  # key_chunks(b""): what a missing blob reads as
_NO_KEY = frozenset({"", " ", "\t", "-", "#"})


class KeyReader:
    """ONE `git cat-file --batch` asked for blobs as they become wanted, its answers cut into
    keys between the caller's other work (non-blocking pipes, no thread)."""

    def __init__(self, pipes: Pipes):
        self.pipes, self.sent, self.keys = pipes, set[str](), dict[str, Keys]()
        self.todo, self.rest, self.eof = bytearray(), b"", False

    def want(self, shas: Iterable[str]) -> None:
        """Ask for these blobs (each once, however often wanted); never waits."""
        new = set(shas) - self.sent
        self.todo += "".join(sha + "\n" for sha in new).encode("ascii", "replace")
        self.sent |= new
        with contextlib.suppress(BrokenPipeError):  # cat-file died: finish() says so
            self._pump()

    def _pump(self) -> None:
        """Write what cat-file takes now, read what it has answered; never waits."""
        if self.todo:
            del self.todo[: self.pipes.write(self.todo)]
        while not self.eof:
            data = self.pipes.read()
            if data is None:
                return
            self.eof = not data
            found, self.rest = _cut(self.rest + data)
            self.keys.update(found)

    def finish(self) -> Mapping[str, Keys]:
        """Wait for the last blob; every blob asked for that git still has, by its id."""
        pipes = self.pipes
        try:
            while not self.eof:
                if not self.todo and not pipes.input_closed:
                    pipes.close_input()  # all asked: cat-file stops once it has answered
                pipes.wait_ready(to_write=bool(self.todo))
                self._pump()
        except OSError as exc:  # cat-file went away
            raise GitError(f"git cat-file failed: {exc}") from None
        code = pipes.wait()
        if code != 0:
            raise GitError(f"git cat-file failed (exit status {code})")
        return self.keys


def read_keys(git: GitRepo, shas: Iterable[str]) -> dict[str, Keys]:
    """These blobs cut into keys, by their ids: those earlier runs cut from the key cache
    (pipectl/caches/keys.py), the rest read at once by ONE `git cat-file --batch`."""
    from pipectl.caches.keys import KeyCache

    try:
        cache = KeyCache(git.git_dir())
    except GitError:  # no git dir to keep a cache in: cut every blob, as ever
        cache = KeyCache(None)
    keys: dict[str, Keys] = {}
    missing = []
    for sha in sorted(set(shas)):
        found = cache.get(sha)
        if found is None:
            missing.append(sha)
        else:
            keys[sha] = found
    rest = b""
    if missing:
        for chunk in git.stream(
            [*BOUNDED_PACK, "cat-file", "--batch"], input_bytes="\n".join(missing).encode()
        ):
            cut, rest = _cut(rest + chunk)
            for sha, found in cut:
                keys[sha] = found
                cache.put(sha, found)
    cache.save()
    return keys


def _cut(data: bytes) -> tuple[list[tuple[str, Keys]], bytes]:
    """The whole blobs at the start of `data`, cut into keys, and the bytes after them."""
    found, pos = [], 0
    while (eol := data.find(b"\n", pos)) != -1:
        header = data[pos:eol].split(b" ")
        if len(header) != 3:  # "<sha> missing": gone from a shallow or partial clone
            pos = eol + 1
            continue
        end = eol + 1 + int(header[2])
        if end + 1 > len(data):
            break  # the blob's rest is in the next chunk
        found.append((header[0].decode(), key_chunks(data[eol + 1 : end])))
        pos = end + 1
    return found, data[pos:]


def key_chunks(data: bytes) -> Keys:
    """A deal file cut into its top-level keys' text, plus "body"; cheap, no YAML parsing."""
    try:
        text = split(decode(data))
    except DealError:
        return {"content": data.decode("utf-8", "replace")}
    lines = text.yaml.splitlines()
    # each top-level key's first line, in file order, as `yamltext.key_lines` finds them; a line
    # starting with a blank, a dash or a hash cannot hold one (the list of touchpoints)
    starts: list[tuple[int, str]] = []
    seen: set[str] = set()
    match = TOP_KEY_RE.match
    for i, line in enumerate(lines):
        if line[:1] in _NO_KEY:
            continue
        m = match(line)
        if m:
            key = next(g for g in m.groups() if g is not None).strip()
            if key not in seen:
                seen.add(key)
                starts.append((i, key))
    out: Keys = {}
    for i, (start, key) in enumerate(starts):
        end = starts[i + 1][0] if i + 1 < len(starts) else len(lines)
        out[key] = "\n".join(line.rstrip() for line in lines[start:end]).strip()
    out["body"] = text.body.strip()
    return out


def changed_keys(old: Mapping[str, str], new: Mapping[str, str]) -> tuple[str, ...]:
    """Keys added, removed or changed, in the new file's order, then removed ones."""
    changed = [k for k in new if old.get(k) != new[k]]
    changed += [k for k in old if k not in new]
    return tuple(changed)
