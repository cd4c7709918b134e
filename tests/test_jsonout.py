"""jsonout.dumps is json.dumps(indent=2, ensure_ascii=False), byte for byte, for any data."""

from __future__ import annotations

import json
from collections import OrderedDict
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipectl.jsonout import dumps

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text()
)
data = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.lists(inner, max_size=5).map(tuple)
        | st.dictionaries(st.text(), inner, max_size=5)
    ),
    max_leaves=40,
)


def standard(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


@settings(max_examples=400, deadline=None)
@given(data)
def test_same_bytes_as_the_standard_encoder(value: Any) -> None:
    assert dumps(value) == standard(value)


@pytest.mark.parametrize(
    "value",
    [
        {1: "a", None: "b", 2.5: "c", False: "d"},  # keys json turns into text
        OrderedDict([("b", 1), ("a", [OrderedDict()])]),
        {"n": float("nan"), "i": float("-inf"), "big": 10**40, "e": 1e-7},
        {"tab\t": 'line\nbreak \u00a0 \u2028 \ud800 \x00 "q" \\', "ü": ["日本", []], "x": {}},
    ],
)
def test_edge_values(value: Any) -> None:
    assert dumps(value) == standard(value)


def test_a_cycle_is_refused_as_the_standard_encoder_refuses_it() -> None:
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(ValueError, match="Circular reference"):
        dumps(loop)


def test_other_types_are_refused_alike() -> None:
    with pytest.raises(TypeError):
        dumps({"when": object()})
