"""Edit a deal's frontmatter changing only the bytes that must change.

Each edit rewrites just the text of the value it changes, located through the YAML node
marks, then re-parses and checks the result is exactly what was meant. Only when that check
fails does it fall back to a ruamel.yaml round-trip dump, checked the same way; if both fail
the edit is refused rather than risk a user's file.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping
from typing import Any

import yaml

from pipectl.deal import DealText, parse_yaml
from pipectl.errors import DealError
from pipectl.yamlemit import flow as flow  # re-exported: importers write with dealedit's
from pipectl.yamlemit import scalar as scalar
from pipectl.yamltext import content_end, find_pair, line_end, same_value

REMOVE = object()  # a sentinel value: delete the key


def set_fields(text: DealText, changes: Mapping[str, Any]) -> DealText:
    """Set (or with REMOVE, delete) keys; a dotted key sets inside a top-level mapping."""
    for key, value in changes.items():
        text = _checked(
            text,
            lambda d, k=key, v=value: _apply_set(d, k, v),
            lambda t, k=key, v=value: _text_set(t, k, v),
        )
    return text


def append_item(text: DealText, key: str, item: Mapping[str, Any]) -> DealText:
    """Append an entry to a top-level list (e.g. a touchpoint), adding only its line."""
    return _checked(
        text, lambda d: _apply_append(d, key, item), lambda t: _text_append(t, key, dict(item))
    )


def set_item_field(text: DealText, key: str, index: int, name: str, value: Any) -> DealText:
    """Set `name` in entry `index` of the top-level list `key` (a task's `done:`), adding or
    changing only that pair's text."""
    return _checked(
        text,
        lambda d: _apply_item(d, key, index, name, value),
        lambda t: _text_item(t, key, index, name, value),
    )


def new_deal_text(fields: Mapping[str, Any], body: str, newline: str = "\n") -> str:
    """The text of a new deal file, in pipectl's own tidy style."""
    lines = ["---"]
    for key, value in fields.items():
        if value is None:
            continue
        if isinstance(value, Mapping) and value:  # `{}` stays a mapping, not an empty key
            lines.append(f"{key}:")
            lines.extend(f"  {k}: {scalar(v)}" for k, v in value.items())
        elif isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
            lines.append(f"{key}:")
            lines.extend(f"  - {flow(v)}" for v in value)
        else:
            lines.append(f"{key}: {scalar(value)}")
    lines.append("---")
    return newline.join(lines) + newline + body


# --- the expected result, computed on plain data -------------------------------------------


def _apply_set(data: dict[str, Any], key: str, value: Any) -> None:
    parent, _, child = key.partition(".")
    if not child:
        if value is REMOVE:
            data.pop(key, None)
        else:
            data[key] = value
        return
    inner: Any = data.get(parent)
    if not isinstance(inner, dict):
        if value is REMOVE:
            return
        if inner not in (None, ""):  # the user's value is kept, never replaced by a mapping
            raise DealError(f"{parent} holds {_brief(inner)}, not a mapping: cannot set {key}")
        data[parent] = {}
        inner = data.get(parent)
    if value is REMOVE:
        inner.pop(child, None)
    else:
        inner[child] = value


def _apply_append(data: dict[str, Any], key: str, item: Mapping[str, Any]) -> None:
    items = data.get(key)
    if not isinstance(items, list):
        if items not in (None, ""):  # the user's value is kept, never replaced by a list
            raise DealError(f"{key} holds {_brief(items)}, not a list: cannot add to it")
        items = data[key] = []
    items.append(dict(item))


def _apply_item(data: dict[str, Any], key: str, index: int, name: str, value: Any) -> None:
    items = data.get(key)
    if not isinstance(items, list) or not 0 <= index < len(items):
        raise DealError(f"{key} has no entry {index + 1}")
    if not isinstance(items[index], dict):
        raise DealError(f"{key} entry {index + 1} is not a mapping: cannot set {name}")
    items[index][name] = value


def _brief(value: Any) -> str:
    text = scalar(value)
    return f"`{text}`" if len(text) <= 40 else f"`{text[:39]}…`"


def _checked(text: DealText, apply: Any, edit: Any) -> DealText:
    before = parse_yaml(text)
    expected = _unshared(before)  # an alias (`*q`) is its own copy: a change to it is only its
    apply(expected)
    if same_value(expected, before):
        return text
    try:
        candidate: DealText | None = text.with_yaml(edit(text))
    except _Refused as exc:
        line = text.yaml.count("\n", 0, exc.at) + text.yaml_first_line
        raise DealError(exc.message, line=line) from None
    except (_CannotEdit, yaml.YAMLError):  # the pure-Python composer is stricter than libyaml
        candidate = None
    if candidate is not None and parses_to(candidate, expected):
        return candidate
    fallback = text.with_yaml(_ruamel_edit(text, apply))
    if parses_to(fallback, expected) and _layout(text.yaml) <= _layout(fallback.yaml):
        return fallback
    raise DealError("cannot change this frontmatter safely; edit it by hand")


def _unshared(value: Any) -> Any:
    """A deep copy in which no two places share an object, as YAML aliases make them: the
    expected result of changing one place must not change its anchor too."""
    if isinstance(value, dict):
        return {k: _unshared(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unshared(v) for v in value]
    return value


def parses_to(text: DealText, expected: dict[str, Any]) -> bool:
    """Whether `text` reads back as exactly `expected` (same_value); unreadable is False."""
    try:
        return same_value(parse_yaml(text), expected)
    except DealError:
        return False


def _layout(yaml_text: str) -> Counter[str]:
    """Whole-line comments and blank lines: a dump that loses one is refused (data checks
    cannot see them)."""
    lines = (ln.strip() for ln in yaml_text.splitlines())
    return Counter(ln for ln in lines if not ln or ln.startswith("#"))


class _CannotEdit(Exception):
    """The text edit does not apply here; use the fallback."""


class _Refused(Exception):
    """No edit may be made: it would lose what the user wrote (at index `at` of the YAML)."""

    def __init__(self, message: str, at: int):
        super().__init__(message)
        self.message, self.at = message, at


# --- text edits located by node marks ------------------------------------------------------


def _compose(yaml_text: str) -> Any:
    node = yaml.compose(yaml_text, Loader=yaml.SafeLoader)
    if node is None:
        return None
    if not isinstance(node, yaml.MappingNode):
        raise _CannotEdit
    return node


def _replace_value(s: str, vnode: Any, new: str, key: str) -> str:
    start, end = vnode.start_mark.index, vnode.end_mark.index
    if isinstance(vnode, yaml.ScalarNode) and vnode.style in ("|", ">"):
        # the block's lines give way to one line; what follows the block stays as it was
        end = content_end(s, vnode)
        return s[:start] + new + s[end:]
    if (
        isinstance(vnode, yaml.ScalarNode)
        and vnode.value == ""
        and start == end
        and vnode.style is None
    ):
        # an empty value (`owner:`): the node sits right after the colon
        return s[:start] + " " + new + s[end:]
    if not isinstance(vnode, yaml.ScalarNode) and not vnode.flow_style:
        # `tags:` and its block of items give way to `tags: [z]`; what follows stays as it was
        if any(_marks_before(item, vnode) for item in _items(vnode)):
            raise _CannotEdit
        colon = s.rfind(":", 0, start)
        first, _, rest = s[colon + 1 : start].partition("\n")
        if colon == -1 or rest.strip() or (first.strip() and not first.strip().startswith("#")):
            raise _CannotEdit
        inside = _comment_inside(s, vnode)
        if inside is not None:  # one flow line cannot hold it, and no dump keeps it
            raise _Refused(f"{key}: has comments inside its block; edit it by hand", inside)
        comment = f"  {first.strip()}" if first.strip() else ""  # `tags:  # why` keeps its why
        return s[: colon + 1] + " " + new + comment + s[_block_end(s, vnode) :]
    return s[:start] + new + s[end:]


def _comment_inside(s: str, node: Any) -> int | None:
    """Where the first comment inside a block collection's text is (None: there is none).
    Every `#` outside the scalars' own text begins a comment: the scalars are masked first,
    so `- a#b` or `- "#1"` is no comment."""
    start, end = node.start_mark.index, _block_end(s, node)
    masked = list(s[start:end])
    todo = [node]
    while todo:
        n = todo.pop()
        if n.id == "scalar":
            for i in range(max(n.start_mark.index, start), min(n.end_mark.index, end)):
                masked[i - start] = " "
        else:
            todo.extend(_items(n))
    at = "".join(masked).find("#")
    return None if at == -1 else start + at


def _text_set(text: DealText, key: str, value: Any) -> str:
    s, nl = text.yaml, text.newline
    root = _compose(s)
    parent, _, child = key.partition(".")
    if root is None:
        if value is REMOVE:
            return s
        return s + _new_key_text(parent, {child: value} if child else value, nl)
    found = find_pair(root, parent)
    if not child:
        if found is None:
            if value is REMOVE:
                return s
            return _insert_top(s, root, _new_key_text(key, value, nl))
        knode, vnode = found
        if value is REMOVE:
            return _remove_pair(s, knode, vnode)
        return _replace_value(s, vnode, scalar(value), key)
    if found is None or (isinstance(found[1], yaml.ScalarNode) and found[1].value == ""):
        if value is REMOVE:
            return s
        new = _new_key_text(parent, {child: value}, nl)
        if found is None:
            return _insert_top(s, root, new)
        return _replace_pair(s, found[0], found[1], new)
    knode, vnode = found
    if not isinstance(vnode, yaml.MappingNode):
        raise _CannotEdit
    inner = find_pair(vnode, child)
    if inner is not None:
        if value is REMOVE:
            if vnode.flow_style:
                return _remove_flow_pair(s, vnode, inner[0])
            if len(vnode.value) == 1:  # the last one: keep an empty mapping, not a null
                return _replace_pair(s, knode, vnode, f"{parent}: {{}}{nl}")
            return _remove_pair(s, *inner)
        return _replace_value(s, inner[1], scalar(value), key)
    return s if value is REMOVE else _add_pair(s, vnode, child, value, nl)


def _add_pair(s: str, vnode: Any, child: str, value: Any, nl: str) -> str:
    """`child: value` added at the end of the mapping `vnode`, flow or block."""
    if vnode.flow_style:
        close = vnode.end_mark.index - 1
        if s[close : close + 1] != "}":
            raise _CannotEdit
        sep = ", " if vnode.value else ""
        return s[:close] + f"{sep}{child}: {scalar(value)}" + s[close:]
    if not vnode.value:
        raise _CannotEdit
    at = line_end(s, content_end(s, vnode))
    indent = " " * vnode.value[0][0].start_mark.column
    return s[:at] + f"{indent}{child}: {scalar(value)}{nl}" + s[at:]


def _text_item(text: DealText, key: str, index: int, name: str, value: Any) -> str:
    s = text.yaml
    found = find_pair(_compose(s), key)
    if found is None or not isinstance(found[1], yaml.SequenceNode):
        raise _CannotEdit
    items = found[1].value
    if not 0 <= index < len(items) or not isinstance(items[index], yaml.MappingNode):
        raise _CannotEdit
    inner = find_pair(items[index], name)
    if inner is not None:
        return _replace_value(s, inner[1], scalar(value), f"{key}.{name}")
    return _add_pair(s, items[index], name, value, text.newline)


def _new_key_text(key: str, value: Any, nl: str) -> str:
    if isinstance(value, Mapping):
        return f"{key}:{nl}" + "".join(f"  {k}: {scalar(v)}{nl}" for k, v in value.items())
    return f"{key}: {scalar(value)}{nl}"


def _insert_top(s: str, root: Any, new: str) -> str:
    """Insert a new top-level key before `touchpoints` (kept last by habit) or at the end."""
    found = find_pair(root, "touchpoints")
    if found is not None and found[0].start_mark.column == 0:
        at = found[0].start_mark.index
        return s[:at] + new + s[at:]
    if s and not s.endswith("\n"):
        raise _CannotEdit
    return s + new


def _remove_pair(s: str, knode: Any, vnode: Any) -> str:
    start = knode.start_mark.index - knode.start_mark.column
    end = line_end(s, content_end(s, vnode))
    return s[:start] + s[end:]


def _remove_flow_pair(s: str, mapping: Any, knode: Any) -> str:
    """Delete `key: value` and one neighbouring comma from a flow mapping, in place."""
    pairs = mapping.value
    i = next(j for j, (k, _v) in enumerate(pairs) if k is knode)
    if i + 1 < len(pairs):
        return s[: knode.start_mark.index] + s[pairs[i + 1][0].start_mark.index :]
    start = knode.start_mark.index
    if i > 0:  # the last pair goes with the comma before it (an empty value has no end of its own)
        comma = s.rfind(",", pairs[i - 1][0].end_mark.index, start)
        start = comma if comma != -1 else pairs[i - 1][1].end_mark.index
    return s[:start] + s[pairs[i][1].end_mark.index :]


def _replace_pair(s: str, knode: Any, vnode: Any, new: str) -> str:
    start = knode.start_mark.index - knode.start_mark.column
    end = line_end(s, content_end(s, vnode))
    if s[start:end].endswith("\r\n") != new.endswith("\r\n"):  # keep the line's own ending
        own = "\r\n" if s[start:end].endswith("\r\n") else "\n"
        new = new.replace("\r\n", "\n").replace("\n", own)
    return s[:start] + new + s[end:]


def _text_append(text: DealText, key: str, item: dict[str, Any]) -> str:
    s, nl = text.yaml, text.newline
    root = _compose(s)
    entry = flow(item)
    if root is None:
        return s + f"{key}:{nl}  - {entry}{nl}"
    found = find_pair(root, key)
    if found is None:
        return _insert_end(s, f"{key}:{nl}  - {entry}{nl}")
    knode, vnode = found
    if isinstance(vnode, yaml.ScalarNode) and vnode.value == "":
        return _replace_pair(s, knode, vnode, f"{key}:{nl}  - {entry}{nl}")
    if not isinstance(vnode, yaml.SequenceNode):
        raise _CannotEdit
    if vnode.flow_style:
        if not vnode.value:
            start = knode.start_mark.index - knode.start_mark.column
            end = line_end(s, vnode.end_mark.index)
            line = s[start:end]
            if "#" in line:  # `touchpoints: []  # none yet`: fill the brackets, keep the comment
                close = vnode.end_mark.index - 1
                return s[:close] + entry + s[close:]
            return s[:start] + f"{key}:{nl}  - {entry}{nl}" + s[end:]
        close = vnode.end_mark.index - 1
        return s[:close] + f", {entry}" + s[close:]
    at = line_end(s, _block_end(s, vnode))
    dash = vnode.start_mark.index
    line_start = s.rfind("\n", 0, dash) + 1
    if s[dash : dash + 1] != "-":
        raise _CannotEdit
    prefix = s[line_start:dash]
    if prefix.strip():
        raise _CannotEdit
    if at == len(s) and s and not s.endswith("\n"):
        raise _CannotEdit
    return s[:at] + f"{prefix}- {entry}{nl}" + s[at:]


def _block_end(s: str, node: Any) -> int:
    """Where a block collection's own text ends. Its last item's marks say so, unless an item
    is an alias (`- *tp`): then its marks are the anchor's, elsewhere in the text, and the end
    is found back from the collection's end mark, over the blank and comment lines there."""
    if not any(_marks_before(item, node) for item in _items(node)):
        return content_end(s, node)
    end = node.end_mark.index
    while True:
        start = s.rfind("\n", 0, max(end - 1, 0)) + 1
        line = s[start:end].strip()
        if start <= node.start_mark.index or (line and not line.startswith("#")):
            return start + len(s[start:end].rstrip())
        end = start


def _items(node: Any) -> list[Any]:
    return [v for pair in node.value for v in pair] if node.id == "mapping" else list(node.value)


def _marks_before(item: Any, node: Any) -> bool:
    return bool(item.start_mark.index < node.start_mark.index)


def _insert_end(s: str, new: str) -> str:
    if s and not s.endswith("\n"):
        raise _CannotEdit
    return s + new


# --- the fallback: a ruamel round-trip dump ------------------------------------------------


def _ruamel_edit(text: DealText, apply: Any) -> str:
    import io

    from ruamel.yaml import YAML

    rt = YAML(typ="rt")
    rt.preserve_quotes = True
    rt.width = 1 << 30
    try:
        # ruamel keeps a CR inside the comments it preserves: give it LF text, restore after
        doc = rt.load(text.yaml.replace("\r\n", "\n"))
    except Exception as exc:  # ruamel raises many kinds; any means "not safely editable"
        problem = " ".join(str(getattr(exc, "problem", None) or exc).split())
        message = f"cannot edit this frontmatter safely ({problem}); edit it by hand"
        raise DealError(message) from None
    if doc is None:
        doc = {}
    plain = _RuamelProxy(doc)
    apply(plain)
    out = io.StringIO()
    rt.dump(doc, out)
    result = out.getvalue()
    if text.newline != "\n":
        result = result.replace("\r\n", "\n").replace("\n", text.newline)
    return result


class _RuamelProxy(dict[Any, Any]):
    """Lets the plain-data `apply` functions act on a ruamel document."""

    def __init__(self, doc: Any):
        super().__init__()
        self._doc = doc

    def get(self, key: Any, default: Any = None) -> Any:
        value = self._doc.get(key, default)
        if isinstance(value, dict):
            return _RuamelProxy(value)
        return value

    def __setitem__(self, key: Any, value: Any) -> None:
        if isinstance(value, dt.datetime | dt.date) or not isinstance(value, dict):
            self._doc[key] = value
        else:
            self._doc[key] = dict(value)

    def __getitem__(self, key: Any) -> Any:
        return self.get(key)

    def pop(self, key: Any, default: Any = None) -> Any:
        return self._doc.pop(key, default)
