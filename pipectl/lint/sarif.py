"""SARIF 2.1.0 output for code-scanning uploads: rule metadata from the registry, results.

Returns a JSON string; paths are relative to the git work tree (what code scanning resolves).
Never prints.
"""

from __future__ import annotations

import json
from typing import Any

from pipectl.lint.formats import ci_base, fingerprints, path_from
from pipectl.lint.model import INTERNAL_ERROR
from pipectl.lint.registry import RULES
from pipectl.lint.runner import LintResult
from pipectl.textsafe import json_for_log
from pipectl.version import __version__

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {"error": "error", "warning": "warning", "info": "note"}


def _rule_descriptors() -> list[dict[str, Any]]:
    out = []
    for r in RULES:
        out.append(
            {
                "id": r.code,
                "name": r.name,
                "shortDescription": {"text": r.summary},
                "fullDescription": {"text": r.doc},
                "help": {"text": f"{r.doc}\n\nSee `pipectl rule {r.code}`."},
                "defaultConfiguration": {"level": _LEVEL[r.severity]},
                "properties": {"tags": ["pipeline"]},
            }
        )
    code, name = INTERNAL_ERROR
    out.append(
        {
            "id": code,
            "name": name,
            "shortDescription": {"text": "a lint rule crashed; the other rules still ran"},
            "defaultConfiguration": {"level": "error"},
        }
    )
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
    return json_for_log(json.dumps(doc, indent=2, ensure_ascii=False))
