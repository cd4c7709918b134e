"""Edits that must keep every byte they do not mean to change: the hard cases found in review."""

from __future__ import annotations

import datetime as dt

from pipectl.deal import parse_yaml, split
from pipectl.dealedit import REMOVE, append_item, set_fields
from pipectl.yamltext import same_value


def edited(text: str, **changes) -> str:
    return set_fields(split(text), changes).render()


def test_block_scalar_replaced_in_place_keeps_crlf_and_comments():
    src = "---\r\ntitle: B # c\r\nnotes: |\r\n  x\r\n\r\n# after notes\r\nowner: ~\r\n---\r\n"
    out = edited(src, notes="y")
    assert out == "---\r\ntitle: B # c\r\nnotes: y\r\n\r\n# after notes\r\nowner: ~\r\n---\r\n"


def test_fallback_dump_never_doubles_carriage_returns():
    # a value only ruamel can set (a block list replaced by a scalar) goes through the dump
    src = "---\r\ntitle: B # c\r\n# keep me\r\ntags:\r\n  - a\r\n---\r\nbody\r\n"
    out = edited(src, tags="solo")
    assert "\r\r" not in out
    assert "# keep me\r\n" in out and out.endswith("---\r\nbody\r\n")
    assert parse_yaml(split(out))["tags"] == "solo"


def test_removing_a_block_mapping_keeps_what_follows():
    src = "---\ntitle: E\nqualification:\n  budget: x\n\n# tags below\ntags: [a]\n---\n"
    assert edited(src, qualification=REMOVE) == "---\ntitle: E\n\n# tags below\ntags: [a]\n---\n"


def test_removing_the_last_criterion_keeps_the_next_comment():
    src = "---\nqualification:\n  budget: x\n# about tags\ntags: [a]\n---\n"
    out = edited(src, **{"qualification.budget": REMOVE})
    assert out == "---\nqualification: {}\n# about tags\ntags: [a]\n---\n"


def test_new_criterion_goes_after_the_last_one_not_after_comments():
    src = "---\nqualification:\n  budget: x\n# keep\nowner: bob\n---\n"
    out = edited(src, **{"qualification.need": "yes"})
    assert out == "---\nqualification:\n  budget: x\n  need: 'yes'\n# keep\nowner: bob\n---\n"


def test_touchpoint_after_block_items_goes_before_the_next_comment():
    src = (
        "---\ntouchpoints:\n  - date: 2026-01-01\n    kind: call\n    summary: x\n"
        "# owner below\nowner: bob\n---\n"
    )
    item = {"date": dt.date(2026, 1, 2), "kind": "email", "summary": "y"}
    out = append_item(split(src), "touchpoints", item).render()
    assert out == (
        "---\ntouchpoints:\n  - date: 2026-01-01\n    kind: call\n    summary: x\n"
        "  - {date: 2026-01-02, kind: email, summary: y}\n# owner below\nowner: bob\n---\n"
    )


def test_true_is_not_one():
    src = "---\nqualification:\n  fit: 1\n---\n"
    out = edited(src, **{"qualification.fit": True})
    assert out == "---\nqualification:\n  fit: true\n---\n"


def test_same_value_is_type_strict_where_yaml_is():
    assert same_value({"a": [1, 2.0]}, {"a": [1.0, 2]})
    assert not same_value({"a": True}, {"a": 1})
    assert not same_value(dt.date(2026, 1, 1), "2026-01-01")
    assert not same_value(dt.datetime(2026, 1, 1), dt.date(2026, 1, 1))


def test_merge_keys_are_read_not_refused():
    from pipectl import yamlio

    data = yamlio.load("base: &b {a: 1}\nextra:\n  <<: *b\n  x: 1\n")
    assert data["extra"] == {"a": 1, "x": 1}


def test_removing_the_last_pair_of_a_flow_mapping_keeps_everything_else():
    src = (
        "---\n\ntitle: x\n\nqualification: {need: 'no', fit: , budget: 'no'}\n\nowner: a  #\n---\n"
    )
    out = edited(src, **{"qualification.budget": REMOVE})
    assert out == "---\n\ntitle: x\n\nqualification: {need: 'no', fit: }\n\nowner: a  #\n---\n"


# --- layouts a person writes: every edit stays in place (issue 13) ---------------------------

TOUCH = {"date": dt.date(2026, 12, 2), "kind": "call", "summary": "hello"}


def appended(text: str) -> str:
    return append_item(split(text), "touchpoints", TOUCH).render()


def changed_lines(before: str, after: str) -> tuple[list[str], list[str]]:
    a, b = before.splitlines(), after.splitlines()
    return [x for x in a if x not in b], [x for x in b if x not in a]


def test_logging_into_an_empty_list_with_a_comment_keeps_the_comment_in_place():
    src = "---\ntitle: L\ntouchpoints: []  # none yet\nowner: a\n---\n"
    out = appended(src)
    gone, new = changed_lines(src, out)
    assert gone == ["touchpoints: []  # none yet"]
    assert new == ["touchpoints: [{date: 2026-12-02, kind: call, summary: hello}]  # none yet"]


def test_logging_after_an_alias_item_adds_only_its_line():
    src = (
        "---\ntitle: L\nbase: &tp {date: 2026-12-01, kind: call, summary: x}\n"
        "touchpoints:\n  - *tp\n\n# after\nzz: 1\n---\n"
    )
    out = appended(src)
    gone, new = changed_lines(src, out)
    assert gone == [] and new == ["  - {date: 2026-12-02, kind: call, summary: hello}"]
    assert out.index(new[0]) < out.index("# after")
    assert parse_yaml(split(out))["touchpoints"][1]["summary"] == "hello"


def test_a_block_list_set_to_a_new_value_changes_only_its_own_lines():
    src = (
        "---\ntitle: L\ntags:  # why\n  - a\n  - b\n"
        "touchpoints:\n  - {date: 2026-12-01, kind: call, summary: x}  # c\n---\n"
    )  # a comment inside the block is refused instead (tests/test_review_fixes.py)
    out = edited(src, tags=["z"])
    gone, new = changed_lines(src, out)
    assert gone == ["tags:  # why", "  - a", "  - b"]
    assert new == ["tags: [z]  # why"]
    assert "  - {date: 2026-12-01, kind: call, summary: x}  # c" in out


def test_a_block_mapping_set_to_a_flow_one_keeps_what_follows():
    src = "---\ntitle: L\nextra:\n  a: 1\n  b: 2\n\n# next\nowner: x\n---\n"
    out = edited(src, extra={"c": 3})
    assert out == "---\ntitle: L\nextra: {c: 3}\n\n# next\nowner: x\n---\n"


def test_a_value_set_through_an_alias_never_changes_its_anchor():
    """`qualification: *q` shares `base`'s mapping: setting a criterion must not change base
    (an edit at the anchor would); pipectl refuses rather than change another key."""
    import pytest

    from pipectl.errors import DealError

    src = (
        "---\ntitle: L\nbase: &q {budget: x}\n# the criteria below share the base\n"
        "qualification: *q\n---\n"
    )
    with pytest.raises(DealError, match="edit it by hand"):
        edited(src, **{"qualification.budget": "y"})


def test_the_fallback_never_loses_a_whole_line_comment(monkeypatch):
    """When only the ruamel dump can make an edit, a dump that drops a comment line is
    refused (the data check alone cannot see comments)."""
    import pytest

    from pipectl import dealedit
    from pipectl.errors import DealError

    def cannot(*_args):
        raise dealedit._CannotEdit

    src = "---\ntitle: L\n# keep me\nowner: a\n---\n"
    monkeypatch.setattr(dealedit, "_text_set", cannot)
    monkeypatch.setattr(dealedit, "_ruamel_edit", lambda t, apply: "title: L\nowner: b\n")
    with pytest.raises(DealError, match="edit it by hand"):
        edited(src, owner="b")
    monkeypatch.setattr(
        dealedit, "_ruamel_edit", lambda t, apply: "title: L\n# keep me\nowner: b\n"
    )
    assert "# keep me" in edited(src, owner="b")
