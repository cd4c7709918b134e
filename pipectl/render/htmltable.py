"""The dashboard's one table builder: sortable by the page's script, cells escaped by the caller.

Shared by the page (render/html.py) and its cards (render/lint_html.py); prints nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pipectl.render.svg import attr, e, empty


def table(
    headers: Sequence[tuple[str, bool]],
    rows: Sequence[Sequence[tuple[str, Any]]],
    name: str,
    row_data: Sequence[Mapping[str, Any]] | None = None,
) -> str:
    """A sortable table; headers are (text, numeric); cells (shown text, sort key)."""
    if not rows:
        return empty()
    head = "".join(f'<th class="n">{e(h)}</th>' if n else f"<th>{e(h)}</th>" for h, n in headers)
    body = []
    for i, row in enumerate(rows):
        attrs = ""
        if row_data is not None:
            attrs = "".join(f' data-{k}="{attr(v)}"' for k, v in row_data[i].items())
        cells = []
        for (text, key), (_, numeric) in zip(row, headers, strict=True):
            sort = "" if key is None else f' data-sort="{e(key)}"'
            cls = ' class="n"' if numeric else ""
            cells.append(f"<td{cls}{sort}>{text}</td>")
        body.append(f"<tr{attrs}>{''.join(cells)}</tr>")
    return (
        f'<div class="scroll"><table class="sortable" data-table="{e(name)}"><thead><tr>{head}'
        f"</tr></thead><tbody>{''.join(body)}</tbody></table></div>"
    )
