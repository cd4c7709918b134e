"""`pipectl lint` end to end: config validation, rules/rule, README, start-up imports, git
history for time in stage, shallow clones, file arguments (pre-commit), and fuzzing."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml
from conftest import REPO_ROOT, Cli, git, make_repo
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lintlab import DROP, Lab, T, fields

from pipectl import lint
from pipectl.lint import docs

ROOT = REPO_ROOT
EXAMPLE = ROOT / "example_pipeline"
TODAY = "2026-11-27"
EXAMPLES = int(os.environ.get("PIPECTL_HYPOTHESIS_EXAMPLES", "100"))


# --- configuration errors -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "line", "needle"),
    [
        ("rules:\n  stael: {days: 3}\n", 2, "unknown rule 'stael'"),
        ("rules:\n  stale:\n    dayz: 3\n", 3, "unknown setting 'dayz' for stale"),
        ("rules:\n  stale:\n    days: soon\n", 3, "rules.stale.days: must be a whole number"),
        ("rules:\n  stale:\n    stages:\n      closng: {days: 3}\n", 4, "unknown stage 'closng'"),
        ("rules:\n  bottleneck:\n    stages: {closing: {min_open: 3}}\n", 3, "per stage"),
        ("rules:\n  PL301: {days: 3}\n  stale: {days: 4}\n", 3, "both configure PL301"),
        ("rules:\n  stale: {severity: loud}\n", 2, "severity: must be one of"),
        ("rules:\n  thin-funnel:\n    stage: leads\n", 3, "unknown stage 'leads'"),
    ],
)
def test_bad_rule_settings_exit_2_with_file_and_line(tmp_path, config, line, needle):
    lab = Lab(tmp_path / "p", config)
    lab.add("prospecting", "a")
    r = Cli(lab.root)("lint", "--today", TODAY)
    assert r.exit_code == 2, r.output
    assert f"pipeline.yaml:{line}: " in r.stderr
    assert needle in r.stderr
    assert "Traceback" not in r.output


def test_rule_settings_by_code_work_too(tmp_path):
    lab = Lab(tmp_path / "p", "rules:\n  PL301: {days: 100}\n")
    lab.add("qualifying", "a", touchpoints=DROP, stage_entered=T.replace(month=9))
    assert lab.codes("PL301") == []


# --- rules, rule, README --------------------------------------------------------------------


def test_rules_lists_every_rule_and_rule_prints_doc(tmp_path):
    cli = Cli(tmp_path)
    r = cli("rules")
    assert r.exit_code == 0
    for rule in lint.RULES:
        assert rule.code in r.stdout and rule.name in r.stdout
    r = cli("rule", "stale")
    assert r.exit_code == 0
    assert r.stdout.startswith("PL301 stale (warning)")
    assert "days: 14 (closing: 7)" in r.stdout
    assert cli("rule", "pl501").stdout.startswith("PL501 unanswered-outreach")
    r = cli("rule", "PL999")
    assert r.exit_code == 2 and "no rule 'PL999'" in r.stderr
    import json

    data = json.loads(cli("rules", "--json").stdout)
    assert [d["code"] for d in data] == [r.code for r in lint.RULES]


def test_readme_rule_reference_is_up_to_date():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert docs.render_readme(text) == text, "run: python -m pipectl.lint.docs"
    for rule in lint.RULES:
        assert f"| {rule.code} | `{rule.name}` |" in text


def test_commands_have_help(tmp_path):
    for command in ("lint", "rules", "rule"):
        r = Cli(tmp_path)(command, "--help")
        assert r.exit_code == 0
        assert "--help" in r.stdout
    r = Cli(tmp_path)("lint", "--help")
    for option in (
        "--format",
        "--select",
        "--ignore",
        "--fail-on",
        "--exit-zero",
        "--statistics",
        "--today",
        "--output",
    ):
        assert option in r.stdout


def test_lint_imports_no_heavy_modules():
    code = (
        "import sys, io, contextlib\n"
        "from pipectl.__main__ import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    rc = main(['-C', {str(EXAMPLE)!r}, 'lint', '--today', '{TODAY}'])\n"
        "heavy = [m for m in ('ruamel', 'ruamel.yaml', 'git', 'frontmatter', 'rich', 'jsonschema')"
        " if m in sys.modules]\n"
        "print(rc, heavy)\n"
    )
    env = {**os.environ, "PIPECTL_NO_CACHE": "1"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT
    )
    assert out.stdout.strip() == "1 []", out.stderr


# --- git history and shallow clones ---------------------------------------------------------


def _commit(repo: Path, message: str, date: str) -> None:
    stamp = f"{date}T12:00:00"
    env = {**os.environ, "GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp}
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    subprocess.run(["git", "commit", "-q", "-m", message], cwd=repo, check=True, env=env)


def test_time_in_stage_from_git_history_in_one_pass(tmp_path):
    repo = make_repo(tmp_path / "repo")
    lab = Lab(repo / "sales")
    lab.add("qualifying", "moved", stage_entered=DROP)
    lab.add("qualifying", "recent", stage_entered=DROP)
    _commit(repo, "add", "2026-08-01")
    (repo / "sales" / "connecting").mkdir()
    git(repo, "mv", "sales/qualifying/moved.md", "sales/connecting/moved.md")
    _commit(repo, "move", "2026-10-01")  # 57 days before T: stuck
    git(repo, "mv", "sales/qualifying/recent.md", "sales/connecting/recent.md")
    _commit(repo, "move", "2026-11-20")
    found = lab.findings("PL302")
    assert [(f.deal_id, f.severity) for f in found] == [("moved", "warning")]
    assert "57 days in connecting" in found[0].message
    lab.add("connecting", "uncommitted", stage_entered=DROP)
    (f,) = [f for f in lab.findings("PL302") if f.deal_id == "uncommitted"]
    assert f.severity == "info" and "no committed history" in f.message


def test_shallow_clone_lints_like_a_full_one(tmp_path):
    """The same findings as the full clone, except where only history can tell: there the
    full clone has git's answer and the shallow one says it cannot tell (a guess from the
    clone's oldest commit would differ from both)."""
    repo = make_repo(tmp_path / "origin")
    example = repo / "example_pipeline"
    shutil.copytree(EXAMPLE, example)
    (example / "prospecting" / "from-git.md").write_text(
        "---\ntitle: From git\nowner: alice\nvalue: 100\ncreated: 2026-07-01\n---\n"
    )
    _commit(repo, "one", "2026-08-01")
    git(repo, "mv", "example_pipeline/prospecting/from-git.md", "example_pipeline/qualifying/")
    _commit(repo, "move", "2026-10-01")  # 57 days before T, with no stage_entered
    (example / "README.md").write_text("# changed\n")
    _commit(repo, "two", "2026-11-01")
    shallow = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", f"file://{repo}", str(shallow)], check=True
    )
    assert git(shallow, "rev-parse", "--is-shallow-repository").strip() == "true"
    full = Cli(example)("lint", "--today", TODAY, "-f", "json")
    short = Cli(shallow / "example_pipeline")("lint", "--today", TODAY, "-f", "json")
    assert full.exit_code == short.exit_code == 1
    full_found, short_found = json.loads(full.stdout), json.loads(short.stdout)

    def from_git(found: list[dict]) -> list[dict]:
        return [f for f in found if (f["path"], f["code"]) == ("qualifying/from-git.md", "PL302")]

    (known,) = from_git(full_found)
    assert known["severity"] == "warning" and "57 days in qualifying" in known["message"]
    (unknown,) = from_git(short_found)
    assert unknown["severity"] == "info" and "shallow git clone" in unknown["message"]
    rest = [f for f in full_found if f != known]
    assert rest == [f for f in short_found if f != unknown] and len(rest) >= 10


def test_shallow_clone_says_it_cannot_tell_instead_of_guessing(tmp_path):
    repo = make_repo(tmp_path / "origin")
    lab = Lab(repo)
    lab.add("closing", "old", stage_entered=DROP)
    _commit(repo, "one", "2026-01-01")
    lab.add("closing", "other")
    _commit(repo, "two", "2026-11-26")
    shallow = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", f"file://{repo}", str(shallow)], check=True
    )
    (f,) = Lab(shallow, (shallow / "pipeline.yaml").read_text()).findings("PL302")
    assert f.severity == "info" and "shallow git clone" in f.message


# --- file arguments (pre-commit passes changed files) ---------------------------------------


def test_file_arguments_report_only_those_files(tmp_path):
    repo = make_repo(tmp_path / "repo")
    lab = Lab(repo / "sales")
    a = lab.add("qualifying", "a", owner=DROP)
    lab.add("qualifying", "b", owner=DROP)
    (repo / "README.md").write_text("# repo\n")
    cli = Cli(repo)
    r = cli("lint", "--today", TODAY, "--select", "PL202", str(a), "README.md")
    assert r.exit_code == 1
    assert "sales/qualifying/a.md" in r.stdout and "b.md" not in r.stdout
    r = cli("lint", "--today", TODAY, "--select", "PL202", "sales")
    assert "a.md" in r.stdout and "b.md" in r.stdout
    r = cli("lint", "--today", TODAY, "README.md")
    assert r.exit_code == 2 and "none of the given files" in r.stderr


# --- robustness -----------------------------------------------------------------------------

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=12),
    st.dates(),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=8,
)
_keys = st.sampled_from(
    [
        "title",
        "owner",
        "value",
        "probability",
        "created",
        "stage_entered",
        "expected_close",
        "next_step",
        "next_step_due",
        "closed",
        "lost_reason",
        "qualification",
        "tags",
        "touchpoints",
        "lint-ignore",
        "currency",
    ]
)


def _fuzz_lab() -> Lab:
    lab = Lab(Path(tempfile.mkdtemp(prefix="pipectl-fuzz-")) / "p", "quota: 1000\n")
    lab.add("prospecting", "neighbour")
    return lab


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.one_of(
        st.binary(max_size=400),
        st.text(max_size=300).map(lambda t: f"---\n{t}\n---\nbody\n".encode("utf-8", "replace")),
        st.binary(max_size=300).map(lambda b: b"\xef\xbb\xbf---\r\n" + b + b"\r\n---\r\n"),
    ),
    stage=st.sampled_from(["prospecting", "closing", "won"]),
)
def test_any_bytes_become_findings_never_an_exception(data, stage):
    lab = _fuzz_lab()
    try:
        lab.add(stage, "fuzz", data)
        for f in lab.findings():
            assert f.code != "PL000", f.message
            assert f.line >= 1
    finally:
        shutil.rmtree(lab.root.parent)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    over=st.dictionaries(_keys, _values, max_size=5),
    stage=st.sampled_from(["prospecting", "connecting", "closing", "lost"]),
)
def test_any_field_values_become_findings_never_a_crash(over, stage):
    lab = _fuzz_lab()
    try:
        text = "---\n" + yaml.safe_dump(fields(**over), sort_keys=False) + "---\n"
        lab.add(stage, "fuzz", text)
        for f in lab.findings():
            assert f.code != "PL000", f.message
    finally:
        shutil.rmtree(lab.root.parent)


# --- pre-commit hooks (the real framework run: scripts/check-pre-commit, docs/ci.md) -----------


def _hooks() -> dict[str, dict]:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    return {h["id"]: h for h in hooks}


def test_pre_commit_hooks_run_as_pre_commit_would(tmp_path, monkeypatch):
    import re
    import shlex

    from typer.testing import CliRunner

    from pipectl.cli import app

    hooks = _hooks()
    assert set(hooks) == {"pipectl-lint-structure", "pipectl-lint"}
    for hook in hooks.values():
        assert hook["language"] == "python" and hook["entry"].startswith("pipectl lint")
    repo = make_repo(tmp_path / "repo")
    shutil.copytree(EXAMPLE, repo, dirs_exist_ok=True)
    monkeypatch.chdir(repo)  # pre-commit runs hooks from the repository root

    def run(hook_id: str, *files: str):
        return CliRunner().invoke(app, [*shlex.split(hooks[hook_id]["entry"])[1:], *files])

    pattern = re.compile(hooks["pipectl-lint-structure"]["files"])
    changed = ["closing/northgate-insurance.md", "README.md", "pipeline.yaml", "notes.txt"]
    files = [f for f in changed if pattern.search(f)]
    assert files == ["closing/northgate-insurance.md", "README.md", "pipeline.yaml"]
    # stale deals elsewhere do not block a commit of a clean deal
    assert run("pipectl-lint-structure", *files[:2]).exit_code == 0
    r = run("pipectl-lint-structure", "closing/blue-harbor-marine.md")
    assert r.exit_code == 1 and "closing/blue-harbor-marine.md:9:1: PL101" in r.stdout
    r = run("pipectl-lint")
    assert r.exit_code == 1 and "PL604" in r.stdout


def test_pipectl_today_pins_now(tmp_path, monkeypatch):
    lab = Lab(tmp_path / "p")
    lab.add("qualifying", "a", next_step_due=T)
    cli = Cli(lab.root)
    monkeypatch.setenv("PIPECTL_TODAY", "2026-11-27")
    assert cli("lint", "--select", "PL303").exit_code == 0
    monkeypatch.setenv("PIPECTL_TODAY", "2026-11-28")
    assert "PL303" in cli("lint", "--select", "PL303").stdout
    monkeypatch.setenv("PIPECTL_TODAY", "someday")
    r = cli("lint")
    assert r.exit_code == 2 and "PIPECTL_TODAY: 'someday' is not a date" in r.stderr


def test_an_unreadable_stage_folder_is_a_finding_not_a_crash(tmp_path, monkeypatch):
    from pipectl.store import Pipeline

    lab = Lab(tmp_path / "p")
    lab.add("qualifying", "fine", owner=DROP)
    lab.add("closing", "hidden")
    real = Pipeline.deal_refs

    def refs(self, stages=None):
        if stages is None or "closing" in stages:
            raise PermissionError(13, "Permission denied")
        return real(self, stages)

    monkeypatch.setattr(Pipeline, "deal_refs", refs)
    found = lab.findings("PL101", "PL202")
    assert [(f.code, f.path) for f in found] == [
        ("PL101", "closing"),
        ("PL202", "qualifying/fine.md"),
    ]
    assert "cannot read folder: Permission denied" in found[0].message


def test_no_pipeline_is_exit_2(tmp_path):
    r = Cli(tmp_path)("lint")
    assert r.exit_code == 2 and "no pipeline.yaml" in r.stderr and "Traceback" not in r.output
