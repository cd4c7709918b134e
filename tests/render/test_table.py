"""render.text.table: columns aligned by the width a terminal gives each character, control
characters shown escaped, the widest column clipped to fit; the whole-table shortcuts (one look
for a control or wide character) give what a row-by-row look gives."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from pipectl.render.text import table, visible, width_of

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
