"""Files and commits pipectl makes, read by the standard tools of their kind.

python-frontmatter (the usual reader of Markdown with YAML frontmatter) must see the same
fields as pipectl; GitPython must see one commit per change with pipectl's trailers.
"""

from __future__ import annotations

from pathlib import Path

import frontmatter
import git
from conftest import Cli

from pipectl.deal import parse_deal


def test_python_frontmatter_reads_what_pipectl_writes(cli: Cli, pipeline: Path):
    cli("add", "Acme Corp", "--company", "Acme", "--value", "12000", "--tag", "smb")
    cli("log", "acme", "call", "Discovery: needs, budget", "--outcome", "replied")
    cli("set", "acme", "qualification.budget=15k approved", "contact=Jane <jane@acme.example>")
    path = pipeline / "prospecting" / "acme-corp.md"
    post = frontmatter.loads(path.read_text(encoding="utf-8"))
    ours = parse_deal(path.read_bytes(), path, "prospecting")
    assert post.metadata == dict(ours.fields)
    assert post.content == "# Acme Corp"


def test_gitpython_sees_one_commit_per_change_with_trailers(cli: Cli, pipeline: Path):
    cli("add", "Acme Corp")
    cli("move", "acme", "qualifying")
    with git.Repo(pipeline) as repo:
        head = repo.head.commit
        assert head.summary == "move acme-corp: prospecting -> qualifying"
        assert "Pipectl-Action: move" in head.message
        assert "Pipectl-Deal: acme-corp" in head.message
        assert set(head.stats.files) == {"prospecting/acme-corp.md", "qualifying/acme-corp.md"}
        assert len(head.parents) == 1
        assert [c.summary.split(" ")[0] for c in repo.iter_commits()] == ["move", "add", "init"]
