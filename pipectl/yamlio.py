"""Fast, safe YAML reading for read-only work: PyYAML's C loader when present.

Never constructs arbitrary objects (safe loader only) and reports duplicate keys, which
PyYAML would otherwise silently resolve to the last value.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import yaml

_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class DuplicateKeyError(yaml.MarkedYAMLError):
    """A mapping holds the same key twice."""


_MERGE = "tag:yaml.org,2002:merge"
_SCALARS = ("null", "bool", "int", "float", "binary", "timestamp", "str")


class _Loader(_Base):
    """Safe loader that refuses duplicate keys."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        # The composer asks this of every node without an explicit tag. With no path resolvers
        # (none is ever added) a plain scalar's tag depends only on its text, and any other
        # node's on its kind: one dict lookup instead of PyYAML's regex loop, about a seventh
        # of a deal's parse (keys, kinds, owners, dates repeat across a pipeline's files).
        if kind is _ScalarNode:
            if not implicit[0]:
                return _STR
            tag = _TAGS.get(value)
            if tag is None:
                tag = _resolve(self, kind, value, implicit)
                if len(value) <= _TAG_TEXT_MAX and len(_TAGS) < _TAGS_MAX:
                    _TAGS[value] = tag
            return tag
        return _MAP if kind is _MappingNode else _SEQ

    # what PyYAML's own do without path resolvers: nothing (called around every node)
    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        pass

    def ascend_resolver(self) -> None:
        pass

    def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
        if not isinstance(node, yaml.MappingNode):  # `!!set word`: the base class says why
            return super().construct_mapping(node, deep=deep)  # type: ignore[no-any-return,unused-ignore]
        pairs = node.value
        for key_node, _ in pairs:
            if key_node.tag == _MERGE:  # `<<: *base`: the base class merges, count the keys
                self._refuse_duplicates(node, deep)
                return super().construct_mapping(node, deep=deep)  # type: ignore[no-any-return,unused-ignore]
        # Without a merge every key is set once: fewer entries than pairs means a key came
        # twice (equal as dict keys: the same test a set makes), so keys are built only once.
        try:
            data = super().construct_mapping(node, deep=deep)
        except (yaml.YAMLError, *_VALUE_ERRORS):
            # a duplicate key before the bad entry is the error to report, as when keys
            # were checked first
            self._refuse_duplicates(node, deep)
            raise
        if len(data) != len(pairs):
            self._refuse_duplicates(node, deep)
        return data  # type: ignore[no-any-return,unused-ignore]

    def _refuse_duplicates(self, node: Any, deep: bool) -> None:
        """Raise DuplicateKeyError at the first repeated key, building keys in file order."""
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == _MERGE:  # `<<: *base`: the base class merges
                continue
            if key_node in self.recursive_objects:  # this key's own error is being raised
                return
            key = self.construct_object(key_node, deep=deep)
            try:
                dup = key in seen
                seen.add(key)
            except TypeError:  # an unhashable key (a `!!set`): the base class refuses it
                continue
            if dup:
                raise DuplicateKeyError(
                    "while constructing a mapping",
                    node.start_mark,
                    f"found duplicate key {key!r}",
                    key_node.start_mark,
                )


def _fitting(constructor: Any) -> Any:
    """A scalar constructor whose ValueError/KeyError (`!!bool maybe`, `!!int abc`) becomes a
    ConstructorError at the node, with the line."""

    def construct(loader: Any, node: Any) -> Any:
        try:
            return constructor(loader, node)
        except _VALUE_ERRORS:
            raise yaml.constructor.ConstructorError(
                None, None, f"{_what(node)} does not fit its tag {_tag(node.tag)}", node.start_mark
            ) from None

    return construct


# What PyYAML's constructors raise, besides YAMLError, on a value that does not fit its tag.
_VALUE_ERRORS = (ValueError, KeyError, TypeError, IndexError, OverflowError, AttributeError)


def _tag(tag: str) -> str:
    return "!!" + tag.removeprefix("tag:yaml.org,2002:") if tag.startswith("tag:yaml") else tag


def _what(node: Any) -> str:
    if isinstance(node, yaml.ScalarNode):
        text = node.value if len(node.value) <= 30 else node.value[:29] + "…"
        return f"the value {text!r}"
    return "a value"


def _construct_map(loader: _Loader, node: Any) -> Any:
    data: dict[Any, Any] = {}
    yield data
    data.update(loader.construct_mapping(node))


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)


def _construct_timestamp(loader: _Loader, node: Any) -> Any:
    # `2026-13-01` looks like a date but is none: PyYAML raises ValueError, which would make
    # the whole file unreadable. Keep the text, so lint can name the field (PL103).
    try:
        return yaml.constructor.SafeConstructor.construct_yaml_timestamp(loader, node)
    except ValueError:
        return loader.construct_scalar(node)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)

# the scalar constructors (collections only yield an empty one on their first step, which
# cannot fail; their entries are built by these); None is an unknown tag
for _tag_name in (*(f"tag:yaml.org,2002:{t}" for t in _SCALARS), None):
    _Loader.add_constructor(_tag_name, _fitting(_Loader.yaml_constructors[_tag_name]))

YAMLError = yaml.YAMLError
MarkedYAMLError = yaml.MarkedYAMLError


# Bounds on what a document may expand to. Aliases are built by reference, so a few lines can
# stand for billions of values ("billion laughs") and anything that walks the data would hang;
# deep nesting overflows the C stack of libyaml's composer (a segfault past ~30,000 levels).
MAX_DEPTH = 100
MAX_VALUES = 100_000
_PRESCAN_CHARS = 4096  # below this, nesting cannot come near the composer's limit


class TooComplexError(yaml.YAMLError):
    """A document nested too deeply or expanding (through aliases) to too many values."""


def load(text: str) -> Any:
    """Parse one YAML document safely; raises YAMLError subclasses with marks.

    Documents nested deeper than MAX_DEPTH or expanding to more than MAX_VALUES values raise
    TooComplexError, before anything walks them.
    """
    if text.count("\n") > MAX_VALUES:  # refused before the parse: time and memory stay bounded
        raise TooComplexError(f"holds more than {MAX_VALUES} lines of YAML; too large to read")
    try:
        if len(text) > _PRESCAN_CHARS:
            _check_nesting(text)
        data = _load(text)
    except RecursionError:
        raise TooComplexError(f"nested deeper than {MAX_DEPTH} levels") from None
    except yaml.YAMLError as exc:
        if "nesting depth" in str(getattr(exc, "problem", "")):  # libyaml's own limit (6.0.4+)
            raise TooComplexError(f"nested deeper than {MAX_DEPTH} levels") from None
        raise
    except _VALUE_ERRORS as exc:  # raised while filling a mapping, outside construct_object
        raise yaml.YAMLError(f"a value does not fit its tag ({exc})") from None
    _check_size(data, "&" in text)
    return data


def _load(text: str) -> Any:
    """`yaml.load(text, Loader=_Loader)`, with a plain tree built by `_plain` (see there)."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if "&" not in text:  # no anchor, so no alias: every node is built once
            try:
                return _plain(loader, node)
            except Exception:  # anything unusual: PyYAML's own way, below
                pass
        return loader.construct_document(node)
    finally:
        loader.dispose()


_Safe = yaml.constructor.SafeConstructor
# The scalar constructors of plain data; `str` is the node's own text.
_PLAIN_SCALARS: dict[str, Any] = {
    "tag:yaml.org,2002:null": _Safe.construct_yaml_null,
    "tag:yaml.org,2002:bool": _Safe.construct_yaml_bool,
    "tag:yaml.org,2002:int": _Safe.construct_yaml_int,
    "tag:yaml.org,2002:float": _Safe.construct_yaml_float,
    "tag:yaml.org,2002:timestamp": _construct_timestamp,
}
_STR, _MAP, _SEQ = "tag:yaml.org,2002:str", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"


class _NotPlain(Exception):
    """A node `_plain` leaves to PyYAML's constructor."""


def _plain(loader: Any, node: Any) -> Any:
    """The data of an alias-free tree of maps, lists and plain scalars with scalar keys, built
    directly: PyYAML's `construct_object` keeps books (constructed and recursive objects, state
    generators) per node for aliases and deep construction, about a third of a deal's parse.
    Raises on anything else (a merge key, a repeated key, another tag, a value that does not
    fit its tag), and the caller builds the tree again PyYAML's way, errors and all."""
    kind = node.__class__
    if kind is _ScalarNode:
        if node.tag == _STR:
            return node.value
        return _PLAIN_SCALARS[node.tag](loader, node)
    if kind is _MappingNode and node.tag == _MAP:
        data: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.__class__ is not _ScalarNode:
                raise _NotPlain
            key = _plain(loader, key_node)
            if key in data:  # the loader's own path names the duplicate
                raise _NotPlain
            data[key] = _plain(loader, value_node)
        return data
    if kind is _SequenceNode and node.tag == _SEQ:
        return [_plain(loader, item) for item in node.value]
    raise _NotPlain


_ScalarNode, _MappingNode, _SequenceNode = yaml.ScalarNode, yaml.MappingNode, yaml.SequenceNode

# `_Loader.resolve`'s memory: the tag of each short plain scalar text seen, bounded (a
# long-lived process such as the language server reads many files).
_TAGS: dict[str, str] = {}
_TAG_TEXT_MAX = 40
_TAGS_MAX = 1 << 16
_resolve = yaml.resolver.BaseResolver.resolve
# the shortcut holds only while nothing resolves by path (PyYAML's add_path_resolver)
assert not _Loader.yaml_path_resolvers


def _check_nesting(text: str) -> None:
    """Refuse deep nesting from the event stream (no recursion) before composing it."""
    depth = 0
    for event in yaml.parse(text, Loader=_Base):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise TooComplexError(f"nested deeper than {MAX_DEPTH} levels")
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _check_size(data: Any, anchors: bool = True) -> None:
    """Walk the data once, counting every value reached (aliases each time), without recursion.

    `anchors`: whether the text has any, for the message (without, the file is simply big)."""
    budget = MAX_VALUES
    stack: list[tuple[Any, int]] = [(data, 0)] if isinstance(data, _CONTAINERS) else []
    while stack:
        value, depth = stack.pop()
        children = value.values() if isinstance(value, dict) else value
        budget -= len(children)
        if budget < 0:
            if anchors:
                why = f"expands to more than {MAX_VALUES} values through its aliases (*name)"
            else:
                why = f"holds more than {MAX_VALUES} values; too large to read"
            raise TooComplexError(why)
        if depth >= MAX_DEPTH:
            raise TooComplexError(f"nested deeper than {MAX_DEPTH} levels")
        depth += 1
        stack += [(c, depth) for c in children if isinstance(c, _CONTAINERS)]


_CONTAINERS = (dict, list)


def error_position(exc: BaseException) -> tuple[int | None, int | None, str]:
    """(0-based line, 0-based column, one-line problem) of a YAML error."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or getattr(exc, "context", None) or str(exc)
    problem = " ".join(str(problem).split())
    if mark is None:
        return None, None, problem
    return mark.line, mark.column, problem


def to_date(value: Any) -> dt.date | None:
    """One date type at the boundary: date, datetime or an ISO string; else None."""
    if type(value) is dt.date:  # what nearly every call gets (lint asks ~30 times a deal)
        return value
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def compose(text: str) -> Any:
    """The node tree of a YAML document (with line marks), built safely."""
    return yaml.compose(text, Loader=_Loader)
