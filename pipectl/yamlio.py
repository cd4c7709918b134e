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


class _Loader(_Base):
    """Safe loader that refuses duplicate keys."""

    def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                dup = key in seen
            except TypeError:
                continue
            if dup:
                raise DuplicateKeyError(
                    "while constructing a mapping",
                    node.start_mark,
                    f"found duplicate key {key!r}",
                    key_node.start_mark,
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)  # type: ignore[no-any-return,unused-ignore]


def _construct_map(loader: _Loader, node: Any) -> Any:
    data: dict[Any, Any] = {}
    yield data
    data.update(loader.construct_mapping(node))


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)

YAMLError = yaml.YAMLError
MarkedYAMLError = yaml.MarkedYAMLError


def load(text: str) -> Any:
    """Parse one YAML document safely; raises YAMLError subclasses with marks."""
    return yaml.load(text, Loader=_Loader)


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
