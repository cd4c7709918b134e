"""The rule registry: every rule, in code order, as an immutable tuple; lookup and selection.

Rules are declared in their group modules; this module only gathers them. It never runs them.
"""

from __future__ import annotations

from collections.abc import Iterable

from pipectl.errors import UsageError
from pipectl.lint.model import Rule
from pipectl.lint.rules_fields import RULES as FIELD_RULES
from pipectl.lint.rules_qualify import RULES as QUALIFY_RULES
from pipectl.lint.rules_records import RULES as RECORD_RULES
from pipectl.lint.rules_shape import RULES as SHAPE_RULES
from pipectl.lint.rules_structure import RULES as STRUCTURE_RULES
from pipectl.lint.rules_time import RULES as TIME_RULES
from pipectl.lint.rules_workspace import RULES as WORKSPACE_RULES

RULES: tuple[Rule, ...] = tuple(
    sorted(
        (
            *STRUCTURE_RULES,
            *FIELD_RULES,
            *TIME_RULES,
            *QUALIFY_RULES,
            *SHAPE_RULES,
            *WORKSPACE_RULES,
            *RECORD_RULES,
        ),
        key=lambda r: r.code,
    )
)

_BY_KEY = {**{r.code: r for r in RULES}, **{r.name: r for r in RULES}}


def get_rule(key: str) -> Rule:
    """A rule by code (case-insensitive) or name; KeyError if there is none."""
    found = _BY_KEY.get(key) or _BY_KEY.get(key.upper())
    if found is None:
        raise KeyError(key)
    return found


def select_rules(select: Iterable[str] = (), ignore: Iterable[str] = ()) -> tuple[Rule, ...]:
    """Rules chosen by codes, code prefixes ("PL3"), names or ALL; unknown words are errors."""
    chosen = {r.code for r in _match(select, "--select")} if select else {r.code for r in RULES}
    chosen -= {r.code for r in _match(ignore, "--ignore")}
    return tuple(r for r in RULES if r.code in chosen)


def _match(words: Iterable[str], option: str) -> list[Rule]:
    out: list[Rule] = []
    for raw in words:
        for word in (w.strip() for w in raw.split(",")):
            if not word:
                continue
            if word.upper() == "ALL":
                out.extend(RULES)
                continue
            matched = [
                r for r in RULES if r.name == word.lower() or r.code.startswith(word.upper())
            ]
            if not matched:
                raise UsageError(f"{option}: no rule matches {word!r} (see `pipectl rules`)")
            out.extend(matched)
    return out
