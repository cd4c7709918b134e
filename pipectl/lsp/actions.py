"""Code actions: the new text of a deal as pipectl's own operations would write it.

Each action is the text edit of an operation (`ops.touchpoint`/`ops.logged` for log,
`ops.next_step_changes` for next, `daily.tasks.snooze_changes` for snooze,
`dealedit.set_fields` for set) run on the editor's buffer, so the bytes are the CLI's.
Nothing is written here: the server hands the text to the editor as a workspace edit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from pipectl import ops, schema
from pipectl.config import Config
from pipectl.daily.tasks import snooze_changes
from pipectl.deal import Deal, DealText, decode, parse_deal, split
from pipectl.dealedit import set_fields
from pipectl.errors import PipectlError
from pipectl.lint import get_rule
from pipectl.lint.suppress import KEY as IGNORE_KEY
from pipectl.lsp.diagnostics import Place
from pipectl.store import Pipeline
from pipectl.writes import check_write

SNOOZE_DAYS = 14  # "snooze 2 weeks": as `pipectl snooze DEAL --until +2w`
NEXT_DUE_DAYS = 7  # "set next step due": a week from today, as `pipectl next --due +1w`
REASON = "why this deal is an exception"  # the reason a lint-ignore starts with, to be typed over
FOLLOW_UP = "follow-up"  # the summary of a touchpoint logged from a deal with no next step

Action = tuple[str, str]  # a title and the document's whole new text


def actions(where: Place, text: str, codes: Iterable[str], today: dt.date) -> list[Action]:
    """The actions for a deal's buffer; `codes`: the rules of the diagnostics in range."""
    try:
        pipeline = Pipeline(where.root)
        data = text.encode("utf-8")
        path = Path(where.rel)
        deal = parse_deal(data, path, path.parts[0])
        doc = split(decode(data, path), path)
    except PipectlError:
        return []  # a buffer lint cannot read: its diagnostics say why, there is nothing to edit
    found: list[Action] = []
    for make in (_log_today, _next_due, _snooze, _missing, _ignore):
        for title, edit in make(pipeline.config, deal, doc, set(codes), today):
            try:  # what the operation refuses, or the write after it would, is not offered
                new = edit().render()
                check_write(pipeline, where.root / path, new, data)
            except PipectlError:
                continue
            found.append((title, new))
    return found


Edit = Callable[[], DealText]


def _log_today(
    config: Config, deal: Deal, doc: DealText, codes: set[str], today: dt.date
) -> list[tuple[str, Edit]]:
    summary = deal.next_step or FOLLOW_UP
    kinds = config.touchpoint_kinds or ("call",)

    def log(kind: str) -> Edit:
        return lambda: ops.logged(doc, ops.touchpoint(config, kind, summary, today))

    return [(f"Log a {kind} today: {summary}", log(kind)) for kind in kinds]


def _next_due(
    config: Config, deal: Deal, doc: DealText, codes: set[str], today: dt.date
) -> list[tuple[str, Edit]]:
    step = deal.next_step
    if not step:
        return []
    due = today + dt.timedelta(days=NEXT_DUE_DAYS)
    changes = ops.next_step_changes(step, due)
    return [(f"Set next step due {due.isoformat()}", _setting(doc, changes))]


def _snooze(
    config: Config, deal: Deal, doc: DealText, codes: set[str], today: dt.date
) -> list[tuple[str, Edit]]:
    stage = config.stage(deal.stage)
    if stage is None or not stage.is_open:
        return []  # `snooze` refuses a won or lost deal
    until = today + dt.timedelta(days=SNOOZE_DAYS)
    changes = snooze_changes(until, today)
    return [(f"Snooze 2 weeks (until {until.isoformat()})", _setting(doc, changes))]


def _missing(
    config: Config, deal: Deal, doc: DealText, codes: set[str], today: dt.date
) -> list[tuple[str, Edit]]:
    rules = schema.for_config(config)
    lacking = [k for k in rules.missing(deal.fields, deal.stage) if "." not in k]
    return [
        (f"Add missing required field {key}", _setting(doc, {key: value}))
        for key, value in ((k, _starting_value(rules, deal, k, today)) for k in lacking)
    ]


def _setting(doc: DealText, changes: Mapping[str, Any]) -> Edit:
    """The edit `pipectl set` makes of these changes."""
    return lambda: set_fields(doc, changes)


def _starting_value(rules: schema.Schema, deal: Deal, key: str, today: dt.date) -> Any:
    """What a required field is added with: a date is today (`created`: the deal's earliest
    touchpoint or stage date, none may come before it), an enum its first word, else empty
    text to be typed over."""
    decl = rules.fields.get(key)
    if decl is not None and decl.type == "date":
        if key != "created":
            return today
        known = [t.date for t in deal.touchpoints if t.date is not None]
        # the dates the schema wants on or after created (schema.Schema's order checks)
        known += [day for k in ("closed", "stage_entered") if (day := deal.date(k)) is not None]
        return min([today, *known])
    if decl is not None and decl.values:
        return decl.values[0]
    return ""


def _ignore(
    config: Config, deal: Deal, doc: DealText, codes: set[str], today: dt.date
) -> list[tuple[str, Edit]]:
    present = deal.fields.get(IGNORE_KEY)
    if present is not None and not isinstance(present, Mapping):
        return []  # a list or a word: `set` cannot add to it; the user edits it by hand
    titled: list[tuple[str, Edit]] = []
    for code in sorted(codes):
        try:
            rule = get_rule(code)
        except KeyError:
            continue  # not a rule (a refused pipeline.yaml)
        change = {f"{IGNORE_KEY}.{rule.code}": REASON}
        titled.append((f"Add lint-ignore for {rule.code} ({rule.name})", _setting(doc, change)))
    return titled
