"""Fuzzing the deal parser, the config loader and lint over a corpus built from
example_pipeline/: arbitrary bytes and mutated real files give a Deal or a DealError, a
Config or a ConfigError, and lint findings, never an exception and never a crashed rule.

CI runs a bounded number of examples; PIPECTL_FUZZ_EXAMPLES=N runs more (the figures of a
longer run are in docs/robustness.md).
"""

from __future__ import annotations

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

EXAMPLES = int(os.environ.get("PIPECTL_FUZZ_EXAMPLES", "150"))
EXAMPLE_PIPELINE = REPO_ROOT / "example_pipeline"
CORPUS = tuple(sorted(p.read_bytes() for p in EXAMPLE_PIPELINE.glob("*/*.md")))
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


@SETTINGS
@given(
    mutated(CORPUS),
    st.sampled_from(["value", "owner", "next_step_due", "qualification.budget", "tags"]),
    st.sampled_from([5, "x: y", dt.date(2026, 1, 2), ["a"], REMOVE]),
)
def test_edits_of_any_readable_file_are_exact_or_refused(data, key, value):
    """An edit either gives exactly the meant data, body untouched, or a clean DealError."""
    try:
        text = split(decode(data))
        before = parse_yaml(text)
    except DealError:
        return
    for edit in (
        lambda: set_fields(text, {key: value}),
        lambda: append_item(
            text, "touchpoints", {"date": dt.date(2026, 1, 1), "kind": "call", "summary": "hi"}
        ),
    ):
        try:
            after = edit()
        except DealError:
            continue
        assert (after.bom, after.head, after.tail, after.body) == (
            text.bom,
            text.head,
            text.tail,
            text.body,
        )
        assert isinstance(parse_yaml(after), dict)
        assert parse_yaml(after) != before or after.yaml == text.yaml


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
