"""The keys of pipeline.yaml as data: name, kind, default, meaning and the check of a value.

`CONFIG_SPEC` is the one source of the defaults, the validation (config.py runs each entry's
check), docs/config.md and the file `pipectl init` writes. It never reads a file or prints.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pipectl.fieldtypes import BUILTIN_NAMES, TYPES, FieldDecl, is_field_name, is_number
from pipectl.roster import Member, parse_team
from pipectl.targets import TargetError, parse_categories, parse_quotas

# A hundred years: enough for any threshold, and far from the end of the calendar.
MAX_DAYS = 36500

DEFAULT_STAGES: tuple[tuple[str, float, str | None], ...] = (
    ("prospecting", 0.1, None),
    ("qualifying", 0.2, None),
    ("connecting", 0.4, None),
    ("closing", 0.7, None),
    ("won", 1.0, "won"),
    ("lost", 0.0, "lost"),
)


@dataclass(frozen=True)
class Stage:
    """One stage of the pipeline, in order; `closed` is "won", "lost" or None (open)."""

    name: str
    probability: float
    closed: str | None = None

    @property
    def is_open(self) -> bool:
        return self.closed is None


class Invalid(ValueError):
    """A value a check refuses; `key` names a key below the entry's own, when the fault is there."""

    def __init__(self, message: str, key: str | None = None):
        super().__init__(message)
        self.message = message
        self.key = key


Check = Callable[[Any, tuple[Stage, ...]], Any]
"""(value, the stages already read) -> the value Config holds; raises Invalid."""


@dataclass(frozen=True)
class SpecEntry:
    """One key of pipeline.yaml: its name, kind, default and meaning; the Config field it
    fills and the check that turns its value into that field's value.

    `default_for` gives the default when it depends on the stages in use; `default` is then
    what it gives for the default stages (and what the docs show).
    """

    key: str
    kind: str
    default: Any
    doc: str
    attr: str
    check: Check
    default_for: Callable[[tuple[Stage, ...]], Any] | None = None


# --- the checks -------------------------------------------------------------------------------


def parse_stages(value: Any, _stages: tuple[Stage, ...] = ()) -> tuple[Stage, ...]:
    if not isinstance(value, list) or not value:
        raise Invalid("must be a non-empty list")
    defaults = {name: (prob, closed) for name, prob, closed in DEFAULT_STAGES}
    stages: list[Stage] = []
    for i, item in enumerate(value):
        entry = item if isinstance(item, Mapping) else {"name": item}
        name = entry.get("name")
        if not isinstance(name, str) or not _is_slug(name):
            raise Invalid(f"item {i + 1}: a stage name must be a lowercase word, got {name!r}")
        prob_default, closed_default = defaults.get(name, (None, None))
        closed = entry.get("closed", closed_default)
        if closed not in (None, "won", "lost"):
            raise Invalid(f"{name}: closed must be won or lost, got {closed!r}")
        probability = entry.get("probability", prob_default)
        if probability is None:
            probability = 1.0 if closed == "won" else 0.0 if closed == "lost" else 0.5
        if isinstance(probability, bool) or not isinstance(probability, int | float):
            raise Invalid(f"{name}: probability must be a number between 0 and 1")
        if not 0 <= probability <= 1:
            raise Invalid(f"{name}: probability must be between 0 and 1")
        if any(s.name == name for s in stages):
            raise Invalid(f"{name}: listed twice")
        stages.append(Stage(name, float(probability), closed))
    return tuple(stages)


def _is_slug(name: str) -> bool:
    return (
        bool(name)
        and all(c.isascii() and (c.isalnum() or c in "-_") for c in name)
        and (name == name.lower())
        and not name.startswith(("-", "_", "."))
    )


def _words(value: Any, _stages: tuple[Stage, ...]) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
        raise Invalid("must be a list of words")
    return tuple(str(v) for v in value)


def _currency(value: Any, _stages: tuple[Stage, ...]) -> str:
    if not isinstance(value, str) or not value.strip():
        raise Invalid("must be a currency code such as USD")
    return value


def _currency_or_none(value: Any, stages: tuple[Stage, ...]) -> str | None:
    return None if value is None else _currency(value, stages)


def _word(value: Any, _stages: tuple[Stage, ...]) -> str:
    if not isinstance(value, str) or not value.strip():
        raise Invalid("must be a word")
    return value.strip()


def _stage_or_none(value: Any, stages: tuple[Stage, ...]) -> str | None:
    if value is not None and value not in [s.name for s in stages]:
        raise Invalid(f"{value!r} is not a stage")
    return value


def _bool(value: Any, _stages: tuple[Stage, ...]) -> bool:
    if not isinstance(value, bool):
        raise Invalid("must be true or false")
    return value


def _number_or_none(value: Any, _stages: tuple[Stage, ...]) -> float | None:
    if value is None:
        return None
    if not is_number(value):
        raise Invalid("must be a number (not NaN or infinity)")
    return float(value)


def _days(value: Any, _stages: tuple[Stage, ...]) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_DAYS:
        raise Invalid(f"must be a whole number of days from 0 to {MAX_DAYS}")
    return value


def _mapping(value: Any, _stages: tuple[Stage, ...]) -> Mapping[str, Any]:
    return value or {}  # config.py has checked it is a mapping or null


def _fields_by_stage(value: Any, stages: tuple[Stage, ...]) -> dict[str, tuple[str, ...]]:
    names = [s.name for s in stages]
    out: dict[str, tuple[str, ...]] = {}
    for stage_name, fields in (value or {}).items():
        key = f"required_fields_by_stage.{stage_name}"
        if stage_name not in names:
            raise Invalid("is not a stage", key)
        if not isinstance(fields, list):
            raise Invalid("must be a list of field names", key)
        out[str(stage_name)] = tuple(str(f) for f in fields)
    return out


def _closed_fields(stages: tuple[Stage, ...]) -> dict[str, list[str]]:
    """`closed` in a closed stage, and `lost_reason` too in the closed-lost one."""
    lost = ["lost_reason"]
    return {s.name: ["closed"] + (lost if s.closed == "lost" else []) for s in stages if s.closed}


_DECL_KEYS = ("type", "help", "values", "min", "max", "required")


def _fields(value: Any, stages: tuple[Stage, ...]) -> tuple[FieldDecl, ...]:
    """`fields:`, a mapping of field name to {type, help, values, min, max, required}."""
    if value is None:
        return ()
    names = [s.name for s in stages]
    out: list[FieldDecl] = []
    for name, spec in value.items():
        key = f"fields.{name}"
        if not isinstance(name, str) or not is_field_name(name):
            raise Invalid("a field name is a word of letters, digits, '_' or '-'", key)
        if name in BUILTIN_NAMES:
            raise Invalid("is one of pipectl's own fields; pick another name", key)
        spec = {"type": spec} if isinstance(spec, str) else spec
        if not isinstance(spec, Mapping):
            raise Invalid("must be a type name or a mapping {type, help, values, ...}", key)
        for k in spec:
            if k not in _DECL_KEYS:
                raise Invalid(f"unknown key {k!r} (known: {', '.join(_DECL_KEYS)})", key)
        kind = spec.get("type", "text")
        if kind not in TYPES:
            raise Invalid(f"type {kind!r} is not one of {', '.join(TYPES)}", f"{key}.type")
        values = _words(spec.get("values"), stages) if "values" in spec else ()
        if kind == "enum" and not values:
            raise Invalid("an enum field lists its allowed words under `values`", key)
        if values and kind not in ("enum", "list"):
            raise Invalid("`values` applies to enum and list fields", f"{key}.values")
        bounds: list[float | None] = []
        for b in ("min", "max"):
            bound = spec.get(b)
            if bound is not None and (kind not in ("number", "integer", "money")):
                raise Invalid(f"`{b}` applies to number, integer and money fields", f"{key}.{b}")
            if bound is not None and not is_number(bound):
                raise Invalid("must be a number", f"{key}.{b}")
            bounds.append(None if bound is None else float(bound))
        required = spec.get("required", False)
        if required is True:
            stages_required: tuple[str, ...] = ("*",)
        elif required is False or required is None:
            stages_required = ()
        elif isinstance(required, list) and all(r in names for r in required):
            stages_required = tuple(str(r) for r in required)
        else:
            raise Invalid("must be true, false or a list of stages", f"{key}.required")
        help_text = spec.get("help", "")
        if not isinstance(help_text, str):
            raise Invalid("must be text", f"{key}.help")
        low, high = bounds
        out.append(FieldDecl(name, kind, help_text, values, low, high, stages_required))
    return tuple(out)


def _team(value: Any, _stages: tuple[Stage, ...]) -> tuple[Member, ...]:
    """`team:`, the roster (roster.py reads it)."""
    try:
        return parse_team(value)
    except TargetError as exc:
        raise Invalid(exc.message, exc.key) from None


def _quotas(value: Any, _stages: tuple[Stage, ...]) -> tuple[tuple[str, float], ...]:
    try:
        return parse_quotas(value)
    except TargetError as exc:
        raise Invalid(exc.message, exc.key) from None


def _categories(value: Any, stages: tuple[Stage, ...]) -> Mapping[str, str]:
    try:
        return parse_categories(value, [s.name for s in stages if s.is_open])
    except TargetError as exc:
        raise Invalid(exc.message, exc.key) from None


# --- the spec ---------------------------------------------------------------------------------

CONFIG_SPEC: tuple[SpecEntry, ...] = (
    SpecEntry(
        "stages",
        "list",
        [s[0] for s in DEFAULT_STAGES],
        "Stages in pipeline order. Each item is a name or a mapping "
        "`{name, probability, closed: won|lost}`. The folder of a deal is its stage.",
        "stages",
        parse_stages,
    ),
    SpecEntry(
        "base_currency",
        "str",
        "USD",
        "The currency every total is in (report, dashboard, board, lint's shape rules) and of "
        "deals that name none. Deals in another currency are converted through the dated rate "
        "table `rates.csv` beside this file; see docs/forecast.md.",
        "currency",
        _currency,
    ),
    SpecEntry(
        "currency",
        "str",
        None,
        "The older name of `base_currency`, still read; when both are set they must agree.",
        "legacy_currency",
        _currency_or_none,
    ),
    SpecEntry(
        "qualification.criteria",
        "list",
        ["budget", "need", "fit", "timeline"],
        "Criteria a deal must meet to be qualified; a criterion is met when its key is present "
        "under `qualification:` and not false, no or empty.",
        "qualification_criteria",
        _words,
    ),
    SpecEntry(
        "qualification.gate",
        "str",
        "connecting",
        "First stage at which every criterion must be met (PL401).",
        "qualification_gate",
        _stage_or_none,
    ),
    SpecEntry(
        "touchpoints.kinds",
        "list",
        ["call", "email", "meeting", "message", "note", "demo", "proposal"],
        "Kinds of touchpoint `pipectl log` accepts.",
        "touchpoint_kinds",
        _words,
    ),
    SpecEntry(
        "touchpoints.outcomes",
        "list",
        ["replied", "no-reply", "meeting-booked", "positive", "negative", "voicemail", "bounced"],
        "Outcomes a touchpoint may record.",
        "touchpoint_outcomes",
        _words,
    ),
    SpecEntry(
        "touchpoints.reply_outcomes",
        "list",
        ["replied", "meeting-booked", "positive", "negative"],
        "Outcomes that count as an answer from the customer (PL501 counts the others).",
        "reply_outcomes",
        _words,
    ),
    SpecEntry(
        "lost_reasons",
        "list",
        ["price", "competitor", "no-budget", "no-decision", "timing", "no-response", "other"],
        "Allowed reasons for `pipectl lost --reason`.",
        "lost_reasons",
        _words,
    ),
    SpecEntry(
        "require_lost_reason",
        "bool",
        True,
        "Whether `pipectl lost` requires `--reason`.",
        "require_lost_reason",
        _bool,
    ),
    SpecEntry(
        "required_fields",
        "list",
        ["title", "created"],
        "Fields every deal must have (PL102); `required_fields_by_stage` adds per stage.",
        "required_fields",
        _words,
    ),
    SpecEntry(
        "required_fields_by_stage",
        "map",
        _closed_fields(parse_stages([s[0] for s in DEFAULT_STAGES])),
        "Extra required fields per stage, e.g. `{closing: [expected_close]}`. When absent: "
        "`closed` in the closed-won stage, `closed` and `lost_reason` in the closed-lost stage.",
        "required_fields_by_stage",
        _fields_by_stage,
        default_for=_closed_fields,
    ),
    SpecEntry(
        "quota",
        "number",
        None,
        "Sales target for the coming period, in `base_currency`; enables the coverage rule "
        "(PL604).",
        "quota",
        _number_or_none,
    ),
    SpecEntry(
        "quotas",
        "map",
        {},
        "The team's quotas by period (`2026-Q4`, `2026-11` or `2026`), in `base_currency`; a "
        "member's own go under `quotas:` in `team`. When a period has none here, the team's "
        "quota is the sum of its reps'. Attainment and coverage: docs/forecast.md.",
        "quotas",
        _quotas,
    ),
    SpecEntry(
        "forecast_categories",
        "map",
        {},
        "Forecast category (commit, best_case, pipeline, omitted) by open stage, e.g. "
        "`{closing: commit}`. A stage not named is commit from probability 0.7, best_case from "
        "0.4, else pipeline (omitted at 0); a deal's own `forecast:` wins.",
        "forecast_categories",
        _categories,
    ),
    SpecEntry(
        "sweep.grace_days",
        "number",
        7,
        "Days `pipectl sweep --last-chance` gives a lead to answer before `--close` may close "
        "it as lost (the due date of the next step it sets).",
        "sweep_grace_days",
        _days,
    ),
    SpecEntry(
        "sweep.kind",
        "str",
        "email",
        "Touchpoint kind of the last-chance message `pipectl sweep --last-chance` logs.",
        "sweep_kind",
        _word,
    ),
    SpecEntry(
        "sweep.lost_reason",
        "str",
        "no-response",
        "Lost reason `pipectl sweep --close` records (one of `lost_reasons`).",
        "sweep_lost_reason",
        _word,
    ),
    SpecEntry(
        "snooze.max_days",
        "number",
        90,
        "Longest snooze lint accepts: PL308 flags a deal snoozed more than this many days "
        "ahead (`pipectl snooze --until`; docs/daily.md); 0: no limit.",
        "snooze_max_days",
        _days,
    ),
    SpecEntry(
        "fields",
        "map",
        {},
        "The team's own deal fields: `name: {type, help, values, min, max, required}`. "
        "`type` is one of " + ", ".join(TYPES) + "; `required` is true or a list of stages. "
        "Every write refuses a value the type refuses; see docs/fields.md.",
        "fields",
        _fields,
    ),
    SpecEntry(
        "team",
        "list",
        [],
        "The roster: `- {handle, name, emails, aliases, manager, active, quotas}`. A deal's "
        "`owner` is "
        "a handle; git identities (author name or email) listed under `name`, `emails` or "
        "`aliases` are that member, for the default owner of new deals and every `--owner`.",
        "team",
        _team,
    ),
    SpecEntry(
        "rules",
        "map",
        {},
        "Rule settings by rule name or code: thresholds, `severity` (error, warning, info, off) "
        "and per-stage overrides under `stages:`. See `pipectl rules`.",
        "rules",
        _mapping,
    ),
)

SPEC_BY_KEY: Mapping[str, SpecEntry] = {e.key: e for e in CONFIG_SPEC}

# Top-level keys whose value is a mapping: the sections of dotted keys, and the "map" keys.
SECTIONS: tuple[str, ...] = tuple(
    dict.fromkeys(e.key.split(".")[0] for e in CONFIG_SPEC if "." in e.key or e.kind == "map")
)
