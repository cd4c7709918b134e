"""Report formats: text, JSON (own schema), GitHub annotations, GitLab Code Quality, SARIF
(validated against the official 2.1.0 schema, copied into tests/data), and the CLI options."""

from __future__ import annotations

import json

import jsonschema
import pytest
from conftest import DATA, REPO_ROOT, Cli, make_repo
from lintlab import DROP, Lab, day, touch

from pipectl.lint import formats

DATA = DATA
EXAMPLE = REPO_ROOT / "example_pipeline"
TODAY = "2026-11-27"

FINDINGS_SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "additionalProperties": False,
        "required": [
            "code",
            "name",
            "severity",
            "path",
            "line",
            "column",
            "message",
            "deal_id",
        ],
        "properties": {
            "code": {"type": "string", "pattern": "^PL[0-9]{3}$"},
            "name": {"type": "string", "pattern": "^[a-z]+(-[a-z]+)*$"},
            "severity": {"enum": ["error", "warning", "info"]},
            "path": {"type": "string", "pattern": "^[^/].*"},
            "line": {"type": "integer", "minimum": 1},
            "column": {"type": "integer", "minimum": 1},
            "message": {"type": "string", "minLength": 1},
            "deal_id": {"type": ["string", "null"]},
        },
    },
}


@pytest.fixture
def sub(tmp_path):
    """A pipeline in a subfolder of a git repository, with a few findings."""
    repo = make_repo(tmp_path / "repo")
    lab = Lab(repo / "sales")
    lab.add("qualifying", "acme", value=DROP, owner="a,b: c%d")
    beta = {"touchpoints": [touch(-30)], "created": day(-40), "stage_entered": day(-40)}
    lab.add("closing", "beta", next_step="Call re: 50% off, now", **beta)
    return lab


def test_json_matches_its_schema_and_is_pipeline_relative():
    r = Cli(EXAMPLE)("lint", "--today", TODAY, "-f", "json")
    data = json.loads(r.stdout)
    jsonschema.validate(data, FINDINGS_SCHEMA)
    assert {"path": "closing/evergreen-foods.md", "line": 8, "code": "PL103"}.items() <= next(
        f for f in data if f["code"] == "PL103"
    ).items()


def test_sarif_validates_against_the_official_schema(sub):
    schema = json.loads((DATA / "sarif-schema-2.1.0.json").read_text())
    r = Cli(sub.root)("lint", "--today", TODAY, "-f", "sarif")
    doc = json.loads(r.stdout)
    jsonschema.validate(doc, schema)
    run = doc["runs"][0]
    ids = [d["id"] for d in run["tool"]["driver"]["rules"]]
    assert "PL301" in ids and "PL604" in ids
    uris = {
        res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for res in run["results"]
    }
    assert "sales/qualifying/acme.md" in uris  # relative to the git work tree
    for res in run["results"]:
        assert ids[res["ruleIndex"]] == res["ruleId"]


def test_sarif_of_the_example_validates_too():
    schema = json.loads((DATA / "sarif-schema-2.1.0.json").read_text())
    r = Cli(EXAMPLE)("lint", "--today", TODAY, "-f", "sarif")
    jsonschema.validate(json.loads(r.stdout), schema)


def test_github_escaping():
    assert formats.github_escape_data("50% off\r\nnow") == "50%25 off%0D%0Anow"
    assert formats.github_escape_property("a,b: c%") == "a%2Cb%3A c%25"


def test_github_annotations_and_full_text_report(sub, monkeypatch):
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    r = Cli(sub.root)("lint", "--today", TODAY)
    lines = r.stdout.splitlines()
    ann = [ln for ln in lines if ln.startswith("::")]
    assert any(
        ln.startswith("::warning file=sales/qualifying/acme.md,line=")
        and ",title=PL201 no-value::" in ln
        for ln in ann
    )
    assert any(ln.startswith("qualifying/acme.md:") for ln in lines) is False
    assert any("Found " in ln for ln in lines)  # the text report follows the annotations
    assert r.exit_code == 1


def test_github_annotation_message_escapes_newlines_and_percent(tmp_path):
    from pipectl.lint.model import Finding
    from pipectl.lint.runner import LintResult

    f = Finding("PL203", "no-next-step", "error", "a,b:c.md", 2, 1, "x%\ny", "d")
    result = LintResult((f,), tmp_path, None, (), 1, None)  # type: ignore[arg-type]
    assert formats.github(result) == (
        "::error file=a%2Cb%3Ac.md,line=2,col=1,title=PL203 no-next-step::x%25%0Ay\n"
    )


def test_gitlab_fingerprints_unique_and_stable(sub):
    r1 = json.loads(Cli(sub.root)("lint", "--today", TODAY, "-f", "gitlab").stdout)
    r2 = json.loads(Cli(sub.root)("lint", "--today", TODAY, "-f", "gitlab").stdout)
    prints = [i["fingerprint"] for i in r1]
    assert len(prints) == len(set(prints)) >= 3
    assert prints == [i["fingerprint"] for i in r2]
    assert all(i["location"]["path"].startswith("sales/") for i in r1)
    assert {i["severity"] for i in r1} <= {"info", "minor", "major", "critical", "blocker"}
    example = json.loads(Cli(EXAMPLE)("lint", "--today", TODAY, "-f", "gitlab").stdout)
    assert len({i["fingerprint"] for i in example}) == len(example)


def test_gitlab_identical_findings_still_get_distinct_fingerprints(tmp_path):
    from pipectl.lint.model import Finding
    from pipectl.lint.runner import LintResult

    f = Finding("PL603", "thin-funnel", "warning", "pipeline.yaml", 1, 1, "same", None)
    result = LintResult((f, f), tmp_path, None, (), 0, None)  # type: ignore[arg-type]
    issues = json.loads(formats.gitlab(result))
    assert issues[0]["fingerprint"] != issues[1]["fingerprint"]


def test_text_summary_statistics_colour_and_exit_options(sub, monkeypatch):
    cli = Cli(sub.root)
    r = cli("lint", "--today", TODAY, "--statistics")
    assert r.exit_code == 1
    assert "\033[" not in r.stdout
    assert "qualifying/acme.md:" in r.stdout
    assert any(
        ln.split()[1:3] == ["PL201", "no-value"]
        for ln in r.stdout.splitlines()
        if ln.strip()[:1].isdigit()
    )
    assert r.stdout.rstrip().splitlines()[-1].startswith("Found ")
    assert cli("lint", "--today", TODAY, "--exit-zero").exit_code == 0
    assert cli("lint", "--today", TODAY, "--fail-on", "error").exit_code == 0
    assert cli("lint", "--today", TODAY, "--select", "PL1").exit_code == 0
    r = cli("lint", "--today", TODAY, "--ignore", "PL2,PL3,PL4,PL5,PL6")
    assert r.exit_code == 0 and "No problems found" in r.stdout


def test_colour_only_on_a_tty_and_never_with_no_color(sub, monkeypatch):
    from lintlab import T

    from pipectl.lint.runner import run
    from pipectl.store import Pipeline

    result = run(Pipeline(sub.root), T)
    coloured = formats.text(result, sub.root, color=True)
    assert "\033[33mPL201\033[0m" in coloured
    monkeypatch.setenv("NO_COLOR", "1")
    assert "\033[" not in Cli(sub.root)("lint", "--today", TODAY).stdout


def test_output_file(sub, tmp_path):
    out = tmp_path / "report.sarif"
    r = Cli(sub.root)("lint", "--today", TODAY, "-f", "sarif", "-o", str(out))
    assert r.exit_code == 1
    assert json.loads(out.read_text())["version"] == "2.1.0"
    assert "Found " in r.stdout  # the text summary still goes to the log


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--format", "xml"], "--format: 'xml'"),
        (["--fail-on", "fatal"], "--fail-on: 'fatal'"),
        (["--select", "PL999"], "--select: no rule matches 'PL999'"),
        (["--today", "someday"], "--today: 'someday' is not a date"),
    ],
)
def test_usage_errors_exit_2(sub, args, needle):
    r = Cli(sub.root)("lint", *args)
    assert r.exit_code == 2
    assert needle in r.stderr and "Traceback" not in r.output
