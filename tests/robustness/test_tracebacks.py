"""Inputs that once made pipectl crash with a traceback (exit 1, read by CI as "findings"):
each is now a one-line message with exit 2, or is read and reported by lint."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import Cli, git

HUGE = "9" * 401

READERS = (("show", "big"), ("list",), ("board",), ("report",), ("agenda",), ("report", "--json"))


def test_amounts_too_large_to_count_are_read_and_flagged_not_crashed_on(
    cli: Cli, pipeline: Path, write_deal
) -> None:
    write_deal(
        pipeline,
        "prospecting",
        "big",
        f"---\ntitle: Big\ncreated: 2026-03-01\nvalue: {HUGE}\n---\n",
    )
    for name in ("b1", "b2"):  # their sum is past any float
        write_deal(
            pipeline,
            "prospecting",
            name,
            "---\ntitle: B\ncreated: 2026-03-01\nvalue: 1.0e+308\n---\n",
        )
    git(pipeline, "add", "-A")
    git(pipeline, "commit", "-q", "-m", "big")
    for args in READERS:
        r = cli(*args)
        assert r.exit_code == 0, (args, r.output)
        assert "Traceback" not in r.output and "internal error" not in r.output
    r = cli("lint", "--select", "PL103")
    assert r.exit_code == 1
    assert "big.md:4:1: PL103 value: 9999" in r.stdout and "is not an amount" in r.stdout
    assert "b1.md:4:1: PL103 value: 1e+308 is too large to count with" in r.stdout
    assert cli("set", "big", "value=1e30").exit_code == 2  # and no write brings one in


def test_a_symlink_loop_in_a_stage_folder_is_reported_not_crashed_on(
    cli: Cli, pipeline: Path
) -> None:
    folder = pipeline / "prospecting"
    (folder / "loop-a.md").symlink_to("loop-b.md")
    (folder / "loop-b.md").symlink_to("loop-a.md")
    for args in (("list",), ("board",), ("report",), ("agenda",)):
        r = cli(*args)
        assert r.exit_code == 0, (args, r.output)
        assert "Too many levels of symbolic links" in r.stderr
    r = cli("lint", "--select", "PL101")
    assert r.exit_code == 1 and "loop-a.md" in r.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--delimiter", "ab"), "--delimiter 'ab': a delimiter is one character"),
        (("--map", "title={title:{value}}"), "a format is not allowed; write {column} only"),
        (("--map", "title={title!r}"), "a format is not allowed"),
        (("--map", "title={title:X<40000000}"), "a format is not allowed"),
        (("--map", "title={}"), "an empty {} is not allowed"),
        (("--map", "title={title.x}"), "no column 'title.x'"),
        (("--map", "title={title[0]}"), "no column 'title[0]'"),
    ],
)
def test_bad_import_options_are_one_line_errors(
    cli: Cli, pipeline: Path, args: tuple[str, ...], message: str
) -> None:
    src = pipeline.parent / "d.csv"
    src.write_text("title,value\nAlpha,100\n")
    r = cli("import", str(src), *args)
    assert r.exit_code == 2, r.output
    assert message in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert not (pipeline / "prospecting" / "alpha.md").exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        (
            json.dumps([{"id": "a", "stage": "prospecting", "fields": {"title": "A"}}]).replace(
                '"A"}', '"A", "value": ' + "9" * 5000 + "}"
            ),
            "Exceeds the limit (4300 digits)",
        ),
    ],
    ids=["deep", "long-integer"],  # a test id goes into the environment: keep it short
)
def test_json_no_reader_can_hold_is_a_one_line_error(
    cli: Cli, pipeline: Path, text: str, message: str
) -> None:
    src = pipeline.parent / "d.json"
    src.write_text(text)
    r = cli("import", str(src))
    assert r.exit_code == 2, r.output
    assert f"d.json: not JSON pipectl reads: {message}" in r.stderr


def test_a_deal_of_100k_touchpoints_is_refused_before_the_parse_with_the_right_reason(
    cli: Cli, pipeline: Path, write_deal
) -> None:
    items = "".join(
        f"  - {{date: 2026-03-01, kind: call, summary: c{i}}}\n" for i in range(100_001)
    )
    write_deal(pipeline, "prospecting", "many", "---\ntitle: M\ntouchpoints:\n" + items + "---\n")
    r = cli("show", "many")
    assert r.exit_code == 2
    assert "many.md: invalid YAML: holds more than 100000 lines of YAML" in r.stderr
    assert "aliases" not in r.stderr
    flow = ", ".join(str(i) for i in range(100_001))  # one line: parsed, then counted
    write_deal(pipeline, "prospecting", "wide", f"---\ntitle: W\ntags: [{flow}]\n---\n")
    r = cli("show", "wide")
    assert r.exit_code == 2 and "holds more than 100000 values; too large to read" in r.stderr
    laughs = "---\ntitle: L\na: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [{', '.join(['*' + p] * 10)}]\n"
        for p, c in zip("abcdef", "bcdefg", strict=True)
    )
    write_deal(pipeline, "prospecting", "laughs", laughs + "---\n")
    r = cli("show", "laughs")
    assert r.exit_code == 2 and "through its aliases (*name)" in r.stderr
