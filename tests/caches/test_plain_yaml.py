"""yamlio's direct build of plain trees gives exactly what PyYAML's constructor gives.

`yamlio._plain` skips PyYAML's per-node bookkeeping for alias-free trees; anything else falls
back to the loader's own construction. Each document here is loaded both ways: the same data
(types included, dict order included), or the same error with the same message and line.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from pipectl import yamlio


def _old(text: str) -> Any:
    """The loader's own construction of every node, as before `_plain`."""
    return yaml.load(text, Loader=yamlio._Loader)


def _outcome(load: Any, text: str) -> tuple[str, Any]:
    try:
        return "data", _typed(load(text))
    except Exception as exc:  # the error is part of what must agree
        return "error", (type(exc).__name__, str(exc))


def _typed(value: Any) -> Any:
    """The value with every type and every mapping's order made visible to `==`."""
    if isinstance(value, dict):
        return ("dict", [(_typed(k), _typed(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("list", [_typed(v) for v in value])
    return (type(value).__name__, repr(value))


def _same(text: str) -> None:
    old = _outcome(_old, text)
    new = _outcome(yamlio._load, text)
    assert new == old, text
    if old[0] == "data":  # and the full load (size checks) agrees with itself
        assert _typed(yamlio.load(text)) == old[1]


CASES = [
    "title: Acme\nvalue: 12000\nprobability: 0.4\nwon: true\nnext: null\n",
    "close_date: 2026-03-01\nseen: 2026-03-01 10:20:00\nbad_date: 2026-13-01\n",
    "touchpoints:\n  - date: 2026-01-02\n    kind: call\n    summary: 'hi'\n  - {kind: email}\n",
    "tags: [a, b, 'c']\nqualification:\n  budget: yes\n  need: No\n  timeline: ~\n",
    "a: 1\na: 2\n",  # a duplicate key: the loader's error, with its line
    "1: x\ntrue: y\n",  # equal as dict keys (1 == True): a duplicate
    "base: &b {x: 1}\nother: *b\n",  # aliases: PyYAML's own way
    "base: &b {x: 1}\nmerged:\n  <<: *b\n  y: 2\n",  # a merge key
    "n: !!int abc\n",  # a value that does not fit its tag
    "b: !!bool maybe\n",
    "f: !!float 1.5\ni: !!int '7'\ns: !!str 12\n",
    "x: !custom thing\n",  # an unknown tag
    "s: !!set {a, b}\n",
    "o: !!omap [{a: 1}]\n",
    "bin: !!binary aGVsbG8=\n",
    "? [a, b]\n: complex key\n",
    "hex: 0x1f\noct: 0o17\nsexa: 1:30\nunder: 1_000\ninf: .inf\nnan: .nan\n",
    "empty:\nlist: []\nmap: {}\n'': empty key\n",
    "deep: " + "[" * 60 + "]" * 60 + "\n",
    "- a\n- b\n",  # a document that is no mapping
    "just text\n",
    "",
    "key: [unclosed\n",
    "a: 1\n  b: 2\n",  # bad indentation: a parse error, before any construction
]


def test_the_direct_build_agrees_on_every_kind_of_document() -> None:
    for text in CASES:
        _same(text)


def test_dates_are_dates_and_bad_dates_stay_text() -> None:
    data = yamlio.load("d: 2026-03-01\nt: 2026-03-01 10:20:00\nbad: 2026-02-30\n")
    assert type(data["d"]) is dt.date and type(data["t"]) is dt.datetime
    assert data["bad"] == "2026-02-30"


_words = st.sampled_from(
    [
        "a",
        "b",
        "value",
        "1",
        "true",
        "no",
        "~",
        "null",
        "2026-01-05",
        "0x1f",
        "1.5",
        "<<",
        "'q'",
        '"d"',
        "!!int x",
        "!!str 3",
        "&x 1",
        "*x",
        "[1, 2]",
        "{a: 1}",
        "2026-02-30",
        ".inf",
    ]
)


@st.composite
def _documents(draw: Any) -> str:
    lines = []
    for _ in range(draw(st.integers(1, 6))):
        key = draw(_words)
        if draw(st.booleans()):
            items = draw(st.lists(_words, min_size=1, max_size=3))
            lines.append(f"{key}:\n" + "".join(f"  - {v}\n" for v in items))
        elif draw(st.booleans()):
            pairs = draw(st.lists(st.tuples(_words, _words), min_size=1, max_size=3))
            lines.append(f"{key}:\n" + "".join(f"  {k}: {v}\n" for k, v in pairs))
        else:
            lines.append(f"{key}: {draw(_words)}\n")
    return "".join(lines)


@settings(max_examples=400, deadline=None)
@given(_documents())
def test_generated_mappings_give_the_same_data_or_error(text: str) -> None:
    _same(text)


_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _PyYAMLTags(_Base):
    """PyYAML's own resolver, nothing of yamlio's: the tags `_Loader.resolve` must give."""


def _tags(node: Any) -> Any:
    """Every node's tag, in document order: what the resolver decided."""
    if isinstance(node, yaml.ScalarNode):
        return node.tag
    if isinstance(node, yaml.MappingNode):
        return (node.tag, [(_tags(k), _tags(v)) for k, v in node.value])
    return (node.tag, [_tags(v) for v in node.value])


def _same_tags(text: str) -> None:
    for _ in range(2):  # the first time asks PyYAML, the second is answered from the memory
        try:
            ours = _tags(yamlio.compose(text))
        except yaml.YAMLError as exc:
            ours = str(exc)
        try:
            theirs = _tags(yaml.compose(text, Loader=_PyYAMLTags))
        except yaml.YAMLError as exc:
            theirs = str(exc)
        assert ours == theirs, text


_SCALARS = [
    "1", "-1", "+1", "0x1f", "0o17", "0b101", "1_000", "1:30", "1.5", "-.5", ".inf", "-.Inf",
    ".nan", "1e3", "1.0e+3", "true", "True", "TRUE", "yes", "No", "off", "On", "y", "n",
    "null", "Null", "~", "", "2026-01-05", "2026-1-5", "2026-01-05 10:20:00",
    "2026-01-05T10:20:00Z", "2026-01-05t10:20:00.5+01:00", "2026-02-30", "<<", "=",
    "plain words", "'1'", '"true"', "!!str 1", "!!int '7'", "? a", "-", "Acme 1.5",
]  # fmt: skip


def test_the_remembered_tags_are_pyyamls() -> None:
    """`yamlio._Loader.resolve` remembers each plain text's tag: every kind of implicit
    scalar, quoted and tagged ones, keys and values, get PyYAML's own tag, first and again."""
    for value in _SCALARS:
        _same_tags(f"k: {value}\n{value or 'e'}: v\nl: [{value}]\n- x\n")  # a parse error too
        _same_tags(f"k: {value}\n{value or 'e'}: v\nl:\n  - {value}\n")
    long = "2026-01-05 " + "x" * 60  # longer than what is remembered
    _same_tags(f"a: {long}\nb: {long}\n")


@settings(max_examples=200, deadline=None)
@given(st.text(st.characters(codec="utf-8"), max_size=12))
def test_any_scalar_text_gets_pyyamls_tag(value: str) -> None:
    _same_tags(f"k: {yaml.safe_dump(value).removesuffix(chr(10) + '...' + chr(10))}\n")
    _same_tags(f"k: {value}\n")
