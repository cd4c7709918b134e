"""action.yml, run as the runner runs a composite action (issue 18): each step's `run:`
under bash with its `env:`, the expressions it uses filled in, in a temporary pull request
(a branch off main that adds a deal), with a fake $GITHUB_STEP_SUMMARY and $GITHUB_OUTPUT."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import yaml
from conftest import REPO_ROOT, git, make_repo
from lintlab import Lab, day

ACTION = REPO_ROOT / "action.yml"
TODAY = "2026-11-27"


def _outputs(path: Path) -> dict[str, str]:
    return dict(ln.split("=", 1) for ln in path.read_text().splitlines() if "=" in ln)


def run_action(workspace: Path, tmp: Path, inputs: dict[str, str]) -> tuple[int, Path, dict]:
    """Every step with a `run:`, in order, as the runner would; the status of the last."""
    action = yaml.safe_load(ACTION.read_text("utf-8"))
    declared = action["inputs"]
    assert set(inputs) <= set(declared), set(inputs) - set(declared)
    values = {k: inputs.get(k, str(v.get("default", ""))) for k, v in declared.items()}
    values.setdefault("changes-base", "")
    if "${{" in values["changes-base"]:
        values["changes-base"] = ""  # github.base_ref: none outside a pull request
    summary, output = tmp / "summary.md", tmp / "output.txt"
    summary.write_text(""), output.write_text("")
    status = 0
    for step in action["runs"]["steps"]:
        if "run" not in step:
            assert step["uses"].startswith("github/codeql-action/upload-sarif@")
            continue
        assert step["shell"] == "bash"

        def expr(m: re.Match[str]) -> str:
            name = m.group(1).strip()
            if name == "github.action_path":
                return str(REPO_ROOT)
            if name.startswith("inputs."):
                return values[name.removeprefix("inputs.")]
            if name.startswith("steps.lint.outputs."):
                return _outputs(output).get(name.removeprefix("steps.lint.outputs."), "")
            raise AssertionError(f"an expression the test does not know: {name}")

        env = dict(os.environ, GITHUB_ACTIONS="true", GITHUB_STEP_SUMMARY=str(summary))
        env["GITHUB_OUTPUT"] = str(output)
        for k, v in step.get("env", {}).items():
            env[k] = re.sub(r"\$\{\{(.*?)\}\}", expr, str(v))
        proc = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
            cwd=workspace,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        status = proc.returncode
        step["log"] = proc.stdout + proc.stderr
        if status and step is not action["runs"]["steps"][-1]:
            raise AssertionError(f"step {step.get('name')} failed: {step['log']}")
    return status, summary, {"outputs": _outputs(output), "steps": action["runs"]["steps"]}


def _pull_request(tmp_path: Path) -> Path:
    repo = make_repo(tmp_path / "repo")
    for key, value in (("user.name", "Test"), ("user.email", "t@example.com")):
        git(repo, "config", key, value)
    lab = Lab(repo / "sales")
    lab.add("qualifying", "acme", owner="alice", title="Acme [click](https://evil.example)")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "pipeline")
    git(repo, "branch", "-M", "main")
    git(repo, "checkout", "-qb", "feature")
    lab.add("closing", "beta", value=None, touchpoints=[], created=day(-40))
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "beta")
    return repo


def test_the_action_annotates_summarises_and_fails_on_findings(tmp_path):
    repo = _pull_request(tmp_path)
    inputs = {"path": "sales", "today": TODAY, "changes-base": "main", "sarif": "true"}
    status, summary, ran = run_action(repo, tmp_path, inputs)
    assert status == 1  # the last step fails the job on findings, after the summary
    findings = json.loads(
        subprocess.run(
            ["pipectl", "-C", "sales", "lint", "--today", TODAY, "-f", "json"],
            cwd=repo,
            capture_output=True,
            text=True,
            check=False,
        ).stdout
    )
    out = ran["outputs"]
    assert out["exit-code"] == "1" and out["findings"] == str(len(findings)) != "0"
    assert (repo / out["sarif-file"]).is_file()
    md = summary.read_text("utf-8")
    counts: dict[str, int] = {}
    for f in findings:
        counts[f["code"]] = counts.get(f["code"], 0) + 1
    table = dict(re.findall(r"^\| (PL\d{3}) \| `[a-z-]+` \| \w+ \| (\d+) \|$", md, re.M))
    assert {k: int(v) for k, v in table.items()} == counts
    assert md.startswith("## pipectl lint\n") and "### Findings by rule" in md
    # the pull request's pipeline changes: the deal it added
    assert "\n## Pipeline changes main...HEAD " in md
    assert re.search(r"^\| [\d-]+ \| beta \| added \|", md, re.M)
    # user text cannot make a link or an image in the summary
    assert "](https://evil.example)" not in md
    # the lint step logged the annotations, one per finding
    log = next(s for s in ran["steps"] if s.get("id") == "lint")["log"]
    assert len(re.findall(r"^::(error|warning|notice) file=sales/", log, re.M)) == len(findings)


def test_a_clean_pipeline_passes_and_says_so(tmp_path):
    repo = make_repo(tmp_path / "repo")
    Lab(repo / "sales")
    status, summary, ran = run_action(repo, tmp_path, {"path": "sales", "select": "PL101, PL104"})
    assert status == 0 and ran["outputs"]["findings"] == "0"
    assert "No problems found" in summary.read_text("utf-8")
    assert "sarif-file" not in ran["outputs"]
