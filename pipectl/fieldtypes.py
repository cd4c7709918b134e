"""The types a deal field can have, and the declarations of a team's own fields.

Pure values and checks, with no pipeline behind them: `configspec.py` reads `fields:` of
pipeline.yaml into `FieldDecl`s here, and `schema.py` puts them beside the built-in fields.
A check returns the reason a value is refused, or None; None (an empty key) is never refused
here: whether a field must be there is the stage's requirement, not the type's.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pipectl.yamlio import to_date

# Types a team may give its own fields in pipeline.yaml, with what each means (for the docs).
TYPES: Mapping[str, str] = {
    "text": "any text on one line",
    "number": "a number (no NaN or infinity); `min`/`max` bound it",
    "integer": "a whole number; `min`/`max` bound it",
    "money": "an amount of money: a number of 0 or more",
    "date": "a date, YYYY-MM-DD",
    "enum": "one of the words listed under `values`",
    "list": "a list of words, e.g. [a, b]; `values` limits the words",
    "email": "an email address",
    "url": "a web address starting with http:// or https://",
    "bool": "true or false",
}

# The largest amount figures count (a trillion trillions): a sum of amounts stays finite.
MAX_AMOUNT = 1e24

_EMAIL_RE = re.compile(r"[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;.]+")
_URL_RE = re.compile(r"https?://[^\s/?#][^\s]*")  # one host character first: `+` then `*`
# of overlapping classes cost the square of a long value (tests/robustness/test_bounded.py)


@dataclass(frozen=True)
class FieldDecl:
    """One field: its name, type and help; `values` for enum and list, bounds for numbers,
    and the stages that require it ("*" for every stage)."""

    name: str
    type: str
    help: str = ""
    values: tuple[str, ...] = ()
    min: float | None = None
    max: float | None = None
    required: tuple[str, ...] = ()
    builtin: bool = False

    def problem(self, value: Any) -> str | None:
        """Why this field cannot hold `value`, or None when it can."""
        check = _CHECKS.get(self.type)  # the structured types are schema.py's to check
        return None if value is None or check is None else check(self, value)


# Types only pipectl's own structured fields have; a team cannot declare them.
STRUCTURED = ("touchpoints", "qualification", "suppressions", "contacts", "line_items", "tasks")

# The parts of one entry of `contacts:`, each text; an entry names a person by one of the first
# two at least.
CONTACT_KEYS = ("name", "email", "phone", "role")

# The forecast categories, surest first (targets.py says which a deal is in).
FORECAST_CATEGORIES = ("commit", "best_case", "pipeline", "omitted")

# pipectl's own fields. `lost_reason`'s values and the parts of the structured fields come
# from pipeline.yaml (see schema.py).
BUILTIN: tuple[FieldDecl, ...] = (
    FieldDecl("title", "text", "What the deal is, as people call it.", builtin=True),
    FieldDecl("company", "text", "The customer's company.", builtin=True),
    FieldDecl(
        "contact",
        "text",
        "The person pipectl's messages go to (one text; `contacts` lists more).",
        builtin=True,
    ),
    FieldDecl(
        "account",
        "text",
        "The id of the customer's account record (`accounts/ID.md`, docs/accounts.md).",
        builtin=True,
    ),
    FieldDecl(
        "contacts",
        "contacts",
        "The people of the deal: `{name, email, phone, role}` entries or contact ids.",
        builtin=True,
    ),
    FieldDecl(
        "domains",
        "list",
        "The company's email domains (`acme.example`), for `pipectl ingest` (docs/mail.md).",
        builtin=True,
    ),
    FieldDecl(
        "owner", "text", "The rep who answers for the deal (a `team:` handle).", builtin=True
    ),
    FieldDecl(
        "value",
        "money",
        "What the deal is worth, in `currency` (without it, what `line_items` come to).",
        builtin=True,
    ),
    FieldDecl(
        "line_items",
        "line_items",
        "What the deal sells: `{product, quantity, unit_price, discount, recurring}` entries.",
        builtin=True,
    ),
    FieldDecl(
        "mrr", "money", "Monthly recurring revenue, for a deal without line items.", builtin=True
    ),
    FieldDecl(
        "term_months",
        "integer",
        "Months the recurring revenue runs for (12 when not given).",
        min=1,
        builtin=True,
    ),
    FieldDecl(
        "currency",
        "text",
        "Currency of `value`, when not `base_currency`; totals convert it (docs/forecast.md).",
        builtin=True,
    ),
    FieldDecl(
        "probability",
        "number",
        "Chance of winning, 0 to 1, when not the stage's.",
        min=0,
        max=1,
        builtin=True,
    ),
    FieldDecl(
        "forecast",
        "enum",
        "Forecast category when not the stage's: " + ", ".join(FORECAST_CATEGORIES) + ".",
        values=FORECAST_CATEGORIES,
        builtin=True,
    ),
    FieldDecl("created", "date", "When the deal was opened.", builtin=True),
    FieldDecl("stage_entered", "date", "When the deal entered its stage.", builtin=True),
    FieldDecl("expected_close", "date", "When the deal is expected to close.", builtin=True),
    FieldDecl("next_step", "text", "The next thing to do, agreed with the customer.", builtin=True),
    FieldDecl("next_step_due", "date", "When the next step is due.", builtin=True),
    FieldDecl(
        "tasks",
        "tasks",
        "More dated tasks: a list of `{due, summary, owner, done}` (`pipectl task`).",
        builtin=True,
    ),
    FieldDecl(
        "snoozed_until",
        "date",
        "The time rules are silent for the deal before this day (`pipectl snooze`).",
        builtin=True,
    ),
    FieldDecl("snooze_reason", "text", "Why the deal is snoozed.", builtin=True),
    FieldDecl("closed", "date", "When the deal was won or lost.", builtin=True),
    FieldDecl(
        "renewal_date", "date", "When a won deal's contract comes up for renewal.", builtin=True
    ),
    FieldDecl(
        "renewal_of",
        "text",
        "The won deal this one renews (its id): a renewal, lost is churn (docs/accounts.md).",
        builtin=True,
    ),
    FieldDecl(
        "lost_reason", "enum", "Why the deal was lost (one of `lost_reasons`).", builtin=True
    ),
    FieldDecl(
        "qualification",
        "qualification",
        "Criterion: evidence, for each criterion met.",
        builtin=True,
    ),
    FieldDecl("tags", "list", "Words to group deals by.", builtin=True),
    FieldDecl(
        "touchpoints",
        "touchpoints",
        "Calls, emails and meetings, oldest first (`pipectl log`).",
        builtin=True,
    ),
    FieldDecl(
        "lint-ignore",
        "suppressions",
        "Lint rules silenced for this deal, each with a reason.",
        builtin=True,
    ),
)
BUILTIN_NAMES: tuple[str, ...] = tuple(f.name for f in BUILTIN)
DATE_FIELDS: tuple[str, ...] = tuple(f.name for f in BUILTIN if f.type == "date")


def show(value: Any) -> str:
    """A value as a message quotes it: short, on one line."""
    text = repr(value) if isinstance(value, str) else str(value)
    text = " ".join(text.split())
    return text if len(text) <= 40 else text[:39] + "…"


def is_field_name(name: str) -> bool:
    """A name a team may give a field or a member: a letter, then letters, digits, _ or -."""
    return bool(name) and name[0].isalpha() and all(c.isalnum() or c in "_-" for c in name)


def is_number(value: Any) -> bool:
    """A real, finite number: YAML's `.nan` and `.inf` and booleans are not."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:  # a 401-digit integer is no float either: too large to count with
        return math.isfinite(value)
    except OverflowError:
        return False


# A date from a YAML date or an ISO text; None when it is neither (yamlio's one reading).
as_date = to_date


def _text(_f: FieldDecl, value: Any) -> str | None:
    if isinstance(value, Mapping | list):
        return "must be text, not a list or mapping"
    if isinstance(value, bool):
        return f"{show(value)} is not text (quote it: {value!s} is read as a yes/no value)"
    if isinstance(value, float) and not math.isfinite(value):
        return f"{show(value)} is not text"
    return None


def _bounded(f: FieldDecl, value: Any) -> str | None:
    if f.min is not None and value < f.min:
        return f"{show(value)} must be {_fmt(f.min)} or more"
    if f.max is not None and value > f.max:
        return f"{show(value)} must be {_fmt(f.max)} or less"
    return None


def _fmt(bound: float) -> str:
    return str(int(bound)) if float(bound).is_integer() else str(bound)


def _number(f: FieldDecl, value: Any) -> str | None:
    if not is_number(value):
        return f"{show(value)} is not a number"
    return _bounded(f, value)


def _integer(f: FieldDecl, value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return f"{show(value)} is not a whole number"
    return _bounded(f, value)


def _money(f: FieldDecl, value: Any) -> str | None:
    if not is_number(value):
        return f"{show(value)} is not an amount (a number, e.g. 12000)"
    if value < 0:
        return f"{show(value)} must be 0 or more"
    if value > MAX_AMOUNT:
        return f"{show(value)} is too large to count with (at most {MAX_AMOUNT:.0e})"
    return _bounded(f, value)


def _date(_f: FieldDecl, value: Any) -> str | None:
    if as_date(value) is None:
        return f"{show(value)} is not a date (use YYYY-MM-DD)"
    return None


def _enum(f: FieldDecl, value: Any) -> str | None:
    if isinstance(value, Mapping | list) or str(value) not in f.values:
        return f"{show(value)} is not one of {', '.join(f.values)}"
    return None


def _list(f: FieldDecl, value: Any) -> str | None:
    if not isinstance(value, list):
        return f"must be a list, e.g. [{show(value)}]"
    for item in value:
        if item is None or isinstance(item, Mapping | list | bool):
            return f"holds {show(item)}: each item must be a word"
        if f.values and str(item) not in f.values:
            return f"{show(item)} is not one of {', '.join(f.values)}"
    return None


def _email(_f: FieldDecl, value: Any) -> str | None:
    if not isinstance(value, str) or not _EMAIL_RE.fullmatch(value.strip()):
        return f"{show(value)} is not an email address"
    return None


def _url(_f: FieldDecl, value: Any) -> str | None:
    if not isinstance(value, str) or not _URL_RE.fullmatch(value.strip()):
        return f"{show(value)} is not a web address (http:// or https://)"
    return None


def _bool(_f: FieldDecl, value: Any) -> str | None:
    if not isinstance(value, bool):
        return f"{show(value)} is not true or false"
    return None


_CHECKS: Mapping[str, Callable[[FieldDecl, Any], str | None]] = {
    "text": _text,
    "number": _number,
    "integer": _integer,
    "money": _money,
    "date": _date,
    "enum": _enum,
    "list": _list,
    "email": _email,
    "url": _url,
    "bool": _bool,
}
assert set(_CHECKS) == set(TYPES)


def from_cli(decl: FieldDecl | None, raw: str, parsed: Any) -> Any:
    """The value a word typed on the command line stands for in this field.

    `parsed` is what YAML reads in `raw`; a list field takes `a,b` as [a, b], a text field
    keeps the word as typed, a bool field takes yes/no too.
    """
    if decl is None:
        return parsed
    if decl.type == "list" and not isinstance(parsed, list):
        return [w.strip() for w in raw.split(",") if w.strip()] if raw.strip() else []
    if decl.type in ("text", "enum", "email", "url"):
        # `{y}` or `[x]` typed for a text field is that text, not a mapping or a list
        return raw if isinstance(parsed, list | Mapping | str) else parsed
    if decl.type == "bool" and raw.strip().lower() in _YES_NO:
        return _YES_NO[raw.strip().lower()]
    return parsed


_YES_NO = {"yes": True, "no": False, "true": True, "false": False, "on": True, "off": False}
