"""Where a key sits in YAML text, and when two YAML values are the same: one answer for all.

Edits, merges, imports, lint and error messages ask these questions; each is answered here
only, so they cannot disagree. It reads text and node trees that callers compose; it never
edits text, and imports nothing of pipectl but `yamlio`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Any

from pipectl import yamlio

# A top-level `key:` at the start of a line: plain, "double" or 'single' quoted. A line that
# starts with a blank, a dash or a hash never matches (list items, nested keys, comments).
# A plain key's group holds the blanks before its colon (callers strip it): no two quantifiers
# in a row that can match the same blank, so a long line of spaces costs its length, not its
# square (tests/robustness/test_bounded.py)
TOP_KEY_RE = re.compile(
    r"""^(?:"([^"\n]+)"[ \t]*|'([^'\n]+)'[ \t]*|([^\s#'"\-?:,\[\]{}&*!|>%@`][^:\n]*)):(?:[ \t]|$)"""
)

# First characters with which TOP_KEY_RE can never match: the cheap test before the regex.
_NEVER_KEY = frozenset(" \t\f\v#-?:,[]{}&*!|>%@`")


def key_lines(yaml_text: str, first_line: int = 1) -> dict[str, int]:
    """The line of each top-level key's first occurrence, found without parsing.

    Lines are numbered from `first_line` (a deal's frontmatter starts on its file's line 2).
    Runs for every deal on every lint run: one compiled regex per line, nothing more.
    """
    lines: dict[str, int] = {}
    for i, line in enumerate(yaml_text.splitlines()):
        if not line or line[0] in _NEVER_KEY:  # most lines of a deal are indented
            continue
        m = TOP_KEY_RE.match(line)
        if m:
            key = next(g for g in m.groups() if g is not None).strip()
            lines.setdefault(key, i + first_line)
    return lines


def line_of(text: str, keys: Sequence[str | int], first_line: int = 1) -> int | None:
    """The line of a key path such as ("rules", "PL101") or ("touchpoints", 2).

    A string follows a mapping key, an int a list item. When the path stops early the line
    of the deepest part found is given; None when not even the first is there, or the text
    is not YAML. Composes the whole text: call it when a line is about to be shown.
    """
    if not text:
        return None
    try:
        node = yamlio.compose(text)
    except yamlio.YAMLError:
        return None
    line: int | None = None
    for key in keys:
        value = getattr(node, "value", None)
        if not isinstance(value, list):
            break
        if isinstance(key, int):
            if key >= len(value) or isinstance(value[key], tuple):
                break
            node = value[key]
            line = node.start_mark.line + first_line
        else:
            match = next((kv for kv in value if isinstance(kv, tuple) and kv[0].value == key), None)
            if match is None:
                break
            line = match[0].start_mark.line + first_line
            node = match[1]
    return line


def item_line(yaml_text: str, key: str, index: int, count: int, first_line: int = 1) -> int | None:
    """The line of item `index` of the top-level block list `key`, found in the text.

    Composing the YAML in pure Python costs a millisecond per file; this scan costs
    microseconds. It answers only when it counts `count` items, the length of the parsed
    list, and None otherwise (a flow list, a list it cannot read line by line).
    """
    lines = yaml_text.splitlines()
    start = next((i for i, ln in enumerate(lines) if ln.startswith(f"{key}:")), None)
    if start is None or lines[start][len(key) + 1 :].strip():
        return None
    items: list[int] = []
    indent: int | None = None
    for i in range(start + 1, len(lines)):
        ln = lines[i]
        stripped = ln.lstrip(" ")
        if not stripped or stripped.startswith("#"):
            continue
        depth = len(ln) - len(stripped)
        if depth == 0 and not stripped.startswith("-"):
            break
        if stripped.startswith("- ") or stripped == "-":
            if indent is None:
                indent = depth
            if depth == indent:
                items.append(i)
    if len(items) != count or not 0 <= index < len(items):
        return None
    return items[index] + first_line


# --- node trees, composed by the caller (PyYAML's nodes, with their marks) -----------------


def find_pair(mapping: Any, key: str) -> tuple[Any, Any] | None:
    """The (key node, value node) of `key` in a mapping node; None if it is not there."""
    for k, v in mapping.value:
        if k.id == "scalar" and k.value == key:
            return k, v
    return None


def line_end(s: str, index: int) -> int:
    """Index just past the line break of the line holding `index` (or the end of `s`)."""
    if index > 0 and s[index - 1] == "\n":
        return index
    nl = s.find("\n", index)
    return len(s) if nl == -1 else nl + 1


def content_end(s: str, node: Any) -> int:
    """Where a node's own text ends. A block collection's end mark sits at the next key, past
    the comments and blank lines in between, which belong to what follows."""
    block = node.id != "scalar" and not node.flow_style
    if block and node.value:
        last = node.value[-1]
        if isinstance(last, tuple):
            return max(content_end(s, last[1]), last[0].end_mark.index)
        return content_end(s, last)
    if node.id == "scalar" and node.style in ("|", ">"):
        # a block scalar's mark takes in trailing blank lines: stop at its last text
        start = node.start_mark.index
        return start + len(s[start : node.end_mark.index].rstrip())
    return int(node.end_mark.index)


def pair_range(yaml_text: str, root: Any, path: Sequence[str]) -> tuple[int, int] | None:
    """Character range of the lines holding `key: value` (nested one level at most).

    `root` is the text's composed mapping node, or None for a text without one. A pair that
    is absent gives an empty range where it would go: the end of its mapping. None when the
    pair shares its line with something else or sits in a flow mapping.
    """
    if root is None:
        return (len(yaml_text), len(yaml_text))
    node = root
    for depth, key in enumerate(path):
        found = find_pair(node, key)
        if found is None:
            if node is root:
                return (len(yaml_text), len(yaml_text))
            at = line_end(yaml_text, node.end_mark.index)
            return (at, at)
        knode, vnode = found
        if depth + 1 < len(path):
            if vnode.id != "mapping" or vnode.flow_style:
                return None
            node = vnode
            continue
        start = knode.start_mark.index - knode.start_mark.column
        if yaml_text[start : knode.start_mark.index].strip():
            return None  # the key shares its line with something else
        return (start, line_end(yaml_text, vnode.end_mark.index))
    return None


# --- values ---------------------------------------------------------------------------------


def same_value(a: Any, b: Any) -> bool:
    """Equal as YAML values: 1054 and 1054.0 alike, but not true and 1, nor a date and text."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, int | float) and isinstance(b, int | float):
        return isinstance(a, bool) == isinstance(b, bool) and a == b
    if isinstance(a, dt.datetime) != isinstance(b, dt.datetime):
        return False
    return type(a) is type(b) and bool(a == b)
