"""How a spreadsheet's columns become deal fields: the mapping, and parsing of cell values.

It reads only a mapping file; it never touches deals, never writes a file, never prints. A cell
that cannot be read raises ValueError with a message fit to follow `FILE:LINE: `.
"""

from __future__ import annotations

import datetime as dt
import re
import string
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipectl import yamlio
from pipectl.errors import UsageError
from pipectl.fieldtypes import CONTACT_KEYS, DATE_FIELDS, FieldDecl, from_cli
from pipectl.lineitems import LINE_ITEM_KEYS
from pipectl.transfer.entries import (
    CONTACT_KEY_RE,
    ENTRY_COLUMNS,
    LINE_ITEM_KEY_RE,
    NUMBER_PARTS,
)

# Fields whose cells stay text even when they look like numbers ("3M", "1999").
TEXT_FIELDS = ("title", "company", "contact", "owner", "currency", "next_step", "lost_reason")
# Fields that are not frontmatter keys: where the deal lives, and its Markdown notes.
SPECIAL_FIELDS = ("id", "stage", "body")
# Columns `pipectl export` derives from touchpoints; they are not read back.
DERIVED_COLUMNS = ("touchpoint_count", "last_touch", "path")
# Canonical key order of a new deal file; unknown keys follow in mapping order.
FIELD_ORDER = (
    "title",
    "company",
    "contact",
    "contacts",
    "owner",
    "value",
    "currency",
    "probability",
    "line_items",
    "mrr",
    "term_months",
    "created",
    "stage_entered",
    "expected_close",
    "next_step",
    "next_step_due",
    "closed",
    "lost_reason",
    "qualification",
    "tags",
)

KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z_][A-Za-z0-9_-]*)?$")


def is_key(key: str) -> bool:
    """A field name a column may feed: `name`, `section.name`, `contacts.N.PART` or
    `line_items.N.PART`."""
    return bool(KEY_RE.match(key) or any(rx.match(key) for _n, rx, _p in ENTRY_COLUMNS))


# --- where a field's value comes from -------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """A field's source: column names or `{column}` templates, the first usable one wins.

    A template is usable when every column it names is non-empty in the row, so
    `["{account} — {product}", "{product}"]` falls back when the account is blank.
    """

    options: tuple[str, ...]

    @property
    def label(self) -> str:
        return self.options[0] if len(self.options) == 1 else " | ".join(self.options)

    def columns(self) -> list[str]:
        out: list[str] = []
        for option in self.options:
            out.extend(_template_columns(option) if _is_template(option) else [option])
        return out

    def value(self, row: Mapping[str, str]) -> str | None:
        for option in self.options:
            if _is_template(option):
                parts = _template_parts(option)
                if all(row.get(n, "").strip() for _, n in parts if n is not None):
                    return "".join(t + (row[n].strip() if n else "") for t, n in parts)
            else:
                cell = row.get(option, "")
                if cell.strip():
                    return cell
        return None


def _is_template(option: str) -> bool:
    return "{" in option and "}" in option


def _template_columns(option: str) -> list[str]:
    return [name for _, name in _template_parts(option) if name is not None]


def _template_parts(option: str) -> list[tuple[str, str | None]]:
    """A template's literal texts, each with the column that follows it (None at the end).

    Only `{column}`: a format spec, a conversion, `{col.x}` or `{col[0]}` would run Python's
    formatting on user data (attribute lookups, a `{a:X<40000000}` that fills memory)."""
    try:
        parsed = list(string.Formatter().parse(option))
    except ValueError as exc:
        raise UsageError(f"bad template {option!r}: {exc}") from None
    parts: list[tuple[str, str | None]] = []
    for text, name, spec, conversion in parsed:
        if name is not None and (spec or conversion or not name.strip()):
            what = "a format" if spec or conversion else "an empty {}"
            raise UsageError(
                f"bad template {option!r}: {what} is not allowed; write {{column}} only"
            )
        parts.append((text, name))
    return parts


# --- dates ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DateFormat:
    """A day-month-year layout such as M/D/YYYY or D.M.YYYY; ISO dates are always accepted."""

    spec: str
    pattern: re.Pattern[str] | None = None
    order: tuple[str, ...] = ()

    @classmethod
    def parse(cls, spec: str | None) -> DateFormat:
        if spec is None or spec.strip().upper() in ("", "ISO", "YYYY-MM-DD"):
            return cls("YYYY-MM-DD")
        spec = spec.strip()
        parts = re.split(r"([/.\-])", spec.upper())
        tokens = parts[0::2]
        seps = set(parts[1::2])
        if (
            len(tokens) != 3
            or len(seps) != 1
            or sorted(t[0] for t in tokens) != ["D", "M", "Y"]
            or any(t not in ("D", "DD", "M", "MM", "YYYY") for t in tokens)
        ):
            raise UsageError(
                f"--date-format {spec!r}: use ISO, M/D/YYYY, D.M.YYYY or another "
                "order of D, M and YYYY with one separator (/ . -)"
            )
        sep = re.escape(seps.pop())
        groups = {"D": r"(\d{1,2})", "M": r"(\d{1,2})", "Y": r"(\d{4})"}
        regex = sep.join(groups[t[0]] for t in tokens)
        return cls(spec, re.compile(rf"^{regex}$"), tuple(t[0] for t in tokens))

    def date(self, text: str) -> dt.date:
        text = text.strip()
        if self.pattern is not None:
            m = self.pattern.match(text)
            if m:
                parts = dict(zip(self.order, (int(g) for g in m.groups()), strict=True))
                try:
                    return dt.date(parts["Y"], parts["M"], parts["D"])
                except ValueError:
                    raise ValueError(f"{text!r} is no real date ({self.spec})") from None
        try:
            # ISO, also with a time after it, as CRM exports often write timestamps
            return dt.date.fromisoformat(re.split(r"[ T]", text, maxsplit=1)[0])
        except ValueError:
            raise ValueError(f"{text!r} is not a date ({self.spec})") from None


# --- numbers and other values -----------------------------------------------------------------

# a currency before or after the number; the blanks beside it are stripped in Python: an
# unanchored `\s*` before the suffix cost the square of a run of blanks (a 60 KB cell: a minute)
_CURRENCY_PREFIX = re.compile(r"^(?:[A-Z]{3}|[$€£¥₹])")
_CURRENCY_SUFFIX = re.compile(r"(?:[A-Z]{3}|[$€£¥₹])$")


def _no_currency(text: str) -> str:
    text = _CURRENCY_PREFIX.sub("", text, count=1)
    return _CURRENCY_SUFFIX.sub("", text, count=1).strip()


# the symbols that name one currency alone (`$` and `¥` name several)
_SYMBOLS = {"€": "EUR", "£": "GBP", "₹": "INR"}


def cell_currency(text: str) -> str | None:
    """The currency an amount's cell names, `EUR 1,200`, `1200 EUR`, `€3.5`; None when it
    names none or only an ambiguous symbol."""
    s = text.strip().lstrip("-").strip()
    for code in (s[:3], s[-3:]):
        if len(code) == 3 and code.isascii() and code.isalpha() and code.isupper():
            return code
    for end in (s[:1], s[-1:]):
        if end in _SYMBOLS:
            return _SYMBOLS[end]
    return None


_NUMBER_FORMS = (
    re.compile(r"^\d+(\.\d+)?$"),
    re.compile(r"^\d{1,3}(,\d{3})+(\.\d+)?$"),  # 12,000.50
    re.compile(r"^\d{1,3}( \d{3})+(\.\d+)?$"),  # 12 000
    re.compile(r"^\d{1,3}('\d{3})+(\.\d+)?$"),  # 12'000
)


# `1.200` or `1,200` in a file separated by `;` (the spreadsheets of decimal-comma locales,
# where a dot groups thousands and a comma marks decimals): 1200 or 1.2, who can tell; refused
# rather than guessed
_GROUPED_BY_DOT = re.compile(r"^-?[1-9]\d{0,2}[.,]\d{3}$")


def ambiguous_dot(text: str) -> ValueError:
    return ValueError(
        f"{text.strip()!r} is ambiguous in a file separated by ';' (where 1.200 is 1200 and "
        "1,200 is 1.2): write it without a separator (1200), or with more or fewer decimals"
    )


def parse_number(text: str, dot_groups: bool = False) -> int | float:
    """Money and counts as people write them: `$12,000.50`, `12 000`, `USD 1200`, `-5`.

    `dot_groups`: the file may come from a locale where a dot groups thousands (`;`-separated),
    so `1.200` is refused as ambiguous."""
    raw = text
    text = text.strip().replace("\u00a0", " ").replace("\u202f", " ")
    text = _no_currency(text)
    negative = text.startswith("-")
    if negative:
        text = _no_currency(text[1:].lstrip())
    if not any(form.match(text) for form in _NUMBER_FORMS):
        raise ValueError(f"{raw.strip()!r} is not a number")
    if dot_groups and _GROUPED_BY_DOT.match(text):
        raise ambiguous_dot(raw)
    digits = re.sub(r"[ ,']", "", text)
    number: int | float = float(digits) if "." in digits else int(digits)
    if isinstance(number, float) and number.is_integer():
        number = int(number)
    return -number if negative else number


_INT_RE = re.compile(r"^-?(0|[1-9]\d*)$")
_FLOAT_RE = re.compile(r"^-?(0|[1-9]\d*)\.\d+$")
ISO_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def infer(text: str, dot_groups: bool = False) -> Any:
    """A custom field's cell: numbers, ISO dates, true/false and flow lists typed; else text.

    Leading zeros stay text ("0123" is a code, not 123). `dot_groups`: as for parse_number.
    """
    s = text.strip()
    if _INT_RE.match(s):
        return int(s)
    if _FLOAT_RE.match(s):
        if dot_groups and _GROUPED_BY_DOT.match(s):
            raise ambiguous_dot(s)
        return float(s)
    if ISO_DATE_RE.match(s):
        try:
            return dt.date.fromisoformat(s)
        except ValueError:
            return s
    if s in ("true", "false"):
        return s == "true"
    if s.startswith(("[", "{")):
        try:
            value = yamlio.load(s)
        except yamlio.YAMLError:
            return s
        if isinstance(value, list | dict):
            return value
    return s


def parse_list(text: str) -> list[Any]:
    """Tags: `a, b; c` or a flow list `[a, b]`."""
    s = text.strip()
    if s.startswith("["):
        value = infer(s)
        if isinstance(value, list):
            return value
    return [t.strip() for t in re.split(r"[,;]", s) if t.strip()]


def convert(
    key: str,
    text: str,
    dates: DateFormat,
    decl: FieldDecl | None = None,
    dot_groups: bool = False,
) -> Any:
    """The frontmatter value of one non-empty cell for field `key`; ValueError if unreadable.

    `decl` is the team's declaration of a custom field (pipeline.yaml `fields:`): its cells are
    read as that type; one that does not read stays text, for the schema to refuse.
    `dot_groups`: the file is `;`-separated, where `1.200` may be 1200 (refused as ambiguous).
    """
    if decl is not None and not decl.builtin:
        return _declared(decl, text, dates, dot_groups)
    if key in DATE_FIELDS:
        return dates.date(text)
    if key == "value":
        number = parse_number(text, dot_groups)
        if number < 0:
            raise ValueError(f"{text.strip()!r} is negative")
        return number
    if key == "probability":
        s = text.strip()
        percent = s.endswith("%")
        number = parse_number(s.removesuffix("%"), dot_groups)
        p = number / 100 if percent else number
        if not 0 <= p <= 1:
            raise ValueError(f"{s!r} is not a probability between 0 and 1 (or 0% and 100%)")
        return p
    if key == "tags":
        return parse_list(text)
    if key in TEXT_FIELDS or CONTACT_KEY_RE.match(key):
        return text.strip()
    item = LINE_ITEM_KEY_RE.match(key)
    if item is not None:
        return _item_part(item.group(2), text, dot_groups)
    return infer(text, dot_groups)


def _item_part(part: str, text: str, dot_groups: bool) -> Any:
    """One cell of a line item: its product and billing as text, its numbers as numbers (a
    discount also as a percentage, `10%`)."""
    s = text.strip()
    if part not in NUMBER_PARTS:
        return s
    percent = part == "discount" and s.endswith("%")
    number = parse_number(s.removesuffix("%"), dot_groups)
    return number / 100 if percent else number


def _declared(decl: FieldDecl, text: str, dates: DateFormat, dot_groups: bool) -> Any:
    s = text.strip()
    if decl.type == "date":
        return dates.date(s)  # a date in another layout than the file's is refused here
    if decl.type in ("number", "integer", "money"):
        if dot_groups and _GROUPED_BY_DOT.match(s):
            raise ambiguous_dot(s)
        try:
            return parse_number(s)
        except ValueError:
            return s
    if decl.type == "bool":
        return from_cli(decl, s, s)  # yes/no, true/false, on/off; anything else stays text
    if decl.type == "list":
        return parse_list(s)
    return s  # text, enum, email, url: as written, even when it looks like a number


# --- the mapping as a whole ---------------------------------------------------------------


@dataclass(frozen=True)
class ColumnMapping:
    """Which column feeds which field, how CSV stage values name stages, and the date layout."""

    fields: tuple[tuple[str, Source], ...]
    stages: Mapping[str, str] = field(default_factory=dict)
    dates: DateFormat = field(default_factory=lambda: DateFormat.parse(None))

    def source(self, key: str) -> Source | None:
        return next((s for k, s in self.fields if k == key), None)

    def check_columns(self, header: Sequence[str], where: Path | str) -> None:
        """Every column the mapping names exists in the file's header."""
        known = set(header)
        for key, src in self.fields:
            for col in src.columns():
                if col not in known:
                    cols = ", ".join(header)
                    raise UsageError(f"{key}: no column {col!r} in {where} (columns: {cols})", None)


def check_key(key: str) -> str:
    if key == "touchpoints":
        raise UsageError("touchpoints cannot come from a CSV column (import JSON for them)")
    if key in DERIVED_COLUMNS:
        raise UsageError(f"{key!r} is derived by export and cannot be imported")
    if not is_key(key):
        raise UsageError(
            f"bad field name {key!r}: use `name`, `section.name`, `contacts.N.PART` (N from "
            f"1, PART one of {', '.join(CONTACT_KEYS)}) or `line_items.N.PART` (PART one of "
            f"{', '.join(LINE_ITEM_KEYS)})"
        )
    return key


def identity(header: Sequence[str]) -> ColumnMapping:
    """No mapping given: each column feeds the field of the same name (what export writes)."""
    fields = []
    for col in header:
        if col in DERIVED_COLUMNS or col == "touchpoints" or not col.strip():
            continue
        if not is_key(col):
            raise UsageError(
                f"column {col!r} is not a field name; map the columns with --map FIELD=COLUMN "
                "or --mapping FILE"
            )
        fields.append((col, Source((col,))))
    return ColumnMapping(tuple(fields))


def parse_assignment(word: str, option: str) -> tuple[str, str]:
    key, eq, value = word.partition("=")
    if not eq or not key.strip() or not value.strip():
        raise UsageError(f"{option}: expected NAME=VALUE, got {word!r}")
    return key.strip(), value.strip()


def build(
    file_data: Mapping[str, Any] | None,
    maps: Iterable[str] = (),
    stage_maps: Iterable[str] = (),
    date_format: str | None = None,
    header: Sequence[str] = (),
) -> ColumnMapping:
    """The mapping from a mapping file's data and the command-line options (which win).

    Without any field mapping, columns map to the fields of the same name.
    """
    data = dict(file_data or {})
    fields: dict[str, Source] = {}
    for key, value in (data.get("fields") or {}).items():
        options = value if isinstance(value, list) else [value]
        if not options or not all(isinstance(o, str) and o for o in options):
            raise UsageError(f"mapping fields.{key}: give a column name, template or list of them")
        fields[check_key(str(key))] = Source(tuple(options))
    for word in maps:
        key, column = parse_assignment(word, "--map")
        options = [column] if column in header else column.split("|")
        fields[check_key(key)] = Source(tuple(o.strip() for o in options))
    stages: dict[str, str] = {}
    for value, stage in (data.get("stages") or {}).items():
        stages[str(value)] = str(stage)
    for word in stage_maps:
        value, stage = parse_assignment(word, "--stage-map")
        stages[value] = stage
    fmt = date_format if date_format is not None else data.get("date_format")
    dates = DateFormat.parse(None if fmt is None else str(fmt))
    if not fields:
        return ColumnMapping(identity(header).fields, stages, dates)
    return ColumnMapping(tuple(fields.items()), stages, dates)


MAPPING_KEYS = ("fields", "stages", "date_format")


def load_mapping(path: Path) -> dict[str, Any]:
    """A mapping file (YAML): `fields:`, `stages:`, `date_format:`; errors name file and line."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise UsageError(f"cannot read mapping: {exc.strerror}", path) from None
    try:
        data = yamlio.load(text)
    except yamlio.YAMLError as exc:
        line, _col, problem = yamlio.error_position(exc)
        raise UsageError(
            f"invalid YAML: {problem}", path, None if line is None else line + 1
        ) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise UsageError("a mapping file is a YAML mapping (fields:, stages:, date_format:)", path)
    for key in data:
        if key not in MAPPING_KEYS:
            raise UsageError(f"unknown key {key!r} (known: {', '.join(MAPPING_KEYS)})", path)
    for key in ("fields", "stages"):
        if data.get(key) is not None and not isinstance(data[key], dict):
            raise UsageError(f"{key}: must be a mapping", path)
    return data
