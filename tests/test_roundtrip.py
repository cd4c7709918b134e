"""The round-trip guarantee, proven on generated deal files.

Files carry comments (whole-line and trailing), CRLF or mixed line endings, a BOM, every
quoting style, empty and null values, unknown keys, blank lines, block and flow collections,
a missing final newline and arbitrary bodies. For each: a no-op save is byte-identical;
setting one field changes exactly one line (or adds one); logging a touchpoint adds only its
line; nothing outside the frontmatter changes.
"""

from __future__ import annotations

import datetime as dt
import difflib
import os

from conftest import Cli, git, make_repo
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipectl.deal import DealText, parse_yaml, split
from pipectl.dealedit import REMOVE, append_item, set_fields
from pipectl.fieldtypes import as_date

EXAMPLES = int(os.environ.get("PIPECTL_ROUNDTRIP_EXAMPLES", "100"))
SETTINGS = settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

# --- generated deal files --------------------------------------------------------------------

WORDS = st.sampled_from(
    [
        "alice",
        "Acme Corp",
        "Müller & Söhne",
        "no",
        "yes",
        "on",
        "null",
        "12:30",
        "017",
        "2026-11-02",
        "a: b",
        "#hash",
        "it's",
        'say "hi"',
        "tab\there",
        "émoji 🚀",
        "",
        " pad ",
        "- dash",
        "[x]",
        "{y}",
        "*star",
        "&amp",
        "!bang",
        "%pct",
        "@at",
        "`tick`",
        "|",
        ">",
    ]
)
PLAIN = st.from_regex(r"[A-Za-z][A-Za-z0-9 _.-]{0,20}[A-Za-z0-9]", fullmatch=True).filter(
    lambda s: s.lower() not in ("yes", "no", "on", "off", "true", "false", "null", "y", "n")
)
COMMENT = st.from_regex(r"# [ -~]{0,30}", fullmatch=True).map(str.rstrip)
NEWLINE = st.sampled_from(["\n", "\r\n"])


def quoted(draw, value: str) -> str:
    style = draw(st.sampled_from(["plain", "single", "double"]))
    if style == "single":
        return "'" + value.replace("'", "''") + "'"
    if style == "double" or not value:
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return value


@st.composite
def scalar_text(draw) -> str:
    kind = draw(st.sampled_from(["plain", "word", "int", "float", "date", "empty", "null"]))
    if kind == "plain":
        return quoted(draw, draw(PLAIN))
    if kind == "word":
        return draw(st.sampled_from(["'" + "no" + "'", '"yes"', "'12:30'", '"a: b"', "'#x'"]))
    if kind == "int":
        return str(draw(st.integers(0, 10**9)))
    if kind == "float":
        return repr(draw(st.floats(0, 1e6, allow_nan=False)).__round__(2))
    if kind == "date":
        return draw(st.dates(dt.date(2000, 1, 1), dt.date(2099, 12, 31))).isoformat()
    if kind == "null":
        return draw(st.sampled_from(["~", "null"]))
    return ""


@st.composite
def entry_lines(draw, key: str) -> list[str]:
    """The lines of one top-level key, in one of the styles people write."""
    if key == "qualification":
        crits = draw(st.lists(st.sampled_from(["budget", "need", "fit"]), unique=True))
        if draw(st.booleans()):
            inner = ", ".join(f"{c}: {draw(scalar_text())}" for c in crits)
            return [f"qualification: {{{inner}}}"]
        return ["qualification:"] + [f"  {c}: {draw(scalar_text())}" for c in crits]
    if key == "tags":
        tags = draw(st.lists(PLAIN, max_size=3))
        if draw(st.booleans()):
            return [f"tags: [{', '.join(tags)}]"]
        indent = draw(st.sampled_from(["", "  "]))
        return ["tags:"] + [f"{indent}- {t}" for t in tags] if tags else ["tags: []"]
    if key == "touchpoints":
        n = draw(st.integers(0, 3))
        if n == 0:
            return [draw(st.sampled_from(["touchpoints: []", "touchpoints:"]))]
        indent = draw(st.sampled_from(["", "  ", "    "]))
        items = [
            f"{indent}- {{date: 2026-11-0{i + 1}, kind: call, summary: {draw(PLAIN)}}}"
            for i in range(n)
        ]
        return ["touchpoints:", *items]
    if key == "notes":
        return ["notes: |", "  free text", "  more: text"]
    value = draw(scalar_text())
    line = f"{key}: {value}" if value else f"{key}:"
    if draw(st.integers(0, 3)) == 0:
        line += "  " + draw(COMMENT)
    return [line]


TOP_KEYS = [
    "title",
    "company",
    "owner",
    "value",
    "created",
    "next_step",
    "next_step_due",
    "qualification",
    "tags",
    "touchpoints",
    "region",
    "x-custom",
    "Weird Key",
    "notes",
]


@st.composite
def deal_files(draw) -> str:
    newline = draw(NEWLINE)
    mixed = draw(st.integers(0, 4)) == 0

    def nl() -> str:
        return draw(NEWLINE) if mixed else newline

    keys = draw(st.lists(st.sampled_from(TOP_KEYS), unique=True, max_size=9))
    if "touchpoints" in keys and draw(st.booleans()):  # often last, as pipectl writes it
        keys.remove("touchpoints")
        keys.append("touchpoints")
    lines: list[str] = []
    for key in keys:
        extra = draw(st.integers(0, 5))
        if extra == 0:
            lines.append(draw(COMMENT))
        elif extra == 1:
            lines.append("")
        lines.extend(draw(entry_lines(key)))
    yaml_text = "".join(line + nl() for line in lines)
    if draw(st.integers(0, 5)) == 0:
        yaml_text += draw(COMMENT) + nl()
    body = draw(
        st.one_of(
            st.text(st.characters(blacklist_categories=("Cs",)), max_size=200),
            st.sampled_from(["", "# Notes\n", "---\nnot a fence\n---\n", "line\r\nline2", "x"]),
        )
    )
    bom = draw(st.sampled_from(["", "\ufeff"]))
    if not body and draw(st.booleans()):
        return f"{bom}---{newline}{yaml_text}---"  # no final newline at all
    return f"{bom}---{newline}{yaml_text}---{nl()}{body}"


def parsed(text: str) -> tuple[DealText, dict]:
    t = split(text)
    return t, parse_yaml(t)


def changed_lines(before: str, after: str) -> list[tuple[str, list[str], list[str]]]:
    a, b = before.splitlines(keepends=True), after.splitlines(keepends=True)
    ops = difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes()
    return [(tag, a[i1:i2], b[j1:j2]) for tag, i1, i2, j1, j2 in ops if tag != "equal"]


def assert_outside_frontmatter_kept(before: DealText, after: DealText) -> None:
    assert (after.bom, after.head, after.tail, after.body) == (
        before.bom,
        before.head,
        before.tail,
        before.body,
    )


# --- the properties ------------------------------------------------------------------------


@SETTINGS
@given(deal_files())
def test_a_no_op_save_is_byte_identical(text):
    t, data = parsed(text)
    assert t.render() == text
    assert set_fields(t, {}).render() == text
    for key, value in data.items():
        if value is not None and not isinstance(value, dict | list):
            assert set_fields(t, {key: value}).render() == text  # setting the same value


VALUES = st.one_of(
    st.integers(0, 10**12),
    st.floats(0, 1e9, allow_nan=False, allow_infinity=False),
    st.dates(dt.date(1990, 1, 1), dt.date(2100, 1, 1)),
    WORDS,
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=40),
)
SET_KEYS = st.sampled_from(
    [
        "title",
        "owner",
        "value",
        "next_step",
        "next_step_due",
        "region",
        "x-custom",
        "brand_new",
        "qualification.budget",
        "qualification.timeline",
    ]
)


@SETTINGS
@given(deal_files(), SET_KEYS, VALUES)
def test_setting_one_field_changes_exactly_one_line(text, key, value):
    t, data = parsed(text)
    after = set_fields(t, {key: value})
    assert_outside_frontmatter_kept(t, after)
    expected = dict(data)
    parent, _, child = key.partition(".")
    if child:
        inner = expected.get(parent)
        expected[parent] = {**(inner if isinstance(inner, dict) else {}), child: value}
    else:
        expected[key] = value
    assert parse_yaml(after) == expected
    diff = changed_lines(t.yaml, after.yaml)
    if parse_yaml(after) == data:
        assert diff == []
        return
    assert len(diff) == 1, diff
    tag, old, new = diff[0]
    if tag == "replace":
        assert len(old) == 1 and len(new) == 1, diff
    else:
        assert tag == "insert", diff
        parent_missing = child and not isinstance(data.get(parent), dict)
        assert 1 <= len(new) <= (2 if parent_missing else 1), diff


@SETTINGS
@given(deal_files(), st.sampled_from(["title", "owner", "region", "qualification.budget"]))
def test_removing_a_field_removes_only_its_lines(text, key):
    t, data = parsed(text)
    after = set_fields(t, {key: REMOVE})
    assert_outside_frontmatter_kept(t, after)
    diff = changed_lines(t.yaml, after.yaml)
    parent, _, child = key.partition(".")
    inner = data.get(parent)
    present = (child in inner) if child and isinstance(inner, dict) else (not child and key in data)
    if not present:
        assert after.render() == text
        return
    expected = dict(data)
    if child:
        expected[parent] = {k: v for k, v in inner.items() if k != child}
    else:
        del expected[key]
    assert parse_yaml(after) == expected
    one_line = [(tag, len(new)) for tag, _old, new in diff] == [("replace", 1)]
    if one_line and len(diff[0][1]) > 1:  # the last criterion went: `qualification: {}`
        assert diff[0][2][0].startswith(f"{parent}: {{}}"), diff
    assert one_line or all(tag == "delete" for tag, _, _ in diff), diff


TOUCHPOINTS = st.fixed_dictionaries(
    {
        "date": st.dates(dt.date(2020, 1, 1), dt.date(2030, 1, 1)),
        "kind": st.sampled_from(["call", "email", "meeting"]),
        "summary": st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=60),
    },
    optional={"outcome": st.sampled_from(["replied", "no-reply"])},
)


@SETTINGS
@given(deal_files(), TOUCHPOINTS)
def test_logging_a_touchpoint_adds_only_its_line(text, item):
    t, data = parsed(text)
    after = append_item(t, "touchpoints", item)
    assert_outside_frontmatter_kept(t, after)
    before_items = data.get("touchpoints")
    before_items = before_items if isinstance(before_items, list) else []
    assert parse_yaml(after)["touchpoints"] == [*before_items, item]
    assert {k: v for k, v in parse_yaml(after).items() if k != "touchpoints"} == {
        k: v for k, v in data.items() if k != "touchpoints"
    }
    diff = changed_lines(t.yaml, after.yaml)
    assert len(diff) == 1, diff
    tag, old, new = diff[0]
    if "touchpoints" not in data:
        assert (tag, len(new)) == ("insert", 2), diff  # `touchpoints:` and the entry
    elif tag == "insert":
        assert len(new) == 1, diff
    else:  # an empty `touchpoints:` or a flow list gains the entry on its own line(s)
        assert tag == "replace" and len(old) == 1 and len(new) <= 2, diff


# --- through the CLI, on a few ---------------------------------------------------------------


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(deal_files())
def test_cli_edits_keep_every_other_byte(tmp_path_factory, text):
    repo = make_repo(tmp_path_factory.mktemp("rt"))
    cli = Cli(repo)
    assert cli("init").exit_code == 0
    path = repo / "prospecting" / "deal.md"
    path.write_bytes(text.encode("utf-8"))
    other = repo / "closing" / "other.md"
    other.write_bytes(b"\xef\xbb\xbf---\r\ntitle: O # c\r\n---\r\nbody")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "fixture")
    created = as_date(parsed(text)[1].get("created"))
    logged = dt.date(2026, 11, 27)
    steps = [
        ("set", "deal", "owner=zoe"),
        ("log", "deal", "call", "Hello: world #1", "--date", logged.isoformat()),
        ("next", "deal", "Send it", "--due", "2026-12-01"),
    ]
    for args in steps:
        before = path.read_text(encoding="utf-8")
        r = cli(*args)
        if args[0] == "log" and created is not None and logged < created:
            # a touchpoint before the deal was created is refused, and nothing is written
            assert r.exit_code == 2 and "is before created" in r.stderr, r.output
            assert path.read_text(encoding="utf-8") == before
            continue
        assert r.exit_code == 0, (args, r.output)
        after = path.read_text(encoding="utf-8")
        assert_outside_frontmatter_kept(split(before), split(after))
        added_or_changed = [d for d in changed_lines(before, after) if d[0] != "delete"]
        assert sum(len(new) for _, _, new in added_or_changed) <= 2, (args, before, after)
    assert other.read_bytes() == b"\xef\xbb\xbf---\r\ntitle: O # c\r\n---\r\nbody"
    assert git(repo, "status", "--porcelain") == ""


def test_generated_files_really_vary():
    """Guard against a generator that quietly stopped producing the hard cases."""
    seen: set[str] = set()

    @settings(max_examples=120, deadline=None)
    @given(deal_files())
    def collect(text):
        if text.startswith("\ufeff"):
            seen.add("bom")
        if "\r\n" in text:
            seen.add("crlf")
        if "#" in text.split("---")[1]:
            seen.add("comment")
        if not text.endswith(("\n", "\r")):
            seen.add("no final newline")
        if "'" in text or '"' in text:
            seen.add("quotes")

    collect()
    assert seen == {"bom", "crlf", "comment", "no final newline", "quotes"}


def test_text_with_line_breaks_stays_on_one_line():
    """Found by the properties: NEL, U+2028 and newlines used to fold a value over lines,
    which made `log` and `set` refuse the file or rewrite it whole."""
    t = split("---\ntitle: x  # kept\nqualification: {budget: yes, need: no}\n---\nbody")
    for text in ["a\u2028b", "a\x85b", "two\nlines", "tab\tand\u2029🚀"]:
        item = {"date": dt.date(2026, 11, 27), "kind": "call", "summary": text}
        after = append_item(t, "touchpoints", item)
        assert after.yaml.count("\n") == t.yaml.count("\n") + 2
        assert parse_yaml(after)["touchpoints"] == [item]
        after = set_fields(t, {"next_step": text})
        assert after.yaml.count("\n") == t.yaml.count("\n") + 1
        assert parse_yaml(after)["next_step"] == text
    after = set_fields(t, {"qualification.budget": REMOVE})
    assert after.yaml == "title: x  # kept\nqualification: {need: no}\n"


def test_set_keeps_what_was_typed(tmp_path):
    """YAML 1.1 read `12:30` as 750 and `017` as 15, and folded or trimmed text."""
    repo = make_repo(tmp_path / "repo")
    cli = Cli(repo)
    assert cli("init").exit_code == 0
    assert cli("add", "Acme").exit_code == 0
    typed = {
        "12:30": "12:30",
        "017": "017",
        "0x1F": "0x1F",
        "1_000": "1_000",
        " pad ": " pad ",
        "two\nlines": "two\nlines",
        "a: b": "a: b",
        "1500": 1500,
        "-2.5": -2.5,
        "2026-11-02": dt.date(2026, 11, 2),
        "[a, b]": ["a", "b"],
        "yes": "yes",
        "true": True,
    }
    for raw, value in typed.items():
        r = cli("set", "acme", f"region={raw}")
        assert r.exit_code == 0, r.output
        text = split((repo / "prospecting" / "acme.md").read_text(encoding="utf-8"))
        assert parse_yaml(text)["region"] == value, raw
    r = cli("set", "acme", "value=017")
    assert r.exit_code == 2
    assert "value: '017' is not an amount" in r.stderr


def test_a_value_of_the_wrong_shape_is_never_replaced():
    """`touchpoints: none yet` used to be replaced by the new entry (and the file re-dumped);
    `qualification: approved` likewise by a mapping. The user's value stays; pipectl refuses."""
    from pipectl.errors import DealError

    for yaml_text, edit, message in [
        ("touchpoints: none yet  # later\n", "log", "touchpoints holds `none yet`, not a list"),
        ("touchpoints: {date: 2026-01-01}\n", "log", "not a list: cannot add to it"),
        ("qualification: approved\n", "set", "qualification holds `approved`, not a mapping"),
        ("qualification: [budget]\n", "set", "not a mapping: cannot set qualification.need"),
    ]:
        t = split(f"---\ntitle: x\n{yaml_text}---\nbody\n")
        try:
            if edit == "log":
                append_item(t, "touchpoints", {"date": dt.date(2026, 1, 2), "kind": "call"})
            else:
                set_fields(t, {"qualification.need": "yes"})
        except DealError as exc:
            assert message in str(exc)
        else:
            raise AssertionError(f"{yaml_text!r} was edited")
    for empty in ("touchpoints:\n", "touchpoints: ''\n", "touchpoints: []\n"):
        t = split(f"---\ntitle: x\n{empty}---\n")
        after = append_item(t, "touchpoints", {"date": dt.date(2026, 1, 2), "kind": "call"})
        assert len(parse_yaml(after)["touchpoints"]) == 1
