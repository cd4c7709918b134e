"""The git processes that read much of the history (the walk's git log, the cat-file --batch
of blobs) keep their pack windows bounded (their resident set followed the pack's size: git
log 445 MB at 120,000 commits), and read the same with them."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from pipectl import blobkeys, gitlog
from pipectl.gitrepo import BOUNDED_PACK, GitRepo


def _recorded(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    seen: list[list[str]] = []
    stream = GitRepo.stream

    def recording(self: GitRepo, args: Sequence[str], **kw: object) -> Iterator[bytes]:
        seen.append(list(args))
        return stream(self, args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(GitRepo, "stream", recording)
    return seen


def _bounded(args: list[str], command: str) -> bool:
    before = args[: args.index(command)]
    pairs = {(before[i], before[i + 1]) for i in range(len(before) - 1)}
    return all(tuple(BOUNDED_PACK[i : i + 2]) in pairs for i in range(0, len(BOUNDED_PACK), 2))


def test_log_and_blob_reads_run_git_with_bounded_pack_windows(
    pipeline: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    git = GitRepo(pipeline)
    plain = git.run(["rev-list", "HEAD"]).stdout.split()
    blob = git.run(["rev-parse", "HEAD:pipeline.yaml"]).stdout.strip()
    monkeypatch.setenv("PIPECTL_NO_CACHE", "1")  # the blob read from git, not the keys cache
    seen = _recorded(monkeypatch)
    walked = list(gitlog.log(git, "", ["HEAD"]))
    keys = blobkeys.read_keys(git, {blob})
    log_args, cat_args = seen
    assert _bounded(log_args, "log") and _bounded(cat_args, "cat-file")
    assert [c.sha for c in walked] == plain != []
    assert keys[blob]  # pipeline.yaml cut into its keys
