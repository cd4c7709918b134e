"""`lint-ignore:` in a deal's frontmatter: rule codes or names, each with a reason.

    lint-ignore:
      stale: waiting for their budget round in January
      PL305: strategic account, the CEO follows it

Parsing only; the runner applies suppressions and reports unused ones. Never prints.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pipectl.deal import Deal
from pipectl.lint.model import Rule

KEY = "lint-ignore"


@dataclass(frozen=True)
class Suppressions:
    """Valid suppressions (rule code -> reason) and the problems found in the key."""

    reasons: Mapping[str, str]
    problems: tuple[str, ...]


def parse(deal: Deal, get_rule: Callable[[str], Rule]) -> Suppressions:
    """The deal's suppressions; `get_rule` finds a rule by code or name (KeyError if none)."""
    raw: Any = deal.fields.get(KEY)
    if raw is None:
        return Suppressions({}, ())
    items: list[tuple[Any, Any]] = []
    problems: list[str] = []
    if isinstance(raw, Mapping):
        items = list(raw.items())
    elif isinstance(raw, list):
        for item in raw:
            if isinstance(item, Mapping):
                items.extend(item.items())
            else:
                items.append((item, None))
    else:
        items.append((raw, None))
    reasons: dict[str, str] = {}
    for key, reason in items:
        try:
            rule = get_rule(str(key))
        except KeyError:
            problems.append(f"{KEY}: {key!r} is not a rule code or name")
            continue
        if not isinstance(reason, str) or not reason.strip():
            problems.append(
                f"{KEY}: {rule.code} needs a reason, e.g. `{KEY}: {{{rule.code}: why}}`"
            )
            continue
        reasons[rule.code] = reason.strip()
    return Suppressions(reasons, tuple(problems))
