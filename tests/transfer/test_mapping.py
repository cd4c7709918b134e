"""Cell parsing for import (money, dates, inference) and the fast YAML scalar it relies on."""

from __future__ import annotations

import datetime as dt
import math

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipectl.dealedit import scalar
from pipectl.errors import UsageError
from pipectl.transfer import mapping


def _emitter(value: object) -> str:
    out = yaml.safe_dump(value, allow_unicode=True, width=math.inf, default_flow_style=True)
    return out.removesuffix("\n").removesuffix("\n...").strip()


# What import writes most: names, codes, counts and dates. The fast path in scalar() must
# write exactly what the YAML emitter writes, and read back as the same value.
_WORDS = st.from_regex(r"[^\W\d_][\w .,()/&'+—–-]{0,20}", fullmatch=True)


@given(st.one_of(_WORDS, st.integers(), st.dates()))
def test_scalar_fast_path_writes_what_the_emitter_writes(value: object) -> None:
    text = scalar(value)
    assert text == _emitter(value)
    assert yaml.safe_load(f"k: {text}")["k"] == value


@pytest.mark.parametrize(
    "word", ["yes", "No", "ON", "off", "null", "Null", "true", "y", "Cancity — GTX Pro", "a  b"]
)
def test_scalar_words_read_back_as_text(word: str) -> None:
    assert yaml.safe_load(f"k: {scalar(word)}")["k"] == word


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$12,000.50", 12000.5),
        ("12 000", 12000),
        ("12\u00a0000", 12000),
        ("12'000", 12000),
        ("USD 1200", 1200),
        ("1200 EUR", 1200),
        ("€3.5", 3.5),
        ("1054", 1054),
        ("12.00", 12),
        ("-5", -5),
        ("-$5", -5),
        ("0", 0),
    ],
)
def test_money(text: str, expected: float) -> None:
    value = mapping.parse_number(text)
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize("text", ["12,5", "1,00,000", "12 0", "abc", "1.2.3", "$", "12k"])
def test_not_money(text: str) -> None:
    with pytest.raises(ValueError, match="not a number"):
        mapping.parse_number(text)


def test_date_formats() -> None:
    us = mapping.DateFormat.parse("M/D/YYYY")
    assert us.date("3/1/2017") == dt.date(2017, 3, 1)
    assert us.date("12/31/2016") == dt.date(2016, 12, 31)
    assert us.date("2017-03-01") == dt.date(2017, 3, 1)  # ISO is always understood
    eu = mapping.DateFormat.parse("D.M.YYYY")
    assert eu.date("3.1.2017") == dt.date(2017, 1, 3)
    iso = mapping.DateFormat.parse(None)
    assert iso.date("2017-03-01 10:22:00") == dt.date(2017, 3, 1)
    with pytest.raises(ValueError, match="no real date"):
        us.date("2/30/2017")
    with pytest.raises(ValueError, match=r"not a date \(YYYY-MM-DD\)"):
        iso.date("3/1/2017")
    with pytest.raises(UsageError, match="--date-format"):
        mapping.DateFormat.parse("MM/YYYY")


def test_convert_by_field() -> None:
    iso = mapping.DateFormat.parse(None)
    assert mapping.convert("value", "$1,000", iso) == 1000
    assert mapping.convert("probability", "30%", iso) == pytest.approx(0.3)
    assert mapping.convert("tags", "a, b; c", iso) == ["a", "b", "c"]
    assert mapping.convert("tags", "[x, 'y,z']", iso) == ["x", "y,z"]
    assert mapping.convert("company", "1999", iso) == "1999"
    assert mapping.convert("seats", "50", iso) == 50
    assert mapping.convert("code", "0123", iso) == "0123"
    assert mapping.convert("renewal", "2027-01-31", iso) == dt.date(2027, 1, 31)
    with pytest.raises(ValueError, match="negative"):
        mapping.convert("value", "-3", iso)
    with pytest.raises(ValueError, match="probability"):
        mapping.convert("probability", "130%", iso)


def test_templates_fall_back_when_a_column_is_empty() -> None:
    src = mapping.Source(("{account} — {product}", "{product}"))
    assert src.value({"account": "Acme", "product": "GTX"}) == "Acme — GTX"
    assert src.value({"account": " ", "product": "GTX"}) == "GTX"
    assert src.value({"account": "", "product": ""}) is None
    assert src.columns() == ["account", "product", "product"]
    plain = mapping.Source(("close_date", "engage_date"))
    assert plain.value({"close_date": "", "engage_date": "1/2/2017"}) == "1/2/2017"


_CELL = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["won", "Lost", "$1,000", "12 000", "3/1/2017", "2026-02-30", "", '"', "\n"]),
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    header=st.lists(
        st.sampled_from(["title", "id", "stage", "value", "created", "x"]),
        min_size=1,
        max_size=4,
        unique=True,
    ),
    rows=st.lists(st.lists(_CELL, max_size=5), max_size=6),
    raw=st.binary(max_size=40),
)
def test_import_never_crashes_on_any_file(
    tmp_path_factory: pytest.TempPathFactory, header: list[str], rows: list[list[str]], raw: bytes
) -> None:
    """Any CSV (or any bytes) is imported, or refused with a PipectlError: never a traceback."""
    import csv
    import io

    from pipectl.errors import PipectlError
    from pipectl.ops import init
    from pipectl.store import Pipeline
    from pipectl.transfer.importer import import_file
    from pipectl.transfer.options import Options

    root = tmp_path_factory.mktemp("prop")
    init(root, commit=False)
    pipeline = Pipeline(root)
    out = io.StringIO()
    csv.writer(out).writerows([header, *rows])
    for name, data in (("a.csv", out.getvalue().encode()), ("b.csv", raw), ("c.json", raw)):
        src = root / name
        src.write_bytes(data)
        try:
            result = import_file(pipeline, src, Options(dry_run=True, skip_invalid=True))
        except PipectlError:
            continue
        if name == "a.csv":  # each row is one deal or one skipped row, never more
            assert result.added + len(result.skipped) <= len(rows)
