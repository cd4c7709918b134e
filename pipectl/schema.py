"""The one deal schema: pipectl's own fields and the team's (`fields:`), with their types.

Every write path asks `refusals` before it writes (through `Change`), lint's PL102 and PL103
report `missing` and `problems`, `pipectl schema` prints `json_schema`, and docs/fields.md is
`markdown`. A problem is `FIELD: reason`; the line is the caller's to find.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from pipectl import lineitems, tasks
from pipectl.config import Config
from pipectl.deal import is_valid_id
from pipectl.fieldtypes import (
    BUILTIN,
    CONTACT_KEYS,
    FieldDecl,
    as_date,
    from_cli,
    show,
)

# The id of the deal schema (a URN: it names the schema, nothing is fetched from it).
SCHEMA_ID = "urn:pipectl:schema:deal"
# What a touchpoint `pipectl ingest` logged keeps of its source (docs/mail.md): whether the
# rep sent the message or received it, and the message's or the event's id.
DIRECTIONS = ("sent", "received")
SOURCE_IDS = ("message_id", "event_id")

_UNMET_WORDS = {"", "no", "false", "n", "off", "none", "unknown", "?", "tbd"}


def criterion_met(value: Any) -> bool:
    """A criterion is met when present and not false, "no", empty or a placeholder."""
    if value is None or value is False:
        return False
    if isinstance(value, str):
        return value.strip().lower() not in _UNMET_WORDS
    if isinstance(value, Mapping | list):
        return bool(value)
    return True


@dataclass(frozen=True)
class Problem:
    """One thing the schema refuses: the top-level key, where below it (for the line), and
    the message, `FIELD: reason`."""

    key: str
    where: tuple[str | int, ...]
    message: str
    missing: bool = False  # a required key absent: a stage gate `--force` may pass
    # what makes two writes' problems the same one: the message, unless it names a place that
    # moves when other items come and go (a touchpoint's index): then the item's own value
    same: str = ""

    @property
    def identity(self) -> str:
        return self.same or self.message


class Schema:
    """The fields of one pipeline's deals, built from its pipeline.yaml."""

    def __init__(self, config: Config):
        self.config = config
        lost_reasons = config.lost_reasons
        fields: dict[str, FieldDecl] = {}
        for decl in BUILTIN:
            if decl.name == "lost_reason":
                decl = replace(decl, type="enum" if lost_reasons else "text", values=lost_reasons)
            fields[decl.name] = decl
        for decl in config.fields:
            fields[decl.name] = decl
        self.fields: Mapping[str, FieldDecl] = fields
        self._always: frozenset[str] | None = None

    # --- what a deal must hold ----------------------------------------------------------

    def required(self, stage: str) -> tuple[str, ...]:
        """Keys a deal in `stage` must have (dotted for a criterion), in a stable order."""
        cfg = self.config
        keys = [*cfg.required_fields, *cfg.required_fields_by_stage.get(stage, ())]
        keys += [d.name for d in cfg.fields if "*" in d.required or stage in d.required]
        return tuple(dict.fromkeys(keys))

    def always(self) -> frozenset[str]:
        """The keys required in every stage (`required_fields`, a field `required: true`):
        lint's PL102 reports a deal lacking one wherever it is, so no stage's gate asks."""
        found = self._always
        if found is None:
            stages = self.config.stage_names
            every = set.intersection(*(set(self.required(s)) for s in stages)) if stages else set()
            found = self._always = frozenset({*self.config.required_fields, *every})
        return found

    def missing(self, fields: Mapping[str, Any], stage: str) -> list[str]:
        """The required keys of `stage` that `fields` lacks; a criterion needs evidence."""
        out = []
        for key in self.required(stage):
            value = lookup(fields, key)
            met = criterion_met(value) if key.startswith("qualification.") else not _blank(value)
            if not met:
                out.append(key)
        return out

    def unmet_criteria(self, fields: Mapping[str, Any]) -> list[str]:
        """The qualification criteria the deal does not meet, in config order."""
        q = fields.get("qualification")
        q = q if isinstance(q, Mapping) else {}
        return [c for c in self.config.qualification_criteria if not criterion_met(q.get(c))]

    def past_gate(self, stage: str) -> bool:
        """Whether `stage` is at or past the qualification gate."""
        cfg = self.config
        gate = cfg.qualification_gate
        if gate is None or cfg.stage(gate) is None or cfg.stage(stage) is None:
            return False
        return cfg.stage_index(stage) >= cfg.stage_index(gate)

    def gate(self, fields: Mapping[str, Any], stage: str) -> list[str]:
        """What a deal lacks to enter `stage`: its required keys, and every criterion in an
        open stage from the gate on (a deal may be won or lost qualified or not)."""
        always = self.always()  # not the stage's: lint's PL102 reports them
        lacking = [k for k in self.missing(fields, stage) if k not in always]
        target = self.config.stage(stage)
        if self.past_gate(stage) and target is not None and target.is_open:  # as PL401
            lacking += [f"qualification.{c}" for c in self.unmet_criteria(fields)]
        return list(dict.fromkeys(lacking))

    # --- the values -----------------------------------------------------------------------

    def problems(self, fields: Mapping[str, Any]) -> Iterator[Problem]:
        """Every value of `fields` the schema refuses, in key order; unknown keys are kept
        as they are and never refused."""
        for key, value in fields.items():
            decl = self.fields.get(str(key))
            if decl is None or value is None:
                continue
            if decl.type == "touchpoints":
                yield from self._touchpoints(value, fields)
            elif decl.type == "qualification":
                yield from self._qualification(value)
            elif decl.type == "suppressions":
                continue  # the rule names are lint's: PL103 checks them
            elif decl.type == "contacts":
                yield from self._contacts(value)
            elif decl.type == "line_items":  # lineitems.py reads them, so it checks them
                for i, msg in lineitems.problems(value):
                    yield Problem("line_items", () if i is None else (i,), msg)
            elif decl.type == "tasks":  # tasks.py reads them, so it checks them
                for i, msg in tasks.tasks_problems(value):
                    yield Problem("tasks", () if i is None else (i,), msg)
            else:
                problem = decl.problem(value)
                if problem is not None:
                    yield Problem(decl.name, (), f"{decl.name}: {problem}")
        yield from self._order(fields)

    def _order(self, fields: Mapping[str, Any]) -> Iterator[Problem]:
        created = _date(fields.get("created"))
        if created is None:
            return
        for key in ("closed", "stage_entered"):
            when = _date(fields.get(key))
            if when is not None and when < created:
                msg = f"{key}: {when} is before created ({created})"
                yield Problem(key, (), msg)

    def _touchpoints(self, raw: Any, fields: Mapping[str, Any]) -> Iterator[Problem]:
        if not isinstance(raw, list):
            msg = "touchpoints: must be a list of {date, kind, summary, outcome} entries"
            yield Problem("touchpoints", (), msg)
            return
        created = _date(fields.get("created"))
        for i, item in enumerate(raw):
            problem = self.touchpoint_problem(item, created)
            if problem:
                msg = f"touchpoint {i + 1}: {problem}"
                yield Problem("touchpoints", (i,), msg, same=f"{_canonical(item)}: {problem}")

    def touchpoint_problem(self, item: Any, created: dt.date | None = None) -> str | None:
        """Why one touchpoint entry is refused, or None."""
        kinds, outcomes = self.config.touchpoint_kinds, self.config.touchpoint_outcomes
        if not isinstance(item, Mapping):
            return "must be a mapping {date, kind, summary, outcome}"
        when = as_date(item.get("date"))
        if when is None:
            return f"date {show(item.get('date'))} is not a date (use YYYY-MM-DD)"
        if created is not None and when < created:
            return f"date {when} is before created ({created})"
        if not item.get("kind"):
            return "has no kind"
        if kinds and str(item["kind"]) not in kinds:
            return f"kind {show(item['kind'])} is not one of {', '.join(kinds)}"
        outcome = item.get("outcome")
        if outcome is not None and outcomes and str(outcome) not in outcomes:
            return f"outcome {show(outcome)} is not one of {', '.join(outcomes)}"
        summary = item.get("summary")
        if isinstance(summary, Mapping | list):
            return "summary must be text"
        direction = item.get("direction")
        if direction is not None and direction not in DIRECTIONS:
            return f"direction {show(direction)} is not one of {', '.join(DIRECTIONS)}"
        for key in SOURCE_IDS:
            value = item.get(key)
            if value is not None and (not isinstance(value, str) or not value.isprintable()):
                return f"{key} must be text on one line"
        return None

    def _contacts(self, raw: Any) -> Iterator[Problem]:
        if not isinstance(raw, list):
            yield Problem("contacts", (), f"contacts: must be a list of {_CONTACT} entries")
            return
        for i, item in enumerate(raw):
            problem = contact_problem(item)
            if problem:
                msg = f"contact {i + 1}: {problem}"
                yield Problem("contacts", (i,), msg, same=f"{_canonical(item)}: {problem}")

    def _qualification(self, raw: Any) -> Iterator[Problem]:
        if not isinstance(raw, Mapping):
            msg = "qualification: must be a mapping of criterion: evidence"
            yield Problem("qualification", (), msg)
            return
        for name in raw:
            problem = self.criterion_problem(str(name))
            if problem is not None:
                yield Problem("qualification", (str(name),), problem)

    def criterion_problem(self, name: str) -> str | None:
        """Why `qualification.NAME` is no criterion of this pipeline (with close matches)."""
        criteria = self.config.qualification_criteria
        if not criteria or name in criteria:
            return None
        close = difflib.get_close_matches(name, criteria, n=3, cutoff=0.6)
        hint = f"did you mean {', '.join(close)}?" if close else f"criteria: {', '.join(criteria)}"
        return f"qualification.{name}: not a criterion in pipeline.yaml ({hint})"

    # --- writes ---------------------------------------------------------------------------

    def refusals(
        self,
        before: Mapping[str, Any] | None,
        after: Mapping[str, Any],
        stage: str,
        old_stage: str | None = None,
    ) -> list[Problem]:
        """What a write from `before` (None: a new file) to `after` would bring in: problems
        and missing required keys that `before` (in `old_stage`) did not have. A user's old
        faults elsewhere in the file never block an unrelated change."""
        # the same fault as many times as before is not new (two alike touchpoints, one added)
        old: Counter[str] = Counter()
        if before is not None:
            old.update(p.identity for p in self.problems(before))
        seen: Counter[str] = Counter()
        new = []
        for p in self.problems(after):
            seen[p.identity] += 1
            if seen[p.identity] > old[p.identity]:
                new.append(p)
        had = set(self.missing(before, old_stage or stage)) if before is not None else set()
        for key in self.missing(after, stage):
            if key not in had:
                where = f" in {stage}" if key not in self.always() else ""
                msg = f"{key}: required{where}, missing"
                new.append(Problem(key.split(".")[0], (), msg, missing=True))
        return new

    def cli_value(self, key: str, raw: str, parsed: Any) -> Any:
        """What `raw`, typed as KEY=raw on the command line, means for this field."""
        return from_cli(self.fields.get(key), raw, parsed)

    # --- for other tools --------------------------------------------------------------------

    def json_schema(self) -> dict[str, Any]:
        """The deal frontmatter as JSON Schema (draft 2020-12), dates as ISO text; each
        stage's requirements are `$defs/stage-NAME` (a deal's stage is its folder)."""
        props = {name: self._json_field(d) for name, d in self.fields.items()}
        stages = {
            f"stage-{s}": {"$ref": "#", "required": [k for k in self.required(s) if "." not in k]}
            for s in self.config.stage_names
        }
        return {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": SCHEMA_ID,
            "title": "pipectl deal",
            "description": "The YAML frontmatter of a pipectl deal file. Keys not listed here "
            "are the team's own and are kept as they are.",
            "type": "object",
            "properties": props,
            "required": [k for k in self.config.required_fields if "." not in k],
            "$defs": stages,
        }

    def _json_field(self, d: FieldDecl) -> dict[str, Any]:
        out: dict[str, Any] = {"description": d.help} if d.help else {}
        out.update(self._json_type(d))
        return out

    def _json_type(self, d: FieldDecl) -> dict[str, Any]:
        number = {k: v for k, v in (("minimum", d.min), ("maximum", d.max)) if v is not None}
        text = {"type": ["string", "number", "null"]}
        kinds: dict[str, dict[str, Any]] = {
            "text": text,
            "number": {"type": ["number", "null"], **number},
            "integer": {"type": ["integer", "null"], **number},
            "money": {
                "type": ["number", "null"],
                "minimum": max(0, d.min or 0),
                **{k: v for k, v in number.items() if k == "maximum"},
            },
            "date": {"type": ["string", "null"], "format": "date"},
            "enum": {"enum": [*d.values, None]},
            "list": {
                "type": ["array", "null"],
                "items": {"enum": list(d.values)} if d.values else {"type": ["string", "number"]},
            },
            "email": {"type": ["string", "null"], "format": "email"},
            "url": {"type": ["string", "null"], "format": "uri", "pattern": "^https?://"},
            "bool": {"type": ["boolean", "null"]},
        }
        if d.type in kinds:
            return kinds[d.type]
        cfg = self.config
        if d.type == "qualification":
            names = {"propertyNames": {"enum": list(cfg.qualification_criteria)}}
            return {"type": ["object", "null"], **(names if cfg.qualification_criteria else {})}
        if d.type == "touchpoints":

            def words(values: tuple[str, ...]) -> dict[str, Any]:
                return {"enum": list(values)} if values else {"type": ["string", "number"]}

            item = {
                "type": "object",
                "required": ["date", "kind"],
                "properties": {
                    "date": {"type": "string", "format": "date"},
                    "kind": words(cfg.touchpoint_kinds),
                    "summary": text,
                    "direction": {"enum": [*DIRECTIONS, None]},
                    **{key: text for key in SOURCE_IDS},
                    "outcome": {**words(cfg.touchpoint_outcomes)}
                    if not cfg.touchpoint_outcomes
                    else {"enum": [*cfg.touchpoint_outcomes, None]},
                },
            }
            return {"type": ["array", "null"], "items": item}
        if d.type == "tasks":
            return tasks.JSON_SCHEMA
        if d.type == "line_items":
            return dict(lineitems.JSON_SCHEMA)
        if d.type == "contacts":
            person = {
                "type": "object",
                "properties": {k: text for k in CONTACT_KEYS} | {"email": {"type": "string"}},
                "additionalProperties": False,
                "anyOf": [{"required": ["name"]}, {"required": ["email"]}],
            }
            record = {"type": "string", "pattern": "^[a-z0-9][a-z0-9._-]*$"}  # a contact's id
            return {"type": ["array", "null"], "items": {"anyOf": [person, record]}}
        # lint-ignore: rule code or name -> reason, as a mapping or a list of them
        reasons = {"type": "object", "additionalProperties": {"type": "string", "minLength": 1}}
        return {"anyOf": [reasons, {"type": "array", "items": reasons}, {"type": "null"}]}


_CONTACT = "{" + ", ".join(CONTACT_KEYS) + "}"
_EMAIL = FieldDecl("email", "email")


def contact_problem(item: Any) -> str | None:
    """Why one entry of `contacts:` is refused, or None: a mapping of the CONTACT_KEYS, each
    text on one line (the email an address), naming the person by name or email."""
    if isinstance(item, str):  # the id of a contact record (contacts/ID.md, records.py)
        return None if is_valid_id(item.strip()) else f"{show(item)} is not a contact's id"
    if not isinstance(item, Mapping):
        return f"must be a mapping {_CONTACT} or a contact's id"
    for key, value in item.items():
        if key not in CONTACT_KEYS:
            return f"{show(key)} is not one of {', '.join(CONTACT_KEYS)}"
        if value is None:
            continue
        if isinstance(value, Mapping | list | bool) or (
            isinstance(value, str) and ("\n" in value or "\r" in value)
        ):
            return f"{key}: {show(value)} is not text on one line"
    email = item.get("email")
    if email is not None:
        problem = _EMAIL.problem(email)
        if problem:
            return f"email: {problem}"
    if _blank(item.get("name")) and _blank(item.get("email")):
        return "has neither a name nor an email"
    return None


_SCHEMAS: dict[int, tuple[Config, Schema]] = {}


def for_config(config: Config) -> Schema:
    """The schema of a config, built once per config (a lint run asks for it per deal)."""
    found = _SCHEMAS.get(id(config))
    if found is None or found[0] is not config:
        found = _SCHEMAS[id(config)] = (config, Schema(config))
    return found[1]


def lookup(fields: Mapping[str, Any], key: str) -> Any:
    """The value at a dotted key (`qualification.budget`); None where any part is absent."""
    node: Any = fields
    for part in key.split("."):
        if not isinstance(node, Mapping):
            return None
        node = node.get(part)
    return node


def _canonical(value: Any) -> str:
    """A value as text that two equal values share and two unequal ones never do: types
    told apart (1, "1", True), mappings in key order."""
    if isinstance(value, Mapping):
        pairs = sorted((_canonical(k), _canonical(v)) for k, v in value.items())
        return "{" + ", ".join(f"{k}: {v}" for k, v in pairs) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_canonical(v) for v in value) + "]"
    return f"{type(value).__name__}({value!r})"


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str | list | dict) and not value)


def _date(value: Any) -> dt.date | None:
    return as_date(value)
