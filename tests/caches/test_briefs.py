"""A deal's brief (pipectl/caches/briefs.py): what `changes` reads of a deal at either end of
its window, kept by blob id. A light deal made from a brief answers every reader the ends'
figures use exactly as the whole deal does; a warm `changes` reads no deal whole; a damaged
briefs file is never trusted; the blob cache keeps what a later `--as-of` reads."""

from __future__ import annotations

import datetime as dt
import marshal
import math
from pathlib import Path
from typing import Any

import pytest
from conftest import git
from hypothesis import given, settings
from hypothesis import strategies as st
from test_changes import WINDOW, Timeline, _json, build_story, forget_answers

from pipectl.caches import blobs, framed
from pipectl.caches.briefs import _WHAT, KIND, brief, light
from pipectl.caches.deals import _key
from pipectl.deal import Deal
from pipectl.lint.rules_time import last_activity
from pipectl.rates import deal_currency

# these tests are about a cache the kept window (caches/windows.py) would answer before
pytestmark = pytest.mark.usefixtures("no_window_memo")


_odd = st.sampled_from([None, "", "  ", 0, 7, True, 1.5, ["x"], {"a": 1}, dt.date(2026, 1, 2)])
_days = (
    st.dates()
    | st.datetimes()
    | st.dates().map(dt.date.isoformat)
    | st.sampled_from(["2026-02-30", "soon", " 2026-03-01 "])
    | _odd
)
_amounts = (
    st.integers(-(10**20), 10**20)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from([10**400, "12000", False])
    | _odd
)
_items = st.lists(
    st.fixed_dictionaries(
        {"product": st.text(max_size=5)},
        optional={"quantity": st.integers(-3, 20) | st.floats(0, 9), "unit_price": _amounts},
    ),
    max_size=3,
)
_touchpoints = st.lists(
    st.fixed_dictionaries({}, optional={"date": _days, "kind": st.just("call")}) | _odd,
    max_size=4,
)
_fields = st.fixed_dictionaries(
    {},
    optional={
        "title": st.text(max_size=8) | _odd,
        "owner": st.text(max_size=8) | _odd,
        "currency": st.sampled_from(["EUR", "usd", " gbp ", ""]) | st.floats() | _odd,
        "value": _amounts,
        "line_items": _items | _odd,
        "expected_close": _days,
        "stage_entered": _days,
        "created": _days,
        "closed": _days,
        "touchpoints": _touchpoints | _odd,
        "probability": st.floats(0, 1),
    },
)


def _same(a: Any, b: Any) -> bool:
    return a == b or (
        isinstance(a, float) and isinstance(b, float) and math.isnan(a) == math.isnan(b)
    )


@settings(max_examples=400, deadline=None)
@given(_fields, st.sampled_from(["acme", "x-1"]))
def test_a_light_deal_answers_as_the_deal(fields: dict[str, Any], deal_id: str) -> None:
    deal = Deal(deal_id, "qualifying", Path("qualifying", deal_id + ".md"), fields)
    found = brief(deal)
    if found is None:  # only a currency that is not plain data has no brief
        assert type(fields.get("currency")) not in (str, int, float, bool, type(None))
        return
    found = marshal.loads(marshal.dumps(found))  # as the cache keeps it
    made = light(found, deal.id, deal.stage, deal.path.parent)
    assert (made.id, made.stage, made.path) == (deal.id, deal.stage, deal.path)
    assert made.title == deal.title and made.owner == deal.owner
    assert made.value == deal.value
    for key in ("expected_close", "stage_entered", "created", "closed"):
        assert made.date(key) == deal.date(key)
    assert made.last_touch == deal.last_touch and last_activity(made) == last_activity(deal)
    mine, theirs = made.fields.get("currency"), deal.fields.get("currency")
    assert _same(mine, theirs) and bool(mine) == bool(theirs) and str(mine) == str(theirs)
    assert deal_currency(made.fields, "EUR") == deal_currency(deal.fields, "EUR")


# --- a warm `changes` ---------------------------------------------------------------------------


@pytest.fixture
def history(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return build_story(tmp_path, monkeypatch)


def _cache_dir(root: Path) -> Path:
    return Path(git(root, "rev-parse", "--absolute-git-dir").strip()) / "pipectl" / "cache"


def _parse_spy(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The blobs each run decoded as whole deals."""
    seen: list[str] = []
    real = blobs.BlobCache.parse

    def spy(self, oid, *args):  # type: ignore[no-untyped-def]
        seen.append(oid)
        return real(self, oid, *args)

    monkeypatch.setattr(blobs.BlobCache, "parse", spy)
    return seen


def test_a_warm_run_reads_no_deal_whole(history: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cold = _json(history, *WINDOW)
    assert (_cache_dir(history) / "briefs.bin").is_file()
    forget_answers(history)
    seen = _parse_spy(monkeypatch)
    assert _json(history, *WINDOW) == cold
    assert seen == []
    monkeypatch.setenv(framed.DISABLE_ENV, "1")
    assert _json(history, *WINDOW) == cold


@pytest.mark.parametrize("damage", ["truncated", "garbage", "wrong shapes"])
def test_a_damaged_briefs_file_is_never_trusted(
    history: Path, monkeypatch: pytest.MonkeyPatch, damage: str
) -> None:
    cold = _json(history, *WINDOW)
    path = _cache_dir(history) / "briefs.bin"
    if damage == "truncated":
        path.write_bytes(path.read_bytes()[:-5])
    elif damage == "garbage":
        path.write_bytes(b"PIPECTL-DEALBRIEF\x00 and then nothing that checks out")
    else:  # a frame that checks out, holding entries of every wrong shape
        found = framed.read(path, KIND, _key(_WHAT))
        assert isinstance(found, dict) and found
        bad: list[Any] = [(1,), ("t", None, None, 1.0, 0, None, None, None, None)]
        bad += [("t", None, None, 1, None, None, None, None, None), [None] * 9]
        bad += [(None, None, [1], None, None, None, None, None, None)]
        bad += [(None, None, None, None, True, None, None, None, 10**9)]
        entries = {k: marshal.dumps(bad[i % len(bad)]) for i, k in enumerate(found)}
        entries |= {k: b"\xff" for k in list(found)[:2]}
        framed.write(path, KIND, _key(_WHAT), entries)
    forget_answers(history)
    seen = _parse_spy(monkeypatch)
    assert _json(history, *WINDOW) == cold
    assert seen  # read whole again
    seen.clear()
    forget_answers(history)
    assert _json(history, *WINDOW) == cold
    assert seen == []  # and kept right this time


def test_the_blob_cache_keeps_what_a_later_as_of_reads(
    history: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A warm `changes` decodes no deal, yet the blob cache must not forget the ends' blobs:
    `report --as-of` of the window's last day then reads every deal from it, none from git."""
    from conftest import Cli

    from pipectl import asof

    _json(history, *WINDOW)
    # one new commit: the next run parses its one new blob, reads every other deal's brief
    Timeline(history, monkeypatch).at("2026-11-30", hour=12).run("set", "beta", "value=7500")
    known = framed.read(_cache_dir(history) / "briefs.bin", KIND, _key(_WHAT))
    assert isinstance(known, dict)
    tree = git(history, "ls-tree", "-r", "HEAD").split("\n")
    new = {line.split()[2] for line in tree if line.endswith(".md")} - set(known)
    seen = _parse_spy(monkeypatch)
    _json(history, "--since", "2026-11-23", "--until", "2026-11-30", "--today", "2026-11-30")
    assert new and set(seen) == new  # the new commit's blob(s) alone, read whole
    read: list[set[str]] = []
    real = asof._blobs

    def spy(git_, oids):  # type: ignore[no-untyped-def]
        read.append(set(oids))
        return real(git_, oids)

    monkeypatch.setattr(asof, "_blobs", spy)
    result = Cli(history)("report", "--as-of", "2026-11-29", "--today", "2026-11-30", "--json")
    assert result.exit_code == 0, result.output
    assert read and all(len(oids) == 1 for oids in read)  # pipeline.yaml alone
