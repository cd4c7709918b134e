"""Terminal layout of the sweep's plan: each candidate, what the sweep does with it, a summary.

Takes the value of `daily.sweep` and returns a string.
"""

from __future__ import annotations

from pipectl.daily.sweep import ANSWERED, DUE, EXPIRED, WAITING, Candidate, SweepResult
from pipectl.render.text import clip, visible, width_of


def sweep(result: SweepResult, width: int, kind: str, reason: str) -> str:
    """Each candidate with why it is one and what happened (or would happen) to it."""
    if not result.candidates:
        return f"No deals to sweep on {result.today}: none past the sales cycle or out of attempts."
    rows = [  # escaped before widths are measured (clip would escape, but after padding)
        [visible(x) for x in (c.deal.id, c.deal.stage, c.deal.owner or "-", "; ".join(c.reasons))]
        for c in result.candidates
    ]
    widths = [max(width_of(r[k]) for r in rows) for k in range(3)]
    lines = []
    for c, row in zip(result.candidates, rows, strict=True):
        cells = [x + " " * (widths[k] - width_of(x)) for k, x in enumerate(row[:3])]
        lines.append(clip("  ".join([*cells, row[3]]), width))
        lines.append(clip("  -> " + _what(c, result, kind, reason), width))
    return "\n".join(lines) + "\n\n" + _summary(result)


def _what(c: Candidate, result: SweepResult, kind: str, reason: str) -> str:
    deal_id = c.deal.id
    if c.state == DUE:
        if deal_id in result.sent:
            verb = "would send" if result.dry_run else "sent"
            return f"{verb} by {kind} today, answer by {result.deadline}"
        return "none sent yet (--last-chance sends one)"
    if c.state == WAITING:
        until = f" until {c.deadline}" if c.deadline else ""
        return f"sent {c.last_chance or '?'}, waiting{until}"
    if c.state == EXPIRED:
        if deal_id in result.closed:
            verb = "would close" if result.dry_run else "closed"
            return f"no answer since {c.last_chance or '?'}: {verb} as lost ({reason})"
        return f"expired {c.deadline} with no answer (--close closes it)"
    assert c.state == ANSWERED
    return f"answered {c.answered} after the last chance of {c.last_chance}: kept"


def _summary(result: SweepResult) -> str:
    n = len(result.candidates)
    found = f"{n} candidate{'s' if n != 1 else ''}"
    sent, closed = len(result.sent), len(result.closed)
    if result.dry_run:
        if not sent and not closed:
            return f"dry run: {found}, nothing to do today"
        todo = []
        if sent:
            todo.append(f"--last-chance would send {sent}")
        if closed:
            todo.append(f"--close would close {closed} as lost")
        return f"dry run, nothing changed: {found}; " + ", ".join(todo)
    done = []
    if sent:
        done.append(f"sent {sent} last chance{'s' if sent != 1 else ''}")
    if closed:
        done.append(f"closed {closed} as lost")
    if not done:
        return f"{found}; nothing to do today"
    commit = " in one commit" if result.committed else " (not committed)"
    return f"{found}; " + ", ".join(done) + commit
