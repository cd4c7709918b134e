"""Properties of the deal merge: it never crashes, and logged touchpoints are never lost."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from pipectl.deal import parse_yaml, split
from pipectl.team.merge import Labels, merge_deal

HEAD = "---\ntitle: Acme\nvalue: 100\ntouchpoints:\n"
BODY = "---\n# Acme\n\nnotes\n"


def plain_merge(base: str, ours: str, theirs: str, labels: Labels) -> tuple[str, bool]:
    """A stand-in for git's line merge: keeps ours, reports a conflict."""
    return ours, False


def block(entries: list[tuple[int, str]], style: str) -> str:
    lines = []
    for day, summary in entries:
        date = dt.date(2026, 11, 1) + dt.timedelta(days=day)
        if style == "flow":
            lines.append(f"  - {{date: {date}, kind: call, summary: {summary}}}\n")
        else:
            lines.append(f"  - date: {date}\n    kind: call\n    summary: {summary}\n")
    return "".join(lines)


entry = st.tuples(st.integers(0, 30), st.sampled_from(["Intro", "Call", "Demo", "Pricing x"]))


@settings(max_examples=150, deadline=None)
@given(
    st.lists(entry, max_size=4),
    st.lists(entry, max_size=3),
    st.lists(entry, max_size=3),
    st.sampled_from(["flow", "block"]),
)
def test_touchpoints_added_on_either_side_all_survive(base, mine, other, style):
    base, mine, other = sorted(base), sorted(mine), sorted(other)  # as `pipectl log` writes
    base_text = HEAD + block(base, style) + BODY
    ours = HEAD + block(sorted(base + mine), style) + BODY
    theirs = HEAD + block(sorted(base + other), style) + BODY
    result = merge_deal(base_text, ours, theirs, plain_merge)
    assert result.clean
    got = parse_yaml(split(result.text)).get("touchpoints") or []
    keys = [(str(t["date"]), t["summary"]) for t in got]
    for day, summary in base + mine + other:
        assert (str(dt.date(2026, 11, 1) + dt.timedelta(days=day)), summary) in keys
    assert [k[0] for k in keys] == sorted(k[0] for k in keys)
    assert result.text.startswith(HEAD) and result.text.endswith(BODY)


lines = st.lists(
    st.sampled_from(
        [
            "---",
            "title: x",
            "value: 1",
            "value: [",
            "touchpoints:",
            "  - {date: 2026-11-02}",
            "  - 5",
            "qualification:",
            "  budget: yes",
            "<<<<<<< a",
            "# body",
            "",
            "tags: [a]",
        ]
    ),
    max_size=10,
).map(lambda ls: "\n".join(ls) + "\n")


@settings(max_examples=200, deadline=None)
@given(lines, lines, lines)
def test_merge_never_crashes_on_any_three_texts(base, ours, theirs):
    result = merge_deal(base, ours, theirs, plain_merge)
    assert isinstance(result.text, str)
