"""yamltext: the one answer to "on which line is this key" and "are these the same value".

Cases are the ones its callers rely on: deal key lines (lint findings, export), pipeline.yaml
error lines (config, lint validation), touchpoint lines (lint), pair ranges (merge) and the
value check behind every edit, merge and import.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from pipectl.deal import parse_deal, split
from pipectl.yamltext import (
    TOP_KEY_RE,
    content_end,
    find_pair,
    item_line,
    key_lines,
    line_end,
    line_of,
    pair_range,
    same_value,
)

DEAL_YAML = """\
title: Acme
# a comment: not a key
"quoted key": 1
'single': 2
qualification:
  budget: yes
  authority: no
tags: [a, b]
touchpoints:
  - {date: 2026-01-02, kind: call, summary: first}
  # between items
  - date: 2026-01-03
    kind: email
    summary: second
owner: ana
"""


def _compose(text: str):
    return yaml.compose(text, Loader=yaml.SafeLoader)


# --- key_lines: every deal, every lint run --------------------------------------------------


def test_key_lines_finds_top_level_keys_and_skips_comments_items_and_nested_keys():
    assert key_lines(DEAL_YAML) == {
        "title": 1,
        "quoted key": 3,
        "single": 4,
        "qualification": 5,
        "tags": 8,
        "touchpoints": 9,
        "owner": 15,
    }


def test_key_lines_numbers_from_first_line_as_a_deal_file_does():
    assert key_lines("a: 1\nb: 2\n", first_line=2) == {"a": 2, "b": 3}


def test_key_lines_keeps_a_repeated_key_at_its_first_line():
    assert key_lines("a: 1\nb: 2\na: 3\n") == {"a": 1, "b": 2}


def test_key_lines_reads_crlf_text_and_keys_without_a_value():
    assert key_lines("title: Acme\r\nowner:\r\ntags: []\r\n") == {
        "title": 1,
        "owner": 2,
        "tags": 3,
    }


@pytest.mark.parametrize(
    "line",
    ["  nested: 1", "- item: 1", "# note: 1", "url:http://x", "", "? complex", "[a]: 1"],
)
def test_lines_that_hold_no_top_level_key(line):
    assert TOP_KEY_RE.match(line) is None
    assert key_lines(line + "\n") == {}


def test_a_deal_knows_its_key_lines_from_here():
    data = b"---\r\ntitle: Acme\r\n'owner': ana\r\n---\r\nbody\r\n"
    deal = parse_deal(data, Path("acme.md"), "prospecting")
    assert dict(deal.lines) == key_lines(split(data.decode()).yaml, 2) == {"title": 2, "owner": 3}


# --- line_of: a key path, composed (error messages, findings) ------------------------------


@pytest.mark.parametrize(
    ("keys", "line"),
    [
        (["title"], 1),
        (["quoted key"], 3),
        (["single"], 4),
        (["qualification", "authority"], 7),
        (["qualification", "missing"], 5),  # the deepest part found
        (["tags", 1], 8),  # a flow list item
        (["touchpoints", 0], 10),
        (["touchpoints", 1], 12),  # a comment between items does not count
        (["touchpoints", 1, "summary"], 14),
        (["touchpoints", 5], 9),  # past the end: the list's own line
        (["qualification", 0], 5),  # an index into a mapping stops there
        (["title", "inner"], 1),  # a scalar has no keys
        (["nowhere"], None),
    ],
)
def test_line_of_a_key_path(keys, line):
    assert line_of(DEAL_YAML, keys) == line


def test_line_of_counts_from_first_line_and_reads_crlf():
    text = DEAL_YAML.replace("\n", "\r\n")
    assert line_of(text, ("touchpoints", 1), first_line=2) == 13
    assert line_of(text, ["qualification", "budget"], first_line=2) == 7


def test_line_of_nothing_or_not_yaml_is_none():
    assert line_of("", ["a"]) is None
    assert line_of("a: [1\n", ["a"]) is None
    assert line_of("- a\n- b\n", ["a"]) is None


def test_line_of_a_pipeline_yaml_rules_key():
    text = "stages:\n  - lead\nrules:\n  PL101:\n    max_days: x\n"
    assert line_of(text, ["rules", "PL101", "max_days"]) == 5


# --- item_line: a touchpoint's line without composing -------------------------------------


def test_item_line_finds_block_list_items_past_comments():
    assert item_line(DEAL_YAML, "touchpoints", 0, 2) == 10
    assert item_line(DEAL_YAML, "touchpoints", 1, 2) == 12
    assert item_line(DEAL_YAML, "touchpoints", 1, 2, first_line=2) == 13


def test_item_line_agrees_with_line_of():
    for index in range(2):
        assert item_line(DEAL_YAML, "touchpoints", index, 2) == line_of(
            DEAL_YAML, ["touchpoints", index]
        )


def test_item_line_reads_crlf_and_lists_at_the_key_indent():
    text = "touchpoints:\r\n- a\r\n- b\r\nowner: x\r\n"
    assert item_line(text, "touchpoints", 1, 2) == 3


@pytest.mark.parametrize(
    ("text", "index", "count"),
    [
        ("tags: [a, b]\n", 0, 2),  # flow list: composing answers instead
        ("touchpoints:\n  - a\n  - b\n", 0, 3),  # counted items differ from the parsed list
        ("touchpoints:\n  - a\n", 1, 1),  # past the end
        ("touchpoints:\n  - a\n", -1, 1),
        ("owner: x\n", 0, 1),  # no such key
    ],
)
def test_item_line_does_not_guess(text, index, count):
    assert item_line(text, "touchpoints" if "touch" in text else "tags", index, count) is None


# --- node walkers: where edits and merges cut the text ------------------------------------


def test_find_pair_finds_a_key_node_and_its_value():
    root = _compose(DEAL_YAML)
    knode, vnode = find_pair(root, "quoted key")
    assert (knode.value, vnode.value) == ("quoted key", "1")
    assert find_pair(root, "nowhere") is None


def test_line_end_is_just_past_the_line_break():
    s = "a: 1\r\nb: 2"
    assert line_end(s, 1) == 6
    assert line_end(s, 6) == 6  # already at a line start
    assert line_end(s, 8) == len(s)  # the last line has no break


def test_content_end_leaves_trailing_comments_and_blank_lines_to_what_follows():
    s = "q:\n  a: 1\n  b: 2\n# about owner\n\nowner: x\n"
    _k, vnode = find_pair(_compose(s), "q")
    assert s[: content_end(s, vnode)] == "q:\n  a: 1\n  b: 2"
    s = "note: |\n  line one\n\n\nowner: x\n"
    _k, vnode = find_pair(_compose(s), "note")
    assert s[: content_end(s, vnode)] == "note: |\n  line one"


def test_pair_range_covers_the_lines_of_one_pair():
    s = "title: Acme\nq:\n  a: 1\n  b: 2\nowner: x\n"
    root = _compose(s)
    start, end = pair_range(s, root, ("q", "a"))
    assert s[start:end] == "  a: 1\n"
    start, end = pair_range(s, root, ("title",))
    assert s[start:end] == "title: Acme\n"


def test_pair_range_of_an_absent_pair_is_empty_where_it_would_go():
    s = "q:\n  a: 1\nowner: x\n"
    root = _compose(s)
    assert pair_range(s, root, ("missing",)) == (len(s), len(s))
    assert pair_range(s, root, ("q", "z")) == (s.index("owner"), s.index("owner"))
    assert pair_range("", None, ("a",)) == (0, 0)


def test_pair_range_refuses_flow_mappings_and_shared_lines():
    s = "q: {a: 1, b: 2}\n"
    assert pair_range(s, _compose(s), ("q", "a")) is None
    s = "{a: 1, b: 2}\n"
    assert pair_range(s, _compose(s), ("a",)) is None
    assert pair_range(s, _compose(s), ("b",)) is None
    s = "q: {a: 1}\nowner: x\n"
    assert pair_range(s, _compose(s), ("q",)) == (0, s.index("owner"))


def test_pair_range_keeps_crlf_lines_whole():
    s = "a: 1\r\nb: 2\r\n"
    start, end = pair_range(s, _compose(s), ("a",))
    assert s[start:end] == "a: 1\r\n"


# --- same_value: the one equality of edits, merges and imports ----------------------------


def test_same_value_is_type_strict_where_yaml_is():
    assert same_value(1054, 1054.0)
    assert not same_value(True, 1)
    assert not same_value(0, False)
    assert same_value(True, True)
    assert not same_value(dt.date(2026, 1, 1), "2026-01-01")
    assert not same_value(dt.datetime(2026, 1, 1), dt.date(2026, 1, 1))
    assert same_value(dt.date(2026, 1, 1), dt.date(2026, 1, 1))
    assert not same_value(None, "")
    assert same_value(None, None)
    assert not same_value(float("nan"), float("nan"))


def test_same_value_walks_nested_lists_and_mappings():
    assert same_value({"a": [1, {"b": 2.0}]}, {"a": [1.0, {"b": 2}]})
    assert same_value({"a": 1, "b": 2}, {"b": 2, "a": 1})  # key order is no value
    assert not same_value({"a": [True]}, {"a": [1]})
    assert not same_value({"a": 1}, {"a": 1, "b": None})
    assert not same_value([1, 2], [1, 2, 3])
    assert not same_value([1], {"0": 1})
    assert not same_value([{"date": dt.date(2026, 1, 2)}], [{"date": "2026-01-02"}])
