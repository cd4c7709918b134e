"""Text of the mail and calendar commands: what `ingest` logged (or would), and what it left out.

Takes the values of `pipectl.mail` and returns strings.
"""

from __future__ import annotations

from pipectl.mail.ingest import Plan
from pipectl.render.text import visible


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
