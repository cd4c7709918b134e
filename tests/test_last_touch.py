"""Deal.last_touch reads the touchpoints' dates without building them: it must agree with the
touchpoints themselves for any list a file can hold."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from pipectl.deal import Deal

when = (
    st.dates()
    | st.datetimes()
    | st.dates().map(lambda d: f" {d.isoformat()} ")
    | st.sampled_from(["", "soon", "2026-02-30", None, 3])
)
entry = st.one_of(
    st.fixed_dictionaries({"date": when}, optional={"kind": st.sampled_from(["call", "email"])}),
    st.fixed_dictionaries({}, optional={"kind": st.just("note")}),
    st.sampled_from(["a line", 7, None, ["x"]]),
)


def deal(touchpoints: Any) -> Deal:
    return Deal("d", "qualifying", Path("qualifying/d.md"), {"touchpoints": touchpoints})


@settings(max_examples=300, deadline=None)
@given(st.lists(entry, max_size=6) | st.sampled_from([None, "x", {"date": "2026-01-01"}]))
def test_last_touch_is_the_latest_touchpoint_date(raw: Any) -> None:
    fresh, built = deal(raw), deal(raw)
    days = [t.date for t in built.touchpoints if t.date is not None]
    assert fresh.last_touch == built.last_touch == (max(days) if days else None)


def test_a_datetime_counts_as_its_day() -> None:
    found = deal([{"date": dt.datetime(2026, 3, 4, 23, 0)}, {"date": "2026-03-01"}])
    assert found.last_touch == dt.date(2026, 3, 4)
