"""The web app's pages as HTML text: every user string escaped (`render.svg.e`), notes from
Markdown with raw HTML off, no inline script or style (the CSP allows only the package's
assets), the CSRF token in a meta tag the script reads.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pipectl.daily.agenda import SECTIONS, Agenda
from pipectl.fieldtypes import FieldDecl
from pipectl.render.svg import e
from pipectl.render.text import money
from pipectl.serve.views import BoardView, DealView
from pipectl.version import __version__

NAV = (("/", "Board"), ("/agenda", "Agenda"), ("/search", "Search"), ("/report", "Report"))


def shell(title: str, body: str, token: str, version: str, here: str = "") -> str:
    """The page around `body`: nav, the token and the pipeline version the script polls by."""
    links = "".join(
        f'<a href="{href}"{" aria-current=page" if href == here else ""}>{e(name)}</a>'
        for href, name in NAV
    )
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta name="csrf-token" content="{e(token)}">\n'
        f'<meta name="pipeline-version" content="{e(version)}">\n'
        f"<title>{e(title)} · pipectl</title>\n"
        '<link rel="icon" href="/static/icon.svg" type="image/svg+xml">\n'
        '<link rel="stylesheet" href="/static/app.css">\n'
        '<script src="/static/app.js" defer></script></head>\n<body>\n'
        f"<header><strong>pipectl</strong><nav>{links}</nav></header>\n"
        f'<div id="flash" role="status" hidden></div>\n<main>\n{body}\n</main>\n'
        f"<footer>pipectl {e(__version__)} · every change is a git commit</footer>\n"
        "</body></html>\n"
    )


def _amount(value: float | None, currency: str) -> str:
    return "-" if value is None else f"{money(value)} {currency}".strip()


def _date(day: dt.date | None) -> str:
    return "" if day is None else day.isoformat()


def board(view: BoardView) -> str:
    """One column per stage (count and value total, as `pipectl board`), a card per deal."""
    owners = "".join(
        f'<a href="/?owner={e(o)}"{" aria-current=page" if o == view.owner else ""}>{e(o)}</a>'
        for o in view.owners
    )
    cols = []
    for col in view.columns:
        cards = "".join(_card(view, c) for c in col.cards)
        cols.append(
            f'<section class="column" data-stage="{e(col.stage)}">'
            f'<h2>{e(col.stage)} <span class="count">{col.count:,}</span></h2>'
            f'<p class="total">{e(_amount(col.value, view.currency))}</p>'
            f'<ol class="cards">{cards}</ol></section>'
        )
    return (
        f"<h1>Board <small>{e(view.today.isoformat())}</small></h1>"
        f'<p class="owners">Owner: <a href="/">all</a>{owners}</p>'
        f"{_skipped(view.skipped)}"
        f'<div class="board">{"".join(cols)}</div>'
        '<dialog id="gate"><form method="dialog"><p class="why"></p><ul class="missing"></ul>'
        '<button value="cancel">Cancel</button> <button value="force" class="danger">'
        "Move anyway (--force)</button></form></dialog>"
    )


def _skipped(errors: Sequence[str]) -> str:
    if not errors:
        return ""
    rows = "".join(f"<li>{e(err)}</li>" for err in errors)
    head = f"<summary>{len(errors):,} files skipped</summary>"
    return f'<details class="skipped">{head}<ul>{rows}</ul></details>'


def _card(view: BoardView, card: Any) -> str:
    marks = []
    if card.worst:
        marks.append(
            f'<span class="badge {e(card.worst)}" title="lint findings">!{card.warnings}</span>'
        )
    if card.id in view.overdue:
        marks.append('<span class="badge overdue">overdue</span>')
    if card.snoozed_until is not None:
        marks.append(
            f'<span class="badge snoozed">snoozed to {e(_date(card.snoozed_until))}</span>'
        )
    days = "" if card.days_in_stage is None else f"{card.days_in_stage:,} d"
    value = _amount(card.amount if card.currency else card.value, card.currency or view.currency)
    due = f" · due {e(_date(card.next_due))}" if card.next_due else ""
    return (
        f'<li class="card" draggable="true" data-deal="{e(card.id)}" '
        f'data-version="{e(view.versions.get(card.id, ""))}">'
        f'<a href="/deal/{e(card.id)}">{e(card.company or view.titles.get(card.id) or card.id)}</a>'
        f'<span class="value">{e(value)}</span>'
        f'<span class="meta">{e(card.owner or "no owner")} · {e(days)}{due}</span>'
        f'<span class="marks">{"".join(marks)}</span></li>'
    )


def notes_html(body: str) -> str:
    """A deal's notes from Markdown, raw HTML shown as text (never passed through)."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False}).render(body)


def _value(value: Any) -> str:
    if isinstance(value, dict):
        return (
            "<dl>"
            + "".join(f"<dt>{e(k)}</dt><dd>{_value(v)}</dd>" for k, v in value.items())
            + "</dl>"
        )
    if isinstance(value, list):
        return "<ul>" + "".join(f"<li>{_value(v)}</li>" for v in value) + "</ul>"
    return e(value)


def deal(
    view: DealView,
    stages: Sequence[str],
    kinds: Sequence[str],
    outcomes: Sequence[str],
    reasons: Sequence[str],
    fields: Sequence[FieldDecl] = (),
) -> str:
    """A deal: its fields, tasks and touchpoints, notes, findings, history, and the forms."""
    d = view.deal
    skip = {"touchpoints", "tasks"}
    rows = "".join(
        f"<tr><th>{e(k)}</th><td>{_value(v)}</td></tr>"
        for k, v in d.fields.items()
        if k not in skip
    )
    tps = "".join(
        f"<tr><td>{e(_date(t.date))}</td><td>{e(t.kind)}</td><td>{e(t.summary)}</td>"
        f"<td>{e(t.outcome or '')}</td></tr>"
        for t in d.touchpoints
    )
    from pipectl import tasks as kernel_tasks

    task_rows = "".join(
        f"<li{' class=done' if t.done else ''}>{e(t.summary)}"
        f"{' · due ' + e(_date(t.due)) if t.due else ''}</li>"
        for t in kernel_tasks.all_tasks(d)
    )
    found = "".join(
        f'<li class="{e(f.severity)}"><code>{e(f.code)}</code> line {f.line}: {e(f.message)}</li>'
        for f in view.findings
    )
    hist = "".join(
        f"<li><time>{e(ev.date.date().isoformat())}</time> {e(ev.author)}: {e(words)}</li>"
        for ev, words in view.history
    )
    data = f'data-deal="{e(d.id)}" data-version="{e(view.version)}"'
    return (
        f'<article class="deal" {data}><h1>{e(d.title)} <small>{e(d.stage)}</small></h1>'
        '<div class="grid"><section><h2>Fields</h2>'
        f'<table class="fields">{rows}</table></section>'
        f"<section><h2>Change</h2>{_forms(stages, kinds, outcomes, reasons, d.stage)}"
        f"{_edit_form(fields, d.fields)}</section>"
        "</div><section><h2>Tasks</h2>"
        f'<ul class="tasks">{task_rows or "<li>none</li>"}</ul></section>'
        '<section><h2>Touchpoints</h2><table class="touchpoints"><thead><tr><th>date</th>'
        f"<th>kind</th><th>summary</th><th>outcome</th></tr></thead><tbody>{tps}</tbody></table>"
        "</section><section><h2>Notes</h2>"
        f'<div class="notes">{notes_html(view.body)}</div></section>'
        f'<section><h2>Findings</h2><ul class="findings">{found or "<li>none</li>"}</ul></section>'
        f'<section><h2>History</h2><ol class="history">{hist or "<li>no commits yet</li>"}</ol>'
        "</section></article>"
    )


def _options(values: Iterable[str], empty: str | None = None) -> str:
    head = "" if empty is None else f'<option value="">{e(empty)}</option>'
    return head + "".join(f'<option value="{e(v)}">{e(v)}</option>' for v in values)


def _forms(
    stages: Sequence[str],
    kinds: Sequence[str],
    outcomes: Sequence[str],
    reasons: Sequence[str],
    current: str,
) -> str:
    others = [s for s in stages if s != current]
    return (
        '<form data-action="log" class="change"><h3>Log a touchpoint</h3>'
        f'<select name="kind" aria-label="kind">{_options(kinds)}</select>'
        f'<select name="outcome" aria-label="outcome">{_options(outcomes, "no outcome")}</select>'
        '<input name="summary" placeholder="What happened" required aria-label="summary">'
        "<button>Log</button></form>"
        '<form data-action="next" class="change"><h3>Next step</h3>'
        '<input name="step" placeholder="Next step" required aria-label="next step">'
        '<input name="due" type="date" aria-label="due"><button>Set</button></form>'
        '<form data-action="task" class="change"><h3>Add a task</h3>'
        '<input name="summary" placeholder="Task" required aria-label="task">'
        '<input name="due" type="date" required aria-label="task due"><button>Add</button></form>'
        '<form data-action="move" class="change"><h3>Move</h3>'
        f'<select name="stage" aria-label="stage">{_options(others)}</select>'
        "<button>Move</button></form>"
        '<form data-action="won" class="change"><button>Won</button></form>'
        '<form data-action="lost" class="change">'
        f'<select name="reason" aria-label="lost reason">{_options(reasons)}</select>'
        '<button class="danger">Lost</button></form>'
    )


# the kinds of value a browser's own input edits; the structured fields stay in the file
_INPUTS = {"date": "date", "money": "number", "number": "number", "integer": "number"}
_SET_BY_OPERATIONS = {"stage_entered", "closed", "created", "next_step", "next_step_due"}


def _edit_form(fields: Sequence[FieldDecl], current: Mapping[str, Any]) -> str:
    """`pipectl set` as a form: a widget per scalar field of the schema, by its type (an
    enum a list to pick from), holding the deal's value; only the fields changed are sent."""
    rows = []
    for decl in fields:
        if decl.type not in ("text", "enum", *_INPUTS) or decl.name in _SET_BY_OPERATIONS:
            continue
        value = current.get(decl.name)
        shown = "" if value is None or isinstance(value, Mapping | list) else str(value)
        attrs = f'name="{e(decl.name)}" data-initial="{e(shown)}" aria-label="{e(decl.name)}"'
        if decl.type == "enum":
            picks = [v for v in decl.values if v != shown]
            opts = _options(([shown] if shown else []) + picks, None if shown else "")
            widget = f"<select {attrs}>{opts}</select>"
        else:
            kind = _INPUTS.get(decl.type, "text")
            step = ' step="any"' if kind == "number" else ""
            widget = f'<input type="{kind}"{step} {attrs} value="{e(shown)}">'
        rows.append(f'<label title="{e(decl.help)}"><span>{e(decl.name)}</span>{widget}</label>')
    return (
        '<form data-action="set" class="change fields-form"><h3>Fields</h3>'
        f"{''.join(rows)}<button>Save</button></form>"
    )


def agenda(plan: Agenda, owners: Sequence[str]) -> str:
    """The day's plan, section by section, as `pipectl agenda`."""
    picks = "".join(f'<a href="/agenda?owner={e(o)}">{e(o)}</a>' for o in owners)
    parts = []
    for key, heading in SECTIONS:
        items = plan.section(key)
        if not items:
            continue
        rows = "".join(
            f'<li><a href="/deal/{e(i.deal.id)}">{e(i.deal.company or i.deal.id)}</a> '
            f"{e(i.deal.owner or '')} · {e(i.detail)}</li>"
            for i in items
        )
        parts.append(
            f"<section><h2>{e(heading)} <span class=count>{len(items):,}</span></h2>"
            f"<ul>{rows}</ul></section>"
        )
    who = plan.owner or "everyone"
    return (
        f"<h1>Agenda <small>{e(who)} · {e(plan.today.isoformat())}</small></h1>"
        f'<p class="owners">Owner: <a href="/agenda?owner=all">all</a>{picks}</p>'
        + ("".join(parts) or "<p>Nothing to do today.</p>")
    )


def search(query: str, found: Sequence[Any]) -> str:
    """The search box and its hits, best first, each with its matching lines."""
    rows = "".join(
        f'<li><a href="/deal/{e(f.deal.id)}">{e(f.deal.title)}</a> <small>{e(f.deal.stage)}</small>'
        "<ul>"
        + "".join(f"<li><code>{e(h.field)}</code> {e(h.text)}</li>" for h in f.hits)
        + "</ul></li>"
        for f in found
    )
    result = f"<p>{len(found):,} deals</p><ol class=hits>{rows}</ol>" if query else ""
    return (
        '<h1>Search</h1><form method="get" action="/search">'
        f'<input name="q" value="{e(query)}" aria-label="search" autofocus>'
        f"<button>Search</button></form>{result}"
    )
