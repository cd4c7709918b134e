"""pipectl lint: rules over a pipeline's deals, returning findings as data.

The public API other commands use. Importing this package stays cheap (no ruamel, git or
rich); it never prints.

    from pipectl import lint
    result = lint.run(pipeline, today, select=("PL305", "PL501"))
    for f in result.findings: ...            # Finding: code, name, severity, path, line, ...
    days = lint.setting(pipeline.config, "PL301", "days", stage="closing")
"""

from __future__ import annotations

from pipectl.lint.model import SEVERITIES, Finding, Option, Rule
from pipectl.lint.registry import RULES, get_rule, select_rules
from pipectl.lint.rules_qualify import criterion_met, unanswered_run, unmet_criteria
from pipectl.lint.rules_time import last_activity
from pipectl.lint.runner import LintResult, run
from pipectl.lint.settings import setting, severity

__all__ = [
    "RULES",
    "SEVERITIES",
    "Finding",
    "LintResult",
    "Option",
    "Rule",
    "criterion_met",
    "get_rule",
    "last_activity",
    "run",
    "select_rules",
    "setting",
    "severity",
    "unanswered_run",
    "unmet_criteria",
]
