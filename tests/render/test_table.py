"""render.text.table: columns aligned by the width a terminal gives each character, control
characters shown escaped, the widest column clipped to fit; the whole-table shortcuts (one look
for a control or wide character) give what a row-by-row look gives."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from pipectl.render.text import clip, table, visible, width_of

_cells = st.text(alphabet=st.sampled_from(list("ab →日本\x1b\u202e\t")), max_size=6)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(_cells, min_size=3, max_size=3), max_size=6))
def test_every_line_is_the_row_made_visible_and_aligned(rows: list[list[str]]) -> None:
    lines = table(["A", "B", "C"], rows, max_width=200).split("\n")
    assert len(lines) == len(rows) + 1
    shown = [[visible(c) for c in r] for r in [["A", "B", "C"], *rows]]
    widths = [max(width_of(r[i]) for r in shown) for i in range(3)]
    for line, cells in zip(lines, shown, strict=True):
        want = "  ".join(c + " " * (w - width_of(c)) for c, w in zip(cells, widths, strict=True))
        assert line == want.rstrip()


def test_a_control_character_in_one_row_leaves_the_others_alone() -> None:
    out = table(["WHO", "WHAT"], [["ann", "moved a → b"], ["bob", "\x1b[2Jcleared"]])
    assert out.split("\n") == [
        "WHO  WHAT",
        "ann  moved a → b",
        "bob  \\x1b[2Jcleared",
    ]


def test_wide_characters_are_aligned_by_their_columns() -> None:
    out = table(["N", "X"], [["日本", "1"], ["ab", "2"]])
    assert out.split("\n") == ["N     X", "日本  1", "ab    2"]


def _by_the_book(headers: list[str], rows: list[list[object]], max_width: int) -> str:
    """The table as its docstring defines it, cell by cell: the reference for the shortcuts."""
    shown = [[visible(str(c)) for c in r] for r in [headers, *rows]]
    widths = [max(width_of(r[i]) for r in shown) for i in range(len(headers))]
    total = sum(widths) + 2 * (len(headers) - 1)
    if total > max_width:
        widest = max(range(len(headers)), key=lambda i: widths[i])
        widths[widest] = max(8, widths[widest] - (total - max_width))
    lines = []
    for r in shown:
        cut = [clip(c, w) for c, w in zip(r, widths, strict=True)]
        lines.append(
            "  ".join(c + " " * (w - width_of(c)) for c, w in zip(cut, widths, strict=True))
        )
    return "\n".join(line.rstrip() for line in lines)


_narrow_cells = st.text(alphabet=st.sampled_from(list("ab →é ")), max_size=14)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(_narrow_cells | st.integers(0, 10**6), _narrow_cells, _narrow_cells), max_size=8
    ),
    st.integers(10, 40),
)
def test_narrow_tables_clipped_or_not_are_laid_out_cell_by_cell(
    rows: list[tuple[object, str, str]], max_width: int
) -> None:
    # narrow text (no wide or control character: history's rows) takes the one-format-a-line
    # path; rows as tuples, numbers among the cells, a clipped widest column
    mixed: list[list[object]] = [list(r) for r in rows]
    assert table(["A", "B", "C"], rows, max_width) == _by_the_book(
        ["A", "B", "C"], mixed, max_width
    )
    assert table(["A", "B", "C"], mixed, max_width) == _by_the_book(
        ["A", "B", "C"], mixed, max_width
    )
