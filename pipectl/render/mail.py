"""Text of the mail and calendar commands: what `ingest` logged (or would) and left out; the
digest (the agenda and the changes, reused as they render) as text, Markdown and HTML.

Takes the values of `pipectl.mail`, `daily.agenda` and `changes` and returns strings.
"""

from __future__ import annotations

from html import escape

from pipectl.changes import Changes
from pipectl.daily.agenda import SECTIONS, Agenda, AgendaItem
from pipectl.mail.ingest import Plan
from pipectl.render.agenda import agenda
from pipectl.render.changes import changes_markdown, changes_text
from pipectl.render.text import money, visible


def ingest(plan: Plan, dry_run: bool) -> str:
    """One line per touchpoint logged or updated, then the unmatched, then a count."""
    verb = "would log" if dry_run else "logged"
    lines = []
    for e in plan.new:
        item = e.item
        outcome = f" ({item['outcome']})" if item.get("outcome") else ""
        direction = f" {item['direction']}" if item.get("direction") else ""
        lines.append(
            f"{verb} {e.deal}: {item['kind']}{direction} {item['date']} "
            f"{visible(str(item['summary']))}{outcome}"
        )
    update = "would mark" if dry_run else "marked"
    lines += [f"{update} {u.deal}: {visible(u.summary)} replied" for u in plan.updates]
    if plan.unmatched:
        lines.append(f"unmatched ({len(plan.unmatched)}):")
        lines += [
            f"  {visible(u.where)}: {visible(u.subject)} — {visible(u.reason)}"
            for u in plan.unmatched
        ]
    total = len(plan.new) + len(plan.updates)
    summary = f"{total} change{'s' if total != 1 else ''}"
    if plan.known:
        summary += f", {plan.known} already logged"
    if plan.unmatched:
        summary += f", {len(plan.unmatched)} unmatched"
    if plan.cancelled:
        summary += f", {plan.cancelled} cancelled"
    if plan.later:
        summary += f", {plan.later} still to come"
    lines.append(summary + (" (dry run: nothing written)" if dry_run else ""))
    return "\n".join(lines)


# --- the digest: the day's agenda, then what changed since the last working day ----------


def digest_text(plan: Agenda, changed: Changes | None, width: int) -> str:
    """The agenda as `pipectl agenda` shows it, then the changes as `pipectl changes` does."""
    parts = [agenda(plan, width)]
    parts.append(changes_text(changed) if changed is not None else _NO_HISTORY)
    return "\n\n".join(parts) + "\n"


def digest_markdown(plan: Agenda, changed: Changes | None) -> str:
    """The digest as Markdown: a heading, the agenda's sections as lists, the changes."""
    lines = [f"# {_title(plan)}", ""]
    if not plan.items:
        lines += ["Nothing on the agenda.", ""]
    for key, heading in SECTIONS:
        items = plan.section(key)
        if items:
            lines += [f"## {heading} ({len(items)})", ""]
            lines += [f"- {_item(i)}" for i in items]
            lines.append("")
    lines.append(changes_markdown(changed) if changed is not None else _NO_HISTORY + "\n")
    return "\n".join(lines)


def digest_html(plan: Agenda, changed: Changes | None) -> str:
    """The digest as one HTML page (a message's HTML part): no script, no outside link."""
    body = [f"<h1>{escape(_title(plan))}</h1>"]
    if not plan.items:
        body.append("<p>Nothing on the agenda.</p>")
    for key, heading in SECTIONS:
        items = plan.section(key)
        if items:
            body.append(f"<h2>{escape(heading)} ({len(items)})</h2>")
            body.append("<ul>" + "".join(f"<li>{escape(_item(i))}</li>" for i in items) + "</ul>")
    body.append("<h2>What changed</h2>")
    shown = changes_text(changed) if changed is not None else _NO_HISTORY
    body.append(f"<pre>{escape(shown)}</pre>")
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>'
        + escape(_title(plan))
        + "</title></head><body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )


def digest_subject(plan: Agenda, changed: Changes | None) -> str:
    """`Digest for alice, 2026-12-01: 3 items, 5 changes`."""
    n = len(changed.changes) if changed is not None else 0
    items = f"{len(plan.items)} item{'s' if len(plan.items) != 1 else ''}"
    return f"{_title(plan)}: {items}, {n} change{'s' if n != 1 else ''}"


_NO_HISTORY = "No history to compare (not inside a git repository)."


def _title(plan: Agenda) -> str:
    return f"Digest for {visible(plan.owner or 'everyone')}, {plan.today}"


def _item(i: AgendaItem) -> str:
    d = i.deal
    also = f" (also: {', '.join(i.also)})" if i.also else ""
    owner = f", {d.owner}" if d.owner else ""
    return visible(f"{d.id} ({d.stage}, {money(d.value)}{owner}): {i.detail}{also}")
