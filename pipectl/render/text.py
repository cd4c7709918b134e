"""Plain-text presentation: tables and deal views. The only core module that knows the screen.

Takes values, returns strings; printing is the CLI's job.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

from pipectl import tasks
from pipectl.deal import Deal
from pipectl.money import money as money  # the renderers' formatter, from the kernel
from pipectl.textsafe import visible as visible  # the one sanitiser, from the kernel


def width_of(text: str) -> int:
    if text.isascii():  # the common case, without a table lookup per character
        return len(text)
    return len(text) + _wide(_ASCII.sub("", text))


_ASCII = re.compile(r"[\x00-\x7f]+")


@functools.lru_cache(maxsize=4096)
def _wide(rest: str) -> int:
    """The wide characters among a text's non-ASCII ones: kept, since those recur (the `→`
    of history's `moved a → b` on ~120,000 lines)."""
    return sum(1 for c in rest if unicodedata.east_asian_width(c) in "WF")


def _narrow(text: str) -> bool:
    """Whether every character of the text takes one column."""
    return text.isascii() or not _wide(_ASCII.sub("", text))


def clip(text: str, width: int) -> str:
    text = visible(text)
    if width_of(text) <= width:
        return text
    out, used = [], 0
    for c in text:
        w = width_of(c)
        if used + w > width - 1:
            break
        out.append(c)
        used += w
    return "".join(out) + "…"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], max_width: int = 120) -> str:
    """Columns padded to fit; the widest text column is clipped to keep within max_width."""
    cols = len(headers)
    # one look at the whole table for what is rare (a control character, a wide one), not
    # one per row: `history` has ~120,000 rows. Rows of str only (join says) are used as they
    # are: a copy of each was a fifth of the table's cost; nothing here changes a row
    cells: Sequence[Sequence[str]]
    try:
        whole, cells = "".join(map("".join, rows)), rows
    except TypeError:
        cells = [list(map(str, row)) for row in rows]
        whole = "".join(map("".join, cells))
    if visible(whole) != whole:
        cells = [_visible_row(row) for row in cells]
    narrow = _narrow(whole)
    if narrow:  # no wide character in any cell: a column is as wide as its longest cell
        widths = [
            max(width_of(headers[i]), max(map(len, [r[i] for r in cells]), default=0))
            for i in range(cols)
        ]
    else:
        widths = [max(width_of(headers[i]), _widest([r[i] for r in cells])) for i in range(cols)]
    total = sum(widths) + 2 * (cols - 1)
    clipped = None
    if total > max_width and cols:
        clipped = max(range(cols), key=lambda i: widths[i])
        widths[clipped] = max(8, widths[clipped] - (total - max_width))
    head = [visible(str(h)) for h in headers]
    if cols and narrow and all(len(row) == cols for row in cells):
        # every cell one column a character and, but in a clipped column, no wider than its
        # column: padded by one %-format a line (a per-cell check was half the table's cost)
        fmt = "  ".join(f"%-{w}s" for w in widths)
        lines = [_line(head, widths, narrow, cols)]
        if clipped is None:
            lines += [(fmt % tuple(row)).rstrip() for row in cells]
        else:
            cut = widths[clipped]
            lines += [
                (fmt % tuple(row)).rstrip()
                if len(row[clipped]) <= cut
                else _line(row, widths, narrow, cols)
                for row in cells
            ]
        return "\n".join(lines)
    return "\n".join([_line(row, widths, narrow, cols) for row in [head, *cells]])


def _line(row: Sequence[str], widths: list[int], narrow: bool, cols: int) -> str:
    """One row of `table`, its cells visible already, padded to `widths`."""
    # the usual row: no wide character, fitting: str.ljust pads
    fits = all(map(int.__ge__, widths, map(len, row)))
    if len(row) == cols and fits and (narrow or _narrow("".join(row))):
        return "  ".join(map(str.ljust, row, widths)).rstrip()
    pads = []
    for w, c in zip(widths, row, strict=True):  # each cell visible already: clip a wide one
        n = width_of(c)
        if n > w:
            c = clip(c, w)
            n = width_of(c)
        pads.append(c + " " * (w - n))
    return "  ".join(pads).rstrip()


def _visible_row(row: Sequence[Any]) -> list[str]:
    """The row's cells made visible: one look at the whole row when none needs it (a
    control character is one character, in one cell of the row or none)."""
    cells = list(map(str, row))
    joined = "".join(cells)
    return cells if visible(joined) == joined else [visible(c) for c in cells]


def _widest(column: list[str]) -> int:
    """The widest cell of a column (0 if none); one of no wide character by len alone."""
    if _narrow("".join(column)):
        return max(map(len, column), default=0)
    return max(map(width_of, column), default=0)


def fitted(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    width: int | None,
    shrink: Sequence[tuple[int, int]] = (),
    drop: Sequence[int] = (),
    bold: bool = False,
) -> str:
    """An aligned table, one row a line, that fits `width` columns of text.

    `width` None (output piped): every value in full. Else the columns in `shrink`, as
    (column, narrowest) pairs, are cut with "…" in that order, none below its narrowest
    (a title cut to three letters says nothing); if that is not enough, the columns in
    `drop` are left out, in that order, and the rest laid out again. A column in neither is
    never cut (ids): a line wider than the screen is the last resort.
    """
    cells = [[visible(str(c)) for c in row] for row in rows]
    shown = list(range(len(headers)))
    widths = _fit(headers, cells, shown, width, shrink)
    for gone in drop:
        if widths is not None or len(shown) == 1:
            break
        shown.remove(gone)
        widths = _fit(headers, cells, shown, width, shrink)
    if widths is None:  # nothing left to shrink or drop: keep every kept cell whole
        widths = [_natural(headers, cells, i) for i in shown]
    lines = []
    for n, row in enumerate([list(headers), *cells]):
        cut = [clip(row[i], w) for i, w in zip(shown, widths, strict=True)]
        line = "  ".join(c + " " * (w - width_of(c)) for c, w in zip(cut, widths, strict=True))
        lines.append(paint(line.rstrip(), BOLD, bold and n == 0))
    return "\n".join(lines)


def _natural(headers: Sequence[str], cells: Sequence[Sequence[str]], i: int) -> int:
    return max([width_of(headers[i])] + [width_of(r[i]) for r in cells])


def _fit(
    headers: Sequence[str],
    cells: Sequence[Sequence[str]],
    shown: Sequence[int],
    width: int | None,
    shrink: Sequence[tuple[int, int]],
) -> list[int] | None:
    """The widths of the shown columns within `width` (None: no limit), or None when
    shrinking them cannot make them fit."""
    widths = {i: _natural(headers, cells, i) for i in shown}
    if width is None:
        return list(widths.values())
    over = sum(widths.values()) + 2 * (len(shown) - 1) - width
    for i, narrowest in shrink:
        if over <= 0:
            break
        if i in widths:
            floor = min(widths[i], max(width_of(headers[i]), narrowest))
            cut = min(over, widths[i] - floor)
            widths[i] -= cut
            over -= cut
    return list(widths.values()) if over <= 0 else None


def delimited(headers: Sequence[str], rows: Sequence[Sequence[object]], dialect: str) -> str:
    """`tsv` or `csv`: a header line and one line a row, every value in full.

    Control characters (tabs and line breaks included) are shown escaped, so each row stays
    one line and a tab always separates columns.
    """
    import csv
    import io

    clean = [[visible("" if v is None else str(v)) for v in row] for row in [headers, *rows]]
    if dialect == "tsv":
        return "\n".join("\t".join(row) for row in clean)
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(clean)
    return out.getvalue().rstrip("\n")


def deal_rows(deals: Sequence[Deal]) -> list[list[str]]:
    rows = []
    for d in deals:
        due = d.date("next_step_due")
        value = money(d.value)
        own = d.fields.get("currency")  # a deal's own currency is said: values are not summed
        if d.value is not None and isinstance(own, str) and own.strip():
            value += f" {own.strip()}"
        rows.append(
            [
                d.id,
                d.title or "",
                d.stage,
                d.company or "",
                d.owner or "",
                value,
                d.next_step or "",
                due.isoformat() if due else "",
            ]
        )
    return rows


def deal_table(
    deals: Sequence[Deal],
    width: int | None,
    *,
    color: bool = False,
    pipelines: Sequence[str] | None = None,
) -> str:
    """`pipectl list` as a table: titles shortened first, then next steps and companies, then
    those columns left out; ids never cut. `width` None: every value in full. `pipelines`:
    each deal's pipeline, in a first column (`list --all`), never cut either."""
    title, company, owner, step = 1, 3, 4, 6
    headers: tuple[str, ...] = DEAL_HEADERS
    rows = deal_rows(deals)
    if pipelines is not None:
        title, company, owner, step = 2, 4, 5, 7
        headers = ("PIPELINE", *DEAL_HEADERS)
        rows = [[name, *row] for name, row in zip(pipelines, rows, strict=True)]
    return fitted(
        headers,
        rows,
        width,
        shrink=((title, 16), (step, 12), (company, 10), (owner, 6)),
        drop=(company, step, title, owner),
        bold=color,
    )


DEAL_HEADERS = ("ID", "TITLE", "STAGE", "COMPANY", "OWNER", "VALUE", "NEXT STEP", "DUE")

# `pipectl list --format tsv|csv`: the frontmatter's own names, amounts as numbers
DEAL_FIELDS = (
    "id",
    "title",
    "stage",
    "company",
    "owner",
    "value",
    "next_step",
    "next_step_due",
)


def deal_records(deals: Sequence[Deal]) -> list[list[object]]:
    from pipectl.jsonout import amount

    return [
        [
            d.id,
            d.title,
            d.stage,
            d.company,
            d.owner,
            amount(d.value),
            d.next_step,
            d.date("next_step_due"),
        ]
        for d in deals
    ]


def deal_detail(deal: Deal, body: str, currency: str) -> str:
    """A deal as a person reads it: the main fields, qualification, touchpoints, notes."""
    f = deal.fields
    lines = [f"{deal.title}  [{deal.id}]", f"stage: {deal.stage}"]
    for key in ("company", "contact", "owner"):
        if f.get(key) is not None:
            lines.append(f"{key}: {f[key]}")
    if deal.value is not None:
        lines.append(f"value: {money(deal.value)} {f.get('currency') or currency}")
    for key in ("created", "stage_entered", "expected_close", "closed", "lost_reason"):
        if f.get(key) is not None:
            lines.append(f"{key}: {_text(f[key])}")
    if deal.next_step:
        due = deal.date("next_step_due")
        lines.append(f"next step: {deal.next_step}" + (f" (due {due})" if due else ""))
    lines += _task_lines(deal)
    if deal.tags:
        lines.append(f"tags: {', '.join(deal.tags)}")
    people = f.get("contacts")
    if isinstance(people, list) and people:
        lines.append(f"contacts ({len(people)}):")
        lines.extend(f"  {contact_text(p)}" for p in people)
    if deal.qualification:
        lines.append("qualification:")
        lines.extend(f"  {k}: {_text(v)}" for k, v in deal.qualification.items())
    known = {
        "title",
        "company",
        "contact",
        "contacts",
        "owner",
        "value",
        "currency",
        "created",
        "stage_entered",
        "expected_close",
        "closed",
        "lost_reason",
        "next_step",
        "next_step_due",
        "tags",
        "qualification",
        "touchpoints",
        tasks.TASKS_KEY,
        tasks.SNOOZED_UNTIL,
        tasks.SNOOZE_REASON,
    }
    for key, value in f.items():
        if key not in known:
            lines.append(f"{key}: {_text(value)}")
    if deal.touchpoints:
        lines.append(f"touchpoints ({len(deal.touchpoints)}):")
        for t in deal.touchpoints:
            outcome = f" [{t.outcome}]" if t.outcome else ""
            lines.append(f"  {t.date or '????-??-??'}  {t.kind:<8} {t.summary}{outcome}")
    lines = [visible(line) for line in lines]
    if body.strip():
        lines.extend(["", visible(body.strip("\r\n"), lines=True)])
    return "\n".join(lines)


def _task_lines(deal: Deal) -> list[str]:
    """`tasks:` numbered as `task done` takes them (the next step is 1, shown above), the
    done ones after; and the snooze, when there is one."""
    out = []
    entries = [t for t in tasks.all_tasks(deal) if not t.is_next_step]
    if entries:
        todo = tasks.open_tasks(deal)
        first = "; 1 is the next step" if todo and todo[0].is_next_step else ""
        out.append(f"tasks ({len(todo)} open{first}):")
        for n, t in enumerate(todo, 1):
            if not t.is_next_step:
                who = f" ({t.owner})" if t.owner else ""
                out.append(f"  {n}. {t.due or '????-??-??'}  {t.summary}{who}")
        out += [f"  -  {t.due}  {t.summary} (done {t.done})" for t in entries if t.done]
    if tasks.snoozed_until(deal) is not None:
        out.append(tasks.snooze_note(deal))
    return out


def contact_text(person: Any) -> str:
    """One entry of `contacts:` on a line: `Jane Doe <jane@acme.example>, +1 555 0100
    (champion)`."""
    if not isinstance(person, Mapping):
        return _text(person)
    name, email = person.get("name"), person.get("email")
    text = " ".join(str(v) for v in (name, f"<{email}>" if email else None) if v)
    if person.get("phone"):
        text += f", {person['phone']}"
    if person.get("role"):
        text += f" ({person['role']})"
    return text


def _text(value: Any) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value)
    return str(value)


BOLD, RED, YELLOW, DIM, RESET = "\x1b[1m", "\x1b[31m", "\x1b[33m", "\x1b[2m", "\x1b[0m"


def paint(text: str, style: str, color: bool) -> str:
    """Text in an ANSI style when colour is asked for (an empty text stays empty)."""
    return f"{style}{text}{RESET}" if color and text else text
