"""SARIF that code scanning accepts (issue 18): every rule, PL000 included, with its
descriptions, help in text and Markdown and a `helpUri` to its section of docs/lint.md; the
tool with `informationUri` and `version`. Checked against the official 2.1.0 schema and by
sarif-multitool's SARIF and GitHub rules (scripts/install-dev installs it: missing, the test
fails)."""

from __future__ import annotations

import json
import re
import subprocess

import jsonschema
from conftest import DATA, REPO_ROOT, Cli

from pipectl.lint import RULES

EXAMPLE = REPO_ROOT / "example_pipeline"
MULTITOOL = REPO_ROOT / ".tools/npm/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool"


def _example_sarif() -> dict:
    r = Cli(EXAMPLE)("lint", "--today", "2026-11-27", "-f", "sarif")
    return json.loads(r.stdout)


def _slug(heading: str) -> str:
    """GitHub's heading anchor: lowercase, punctuation but - and _ dropped, spaces to -."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_every_rule_has_its_metadata_and_a_help_uri_to_an_existing_anchor():
    doc = _example_sarif()
    driver = doc["runs"][0]["tool"]["driver"]
    assert driver["informationUri"].startswith("https://") and driver["version"]
    rules = {d["id"]: d for d in driver["rules"]}
    assert set(rules) == {r.code for r in RULES} | {"PL000"}
    headings = re.findall(r"^### (.+)$", (REPO_ROOT / "docs/lint.md").read_text("utf-8"), re.M)
    anchors = {_slug(h) for h in headings}
    for code, d in rules.items():
        for key in ("shortDescription", "fullDescription"):
            assert d[key]["text"].strip(), (code, key)
        assert d["help"]["text"].strip() and d["help"]["markdown"].strip(), code
        uri, _, anchor = d["helpUri"].partition("#")
        assert uri.startswith(driver["informationUri"]) and uri.endswith("docs/lint.md")
        assert anchor in anchors, (code, anchor)


def test_sarif_validates_by_schema_and_by_sarif_multitool_with_githubs_rules(tmp_path):
    doc = _example_sarif()
    jsonschema.validate(doc, json.loads((DATA / "sarif-schema-2.1.0.json").read_text()))
    assert MULTITOOL.is_file(), "sarif-multitool is missing: run scripts/install-dev"
    sarif = tmp_path / "pipectl.sarif"
    sarif.write_text(json.dumps(doc), encoding="utf-8")
    out = tmp_path / "validation.sarif"
    run = subprocess.run(
        [
            str(MULTITOOL),
            "validate",
            "--rule-kind",
            "Sarif;Gh",
            "--level",
            "Error;Warning;Note",
            "-o",
            str(out),
            str(sarif),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    results = json.loads(out.read_text("utf-8"))["runs"][0]["results"]
    # a result without a level is a warning (SARIF 3.27.10)
    bad = [r for r in results if r.get("level", "warning") in ("error", "warning")]
    assert bad == [], [r["message"] for r in bad]
    assert json.loads(out.read_text("utf-8"))["runs"][0]["tool"]["driver"]["name"]
