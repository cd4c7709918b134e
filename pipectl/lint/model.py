"""The values of lint: a Finding, a Rule with its documented options, and the @rule decorator.

Pure data and declarations; this module never reads files, runs git or prints.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

SEVERITIES = ("error", "warning", "info")
SEVERITY_RANK = {"info": 0, "warning": 1, "error": 2}


@dataclass(frozen=True, slots=True)  # slots: a lint of 100,000 deals holds 160,000 of these
class Finding:
    """One problem: where it is (pipeline-relative posix path, 1-based line/column) and what."""

    code: str
    name: str
    severity: str
    path: str
    line: int
    column: int
    message: str
    deal_id: str | None = None
    # what the finding is about, beyond its rule and deal, that survives time and edits
    # elsewhere in the file: a field's key, a nested value's key path; for fingerprints
    anchor: str = ""

    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.path, self.line, self.column, self.code, self.message)


@dataclass(frozen=True)
class Option:
    """A rule setting in pipeline.yaml: its key, type, default, per-stage defaults and meaning.

    `kind` is one of "int", "number", "bool", "str", "stage" (a stage name, or "" for the
    default), "words" (a list of words).
    """

    key: str
    kind: str
    default: Any
    doc: str
    stage_defaults: Mapping[str, Any] = field(default_factory=dict)
    per_stage: bool = True


# A check takes the run's `Context` (pipectl/lint/context.py, which is built on this module, so
# it cannot be named here without a cycle) and its own Rule; each rule types `ctx: Context`.
Check = Callable[[Any, "Rule"], Iterable[Finding]]


@dataclass(frozen=True)
class Rule:
    """A lint rule: code, kebab-case name, default severity, docs, options and its check.

    `scope` says which deals it reads: "all" stages or only "open" ones, so a run that selects
    only open-deal rules never reads the won and lost folders. `history` marks rules that may
    ask git when a file lacks a field (time in stage).
    """

    code: str
    name: str
    severity: str
    summary: str
    doc: str
    check: Check
    options: tuple[Option, ...] = ()
    scope: str = "open"
    history: bool = False

    def option(self, key: str) -> Option:
        for opt in self.options:
            if opt.key == key:
                return opt
        raise KeyError(f"{self.code} {self.name} has no setting {key!r}")


def rule(
    code: str,
    name: str,
    severity: str,
    summary: str,
    *,
    options: tuple[Option, ...] = (),
    scope: str = "open",
    history: bool = False,
) -> Callable[[Check], Rule]:
    """Turn a check function into a Rule; its docstring is the rule's doc paragraph."""

    def wrap(fn: Check) -> Rule:
        doc = " ".join((fn.__doc__ or "").split())
        return Rule(code, name, severity, summary, doc, fn, options, scope, history)

    return wrap


# Findings the runner itself makes; not rules a user selects, but documented with them.
INTERNAL_ERROR = ("PL000", "internal-error")
# PL000's documentation (docs/lint.md, SARIF), like a rule's
INTERNAL_SUMMARY = "a lint rule crashed; the other rules still ran"
INTERNAL_DOC = (
    "A bug in pipectl, never a problem in the pipeline: one rule raised an exception while "
    "checking it, so its findings are missing from this run. Every other rule still ran and "
    "reported. Please report it with the message (it names the rule and the exception), the "
    "command and `pipectl --version`; meanwhile `--ignore` the crashing rule to see the rest "
    "without this error."
)


def rule_anchor(code: str, name: str) -> str:
    """The anchor of a rule's section in docs/lint.md, as GitHub and most renderers make it
    from the heading `PL301 stale`."""
    return f"{code.lower()}-{name}"
