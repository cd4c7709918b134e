"""SARIF 2.1.0 output for code-scanning uploads: rule metadata from the registry, results.

Returns a JSON string; paths are relative to the git work tree (what code scanning resolves).
Never prints.
"""

from __future__ import annotations

from typing import Any

from pipectl.jsonout import dumps
from pipectl.lint.formats import ci_base, fingerprints, path_from
from pipectl.lint.model import INTERNAL_DOC, INTERNAL_ERROR, INTERNAL_SUMMARY, rule_anchor
from pipectl.lint.registry import RULES
from pipectl.lint.runner import LintResult
from pipectl.textsafe import json_for_log
from pipectl.version import __version__

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
# pipectl's home, where code scanning links a rule's help. The project has no public remote
# yet: the same placeholder as docs/ci.md's install lines; set it when it is published.
INFORMATION_URI = "https://github.com/YOUR-ORG/pipectl"
_LEVEL = {"error": "error", "warning": "warning", "info": "note"}


def _entries() -> list[tuple[str, str, str, str, str]]:
    code, name = INTERNAL_ERROR
    rows = [(r.code, r.name, r.severity, r.summary, r.doc) for r in RULES]
    return [*rows, (code, name, "error", INTERNAL_SUMMARY, INTERNAL_DOC)]


def _rule_descriptors() -> list[dict[str, Any]]:
    by_code = {r.code: r for r in RULES}
    out = []
    for code, name, severity, summary, doc in _entries():
        uri = f"{INFORMATION_URI}/blob/main/docs/lint.md#{rule_anchor(code, name)}"
        r = by_code.get(code)
        see = f"`pipectl rule {code}` prints it with its settings."
        descriptor: dict[str, Any] = {
            "id": code,
            "name": name,
            "shortDescription": {"text": f"Fires when {summary}."},
            "fullDescription": {"text": doc},
            "help": {
                "text": f"{doc}\n\n{see} Reference: {uri}",
                "markdown": f"**{code} {name}**: fires when {summary}.\n\n{doc}\n\n{see} "
                f"[Reference]({uri})",
            },
            "helpUri": uri,
            "defaultConfiguration": {"level": _LEVEL[severity]},
            "properties": {"tags": ["pipeline"] if r is not None else ["pipectl"]},
        }
        out.append(descriptor)
    return out


def sarif(result: LintResult) -> str:
    rules = _rule_descriptors()
    index = {d["id"]: i for i, d in enumerate(rules)}
    base = ci_base(result)
    results = []
    for f, fingerprint in zip(result.findings, fingerprints(result), strict=True):
        path = path_from(result, f, base)
        results.append(
            {
                "ruleId": f.code,
                "ruleIndex": index[f.code],
                "level": _LEVEL[f.severity],
                "message": {"text": f.message},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {"uri": path, "uriBaseId": "%SRCROOT%"},
                            "region": {"startLine": f.line, "startColumn": f.column},
                        }
                    }
                ],
                "partialFingerprints": {"pipectlFinding/v2": fingerprint},
            }
        )
    doc = {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "pipectl",
                        "informationUri": INFORMATION_URI,
                        "version": __version__,
                        "semanticVersion": __version__,
                        "rules": rules,
                    }
                },
                "results": results,
                "columnKind": "unicodeCodePoints",
            }
        ],
    }
    return json_for_log(dumps(doc))
