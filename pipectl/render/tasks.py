"""`pipectl task list` as a table: one open task a line, fitted to the terminal."""

from __future__ import annotations

from collections.abc import Sequence

from pipectl.daily.tasks import TaskRow
from pipectl.render.text import RED, fitted, paint

HEADERS = ("DEAL", "N", "DUE", "LATE", "OWNER", "SUMMARY")


def task_table(rows: Sequence[TaskRow], width: int | None, color: bool = False) -> str:
    """The rows under a header; on a terminal the summary is shortened first, never the
    deal id. A late task's LATE says by how many days; a snoozed deal's says `snoozed`."""
    cells = []
    for r in rows:
        late = f"{r.late}d" if r.late is not None and r.late > 0 else ""
        if r.snoozed:
            late = "snoozed"
        due = "" if r.task.due is None else r.task.due.isoformat()
        cells.append([r.deal.id, str(r.number), due, late, r.owner or "", r.task.summary])
    text = fitted(HEADERS, cells, width, shrink=((5, 12), (4, 5)), drop=(4,), bold=color)
    if not color:
        return text
    lines = text.splitlines()
    return "\n".join(
        [lines[0]]
        + [
            paint(line, RED, bool(r.late and r.late > 0 and not r.snoozed))
            for line, r in zip(lines[1:], rows, strict=True)
        ]
    )
