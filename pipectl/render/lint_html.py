"""The dashboard's lint card: the findings counted per rule, then the most severe one by one.

Takes lint's findings as plain dicts (`None`: lint could not run); prints nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from pipectl.render.htmltable import table
from pipectl.render.svg import e, empty

LINT_ROWS = 200  # findings listed one by one; the per-rule table counts them all


def lint_card(findings: Sequence[Mapping[str, Any]] | None) -> str:
    if findings is None:
        return empty("lint could not run: see `pipectl lint`")
    if not findings:
        return '<p class="sub">No findings: the pipeline keeps its own rules.</p>'
    order = {"error": 0, "warning": 1, "info": 2}
    counts = {s: sum(1 for f in findings if f["severity"] == s) for s in order}
    summary = ", ".join(f"{n:,} {s}{'s' if n != 1 else ''}" for s, n in counts.items() if n)
    per_rule = Counter((f["code"], f["name"]) for f in findings)
    rules = table(
        [("Code", False), ("Rule", False), ("Findings", True)],
        [
            [(e(code), code), (e(name), name), (e(f"{n:,}"), n)]
            for (code, name), n in sorted(per_rule.items(), key=lambda kv: (-kv[1], kv[0]))
        ],
        "lint-rules",
    )
    ranked = sorted(findings, key=lambda f: (order.get(f["severity"], 3), f["path"], f["line"]))
    shown = ranked[:LINT_ROWS]
    if len(ranked) > len(shown):  # a big pipeline's thousands would bury the page
        summary += f"; the {len(shown):,} most severe listed (`pipectl lint` lists all)"
    heads = [("Severity", False), ("Code", False), ("Where", False), ("Message", False)]
    rows = [
        [
            (
                f'<span class="sev-{e(f["severity"])}">{e(f["severity"])}</span>',
                order.get(f["severity"], 3),
            ),
            (f'{e(f["code"])} <span class="sub">{e(f["name"])}</span>', f["code"]),
            (e(f"{f['path']}:{f['line']}"), f"{f['path']}:{f['line']:08d}"),
            (e(f["message"]), None),
        ]
        for f in shown
    ]
    data = [{"code": f["code"], "deal": f.get("deal_id")} for f in shown]
    every = table(heads, rows, "lint", data)
    folded = (
        f"<details><summary>Every finding, the most severe first ({len(shown):,} shown)"
        f"</summary>{every}</details>"
    )
    return f'<p class="sub">{e(summary)}</p>{rules}{_worst_files(findings, order)}{folded}'


WORST_FILES = 20  # the files with the most severe findings, before the full list


def _worst_files(findings: Sequence[Mapping[str, Any]], order: Mapping[str, int]) -> str:
    """The files with the most errors (then warnings, then findings), one row each."""
    per: dict[str, list[int]] = {}
    for f in findings:
        counts = per.setdefault(f["path"], [0, 0, 0])
        counts[min(order.get(f["severity"], 2), 2)] += 1
    worst = sorted(per.items(), key=lambda kv: (-kv[1][0], -kv[1][1], -sum(kv[1]), kv[0]))
    heads = [("File", False), ("Errors", True), ("Warnings", True), ("Findings", True)]
    rows = [
        [
            (e(path), path),
            (e(f"{c[0]:,}"), c[0]),
            (e(f"{c[1]:,}"), c[1]),
            (e(f"{sum(c):,}"), sum(c)),
        ]
        for path, c in worst[:WORST_FILES]
    ]
    note = f"The worst files ({min(len(worst), WORST_FILES)} of {len(worst):,})"
    return f'<p class="sub">{e(note)}</p>' + table(heads, rows, "lint-files")
