"""The semantic three-way merge of deal files, on texts (git's merge-file for the body)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipectl.deal import parse_yaml, split
from pipectl.errors import DealError
from pipectl.gitrepo import GitRepo
from pipectl.team.driver import text_merger
from pipectl.team.merge import merge_deal, merge_items

BASE = """---
title: Acme Corp
owner: alice  # the rep who owns it
value: 1000
qualification:
  budget: yes
  need: maybe
tags: [enterprise]
touchpoints:
  - {date: 2026-11-02, kind: email, summary: Intro email}
---
# Acme Corp

First paragraph.

Second paragraph.
"""

TP = "  - {date: 2026-11-02, kind: email, summary: Intro email}\n"


@pytest.fixture
def merge(tmp_path: Path):
    tm = text_merger(GitRepo(tmp_path))

    def run(base: str, ours: str, theirs: str):
        return merge_deal(base, ours, theirs, tm)

    return run


def fields(text: str) -> dict:
    return parse_yaml(split(text))


def log(text: str, line: str) -> str:
    """Append a touchpoint line after the last one."""
    head, sep, rest = text.partition("---\n# Acme")
    return head + line + sep + rest


def test_touchpoints_from_both_sides_are_united_in_date_order(merge):
    ours = log(BASE, "  - {date: 2026-11-05, kind: call, summary: Alice called}\n")
    theirs = log(BASE, "  - {date: 2026-11-04, kind: email, summary: 'Bob: pricing'}\n")
    result = merge(BASE, ours, theirs)
    assert result.clean
    summaries = [t["summary"] for t in fields(result.text)["touchpoints"]]
    assert summaries == ["Intro email", "Bob: pricing", "Alice called"]
    # theirs' entry keeps its own quoting; nothing else in ours moved
    assert "  - {date: 2026-11-04, kind: email, summary: 'Bob: pricing'}\n" in result.text
    assert (
        result.text.replace("  - {date: 2026-11-04, kind: email, summary: 'Bob: pricing'}\n", "")
        == ours
    )


def test_the_same_touchpoint_logged_on_both_sides_is_kept_on_both(merge):
    line = "  - {date: 2026-11-05, kind: call, summary: Discovery call}\n"
    ours = log(BASE, line).replace("value: 1000", "value: 2000")
    theirs = log(BASE, line)
    result = merge(BASE, ours, theirs)
    assert result.clean
    assert result.text.count("Discovery call") == 2  # two were logged (README's promise)
    assert result.text.count(TP) == 1  # the ancestor's entry is not doubled


def test_a_touchpoint_deleted_on_one_side_stays_deleted(merge):
    ours = BASE.replace(TP, "")
    theirs = log(BASE, "  - {date: 2026-11-06, kind: note, summary: Budget confirmed}\n")
    result = merge(BASE, ours, theirs)
    assert result.clean
    assert [t["summary"] for t in fields(result.text)["touchpoints"]] == ["Budget confirmed"]


def test_merge_items_counts_entries_three_ways():
    a = {"date": "2026-11-01", "kind": "call", "summary": "x"}
    b = {"date": "2026-11-02", "kind": "call", "summary": "y"}
    c = {"date": "2026-11-03", "kind": "call", "summary": "z"}
    assert merge_items([a], [a, b], [a, c]) == [a, b, c]
    assert merge_items([a, b], [b], [a, b, c]) == [b, c]
    assert merge_items([], [c, a], [b]) == [a, b, c]


def test_different_fields_edited_on_each_side_both_apply(merge):
    ours = BASE.replace("value: 1000", "value: 2500")
    theirs = BASE.replace("owner: alice  # the rep", "owner: bob  # the rep").replace(
        "  need: maybe", "  need: yes"
    )
    result = merge(BASE, ours, theirs)
    assert result.clean
    data = fields(result.text)
    assert (data["value"], data["owner"], data["qualification"]["need"]) == (2500, "bob", True)
    # theirs' own spelling of the value (`yes`) and the comment survive
    assert "  need: yes\n" in result.text
    assert "owner: bob  # the rep who owns it\n" in result.text


def test_a_key_added_on_one_side_and_removed_on_the_other(merge):
    ours = BASE.replace("value: 1000\n", "value: 1000\nnext_step: Send proposal\n")
    theirs = BASE.replace("tags: [enterprise]\n", "")
    result = merge(BASE, ours, theirs)
    assert result.clean
    data = fields(result.text)
    assert data["next_step"] == "Send proposal" and "tags" not in data


def test_tags_merge_as_a_set(merge):
    ours = BASE.replace("[enterprise]", "[enterprise, hot]")
    theirs = BASE.replace("[enterprise]", "[enterprise, q1]")
    result = merge(BASE, ours, theirs)
    assert result.clean
    assert fields(result.text)["tags"] == ["enterprise", "hot", "q1"]


def test_the_same_field_changed_differently_is_a_conflict_yaml_refuses(merge):
    ours = BASE.replace("value: 1000", "value: 1500")
    theirs = BASE.replace("value: 1000", "value: 1800").replace("  need: maybe", "  need: yes")
    result = merge(BASE, ours, theirs)
    assert result.conflicts == ("value",)
    assert "<<<<<<< ours\nvalue: 1500\n=======\nvalue: 1800\n>>>>>>> theirs\n" in result.text
    assert "  need: yes\n" in result.text  # the clean part still merged
    with pytest.raises(DealError) as exc:
        fields(result.text)
    assert "unresolved merge conflict" in str(exc.value)
    assert exc.value.line == result.text.splitlines().index("<<<<<<< ours") + 1
    # an editor user keeps one side and deletes the marker lines: a valid deal again
    resolved = result.text.replace("<<<<<<< ours\nvalue: 1500\n=======\n", "").replace(
        ">>>>>>> theirs\n", ""
    )
    assert fields(resolved)["value"] == 1800


def test_a_nested_field_conflict_marks_only_that_line(merge):
    ours = BASE.replace("  budget: yes", "  budget: 10k")
    theirs = BASE.replace("  budget: yes", "  budget: 15k")
    result = merge(BASE, ours, theirs)
    assert result.conflicts == ("qualification.budget",)
    assert "<<<<<<< ours\n  budget: 10k\n=======\n  budget: 15k\n>>>>>>> theirs\n" in result.text


def test_a_field_deleted_on_one_side_and_changed_on_the_other_conflicts(merge):
    ours = BASE.replace("value: 1000\n", "")
    theirs = BASE.replace("value: 1000", "value: 3000")
    result = merge(BASE, ours, theirs)
    assert result.conflicts == ("value",)
    assert "<<<<<<< ours\n=======\nvalue: 3000\n>>>>>>> theirs\n" in result.text


def test_the_body_merges_as_text(merge):
    ours = BASE.replace("First paragraph.", "First paragraph, edited by alice.")
    theirs = BASE.replace("Second paragraph.", "Second paragraph, edited by bob.")
    result = merge(BASE, ours, theirs)
    assert result.clean
    assert "edited by alice" in result.text and "edited by bob" in result.text


def test_a_body_conflict_is_reported_with_git_markers(merge):
    ours = BASE.replace("First paragraph.", "Alice's version.")
    theirs = BASE.replace("First paragraph.", "Bob's version.")
    result = merge(BASE, ours, theirs)
    assert result.conflicts == ("body",)
    assert "<<<<<<< ours\nAlice's version.\n=======\nBob's version.\n>>>>>>> theirs\n" in (
        result.text
    )


def test_crlf_and_bom_of_ours_are_kept(merge):
    crlf = "\ufeff" + BASE.replace("\n", "\r\n")
    ours = crlf.replace("value: 1000", "value: 2000")
    theirs = crlf.replace(
        "Intro email}\r\n", "Intro email}\r\n  - {date: 2026-11-09, kind: call, summary: Call}\r\n"
    )
    result = merge(crlf, ours, theirs)
    assert result.clean
    assert result.text.startswith("\ufeff---\r\n")
    assert "\n" not in result.text.replace("\r\n", "")
    assert fields(result.text)["value"] == 2000 and len(fields(result.text)["touchpoints"]) == 2


def test_both_sides_adding_the_same_deal_merges_from_an_empty_base(merge):
    ours = BASE
    theirs = log(BASE, "  - {date: 2026-11-07, kind: call, summary: Follow-up}\n")
    result = merge("", ours, theirs)
    assert result.clean
    assert len(fields(result.text)["touchpoints"]) == 2


def test_a_file_that_is_no_deal_merges_as_plain_text(merge):
    base = "# Notes\n\none\n\ntwo\n"
    result = merge(base, base.replace("one", "ONE"), base.replace("two", "TWO"))
    assert result.clean and result.text == "# Notes\n\nONE\n\nTWO\n"
    conflicted = merge(base, base.replace("one", "uno"), base.replace("one", "eins"))
    assert conflicted.conflicts == ("file (merged as text)",)


def test_ours_untouched_bytes_survive_a_merge(merge):
    ours = BASE.replace("# the rep who owns it", "#  a comment  kept   as is")
    theirs = BASE.replace("value: 1000", "value: 1200")
    result = merge(BASE, ours, theirs)
    assert result.text == ours.replace("value: 1000", "value: 1200")


def test_two_fields_deleted_here_and_changed_there_share_one_block(merge):
    ours = BASE.replace("owner: alice  # the rep who owns it\n", "").replace("value: 1000\n", "")
    theirs = BASE.replace("value: 1000", "value: 3000").replace("alice", "bob")
    result = merge(BASE, ours, theirs)
    assert set(result.conflicts) == {"value", "owner"}
    assert "=======\nowner: bob  # the rep who owns it\nvalue: 3000\n>>>>>>> theirs\n" in (
        result.text
    )
    # keeping their side: drop the marker lines
    resolved = "".join(
        ln
        for ln in result.text.splitlines(keepends=True)
        if not ln.startswith(("<<<", "===", ">>>"))
    )
    assert (fields(resolved)["value"], fields(resolved)["owner"]) == (3000, "bob")


def test_block_style_touchpoints_keep_their_shape(merge):
    base = BASE.replace(TP, "  - date: 2026-11-02\n    kind: email\n    summary: Intro email\n")
    ours = log(base, "  - date: 2026-11-05\n    kind: call\n    summary: Alice called\n")
    theirs = log(base, "  - date: 2026-11-03\n    kind: note  # short\n    summary: Bob noted\n")
    result = merge(base, ours, theirs)
    assert result.clean
    assert "  - date: 2026-11-03\n    kind: note  # short\n    summary: Bob noted\n" in result.text
    assert [t["summary"] for t in fields(result.text)["touchpoints"]] == [
        "Intro email",
        "Bob noted",
        "Alice called",
    ]


def test_a_hand_kept_order_is_not_resorted():
    late = {"date": "2026-01-05", "kind": "call", "summary": "late"}
    early = {"date": "2026-01-01", "kind": "call", "summary": "early"}
    new = {"date": "2026-01-06", "kind": "call", "summary": "new"}
    assert merge_items([late, early], [late, early], [late, early, new]) == [late, early, new]


# --- what the schema refuses in the merge of two valid sides --------------------------------

DATED = "---\ntitle: Acme\ncreated: 2026-11-01\nvalue: 1\n---\n# Acme\n"


@pytest.fixture
def checked(tmp_path: Path):
    """A merge judged by the default pipeline's schema."""
    from pipectl.config import default_config
    from pipectl.schema import for_config

    tm = text_merger(GitRepo(tmp_path))
    deal_schema = for_config(default_config())

    def run(base: str, ours: str, theirs: str):
        return merge_deal(base, ours, theirs, tm, schema=deal_schema)

    return run


def test_a_touchpoint_before_the_other_sides_created_is_a_conflict(merge, checked):
    ours = DATED.replace("created: 2026-11-01", "created: 2026-11-05")
    theirs = DATED.replace(
        "value: 1\n", "value: 1\ntouchpoints:\n  - {date: 2026-11-03, kind: call, summary: Early}\n"
    )
    assert merge(DATED, ours, theirs).clean  # without the schema: both taken, silently
    result = checked(DATED, ours, theirs)
    assert result.conflicts == ("created", "touchpoints")
    assert result.refused == ("touchpoint 1: date 2026-11-03 is before created (2026-11-05)",)
    assert result.describe() == (
        "created, touchpoints (the merge of both sides is refused: "
        "touchpoint 1: date 2026-11-03 is before created (2026-11-05))"
    )
    assert result.text == (
        "---\ntitle: Acme\n"
        "<<<<<<< ours\ncreated: 2026-11-05\n=======\ncreated: 2026-11-01\n>>>>>>> theirs\n"
        "value: 1\n"
        "<<<<<<< ours\n=======\n"
        "touchpoints:\n  - {date: 2026-11-03, kind: call, summary: Early}\n"
        ">>>>>>> theirs\n"
        "---\n# Acme\n"
    )


def test_what_the_schema_accepts_merges_as_before(checked):
    ours = DATED.replace("created: 2026-11-01", "created: 2026-10-01")
    theirs = DATED.replace("value: 1\n", "value: 1\nclosed: 2026-11-10\n")
    result = checked(DATED, ours, theirs)
    assert result.clean and result.refused == ()
    assert fields(result.text)["closed"].isoformat() == "2026-11-10"
    # a fault both sides share is no merge's doing
    faulty = DATED.replace("value: 1", "value: -1")
    result = checked(faulty, faulty.replace("title: Acme", "title: Acme Inc"), faulty + "more\n")
    assert result.clean


def test_a_refused_merge_made_as_text_is_still_a_conflict(checked):
    # a dotted key changed on one side is beyond the field merge: git's line merge does it,
    # cleanly, and the result would be closed before it was created
    base = "---\ntitle: A\ncreated: 2026-01-01\nvalue: 1\nx.y: 1\n---\n# A\n"
    ours = base.replace("created: 2026-01-01", "created: 2026-02-01")
    theirs = base.replace("x.y: 1\n", "x.y: 2\nclosed: 2026-01-10\n")
    result = checked(base, ours, theirs)
    assert result.conflicts == ("file (merged as text)",)
    assert result.refused == ("closed: 2026-01-10 is before created (2026-02-01)",)
    assert "created: 2026-02-01\n" in result.text and "closed: 2026-01-10\n" in result.text
