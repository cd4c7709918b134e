"""Rule documentation generated from the registry: `pipectl rule`, `rules --json`, README,
the rule reference in docs/lint.md (one section per rule, PL000 included, which SARIF's
`helpUri` links to).

`python -m pipectl.lint.docs` rewrites both generated sections in place; `--check` exits 1 if
one is out of date. Pure text functions, except that `main` writes README.md and docs/lint.md.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from pipectl.lint.model import INTERNAL_DOC, INTERNAL_ERROR, INTERNAL_SUMMARY, Option, Rule
from pipectl.lint.registry import RULES

BEGIN = "<!-- rules:begin"
END = "<!-- rules:end -->"
README = Path(__file__).resolve().parents[2] / "README.md"
LINT_MD = README.parent / "docs" / "lint.md"
REF_BEGIN = "<!-- rule-reference:begin"
REF_END = "<!-- rule-reference:end -->"


def reference_entries() -> list[tuple[str, str, str, str, str]]:
    """(code, name, severity, summary, doc) of every rule, then PL000."""
    code, name = INTERNAL_ERROR
    rows = [(r.code, r.name, r.severity, r.summary, r.doc) for r in RULES]
    return [*rows, (code, name, "error", INTERNAL_SUMMARY, INTERNAL_DOC)]


def reference_section() -> str:
    """The rule reference between docs/lint.md's markers: a heading per rule, its text."""
    by_code = {r.code: r for r in RULES}
    out: list[str] = []
    for code, name, severity, summary, doc in reference_entries():
        out += [f"### {code} {name}", "", f"*{severity}* — fires when {summary}.", "", doc]
        r = by_code.get(code)
        if r is not None and r.options:
            out += ["", "Settings: " + "; ".join(f"`{option_default(o)}`" for o in r.options)]
        out.append("")
    return "\n".join(out)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    if value == "":
        return '""'
    return str(value)


def option_default(opt: Option) -> str:
    text = f"{opt.key}: {_value(opt.default)}"
    if opt.stage_defaults:
        text += " (" + ", ".join(f"{s}: {_value(v)}" for s, v in opt.stage_defaults.items()) + ")"
    return text


def rule_json(r: Rule) -> dict[str, Any]:
    return {
        "code": r.code,
        "name": r.name,
        "severity": r.severity,
        "summary": r.summary,
        "scope": r.scope,
        "reads_git_history": r.history,
        "doc": r.doc,
        "options": [
            {
                "key": o.key,
                "kind": o.kind,
                "default": o.default,
                "stage_defaults": dict(o.stage_defaults),
                "per_stage": o.per_stage,
                "doc": o.doc,
            }
            for o in r.options
        ],
    }


def rule_text(r: Rule) -> str:
    """What `pipectl rule CODE` prints."""
    import textwrap

    lines = [f"{r.code} {r.name} ({r.severity})", "", f"Fires when {r.summary}.", ""]
    lines.extend(textwrap.wrap(r.doc, 88))
    lines.append("")
    lines.append("Settings (pipeline.yaml, under `rules:`):")
    lines.append(f"  severity: {r.severity}  (error, warning, info or off)")
    for o in r.options:
        scope = "per stage" if o.per_stage else "whole pipeline"
        lines.append(f"  {option_default(o)}  [{o.kind}, {scope}] {o.doc}")
    lines.append("")
    lines.append("Example:")
    lines.append("  rules:")
    example = [f"{o.key}: {_value(o.default)}" for o in r.options] or ["severity: warning"]
    lines.append(f"    {r.name}: {{{', '.join(example)}}}")
    per_stage = next((o for o in r.options if o.per_stage), None)
    if per_stage is not None:
        lines.append(f"    # per stage: {r.name}: {{stages: {{closing: {{{per_stage.key}: …}}}}}}")
    lines.append("Silence it on one deal, with a reason, in the deal's frontmatter:")
    lines.append(f"  lint-ignore: {{{r.code}: why this deal is an exception}}")
    return "\n".join(lines)


def readme_section() -> str:
    """The Markdown table between README's rules markers."""
    rows = [
        "| code | name | severity | fires when | settings (defaults) |",
        "|---|---|---|---|---|",
    ]
    for r in RULES:
        opts = "; ".join(f"`{option_default(o)}`" for o in r.options) or "—"
        summary = r.summary.replace("|", "\\|")
        rows.append(f"| {r.code} | `{r.name}` | {r.severity} | {summary} | {opts} |")
    intro = (
        "Every setting is one key away under `rules:` in `pipeline.yaml`, by rule name, with "
        "per-stage values under `stages:`; `severity: off` turns a rule off. "
        "`pipectl rule CODE` prints a rule's full doc."
    )
    return "\n".join([intro, "", *rows])


def _between(text: str, begin: str, end: str, section: str) -> str:
    start = text.index(begin)
    head_end = text.index("\n", start) + 1
    stop = text.index(end, head_end)
    return text[:head_end] + section + "\n" + text[stop:]


def render_readme(text: str) -> str:
    """README text with the rules section regenerated (markers kept as they are)."""
    return _between(text, BEGIN, END, readme_section())


def render_lint_md(text: str) -> str:
    """docs/lint.md with its rule reference regenerated (markers kept as they are)."""
    return _between(text, REF_BEGIN, REF_END, reference_section())


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    status = 0
    for path, render in ((README, render_readme), (LINT_MD, render_lint_md)):
        text = path.read_text(encoding="utf-8")
        new = render(text)
        if "--check" in args:
            if new != text:
                sys.stderr.write(
                    f"{path.name}: generated rules out of date: python -m pipectl.lint.docs\n"
                )
                status = 1
        elif new != text:
            path.write_text(new, encoding="utf-8")
    return status


if __name__ == "__main__":
    sys.exit(main())
