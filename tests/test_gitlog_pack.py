"""The history walk's git log keeps its pack windows and delta cache bounded (its resident set
followed the pack's size: 445 MB at 120,000 commits), and reads the same commits with them."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from pipectl import gitlog
from pipectl.gitrepo import GitRepo


def test_log_runs_git_with_bounded_pack_windows(
    pipeline: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    git = GitRepo(pipeline)
    plain = git.run(["rev-list", "HEAD"]).stdout.split()
    seen: list[list[str]] = []
    stream = GitRepo.stream

    def recording(self: GitRepo, args: Sequence[str], **kw: object) -> Iterator[bytes]:
        seen.append(list(args))
        return stream(self, args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(GitRepo, "stream", recording)
    walked = list(gitlog.log(git, "", ["HEAD"]))
    (args,) = seen
    before = args[: args.index("log")]
    pairs = {(before[i], before[i + 1]) for i in range(len(before) - 1)}
    for i in range(0, len(gitlog.BOUNDED_PACK), 2):
        assert tuple(gitlog.BOUNDED_PACK[i : i + 2]) in pairs
    assert [c.sha for c in walked] == plain != []
