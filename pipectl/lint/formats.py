"""Lint reports as text: the terminal format, JSON, GitHub annotations, GitLab Code Quality.

Takes a LintResult, returns strings (SARIF lives in sarif.py); printing is the CLI's job.
Colour only when the caller asks for it.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pipectl.jsonout import dumps
from pipectl.lint.model import Finding
from pipectl.lint.runner import LintResult
from pipectl.textsafe import json_for_log, visible

FORMATS = ("text", "json", "github", "gitlab", "sarif", "markdown")

_COLOURS = {"error": "\033[1;31m", "warning": "\033[33m", "info": "\033[36m"}
_BOLD, _RESET = "\033[1m", "\033[0m"


def path_from(result: LintResult, finding: Finding, base: Path | None) -> str:
    """The finding's path relative to `base` (posix); pipeline-relative when base is None."""
    if base is None:
        return finding.path
    folder, _, name = finding.path.rpartition("/")
    shown = _folder_from(result.root, folder, base)  # resolved once per folder, not per finding
    return f"{shown}/{name}" if shown not in ("", ".") else name


@functools.lru_cache(maxsize=256)
def _folder_from(root: Path, folder: str, base: Path) -> str:
    full = root / folder
    try:
        return full.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return Path(os.path.relpath(full, base)).as_posix()


def ci_base(result: LintResult) -> Path:
    """CI systems resolve paths from the repository root: the git work tree, else the root."""
    return result.git_root or result.root


def text(
    result: LintResult,
    cwd: Path,
    *,
    color: bool = False,
    statistics: bool = False,
    summary: bool = True,
) -> str:
    """`path:line:col: CODE message` per finding, then statistics and a summary line."""
    lines = []
    for f in result.findings:
        # file names and messages are user text: escaped, so none can forge a line
        where = f"{visible(path_from(result, f, cwd))}:{f.line}:{f.column}:"
        code = f.code
        if color:
            where = f"{_BOLD}{where}{_RESET}"
            code = f"{_COLOURS.get(f.severity, '')}{code}{_RESET}"
        lines.append(f"{where} {code} {visible(f.message)}")
    if statistics and result.findings:
        if lines:
            lines.append("")
        lines.extend(statistics_lines(result.findings))
    if summary:
        if lines:
            lines.append("")
        lines.append(summary_line(result))
    return "\n".join(lines) + "\n"


def statistics_lines(findings: Sequence[Finding]) -> list[str]:
    counts = Counter((f.code, f.name) for f in findings)
    width = max(len(str(n)) for n in counts.values())
    return [
        f"{n:>{width}}  {code}  {name}"
        for (code, name), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    ]


def _count(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else plural or word + 's'}"


def summary_line(result: LintResult) -> str:
    by = Counter(f.severity for f in result.findings)
    total = len(result.findings)
    deals = _count(result.deals_checked, "deal")
    if not total:
        return f"No problems found ({deals} checked)."
    parts = [_count(by["error"], "error"), _count(by["warning"], "warning")]
    if by["info"]:
        parts.append(f"{by['info']} info")
    return f"Found {_count(total, 'problem')} ({', '.join(parts)}) in {deals}."


def finding_json(f: Finding, path: str | None = None) -> dict[str, Any]:
    """One finding as JSON; the key set and order are a stable interface."""
    return {
        "code": f.code,
        "name": f.name,
        "severity": f.severity,
        "path": f.path if path is None else path,
        "line": f.line,
        "column": f.column,
        "message": f.message,
        "deal_id": f.deal_id,
    }


def json_report(result: LintResult) -> str:
    """A JSON list of findings; paths are relative to the pipeline root."""
    return json_for_log(dumps([finding_json(f) for f in result.findings]))


# --- GitHub Actions -------------------------------------------------------------------------

_GITHUB_LEVEL = {"error": "error", "warning": "warning", "info": "notice"}


def github_escape_data(value: str) -> str:
    """GitHub's own escapes for a workflow command (%, CR, LF, decoded back by the runner),
    then every other control character shown escaped, never obeyed by the log viewer."""
    return visible(value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A"))


def github_escape_property(value: str) -> str:
    return github_escape_data(value).replace(":", "%3A").replace(",", "%2C")


def github(result: LintResult) -> str:
    """Workflow commands (`::error file=…,line=…::message`) that annotate the diff."""
    base = ci_base(result)
    out = []
    for f in result.findings:
        props = ",".join(
            f"{k}={github_escape_property(str(v))}"
            for k, v in (
                ("file", path_from(result, f, base)),
                ("line", f.line),
                ("col", f.column),
                ("title", f"{f.code} {f.name}"),
            )
        )
        out.append(f"::{_GITHUB_LEVEL[f.severity]} {props}::{github_escape_data(f.message)}")
    return "".join(line + "\n" for line in out)


# --- fingerprints ---------------------------------------------------------------------------


def fingerprints(result: LintResult) -> list[str]:
    """One fingerprint per finding, in order: from what identifies it and survives time and
    edits elsewhere (rule, deal id or else file path, the field or value it is about), never
    its message (which counts days) nor its line; findings alike in all of that are told
    apart by their order among themselves, which is the file's order."""
    seen: Counter[str] = Counter()
    out = []
    for f in result.findings:
        key = "\0".join((f.code, f"deal:{f.deal_id}" if f.deal_id else f"path:{f.path}", f.anchor))
        seen[key] += 1
        out.append(hashlib.sha256(f"{key}\0{seen[key]}".encode()).hexdigest())
    return out


# --- GitLab Code Quality --------------------------------------------------------------------

_GITLAB_SEVERITY = {"error": "major", "warning": "minor", "info": "info"}


def gitlab(result: LintResult) -> str:
    """A GitLab Code Quality report; fingerprints are stable across runs and unique."""
    base = ci_base(result)
    issues = []
    for f, digest in zip(result.findings, fingerprints(result), strict=True):
        path = path_from(result, f, base)
        issues.append(
            {
                "type": "issue",
                "check_name": f.code,
                "description": f"{f.code} {f.name}: {f.message}",
                "categories": ["Bug Risk"],
                "severity": _GITLAB_SEVERITY[f.severity],
                "fingerprint": digest,
                "location": {"path": path, "lines": {"begin": f.line}},
                "engine_name": "pipectl",
            }
        )
    return json_for_log(dumps(issues))


# --- Markdown (a job summary, a merge request note) -----------------------------------------

_MD_MAX_ROWS = 200  # a job summary holds 1 MiB; past this, the table points at the log
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~&:])")


def md_text(value: str) -> str:
    """User text as inert Markdown on one line: control characters and line breaks escaped,
    every character Markdown or HTML would act on backslash-escaped, so a deal can make no
    link, image, tag or table cell of its own."""
    return _MD_SPECIAL.sub(r"\\\1", visible(" ".join(value.split(" "))))


def markdown(result: LintResult) -> str:
    """The findings by rule (a table of counts), then each finding, as GitHub Markdown."""
    base = ci_base(result)
    out = ["## pipectl lint", "", summary_line(result)]  # counts only: no user text
    if not result.findings:
        return "\n".join(out) + "\n"
    by_rule = Counter((f.code, f.name, f.severity) for f in result.findings)
    out += [
        "",
        "### Findings by rule",
        "",
        "| Rule | Name | Severity | Findings |",
        "|---|---|---|---|",
    ]
    for (code, name, severity), n in sorted(by_rule.items(), key=lambda kv: (-kv[1], kv[0])):
        out.append(f"| {code} | `{name}` | {severity} | {n} |")
    shown = result.findings[:_MD_MAX_ROWS]
    out += ["", "### Findings", "", "| File | Line | Rule | Message |", "|---|---|---|---|"]
    for f in shown:
        where = md_text(path_from(result, f, base))
        out.append(f"| {where} | {f.line} | {f.code} | {md_text(f.message)} |")
    if len(result.findings) > len(shown):
        out += ["", f"… and {len(result.findings) - len(shown)} more: see the job log."]
    return "\n".join(out) + "\n"
