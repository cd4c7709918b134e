"""The fence split and the key-line index, made cheaper, still cut every file the same way."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipectl.deal import DealText, split
from pipectl.errors import DealError
from pipectl.yamltext import _NEVER_KEY, TOP_KEY_RE, key_lines

_FENCE_RE = re.compile(r"(---|\.\.\.)[ \t]*(\r\n|\n|$)")


def _split_line_by_line(text: str) -> DealText | None:
    """The split as it was: every line after the opening fence matched in turn."""
    bom = "\ufeff" if text.startswith("\ufeff") else ""
    rest = text[len(bom) :]
    first = _FENCE_RE.match(rest)
    if not first or first.group(1) != "---" or not first.group(2):
        return None
    pos = first.end()
    while pos <= len(rest):
        end = rest.find("\n", pos)
        line_end = len(rest) if end == -1 else end + 1
        fence = _FENCE_RE.match(rest, pos)
        if fence and fence.end() == line_end:
            parts = (rest[first.end() : pos], rest[pos:line_end], rest[line_end:])
            return DealText(bom, rest[: first.end()], *parts, first.group(2))
        if end == -1:
            break
        pos = line_end
    return None


def _same_split(text: str) -> None:
    old = _split_line_by_line(text)
    try:
        new: DealText | None = split(text)
    except DealError:
        new = None
    assert new == old, repr(text)
    if new is not None:
        assert new.render() == text


@pytest.mark.parametrize(
    "text",
    [
        "---\na: 1\n---\nbody\n",
        "---\r\na: 1\r\n---\r\nbody",
        "\ufeff---\na: 1\n...\n",
        "---\na: 1\n---",  # the closing fence ends the file
        "---\na: 1\n---   \n",
        "---\na: 1\n--- x\n---\n",  # not a fence line, then one
        "---\na: 1\n----\n",  # never closed
        "---\na: 1\n---\r",  # a lone carriage return is no line end
        "---\na: 1\n  ---\n---\n",
        "---\n---\n",  # empty frontmatter
        "---\n",
        "--- \nno: close",
        "...\na: 1\n---\n",
        "---x\n",
    ],
)
def test_the_split_finds_the_same_closing_fence(text: str) -> None:
    _same_split(text)


_pieces = st.sampled_from(["---", "...", " ", "\t", "\n", "\r\n", "\r", "a: 1", "x", "-", "\ufeff"])


@settings(max_examples=500, deadline=None)
@given(st.lists(_pieces, max_size=12))
def test_generated_texts_split_the_same(pieces: list[str]) -> None:
    _same_split("---\n" + "".join(pieces))
    _same_split("".join(pieces))


def test_a_line_skipped_by_its_first_character_could_never_be_a_key() -> None:
    for c in _NEVER_KEY:
        for rest in ("x: 1", "x:", ": 1", "x y: 2", '"a": 1', "'a': 1"):
            assert TOP_KEY_RE.match(c + rest) is None, (c, rest)


def test_key_lines_keep_top_level_keys_only() -> None:
    text = "title: A\n  nested: 1\n- item: 2\n# c: 3\n\"q\": 4\n'r': 5\nvalue:\n  - x: 1\n"
    assert key_lines(text, 2) == {"title": 2, "q": 6, "r": 7, "value": 8}
