"""Terminal layout of the sweep's plan: each candidate, what the sweep does with it, a summary.

Takes the value of `daily.sweep` and returns a string.
"""

from __future__ import annotations

from pipectl.daily.sweep import (
    ANSWERED,
    DUE,
    EXPIRED,
    LEFT_ALONE,
    REPLIED,
    SKIPPED,
    WAITING,
    Candidate,
    SweepResult,
    replaced_step,
)
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
        replaces = _replaces(c) if c.deal.id in result.sent else ""
        if replaces:  # a line of its own: at 80 columns it would be clipped off the one above
            lines.append(clip("     " + replaces, width))
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
    if c.state == SKIPPED:
        return "skipped: " + "; ".join(c.held)
    if c.state == REPLIED:
        return "left alone: " + "; ".join(c.held)
    assert c.state == ANSWERED
    return f"answered {c.answered} after the last chance of {c.last_chance}: kept"


def _replaces(c: Candidate) -> str:
    """The next step a last chance overwrites: never without saying so."""
    old = replaced_step(c.deal)
    if old is None:
        return ""
    step, due = old
    text = f"'{step}'" if step else "(no text)"
    return f"replaces next step: {text}" + (f" (due {due})" if due else "")


def _summary(result: SweepResult) -> str:
    alone = sum(c.state in LEFT_ALONE for c in result.candidates)
    n = len(result.candidates) - alone
    found = f"{n} candidate{'s' if n != 1 else ''}" + (f", {alone} left alone" if alone else "")
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
