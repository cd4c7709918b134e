"""docs/ci.md's examples work when copied (issue 18): every YAML block parses, the action
inputs it names exist in action.yml, the GitLab variables in the template, and each pinned
`@`/`rev:` is a commit of this repository holding the file it is used for."""

from __future__ import annotations

import re
import subprocess

import yaml
from conftest import REPO_ROOT

DOC = (REPO_ROOT / "docs" / "ci.md").read_text("utf-8")
BLOCKS = re.findall(r"^```yaml\n(.*?)^```", DOC, re.M | re.S)


def _walk(node):
    yield node
    if isinstance(node, dict):
        for v in node.values():
            yield from _walk(v)
    elif isinstance(node, list):
        for v in node:
            yield from _walk(v)


def _has(rev: str, path: str) -> bool:
    return (
        subprocess.run(
            ["git", "cat-file", "-e", f"{rev}:{path}"], cwd=REPO_ROOT, capture_output=True
        ).returncode
        == 0
    )


def test_every_yaml_example_parses():
    assert len(BLOCKS) >= 6
    for block in BLOCKS:
        assert yaml.safe_load(block) is not None, block


def test_the_action_examples_name_real_inputs_and_a_commit_that_holds_the_action():
    action = yaml.safe_load((REPO_ROOT / "action.yml").read_text("utf-8"))
    uses = [
        n
        for b in BLOCKS
        for n in _walk(yaml.safe_load(b))
        if isinstance(n, dict) and str(n.get("uses", "")).startswith("YOUR-ORG/pipectl@")
    ]
    assert len(uses) >= 3
    for step in uses:
        assert set(step.get("with", {})) <= set(action["inputs"]), step
        rev = step["uses"].split("@", 1)[1]
        assert re.fullmatch(r"[0-9a-f]{40}", rev) and _has(rev, "action.yml"), rev


def test_pre_commit_rev_and_gitlab_include_exist():
    revs = re.findall(r"^\s*rev: (\S+)$", DOC, re.M)
    assert revs
    for rev in revs:
        assert _has(rev, ".pre-commit-hooks.yaml"), rev
        hooks = yaml.safe_load(
            subprocess.run(
                ["git", "show", f"{rev}:.pre-commit-hooks.yaml"],
                cwd=REPO_ROOT,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
        named = set(re.findall(r"- id: (\S+)", DOC))
        assert named <= {h["id"] for h in hooks}
    template = yaml.safe_load((REPO_ROOT / "ci/pipectl-lint.gitlab-ci.yml").read_text("utf-8"))
    for b in BLOCKS:
        doc = yaml.safe_load(b)
        if isinstance(doc, dict) and "include" in doc:
            remote = doc["include"][0]["remote"]
            rev, path = re.search(r"/pipectl/([0-9a-f]{40})/(.+)$", remote).groups()
            assert _has(rev, path)
            assert set(doc["variables"]) <= set(template["variables"])
    for pinned in re.findall(r"git\+https://github\.com/YOUR-ORG/pipectl@([0-9a-f]+)", DOC):
        assert _has(pinned, "pyproject.toml")
    assert "rev: v0.1.0" not in DOC
