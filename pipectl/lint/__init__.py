"""pipectl lint: rules over a pipeline's deals, returning findings as data.

The public API other commands use. Importing this package stays cheap (no ruamel, git or
rich); it never prints.

    from pipectl import lint
    result = lint.run(pipeline, today, select=("PL305", "PL501"))
    for f in result.findings: ...            # Finding: code, name, severity, path, line, ...
    days = lint.setting(pipeline.config, "PL301", "days", stage="closing")
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pipectl.config import Config
from pipectl.deal import Deal
from pipectl.lint import settings
from pipectl.lint.model import SEVERITIES, Finding, Option, Rule
from pipectl.lint.registry import RULES, get_rule, select_rules
from pipectl.lint.rules_qualify import unanswered_run, unmet_criteria
from pipectl.lint.rules_time import days_overdue, last_activity
from pipectl.lint.runner import LintResult, run
from pipectl.lint.validation import ensure_valid, validate
from pipectl.schema import criterion_met
from pipectl.tasks import is_snoozed

__all__ = [
    "RULES",
    "SEVERITIES",
    "Finding",
    "LintResult",
    "Option",
    "Rule",
    "criterion_met",
    "days_overdue",
    "get_rule",
    "is_overdue",
    "last_activity",
    "run",
    "select_rules",
    "setting",
    "severity",
    "unanswered_run",
    "unmet_criteria",
    "validate",
]


def setting(config: Config, rule: Rule | str, key: str, stage: str | None = None) -> Any:
    """A rule's effective setting, by the rule or its code or name (see `settings.setting`);
    an unknown rule or key raises KeyError (a programming error, not a user's)."""
    found = rule if isinstance(rule, Rule) else get_rule(rule)
    return settings.setting(ensure_valid(config), found, key, stage)


def severity(config: Config, rule: Rule | str, stage: str | None = None) -> str:
    """A rule's severity for a stage (error, warning, info or "off"), by rule, code or name."""
    found = rule if isinstance(rule, Rule) else get_rule(rule)
    return settings.severity(ensure_valid(config), found, stage)


def is_overdue(config: Config, deal: Deal, today: dt.date) -> bool:
    """An open deal with a task PL303 calls overdue (its grace days for the stage counted;
    a snoozed deal is silent until it wakes)."""
    stage = config.stage(deal.stage)
    if stage is None or not stage.is_open or is_snoozed(deal, today):
        return False
    grace = setting(config, "PL303", "grace_days", deal.stage)
    return days_overdue(deal, today, grace) is not None
