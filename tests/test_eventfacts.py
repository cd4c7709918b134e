"""What each event did, kept across runs by its two blob ids (pipectl/eventfacts.py,
pipectl/caches/facts.py): a warm `changes` reads no blob for the events an earlier run read, and
its answer is the cold one's, also over a damaged or foreign cache file."""

from __future__ import annotations

import datetime as dt
import marshal
from pathlib import Path

import pytest
from conftest import git
from hypothesis import given, settings
from hypothesis import strategies as st
from test_changes import EXPECTED, WINDOW, Timeline, _json, _rows, build_story, forget_answers

from pipectl import eventfacts
from pipectl.caches import framed
from pipectl.caches.deals import _key
from pipectl.caches.facts import _WHAT, KIND
from pipectl.deal import Touchpoint
from pipectl.eventfacts import Facts, Side

# these tests are about a cache the kept window (caches/windows.py) would answer before
pytestmark = pytest.mark.usefixtures("no_window_memo")


@pytest.fixture
def history(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return build_story(tmp_path, monkeypatch)


def _facts_file(root: Path) -> Path:
    return Path(git(root, "rev-parse", "--absolute-git-dir").strip()) / "pipectl/cache/facts.bin"


def _read_spy(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many events each run had to read from their blobs."""
    seen: list[int] = []
    real = eventfacts.read_blobs

    def spy(git_, events):
        seen.append(len(events))
        return real(git_, events)

    monkeypatch.setattr(eventfacts, "read_blobs", spy)
    return seen


def test_a_warm_run_reads_only_the_new_events(history: Path, monkeypatch: pytest.MonkeyPatch):
    cold = _json(history, *WINDOW)
    assert _facts_file(history).is_file()
    seen = _read_spy(monkeypatch)
    assert _json(history, *WINDOW) == cold
    assert seen == []  # every event of the window known: no blob read at all
    Timeline(history, monkeypatch).at("2026-11-30", hour=12).run("set", "beta", "value=7500")
    wider = ["--since", "2026-11-23", "--until", "2026-11-30", "--today", "2026-11-30"]
    warm = _json(history, *wider)
    assert seen == [3]  # the window's three events after the 29th: nothing else read
    monkeypatch.setenv(framed.DISABLE_ENV, "1")
    assert _json(history, *wider) == warm
    assert _rows(_json(history, *WINDOW)) == EXPECTED


@pytest.mark.parametrize("damage", ["truncated", "garbage", "wrong shapes"])
def test_a_damaged_or_foreign_file_is_never_trusted(
    history: Path, monkeypatch: pytest.MonkeyPatch, damage: str
):
    cold = _json(history, *WINDOW)
    path = _facts_file(history)
    if damage == "truncated":
        path.write_bytes(path.read_bytes()[:-7])
    elif damage == "garbage":
        path.write_bytes(b"not a cache at all")
    else:  # a frame that checks out, holding entries of every wrong shape
        found = framed.read(path, KIND, _key(_WHAT))
        assert isinstance(found, dict) and found
        bad = [(1, 2), (None, None, [1]), ((1, 2, 3), None, ()), (None, (1.0, "x", None), ())]
        bad += [b"\x00", (None, None, ((None, 1, "s", None),)), (None, (None, None, 7), ())]
        entries = {k: marshal.dumps(bad[i % len(bad)]) for i, k in enumerate(found)}
        entries |= {k: b"\xff" for k in list(found)[:2]}
        framed.write(path, KIND, _key(_WHAT), entries)
    forget_answers(history)
    seen = _read_spy(monkeypatch)
    assert _json(history, *WINDOW) == cold
    assert seen and seen[0] > 0  # read again from the blobs
    seen.clear()
    forget_answers(history)
    assert _json(history, *WINDOW) == cold
    assert seen == []  # and kept right this time


_days = st.none() | st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31))
_text = st.text(max_size=20)
_sides = st.none() | st.builds(
    Side, st.none() | st.floats(allow_nan=False), _days, st.none() | _text
)
_touchpoints = st.builds(Touchpoint, _days, _text, _text, st.none() | _text)


@settings(max_examples=200, deadline=None)
@given(st.builds(Facts, _sides, _sides, st.lists(_touchpoints, max_size=4).map(tuple)))
def test_an_entry_reads_back_as_it_was_written(facts: Facts):
    stored = marshal.loads(marshal.dumps(eventfacts._encode(facts)))
    assert eventfacts._decode(stored) == facts


def test_the_two_ends_share_the_deals_that_did_not_change(history: Path):
    """`changes` reads its two ends with one blob cache: a deal whose file and place hold at
    both is decoded once (the same object), one that changed is decoded at each end."""
    from pipectl import asof
    from pipectl.gitrepo import GitRepo

    repo = GitRepo(history)
    cache = asof.blob_cache(history, repo)
    base = asof.commit_on(repo, dt.date(2026, 11, 22))
    tip = asof.commit_on(repo, dt.date(2026, 11, 29))
    assert base and tip
    start = {d.id: d for d in asof.pipeline_at(history, repo, base, cache).load().deals}
    end = {d.id: d for d in asof.pipeline_at(history, repo, tip, cache).load().deals}
    assert start["omega"] is end["omega"]  # untouched in the window
    assert start["beta"] is not end["beta"] and start["beta"].value != end["beta"].value
    alone = {d.id: d for d in asof.pipeline_at(history, repo, tip).load().deals}
    assert alone == end
