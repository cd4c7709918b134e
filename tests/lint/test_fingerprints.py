"""Fingerprints (GitLab `fingerprint`, SARIF `partialFingerprints`) that survive time and
unrelated edits: the same finding keeps its fingerprint the next day, when its message's
day count changed, and after a touchpoint is added above its line (issue 18)."""

from __future__ import annotations

import json

from conftest import Cli, make_repo
from lintlab import T, day

# touchpoints first, so that one more moves every line below them
DEAL = """---
title: Acme
owner: alice
value: 1000
touchpoints:
{touchpoints}created: {created}
stage_entered: {created}
expected_close: {close}
next_step: Call
next_step_due: {due}
qualification: {{budget: ok, need: ok, fit: ok, timeline: ok}}
---
"""


def _touch(offset: int) -> str:
    return f"  - {{date: {day(offset)}, kind: call, summary: call {offset}, outcome: replied}}\n"


def _write(root, touch_days):
    text = DEAL.format(
        touchpoints="".join(_touch(d) for d in touch_days),
        created=day(-60),
        close=day(-3),  # a close date in the past: its message counts days
        due=day(-5),  # overdue: so does this one
    )
    (root / "closing").mkdir(parents=True, exist_ok=True)
    (root / "closing" / "acme.md").write_text(text, encoding="utf-8")


def _by_check(root, today, fmt="gitlab"):
    out = Cli(root)("lint", "--today", today.isoformat(), "-f", fmt).stdout
    if fmt == "gitlab":
        return {
            (i["check_name"], i["location"]["lines"]["begin"], i["description"]): i["fingerprint"]
            for i in json.loads(out)
        }
    run = json.loads(out)["runs"][0]
    return {
        (
            r["ruleId"],
            r["locations"][0]["physicalLocation"]["region"]["startLine"],
            r["message"]["text"],
        ): r["partialFingerprints"]["pipectlFinding/v2"]
        for r in run["results"]
    }


def _codes(found):
    return {code: fp for (code, _, _), fp in found.items()}


def test_a_finding_keeps_its_fingerprint_next_day_and_below_a_new_touchpoint(tmp_path):
    root = make_repo(tmp_path / "repo")
    (root / "pipeline.yaml").write_text("rules: {}\n", encoding="utf-8")
    _write(root, [-2])
    for fmt in ("gitlab", "sarif"):
        today = _by_check(root, T, fmt)
        tomorrow = _by_check(root, day(1), fmt)
        # the messages count days, so they differ; the fingerprints do not
        assert set(today) != set(tomorrow)
        watched = {"PL302", "PL303"}
        assert watched <= set(_codes(today))
        for code in watched:
            assert _codes(today)[code] == _codes(tomorrow)[code], (fmt, code)
    before = _by_check(root, T)
    _write(root, [-4, -2])  # a touchpoint added above both findings' lines
    after = _by_check(root, T)
    lines_before = {code: line for code, line, _ in before}
    lines_after = {code: line for code, line, _ in after}
    for code in ("PL302", "PL303"):
        assert lines_after[code] == lines_before[code] + 1
        assert _codes(after)[code] == _codes(before)[code]


def test_fingerprints_are_unique_and_identical_findings_are_told_apart(tmp_path):
    from pipectl.lint import formats
    from pipectl.lint.model import Finding
    from pipectl.lint.runner import LintResult

    same = Finding("PL603", "thin-funnel", "warning", "pipeline.yaml", 1, 1, "same", None)
    other_day = Finding("PL603", "thin-funnel", "warning", "pipeline.yaml", 9, 1, "other", None)
    result = LintResult((same, same), tmp_path, None, (), 0, T)
    a, b = formats.fingerprints(result)
    assert a != b
    # the first stays the first whatever its line and message say
    assert formats.fingerprints(LintResult((other_day,), tmp_path, None, (), 0, T)) == [a]
    # a deal's finding follows the deal id, not its file's folder (a move keeps it)
    moved = [
        Finding("PL301", "stale", "warning", f"{stage}/acme.md", 3, 1, "m", "acme", "touchpoints")
        for stage in ("qualifying", "closing")
    ]
    one, two = (formats.fingerprints(LintResult((f,), tmp_path, None, (), 1, T)) for f in moved)
    assert one == two
