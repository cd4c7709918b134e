"""Completion and hover in a deal's frontmatter (and stages in pipeline.yaml), from the core.

Field names and their help from the schema, owners from the team roster, touchpoint kinds,
outcomes, criteria and stages from pipeline.yaml, rule codes and their docs from lint's
registry, relative dates turned into ISO dates by the one date parser. The text may be
half-typed YAML, so the place of the cursor is read from its lines, never by parsing.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from lsprotocol import types

from pipectl import dates, schema
from pipectl.config import CONFIG_FILE, Config, load_config
from pipectl.errors import PipectlError
from pipectl.lint import RULES, get_rule
from pipectl.lint.docs import rule_text
from pipectl.lsp.diagnostics import Place

# A key (letters, digits, _ and -, as field names are) and the start of its value, at the
# end of what is left of the cursor (block or flow); each pattern linear (no repeat that
# could match what its neighbour matches: tests/robustness/test_bounded.py)
_KEY = r"[\w][\w-]*"
_KEY_VALUE = re.compile(rf"(?<![\w-])({_KEY}): +([^,{{}}\[\]: ][^,{{}}\[\]:]*)?$")
_LINE_KEY = re.compile(rf"^( *)(?:- +)?(?:\{{ *)?({_KEY}):(?:\s|$)")
_FLOW_PARENT = re.compile(rf"^({_KEY}): *\{{(?:[^{{}}]*,)? *$")  # a top-level key's {
_WORD = re.compile(r"[\w+\-.]*$")
_CODE = re.compile(r"PL\d{3}")
# The relative dates offered as they are; any other the user types is turned too
DATE_WORDS = ("today", "tomorrow", "+3d", "+1w", "+2w", "+1m", "eow", "eom", "next week")
_TOUCH_KEYS = ("date", "kind", "summary", "outcome")


@dataclass(frozen=True)
class Cursor:
    """Where the cursor is in the frontmatter: the key being typed or valued, its parent."""

    line: int
    character: int
    parent: str | None  # the key of the block the line is in (None: the top level)
    key: str | None  # the key whose value is being typed (None: a key is being typed)
    word: str  # what is typed of the key or value, left of the cursor


def _config(where: Place) -> Config | None:
    try:
        return load_config(where.root / CONFIG_FILE)
    except PipectlError:
        return None


def _frontmatter_end(lines: Sequence[str]) -> int | None:
    """The index of the closing fence (len(lines) while it is unwritten); None: no fence."""
    if not lines or lines[0].lstrip("\ufeff").rstrip() != "---":
        return None
    for i in range(1, len(lines)):
        if lines[i].rstrip() in ("---", "..."):
            return i
    return len(lines)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _parent(lines: Sequence[str], row: int, start: int) -> str | None:
    """The key of the nearest line above `row` less indented than it (a list item's dash
    counts as the item's indentation)."""
    here = lines[row]
    depth = _indent(here) if here.strip() else len(here)
    for i in range(row - 1, start - 1, -1):
        line = lines[i]
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if _indent(line) < depth:
            m = _LINE_KEY.match(line)
            if m and not line.lstrip().startswith("-"):
                return m.group(2)
            depth = _indent(line)  # an item of a list: its list's key is further up
            if depth == 0:
                return None
    return None


def cursor(lines: Sequence[str], line: int, character: int, start: int = 1) -> Cursor | None:
    if line >= len(lines):
        return None
    prefix = lines[line][:character]
    parent = _parent(lines, line, start)
    m = _KEY_VALUE.search(prefix)
    if m:
        return Cursor(line, character, parent, m.group(1), m.group(2) or "")
    word = _WORD.search(prefix)
    typed = word.group(0) if word else ""
    before = prefix[: len(prefix) - len(typed)]
    flow = _FLOW_PARENT.match(before)
    if flow:  # `lint-ignore: {PL`: a key of that key's flow mapping
        return Cursor(line, character, flow.group(1), None, typed)
    before = before.strip()
    if before not in ("", "-", "{", "- {") and not before.endswith(","):
        return None  # inside a value that is no key's start: nothing to offer
    return Cursor(line, character, parent, None, typed)


def completions(
    where: Place, text: str, line: int, character: int, today: dt.date
) -> list[types.CompletionItem]:
    """What may be typed at (line, character), in code points."""
    config = _config(where)
    if config is None:
        return []
    lines = text.replace("\r\n", "\n").split("\n")
    if where.is_config:
        at = cursor(lines, line, character, 0)
        return _config_items(config, lines, at) if at is not None else []
    end = _frontmatter_end(lines)
    if end is None or not 0 < line < end:
        return []
    at = cursor(lines, line, character)
    if at is None:
        return []
    if at.key is None:
        return _key_items(config, lines[1:end], at)
    return _value_items(config, at, today)


def _key_items(config: Config, front: Sequence[str], at: Cursor) -> list[types.CompletionItem]:
    if at.parent is None:
        present = {m.group(2) for ln in front if (m := _LINE_KEY.match(ln)) and not m.group(1)}
        decls = schema.for_config(config).fields.values()
        return [
            _item(at, d.name, f"{d.name}: ", d.type, d.help, types.CompletionItemKind.Field)
            for d in decls
            if d.name not in present
        ]
    if at.parent == "qualification":
        return [
            _item(at, c, f"{c}: ", "criterion", _criterion_doc(config, c))
            for c in config.qualification_criteria
        ]
    if at.parent == "touchpoints":
        return [_item(at, k, f"{k}: ", "touchpoint") for k in _TOUCH_KEYS]
    if at.parent == "lint-ignore":
        return [_item(at, r.code, f"{r.code}: ", r.name, r.summary) for r in RULES]
    return []


def _value_items(config: Config, at: Cursor, today: dt.date) -> list[types.CompletionItem]:
    key, parent = at.key or "", at.parent
    value = types.CompletionItemKind.Value
    if parent == "touchpoints" or (parent is None and key in _TOUCH_KEYS[1:2] + _TOUCH_KEYS[3:]):
        if key == "kind":
            return [_item(at, k, k, "touchpoint kind", kind=value) for k in config.touchpoint_kinds]
        if key == "outcome":
            outs = config.touchpoint_outcomes
            return [_item(at, o, o, "outcome", kind=value) for o in outs]
        if key == "date":
            return _date_items(at, today)
        return []
    if parent == "tasks" and key == "due":
        return _date_items(at, today)
    if parent is not None:
        return []
    if key == "owner":
        return [
            _item(at, m.handle, m.handle, m.name or "team member", kind=value)
            for m in config.team
            if m.active
        ]
    decl = schema.for_config(config).fields.get(key)
    if decl is None:
        return []
    if decl.type == "date":
        return _date_items(at, today)
    if decl.type in ("enum", "list"):
        return [_item(at, v, v, decl.name, kind=value) for v in decl.values]
    if decl.type == "bool":
        return [_item(at, v, v, decl.name, kind=value) for v in ("true", "false")]
    return []


def _date_items(at: Cursor, today: dt.date) -> list[types.CompletionItem]:
    """Relative dates, each inserted as the ISO date it names today (dates.relative)."""
    words = list(DATE_WORDS)
    typed = at.word.strip()
    if typed and typed not in words:
        words.insert(0, typed)
    out = []
    for w in words:
        day = dates.relative(w, today)
        if day is None:
            continue
        iso = day.isoformat()
        out.append(_item(at, w, iso, iso, f"{w}: {iso}", types.CompletionItemKind.Value))
    return out


def _config_items(config: Config, lines: Sequence[str], at: Cursor) -> list[types.CompletionItem]:
    """Stages where pipeline.yaml expects one: `qualification: gate:`, and the keys of a
    rule's `stages:` or of `required_fields_by_stage:`."""
    gate = at.key == "gate" and at.parent == "qualification"
    section = at.key is None and at.parent in ("stages", "required_fields_by_stage")
    if not (gate or section) or (at.parent == "stages" and _indent(lines[at.line]) <= 2):
        return []  # the top-level `stages:` list defines the stages: it takes none
    suffix = "" if at.key else ": "
    kind = types.CompletionItemKind.EnumMember
    return [_item(at, s, s + suffix, "stage", kind=kind) for s in config.stage_names]


def _item(
    at: Cursor,
    label: str,
    insert: str,
    detail: str = "",
    doc: str = "",
    kind: types.CompletionItemKind = types.CompletionItemKind.Keyword,
) -> types.CompletionItem:
    """An item that replaces what is typed left of the cursor (code points)."""
    start = at.character - len(at.word)
    edit = types.TextEdit(
        range=types.Range(types.Position(at.line, start), types.Position(at.line, at.character)),
        new_text=insert,
    )
    return types.CompletionItem(
        label=label,
        kind=kind,
        detail=detail or None,
        documentation=types.MarkupContent(types.MarkupKind.Markdown, doc) if doc else None,
        filter_text=label,
        text_edit=edit,
    )


# --- hover ----------------------------------------------------------------------------------


def hover_text(where: Place, text: str, line: int, character: int) -> str | None:
    """The docs of the rule code, field name or criterion under the cursor, or of a rule named
    under pipeline.yaml's `rules:` (Markdown)."""
    lines = text.replace("\r\n", "\n").split("\n")
    if line >= len(lines):
        return None
    row = lines[line]
    for m in _CODE.finditer(row):
        if m.start() <= character <= m.end():
            try:
                return "```text\n" + rule_text(get_rule(m.group(0))) + "\n```"
            except KeyError:
                return None
    key = _LINE_KEY.match(row)
    if where.is_config:  # a rule's settings under `rules:`, by its name
        if key is None or not key.start(2) <= character <= key.end(2):
            return None
        if _parent(lines, line, 0) != "rules":
            return None
        try:
            return "```text\n" + rule_text(get_rule(key.group(2))) + "\n```"
        except KeyError:
            return None
    config = _config(where)
    if config is None or key is None or not key.start(2) <= character <= key.end(2):
        return None
    name = key.group(2)
    parent = _parent(lines, line, 1)
    if parent == "qualification":
        return _criterion_doc(config, name)
    if parent is not None or key.group(1):
        return None
    decl = schema.for_config(config).fields.get(name)
    if decl is None:
        return None
    values = f"\n\nOne of: {', '.join(f'`{v}`' for v in decl.values)}." if decl.values else ""
    return f"**{decl.name}** ({decl.type})\n\n{decl.help}{values}"


def _criterion_doc(config: Config, name: str) -> str:
    if name not in config.qualification_criteria:
        listed = _listing(config.qualification_criteria)
        return f"`{name}` is no qualification criterion of this pipeline ({listed})."
    gate = config.qualification_gate
    where = f" from stage `{gate}` on (PL401)" if gate else ""
    return (
        f"**{name}**: a qualification criterion (`qualification_criteria` in pipeline.yaml). "
        "Met when present and not false, no, empty or a placeholder (tbd, unknown, ?); "
        f"required to enter open stages{where}."
    )


def _listing(words: Iterable[str]) -> str:
    return ", ".join(words) or "none"
