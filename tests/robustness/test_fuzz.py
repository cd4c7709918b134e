"""Fuzzing the deal parser, the config loader and lint over a corpus built from
example_pipeline/: arbitrary bytes and mutated real files give a Deal or a DealError, a
Config or a ConfigError, and lint findings, never an exception and never a crashed rule.

CI runs a bounded number of examples; PIPECTL_FUZZ_EXAMPLES=N runs more (the figures of a
longer run are in docs/robustness.md).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
import shutil
from pathlib import Path

import pytest
from conftest import REPO_ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipectl import jsonout, lint
from pipectl.config import ConfigError, load_config
from pipectl.deal import decode, parse_deal, parse_yaml, split
from pipectl.dealedit import REMOVE, append_item, set_fields
from pipectl.errors import DealError
from pipectl.render import text as render
from pipectl.store import Pipeline
from pipectl.yamltext import same_value

EXAMPLES = int(os.environ.get("PIPECTL_FUZZ_EXAMPLES", "150"))
EXAMPLE_PIPELINE = REPO_ROOT / "example_pipeline"
CORPUS = tuple(  # the deal files (templates/ holds mail templates, no deals)
    sorted(p.read_bytes() for p in EXAMPLE_PIPELINE.glob("*/*.md") if p.parent.name != "templates")
)
CONFIG = (EXAMPLE_PIPELINE / "pipeline.yaml").read_bytes()
TODAY = dt.date(2026, 11, 27)

# Fragments that YAML, Markdown and our own splitter treat specially.
TOKENS = (
    b"---\n",
    b"---\r\n",
    b"...\n",
    b"\xef\xbb\xbf",
    b"\r",
    b"\r\n",
    b"\n",
    b"\t",
    b"\x00",
    b"\xff",
    b"\xc3",
    b"\xe2\x80\xa8",
    b"\xc2\x85",
    b"&a ",
    b"*a",
    b"<<: *a\n",
    b"? ",
    b": ",
    b"- ",
    b"[",
    b"]",
    b"{",
    b"}",
    b"'",
    b'"',
    b"#",
    b"|\n",
    b">-\n",
    b"%YAML 1.1\n",
    b"!!python/object/apply:os.system ['true'] ",
    b"!!binary ",
    b"!custom ",
    b"!!set ",
    b"!!omap ",
    b"!!pairs ",
    b"!!timestamp ",
    b"!!int ",
    b"!!float ",
    b"!!map ",
    b"!!seq ",
    b"!!str ",
    b"!!null ",
    b"!!bool ",
    b"!!merge ",
    b"!<tag:yaml.org,2002:set> ",
    b"!e!x ",
    b"2026-13-45",
    b"2026-02-30T25:61:00Z",
    b"1e999",
    b"-.inf",
    b".nan",
    b"0x_",
    b"~",
    b"touchpoints:\n  - ",
    b"value: ",
    b"closed: ",
    b"qualification: ",
    b"tags: ",
    b"lint-ignore: ",
    b"[" * 200,
    b"- " * 200,
    b"{a: " * 50,
)
SETTINGS = settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None
)


@st.composite
def mutated(draw, corpus: tuple[bytes, ...]) -> bytes:
    """A corpus file with a few random mutations: the inputs a parser meets in practice."""
    data = bytearray(draw(st.sampled_from(corpus)))
    for _ in range(draw(st.integers(1, 5))):
        at = draw(st.integers(0, len(data)))
        op = draw(st.sampled_from(["flip", "delete", "insert", "repeat", "splice", "cut"]))
        if op == "flip" and data:
            i = min(at, len(data) - 1)
            data[i] = draw(st.integers(0, 255))
        elif op == "delete":
            del data[at : at + draw(st.integers(1, 40))]
        elif op == "insert":
            data[at:at] = draw(st.sampled_from(TOKENS) | st.binary(max_size=8))
        elif op == "repeat":
            chunk = bytes(data[at : at + draw(st.integers(1, 30))])
            data[at:at] = chunk * draw(st.integers(1, 20))
        elif op == "splice":
            other = draw(st.sampled_from(corpus))
            start = draw(st.integers(0, len(other)))
            data[at:] = other[start:]
        else:
            del data[at:]
    return bytes(data)


DEAL_BYTES = st.one_of(mutated(CORPUS), st.binary(max_size=300))


def _no_constant(name: str) -> None:
    raise AssertionError(f"{name} is not JSON")


def exercise(deal) -> None:
    """Everything that walks a parsed deal's data, as the commands do."""
    for name in (
        "title",
        "company",
        "owner",
        "contact",
        "next_step",
        "lost_reason",
        "value",
        "probability",
        "tags",
        "qualification",
        "touchpoints",
        "last_touch",
    ):
        getattr(deal, name)
    for key in ("created", "stage_entered", "expected_close", "next_step_due", "closed"):
        deal.date(key)
    strict = json.loads(jsonout.dumps(jsonout.plain(deal.fields)), parse_constant=_no_constant)
    assert isinstance(strict, dict)
    render.deal_detail(deal, "body", "USD")
    render.deal_rows([deal])


def test_the_corpus_is_the_example_pipeline():
    assert len(CORPUS) >= 30
    assert all(data.startswith(b"---") for data in CORPUS)


@SETTINGS
@given(DEAL_BYTES)
def test_any_bytes_give_a_deal_or_a_clean_error(data):
    try:
        deal = parse_deal(data, Path("prospecting/fuzz.md"), "prospecting")
    except DealError as exc:
        assert exc.path == Path("prospecting/fuzz.md")
        assert exc.line is None or 1 <= exc.line <= data.count(b"\n") + 2
        assert "\n" not in exc.message
        return
    exercise(deal)


EDIT_KEYS = ("value", "owner", "next_step_due", "qualification.budget", "tags")
EDIT_VALUES = (5, "x: y", dt.date(2026, 1, 2), ["a"], REMOVE)
TOUCH = {"date": dt.date(2026, 1, 1), "kind": "call", "summary": "hi"}


def meant_set(before: dict, key: str, value: object) -> dict | None:
    """What setting `key` must give, worked out apart from dealedit; None: it must refuse
    (a value that is not a mapping is the user's, never replaced by one)."""
    out = copy.deepcopy(before)
    parent, _, child = key.partition(".")
    target = out
    if child:
        inner = out.get(parent)
        if not isinstance(inner, dict):
            if value is REMOVE:
                return out
            if inner not in (None, ""):
                return None
            inner = out[parent] = {}
        target, key = inner, child
    if value is REMOVE:
        target.pop(key, None)
    else:
        target[key] = value
    return out


def meant_append(before: dict) -> dict | None:
    out = copy.deepcopy(before)
    items = out.get("touchpoints")
    if not isinstance(items, list):
        if items not in (None, ""):
            return None  # the user's value, never replaced by a list
        items = out["touchpoints"] = []
    items.append(dict(TOUCH))
    return out


def edits(text, key: str, value: object):
    """(edit, the data it must give or None) for a set and an append."""
    before = parse_yaml(text)
    yield (lambda: set_fields(text, {key: value})), meant_set(before, key, value)
    yield (lambda: append_item(text, "touchpoints", TOUCH)), meant_append(before)


def check_edit(text, edit, meant: dict | None) -> bool:
    """The edit gives exactly the meant data, body and fences untouched, or refuses cleanly;
    True when it was made."""
    try:
        after = edit()
    except DealError as exc:
        assert "\n" not in exc.message
        return False
    assert meant is not None, "a value that is not a mapping or list was replaced"
    assert (after.bom, after.head, after.tail, after.body) == (
        text.bom,
        text.head,
        text.tail,
        text.body,
    )
    assert same_value(parse_yaml(after), meant), (parse_yaml(after), meant)
    return True


@SETTINGS
@given(mutated(CORPUS), st.sampled_from(EDIT_KEYS), st.sampled_from(EDIT_VALUES))
def test_edits_of_any_readable_file_are_exact_or_refused(data, key, value):
    """An edit either gives exactly the meant data, body untouched, or a clean DealError."""
    try:
        text = split(decode(data))
        parse_yaml(text)
    except DealError:
        return
    for edit, meant in edits(text, key, value):
        check_edit(text, edit, meant)


@pytest.mark.parametrize("key", EDIT_KEYS)
def test_every_edit_of_every_real_file_is_made(key):
    """Refusing is allowed on odd layouts, not on the files people write: an editor that
    refused everything would pass the fuzz test above, never this one."""
    readable = 0
    for data in CORPUS:
        try:
            text = split(decode(data))
            parse_yaml(text)
        except DealError:  # the example keeps a broken file on purpose, for lint to report
            continue
        readable += 1
        for value in EDIT_VALUES:
            for edit, meant in edits(text, key, value):
                if meant is not None:
                    assert check_edit(text, edit, meant), (key, value, data[:200])
    assert readable >= 30


@SETTINGS
@given(st.one_of(mutated((CONFIG,)), st.binary(max_size=200)))
def test_any_pipeline_yaml_gives_a_config_or_a_clean_error(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("cfg") / "pipeline.yaml"
    path.write_bytes(data)
    try:
        config = load_config(path)
    except ConfigError as exc:
        assert exc.path == path
        return
    assert config.stage_names


@pytest.fixture(scope="module")
def fuzz_pipeline(tmp_path_factory) -> Path:
    """A copy of example_pipeline outside git (lint reads files only), caches off."""
    root = tmp_path_factory.mktemp("fuzz") / "example"
    shutil.copytree(EXAMPLE_PIPELINE, root)
    return root


def lint_findings(root: Path):
    result = lint.run(Pipeline(root), TODAY)
    crashed = [f for f in result.findings if f.code == "PL000"]
    assert not crashed, crashed
    return result.findings


@settings(SETTINGS, max_examples=max(10, EXAMPLES // 5))
@given(data=st.lists(DEAL_BYTES, min_size=1, max_size=3))
def test_lint_never_raises_on_mutated_deals(fuzz_pipeline, monkeypatch_env, data):
    written = []
    for i, content in enumerate(data):
        path = fuzz_pipeline / ("closing", "prospecting", "won")[i] / f"zz-fuzz-{i}.md"
        path.write_bytes(content)
        written.append(path)
    try:
        findings = lint_findings(fuzz_pipeline)
        for path, content in zip(written, data, strict=True):
            try:
                parse_deal(content, path, path.parent.name)
            except DealError:  # an unreadable file is reported, at a line of the file
                mine = [f for f in findings if f.path and Path(f.path).name == path.name]
                assert any(f.code == "PL101" for f in mine), findings
    finally:
        for path in written:
            path.unlink()


@settings(SETTINGS, max_examples=max(10, EXAMPLES // 5))
@given(mutated((CONFIG,)))
def test_lint_never_raises_on_a_mutated_config(fuzz_pipeline, monkeypatch_env, data):
    config = fuzz_pipeline / "pipeline.yaml"
    try:
        config.write_bytes(data)
        try:
            pipeline = Pipeline(fuzz_pipeline)
        except ConfigError:
            return
        try:
            result = lint.run(pipeline, TODAY)
        except ConfigError:  # bad rule settings are a usage error (exit 2), named
            return
        assert not [f for f in result.findings if f.code == "PL000"]
    finally:
        config.write_bytes(CONFIG)


@pytest.fixture(scope="module")
def monkeypatch_env():
    """No parse or result cache: every example is parsed afresh."""
    mp = pytest.MonkeyPatch()
    mp.setenv("PIPECTL_NO_CACHE", "1")
    yield
    mp.undo()
