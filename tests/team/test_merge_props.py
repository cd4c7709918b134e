"""Properties of the deal merge: it never crashes, and logged touchpoints are never lost."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from pipectl.deal import parse_yaml, split
from pipectl.errors import DealError
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

    def day_of(entries: list[tuple[int, str]]) -> list[tuple[str, str]]:
        return [(str(dt.date(2026, 11, 1) + dt.timedelta(days=d)), s) for d, s in entries]

    # every entry each side logged, the same one on both sides twice, the ancestor's once;
    # unless the two files are the same (git takes them as one change, never asking)
    logged = base + mine if ours == theirs else base + mine + other
    assert sorted(keys) == sorted(day_of(logged))
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


# deals, so the semantic merge runs too (random lines are rarely a deal on all three sides)
deals = st.lists(
    st.sampled_from(
        [
            "value: 1",
            "value: 2",
            "owner: a",
            "owner: b",
            "tags: [a]",
            "tags: [a, b]",
            "touchpoints:\n  - {date: 2026-11-02, kind: call, summary: x}",
            "qualification:\n  budget: yes",
            "next_step: call",
        ]
    ),
    max_size=5,
    unique=True,
).map(lambda ls: "---\ntitle: x\n" + "".join(f"{ln}\n" for ln in ls) + "---\n# body\n")
texts = st.one_of(lines, deals)

AS_TEXT = "merged as text\n"
MISSING = object()


def base_is_a_deal(text: str) -> bool:
    try:
        return isinstance(parse_yaml(split(text)), dict)
    except DealError:
        return False


def text_merge_stand_in(base: str, ours: str, theirs: str, labels: Labels) -> tuple[str, bool]:
    """A line merge whose output is recognisable: a whole file it merged, or a body."""
    return AS_TEXT, False


@settings(max_examples=300, deadline=None)
@given(texts, texts, texts)
def test_any_three_texts_merge_to_one_side_a_readable_deal_or_the_text_merge(base, ours, theirs):
    """Never a crash, and never a text that is none of: the one side that changed, a deal
    pipectl can read, or (when a side is not a deal) git's line merge, reported unclean."""
    result = merge_deal(base, ours, theirs, text_merge_stand_in)
    if ours == theirs or base == theirs:
        assert (result.text, result.clean) == (ours, True)
    elif base == ours:
        assert (result.text, result.clean) == (theirs, True)
    elif result.text == AS_TEXT:
        assert result.conflicts == ("file (merged as text)",)
    else:
        for side in (ours, theirs):  # the semantic merge ran: both sides were deals
            assert isinstance(parse_yaml(split(side)), dict)
        if result.clean:  # what it wrote is a deal too, with no conflict left in it
            merged = parse_yaml(split(result.text))
            assert isinstance(merged, dict)
            assert AS_TEXT not in result.text
            if base_is_a_deal(base):  # and it holds what each side changed alone
                b, o, t = (parse_yaml(split(x)) for x in (base, ours, theirs))
                for key in (b.keys() | o.keys() | t.keys()) - {"touchpoints", "tags"}:
                    bv, ov, tv = (d.get(key, MISSING) for d in (b, o, t))
                    if bv == ov:
                        assert merged.get(key, MISSING) == tv, key
                    elif bv == tv:
                        assert merged.get(key, MISSING) == ov, key
        else:  # each conflict is in the text, for a person to resolve
            assert "<<<<<<<" in result.text or AS_TEXT in result.text
        if "<<<<<<<" not in base + ours + theirs and AS_TEXT not in result.text:
            assert result.clean == ("<<<<<<<" not in result.text)


# dated deals: each side alone may be valid while the two together are not
day = st.integers(0, 20).map(lambda d: str(dt.date(2026, 11, 1) + dt.timedelta(days=d)))
dated = st.fixed_dictionaries(
    {},
    optional={
        "created": day,
        "closed": day,
        "stage_entered": day,
        "value": st.sampled_from(["1", "2"]),
        "touchpoints": st.lists(day, max_size=2).map(sorted),
    },
).map(
    lambda d: (
        "---\ntitle: x\n"
        + "".join(
            f"{k}:\n" + "".join(f"  - {{date: {t}, kind: call, summary: s{t}}}\n" for t in v)
            if k == "touchpoints"
            else f"{k}: {v}\n"
            for k, v in d.items()
            if v != []
        )
        + "---\n# body\n"
    )
)


@settings(max_examples=300, deadline=None)
@given(dated, dated, dated)
def test_a_clean_merge_never_brings_in_what_the_schema_refuses(base, ours, theirs):
    """What a clean merge writes has no problem that neither side had; any it would have had
    is a conflict, reported with its reason."""
    from pipectl.config import default_config
    from pipectl.schema import for_config

    schema = for_config(default_config())

    def problems(text: str) -> set[str]:
        return {p.message for p in schema.problems(parse_yaml(split(text)))}

    result = merge_deal(base, ours, theirs, plain_merge, schema=schema)
    if result.clean:
        assert problems(result.text) <= problems(ours) | problems(theirs)
    if result.refused:
        assert not result.clean and set(result.refused).isdisjoint(
            problems(ours) | problems(theirs)
        )
