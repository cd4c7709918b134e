"""`pipectl report`: every figure checked against a hand computation on a backdated history."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
import statistics
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import REPO_ROOT, Cli, git
from test_history import Timeline, build_scenario

from pipectl import history
from pipectl.jsonout import dumps
from pipectl.report import Report, report_json
from pipectl.report import report as compute_report
from pipectl.store import Pipeline

TODAY = "2026-03-01"
D = dt.date.fromisoformat

# The stays of the scenario (see build_scenario), written out by hand: (deal, stage, in, out).
STAYS = [
    ("acme", "prospecting", "2026-01-05", "2026-01-10"),
    ("acme", "qualifying", "2026-01-10", "2026-01-20"),
    ("acme", "connecting", "2026-01-20", "2026-02-01"),
    ("acme", "closing", "2026-02-01", "2026-02-15"),
    ("beta", "prospecting", "2026-01-06", "2026-01-16"),
    ("beta", "qualifying", "2026-01-16", "2026-01-26"),
    ("gamma", "prospecting", "2026-01-08", None),
    ("delta-inc", "qualifying", "2026-01-09", "2026-01-19"),
    ("delta-inc", "connecting", "2026-01-19", "2026-01-25"),
    ("delta-inc", "closing", "2026-01-25", None),
    ("eps", "prospecting", "2026-01-10", "2026-01-30"),
]
# The furthest stage each deal reached in the funnel (prospecting..closing, won).
FURTHEST = {
    "acme": "won",
    "beta": "qualifying",
    "gamma": "prospecting",
    "delta-inc": "closing",
    "eps": "prospecting",
}
FUNNEL = ["prospecting", "qualifying", "connecting", "closing", "won"]
# The keys of `report --json` in their order, a stable contract that docs/reports.md names.
SCOPE_KEYS = (
    *("as_of", "since", "until", "owner", "currency", "base_currency"),
    *("other_currencies", "converted_currencies", "unconverted"),
)
OPEN_KEYS = ("open_count", "open_value", "weighted_value")
OUTCOME_KEYS = ("won_count", "lost_count", "won_value", "lost_value", "win_rate")
CYCLE_KEYS = ("avg_cycle_days", "median_cycle_days")
PARTS = ("velocity", "forecast", "funnel", "conversion", "time_in_stage", "lost_reasons")
JSON_KEYS = (
    *SCOPE_KEYS,
    "history",
    "partial",
    "deal_count",
    *OPEN_KEYS,
    "stages",
    *OUTCOME_KEYS,
    *CYCLE_KEYS,
    "cycle_count",
    *PARTS,
    "aging",
    "trend",
    "owners",
    "quotas",
    "recurring",
    "retention",
    "trends",
    "forecast_categories",
)
# The keys of each part, picked out of the JSON by a function of it.
PART_KEYS = {
    "stages.NAME": (
        lambda d: d["stages"]["prospecting"],
        (
            *("count", "value", "weighted_value", "probability", "closed"),
            *("no_value_count", "unconverted_count"),
        ),
    ),
    "velocity": (
        lambda d: d["velocity"],
        ("open_count", "avg_won_value", "win_rate", "avg_cycle_days", "per_day"),
    ),
    "forecast[]": (
        lambda d: d["forecast"][0],
        ("month", "count", "value", "weighted_value", "past"),
    ),
    "funnel[]": (lambda d: d["funnel"][0], ("stage", "reached", "value")),
    "conversion[]": (
        lambda d: d["conversion"][0],
        ("from", "to", "reached", "advanced", "rate", "why_unknown"),
    ),
    "time_in_stage.STAGE": (
        lambda d: d["time_in_stage"]["prospecting"],
        (
            "count",
            "avg_days",
            "median_days",
            "open_count",
            "open_avg_days",
            "unknown_count",
            "open_unknown_count",
            "why_unknown",
        ),
    ),
    "lost_reasons[]": (lambda d: d["lost_reasons"][0], ("reason", "count", "value")),
    "aging": (
        lambda d: d["aging"],
        ("buckets", "stages", "oldest", "unknown_count", "why_unknown"),
    ),
    "aging.oldest[]": (
        lambda d: d["aging"]["oldest"][0],
        ("id", "title", "stage", "owner", "value", "days_in_stage", "age_days"),
    ),
    "trend[]": (
        lambda d: d["trend"][0],
        ("month", "won_count", "lost_count", "won_value", "win_rate", "avg_cycle_days"),
    ),
    "owners.NAME": (
        lambda d: d["owners"]["alice"],
        (*OPEN_KEYS, *OUTCOME_KEYS, *CYCLE_KEYS, "lost_reasons", "velocity_per_day"),
    ),
}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The scenario is built once for the module: it makes ~25 commits."""
    mp = pytest.MonkeyPatch()
    root = tmp_path_factory.mktemp("report") / "repo"
    home = tmp_path_factory.mktemp("home")
    mp.setenv("HOME", str(home))
    mp.setenv("GIT_CONFIG_GLOBAL", str(home / "gitconfig"))
    mp.setenv("GIT_CONFIG_NOSYSTEM", "1")
    try:
        build_scenario(root, mp)
    finally:
        mp.undo()
    return root


def report(root: Path, *args: str) -> dict:
    r = Cli(root)("report", "--json", "--today", TODAY, *args)
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def expected_stays(since: str | None = None, until: str | None = None) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {s: [] for s in FUNNEL[:-1]}
    for _deal, stage, start, end in STAYS:
        if end is None:
            continue
        if (since and end < since) or (until and end > until):
            continue
        out[stage].append((D(end) - D(start)).days)
    return out


def test_time_in_stage_matches_hand_computation(built: Path) -> None:
    got = report(built)["time_in_stage"]
    for stage, days in expected_stays().items():
        assert got[stage]["count"] == len(days), stage
        assert got[stage]["avg_days"] == (statistics.mean(days) if days else None), stage
        assert got[stage]["median_days"] == (statistics.median(days) if days else None), stage
    today = D(TODAY)
    assert got["prospecting"]["open_count"] == 1
    assert got["prospecting"]["open_avg_days"] == (today - D("2026-01-08")).days
    assert got["closing"]["open_avg_days"] == (today - D("2026-01-25")).days


def test_conversion_matches_hand_computation(built: Path) -> None:
    got = report(built)["conversion"]
    reach = {d: FUNNEL.index(s) for d, s in FURTHEST.items()}
    expected = []
    for i in range(len(FUNNEL) - 1):
        reached = sum(1 for f in reach.values() if f >= i)
        advanced = sum(1 for f in reach.values() if f > i)
        expected.append(
            {
                "from": FUNNEL[i],
                "to": FUNNEL[i + 1],
                "reached": reached,
                "advanced": advanced,
                "rate": advanced / reached,
                "why_unknown": None,
            }
        )
    assert got == expected
    assert [(c["advanced"], c["reached"]) for c in got] == [(3, 5), (2, 3), (2, 2), (1, 2)]


def test_headline_figures_and_stages(built: Path) -> None:
    fig = report(built)
    assert fig["stages"]["prospecting"] == {
        "count": 1,
        "value": 3000,
        "weighted_value": 300,
        "probability": 0.1,
        "closed": None,
        "no_value_count": 0,
        "unconverted_count": 0,
    }
    assert fig["stages"]["closing"]["weighted_value"] == 3500  # the deal's own probability
    assert fig["stages"]["won"]["value"] == 1500  # the value edited by hand
    assert (fig["open_count"], fig["open_value"], fig["weighted_value"]) == (2, 10000, 3800)
    assert (fig["won_count"], fig["lost_count"], fig["won_value"]) == (1, 2, 1500)
    assert fig["win_rate"] == pytest.approx(1 / 3)
    cycle = (D("2026-02-15") - D("2026-01-05")).days
    assert fig["avg_cycle_days"] == fig["median_cycle_days"] == cycle
    assert fig["velocity"]["per_day"] == round(2 * 1500 * (1 / 3) / cycle, 2)
    assert fig["lost_reasons"] == [
        {"reason": "no-budget", "count": 1, "value": 200},
        {"reason": "price", "count": 1, "value": 500},
    ]
    assert [(f["month"], f["count"], f["value"], f["weighted_value"]) for f in fig["forecast"]] == [
        ("2026-03", 1, 3000, 300),
        ("2026-04", 1, 7000, 3500),
    ]
    assert fig["partial"] is False and fig["history"] is True
    assert [(t["month"], t["won_count"], t["lost_count"], t["win_rate"]) for t in fig["trend"]] == [
        ("2026-01", 0, 2, 0.0),
        ("2026-02", 1, 0, 1.0),
    ]
    assert fig["aging"]["stages"]["prospecting"] == [0, 0, 1, 0]
    assert [r["id"] for r in fig["aging"]["oldest"]] == ["gamma", "delta-inc"]


def test_owners(built: Path) -> None:
    owners = report(built)["owners"]
    assert list(owners) == ["alice", "bob", "carol"]
    assert owners["alice"]["won_value"] == 1500 and owners["alice"]["win_rate"] == 1.0
    assert owners["alice"]["open_count"] == 1 and owners["alice"]["open_value"] == 3000
    assert owners["bob"]["win_rate"] == 0.0 and owners["bob"]["lost_count"] == 2
    assert owners["bob"]["lost_reasons"] == {"no-budget": 1, "price": 1}
    assert owners["carol"]["weighted_value"] == 3500 and owners["carol"]["win_rate"] is None
    only = report(built, "--owner", "bob")
    assert only["owner"] == "bob" and only["lost_count"] == 2 and list(only["owners"]) == ["bob"]


def test_window_narrows_closing_and_stays(built: Path) -> None:
    since, until = "2026-01-27", "2026-02-28"
    fig = report(built, "--since", since, "--until", until)
    assert (fig["won_count"], fig["lost_count"], fig["win_rate"]) == (1, 1, 0.5)
    for stage, days in expected_stays(since, until).items():
        assert fig["time_in_stage"][stage]["count"] == len(days), stage
        assert fig["time_in_stage"][stage]["avg_days"] == (statistics.mean(days) if days else None)
    # every deal was created before the window: no cohort to convert
    assert all(c["reached"] == 0 and c["rate"] is None for c in fig["conversion"])
    # the snapshot does not move with the window
    assert fig["open_count"] == 2 and fig["stages"]["closing"]["count"] == 1


def test_stable_keys(built: Path) -> None:
    fig = report(built)
    for key in (
        "stages",
        "won_count",
        "lost_count",
        "won_value",
        "win_rate",
        "avg_cycle_days",
        "median_cycle_days",
        "owners",
        "forecast",
        "time_in_stage",
        "conversion",
        "lost_reasons",
        "velocity",
        "partial",
        "funnel",
        "aging",
        "trend",
    ):
        assert key in fig, key
    for stage in fig["stages"].values():
        assert {"count", "value", "weighted_value"} <= set(stage)
    assert 0 <= fig["win_rate"] <= 1


def test_text_report(built: Path) -> None:
    r = Cli(built)("report", "--today", TODAY)
    assert r.exit_code == 0, r.output
    out = r.stdout
    for text in (
        "Open: 2 deals, 10,000 USD, weighted 3,800 USD",
        "win rate 33%",
        "average 41.0 days",
        "prospecting → qualifying  3/5",
        "Lost reasons",
        "By owner",
        "Forecast by expected close",
        "2026-04",
    ):
        assert text in out, text
    assert "partial" not in out


def test_report_and_history_give_the_cyclic_collector_back(built: Path) -> None:
    # off while they run (cli/reports._acyclic), on again after, an error too
    import gc

    assert gc.isenabled()
    for args in (["report", "--today", TODAY], ["history"], ["history", "no-such-deal"]):
        Cli(built)(*args)
        assert gc.isenabled(), args


def test_shallow_clone_report_says_partial(built: Path, tmp_path: Path) -> None:
    clone = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "3", f"file://{built}", str(clone))
    fig = report(clone)
    assert fig["partial"] is True
    assert fig["won_value"] == 1500  # file-based figures stay whole
    # acme's last stay (closing, 02-01 -> 02-15) is still known; older ones are not
    assert fig["time_in_stage"]["closing"]["count"] == 1
    assert fig["time_in_stage"]["prospecting"]["count"] == 0
    out = Cli(clone)("report", "--today", TODAY).stdout
    assert "Days in stage (partial)" in out and "shallow clone" in out


def test_report_outside_git_and_with_a_broken_file(tmp_path: Path, write_deal) -> None:
    root = tmp_path / "plain"
    root.mkdir()
    (root / "pipeline.yaml").write_text("currency: EUR\n")
    write_deal(
        root,
        "won",
        "w1",
        "---\ntitle: W\nvalue: 100\ncreated: 2026-01-01\nclosed: 2026-01-11\n---\n",
    )
    write_deal(root, "closing", "c1", "---\ntitle: C\nvalue: 50\nstage_entered: 2026-02-01\n---\n")
    write_deal(root, "closing", "bad", "---\ntitle: [\n---\n")
    r = Cli(root)("report", "--json", "--today", TODAY)
    assert r.exit_code == 0, r.output
    assert "skipped" in r.stderr and "bad.md" in r.stderr
    fig = json.loads(r.stdout)
    assert fig["history"] is False and fig["currency"] == "EUR"
    assert (fig["won_count"], fig["avg_cycle_days"]) == (1, 10.0)
    assert fig["time_in_stage"]["closing"]["open_avg_days"] == 28
    assert fig["stages"]["closing"]["weighted_value"] == 35
    text = Cli(root)("report", "--today", TODAY).stdout
    assert "no git history here" in text


def test_a_value_lint_refuses_is_in_no_sum(pipeline: Path, write_deal) -> None:
    """A negative value (PL103), like `value: lots` or `.nan`, is no amount: counted as a
    deal without a value, never summed into the pipeline (a -5 had lowered every total)."""
    for name, value in (("good", "1000"), ("neg", "-5"), ("word", "lots"), ("nan", ".nan")):
        write_deal(pipeline, "prospecting", name, f"---\ntitle: {name}\nvalue: {value}\n---\n")
    fig = json.loads(Cli(pipeline)("report", "--json", "--today", TODAY).stdout)
    stage = fig["stages"]["prospecting"]
    assert (stage["count"], stage["value"], stage["no_value_count"]) == (4, 1000, 3)
    assert "Open: 4 deals, 1,000 USD" in Cli(pipeline)("report", "--today", TODAY).stdout
    found = Cli(pipeline)("lint", "--format", "json", "--today", TODAY).stdout
    assert "neg.md" in found and "must be 0 or more" in found
    for name in ("neg", "word", "nan"):
        (pipeline / "prospecting" / f"{name}.md").unlink()
    assert "Open: 1 deal, 1,000 USD" in Cli(pipeline)("report", "--today", TODAY).stdout


def test_bad_dates_are_usage_errors(built: Path) -> None:
    r = Cli(built)("report", "--since", "last week")
    assert r.exit_code == 2 and "--since" in r.stderr
    assert "Traceback" not in r.output


def test_timeline_helper_pins_dates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The fixtures' premise: pinned dates reach the commits git makes."""
    t = build_scenario(tmp_path / "r", monkeypatch)
    assert isinstance(t, Timeline)
    dates = git(t.root, "log", "--format=%aI").split()
    assert dates[0].startswith("2026-02-15") and dates[-1].startswith("2026-01-02")


def test_html_to_a_folder_that_does_not_exist_is_a_usage_error(built: Path, tmp_path: Path) -> None:
    r = Cli(built)("report", "--html", str(tmp_path / "no" / "such" / "d.html"))
    assert r.exit_code == 2 and "cannot write" in r.stderr
    assert "Traceback" not in r.output


def test_dashboard_still_made_when_lint_settings_are_bad(tmp_path: Path, write_deal) -> None:
    root = tmp_path / "plain"
    root.mkdir()
    (root / "pipeline.yaml").write_text("rules:\n  stale: {days: soon}\n")
    write_deal(root, "prospecting", "a1", "---\ntitle: A\nvalue: 10\n---\n")
    out = tmp_path / "d.html"
    r = Cli(root)("report", "--html", str(out), "--today", TODAY)
    assert r.exit_code == 0, r.output
    assert "lint could not run" in r.stderr
    assert "lint could not run" in out.read_text()


def in_process(root: Path) -> Report:
    pipeline = Pipeline.open(root)
    hist = history.read(pipeline.git, pipeline.root)
    return compute_report(pipeline.load().deals, pipeline.config, hist, D(TODAY))


def values_in(value: object) -> Iterator[object]:
    """The value and every value inside it, through dataclass fields and tuples."""
    yield value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            yield from values_in(getattr(value, f.name))
    elif isinstance(value, tuple):
        for item in value:
            yield from values_in(item)


def test_report_is_frozen_values_all_the_way_down(built: Path) -> None:
    seen = list(values_in(in_process(built)))
    kinds = {type(v).__name__ for v in seen if dataclasses.is_dataclass(v)}
    assert kinds == {  # the walk reached every kind of figure
        "Report",
        "StageFigures",
        "Outcomes",
        "Velocity",
        "ForecastMonth",
        "FunnelStage",
        "ConversionStep",
        "StageTime",
        "LostReason",
        "Aging",
        "StageAging",
        "AgedDeal",
        "TrendMonth",
        "OwnerFigures",
        "CategoryRow",  # and Attainment, with quotas set (tests/test_quotas.py)
        "Retention",
        "Recurring",  # and RecurringMonth, with recurring revenue won (tests/test_lineitems.py)
    }
    for value in seen:
        assert not isinstance(value, dict | list | set), value
        if dataclasses.is_dataclass(value):
            for f in dataclasses.fields(value):
                with pytest.raises(dataclasses.FrozenInstanceError):
                    setattr(value, f.name, None)


def test_json_keys_are_the_documented_stable_set(built: Path) -> None:
    rep = in_process(built)
    data = report_json(rep)
    assert tuple(data) == JSON_KEYS
    for part, (pick, keys) in PART_KEYS.items():
        assert tuple(pick(data)) == keys, part
    assert set(data["aging"]["stages"]) == {"prospecting", "qualifying", "connecting", "closing"}
    # the command prints exactly this function's data
    assert report(built) == data
    assert Cli(built)("report", "--json", "--today", TODAY).stdout == dumps(data) + "\n"
    doc = (REPO_ROOT / "docs" / "reports.md").read_text(encoding="utf-8")
    named = {
        word
        for span in re.findall(r"(?<!`)`([^`\n]+)`(?!`)", doc)
        for word in re.findall(r"\w+", span)
    }
    every = {*JSON_KEYS, *(k for _, keys in PART_KEYS.values() for k in keys)}
    assert every - named == set(), "keys docs/reports.md does not name"
