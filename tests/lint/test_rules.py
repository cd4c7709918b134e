"""One test group per lint rule: fires on the bad case, silent on the good one, honours its
per-stage threshold and (for deal rules) its `lint-ignore` suppression."""

from __future__ import annotations

import re
import sys

import pytest
from lintlab import DROP, Lab, day, deal_text, touch

from pipectl import lint
from pipectl.config import default_config


@pytest.fixture
def lab(tmp_path):
    return Lab(tmp_path / "pipe")


def only(lab: Lab, code: str) -> list[str]:
    return [f.deal_id or f.path for f in lab.findings(code) if f.code == code]


# --- PL1xx structure ------------------------------------------------------------------------


def test_pl101_no_frontmatter_bad_yaml_and_duplicate_keys_with_lines(lab):
    lab.add("prospecting", "plain", "just notes\n")
    lab.add("prospecting", "broken", "---\ntitle: x\nnext_step: Call re: price\n---\n")
    lab.add("prospecting", "dup", "---\ntitle: a\nowner: bob\ntitle: b\n---\n")
    lab.add("prospecting", "latin1", b"---\ntitle: caf\xe9\n---\n")
    lab.add("prospecting", "good")
    found = {f.deal_id: f for f in lab.findings("PL101")}
    assert set(found) == {"plain", "broken", "dup", "latin1"}
    assert found["plain"].line == 1
    assert found["broken"].line == 3
    assert found["dup"].line == 4 and "duplicate key 'title'" in found["dup"].message
    assert found["latin1"].line == 2 and "UTF-8" in found["latin1"].message
    assert found["broken"].path == "prospecting/broken.md"


def test_pl101_a_broken_file_is_skipped_by_other_rules(lab):
    lab.add("closing", "broken", "---\nvalue: [\n---\n")
    on_file = [f.code for f in lab.findings() if f.path == "closing/broken.md"]
    assert on_file == ["PL101"]


def test_pl102_required_fields_and_per_stage(lab):
    lab.add("prospecting", "nocreated", created=DROP)
    lab.add("won", "noclosed")
    lab.add("won", "closedok", closed=day(-1))
    lab.add("prospecting", "good")
    assert only(lab, "PL102") == ["nocreated", "noclosed"]
    lab.config("required_fields_by_stage: {prospecting: [expected_close]}\n")
    lab.add("prospecting", "good", expected_close=DROP)
    assert only(lab, "PL102") == ["good", "nocreated"]


def test_pl102_suppressed(lab):
    lab.add("prospecting", "x", created=DROP, lint_ignore={"missing-field": "imported, no date"})
    assert only(lab, "PL102") == []


def test_pl103_bad_values_point_at_their_line(lab):
    lab.add("prospecting", "date", created="next week")
    lab.add("prospecting", "money", value="lots")
    lab.add("prospecting", "neg", value=-5)
    lab.add("prospecting", "prob", probability=1.5)
    lab.add("prospecting", "tp", touchpoints=[touch(-2), {"date": "soon", "kind": "call"}])
    lab.add("prospecting", "kind", touchpoints=[touch(-2, kind="smoke-signal")])
    lab.add("prospecting", "noreason", lint_ignore=["PL301"])
    lab.add("prospecting", "impossible", "---\ntitle: x\ncreated: 2026-13-01\n---\n")
    lab.add("prospecting", "good")
    found = {f.deal_id: f for f in lab.findings("PL103")}
    assert set(found) == {"date", "money", "neg", "prob", "tp", "kind", "noreason", "impossible"}
    assert found["impossible"].line == 3
    text = (lab.root / "prospecting/tp.md").read_text()
    tp_line = next(i for i, ln in enumerate(text.splitlines(), 1) if "soon" in ln)
    assert found["tp"].line == tp_line
    assert "needs a reason" in found["noreason"].message


def test_pl103_lost_reason_from_config_and_suppression(lab):
    lab.add("lost", "why", closed=day(-1), lost_reason="bad vibes")
    lab.add("lost", "ok", closed=day(-1), lost_reason="price")
    lab.add("prospecting", "s", value="lots", lint_ignore={"PL103": "value under discussion"})
    assert only(lab, "PL103") == ["why"]


def test_pl104_duplicate_id_on_every_copy_and_suppressed_per_copy(lab):
    lab.add("qualifying", "acme")
    lab.add("closing", "acme")
    lab.add("closing", "other")
    assert sorted(only(lab, "PL104")) == ["acme", "acme"]
    lab.add("qualifying", "acme", lint_ignore={"duplicate-id": "migrating"})
    assert [f.path for f in lab.findings("PL104")] == ["closing/acme.md"]


def test_pl105_stray_files(lab):
    lab.add("prospecting", "good")
    (lab.root / "root-deal.md").write_text(deal_text())
    lab.add("negotiation", "typo")
    lab.add("closing/old", "nested")
    (lab.root / "README.md").write_text("# Our pipeline\n")
    (lab.root / "notes").mkdir()
    (lab.root / "notes" / "meeting.md").write_text("no frontmatter\n")
    (lab.root / ".hidden").mkdir()
    (lab.root / ".hidden" / "x.md").write_text(deal_text())
    sub = Lab(lab.root / "other-pipeline")
    sub.add("prospecting", "theirs")
    paths = [f.path for f in lab.findings("PL105")]
    assert paths == ["closing/old/nested.md", "negotiation/typo.md", "root-deal.md"]
    lab.config("rules: {stray-file: {severity: off}}\n")
    assert lab.findings("PL105") == []


def test_pl106_a_snoozed_deals_time_rule_entries_are_not_unused(lab):
    ignore = {"stale": "buyer on leave", "no-value": "pilot"}
    lab.add("qualifying", "asleep", snoozed_until=day(5), lint_ignore=ignore)
    (f,) = lab.findings("PL106", "PL301", "PL201")
    assert "PL201" in f.message  # the value is there: that entry is unused, snooze or not
    woken = lab.findings("PL106", "PL301", "PL201", today=day(5))
    assert sorted(f.message.split()[1] for f in woken) == ["PL201", "PL301"]


def test_pl106_unused_suppression_only_when_the_rule_ran(lab):
    lab.add("prospecting", "fresh", lint_ignore={"stale": "paused"})
    lab.add(
        "prospecting",
        "old",
        touchpoints=[touch(-20)],
        created=day(-20),
        lint_ignore={"stale": "paused"},
    )
    assert only(lab, "PL106") == []  # PL301 did not run
    found = [f for f in lab.findings("PL106", "PL301") if f.code == "PL106"]
    assert [f.deal_id for f in found] == ["fresh"]
    assert "PL301" in found[0].message
    assert (
        found[0].line
        == deal_text(lint_ignore={"stale": "x"}).splitlines().index("lint-ignore:") + 1
    )


# --- PL2xx completeness ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "key"), [("PL201", "value"), ("PL202", "owner"), ("PL203", "next_step")]
)
def test_pl201_pl202_pl203_open_deals_need_value_owner_next_step(lab, code, key):
    lab.add("qualifying", "missing", **{key: DROP})
    lab.add("qualifying", "empty", **{key: ""})
    lab.add("won", "closed", closed=day(-1), **{key: DROP})
    lab.add("qualifying", "good")
    lab.add("qualifying", "waived", lint_ignore={code: "known"}, **{key: DROP})
    assert sorted(only(lab, code)) == ["empty", "missing"]
    lab.config(f"rules: {{{code}: {{stages: {{qualifying: {{severity: off}}}}}}}}\n")
    assert only(lab, code) == []


ROSTER = """team:
  - {handle: alice, name: Alice Smith, emails: [alice@acme.example], aliases: [asmith]}
  - {handle: bob, active: false}
  - {handle: sam, name: Sam Lee}
  - {handle: samuel, name: Sam Lee}
"""


def test_pl204_an_open_deals_owner_must_be_an_active_member(lab):
    for deal_id, owner in (
        ("handle", "alice"),
        ("by-name", "Alice Smith"),
        ("by-email", "ALICE@acme.example"),
        ("by-alias", " asmith "),
        ("stranger", "zed"),
        ("typo", "alcie"),
        ("left", "bob"),
        ("shared-name", "Sam Lee"),
    ):
        lab.add("qualifying", deal_id, owner=owner)
    lab.add("qualifying", "nobody", owner=DROP)  # PL202's
    lab.add("won", "closed", closed=day(-1), owner="zed")
    lab.add("qualifying", "waived", owner="zed", lint_ignore={"unknown-owner": "a partner"})
    assert only(lab, "PL204") == []  # no roster, no rule
    lab.config(ROSTER)
    found = {f.deal_id: f for f in lab.findings("PL204")}
    assert sorted(found) == ["left", "shared-name", "stranger", "typo"]
    assert found["left"].message == "owner 'bob' is inactive in pipeline.yaml's team"
    assert found["stranger"].message == "owner 'zed' is not in pipeline.yaml's team"
    assert found["typo"].message == "owner 'alcie' is not in pipeline.yaml's team (close: alice)"
    assert "several members" in found["shared-name"].message
    assert found["left"].severity == "warning"
    assert found["left"].line == deal_text(owner="bob").splitlines().index("owner: bob") + 1
    lab.config(ROSTER + "rules: {unknown-owner: {severity: off}}\n")
    assert only(lab, "PL204") == []


# --- PL3xx time -----------------------------------------------------------------------------


def test_pl301_stale_with_closing_default_and_stage_override(lab):
    lab.add("qualifying", "rotting", touchpoints=[touch(-15)])
    lab.add("qualifying", "fresh", touchpoints=[touch(-14)])
    lab.add("closing", "quiet", touchpoints=[touch(-8)])
    lab.add("qualifying", "never", touchpoints=DROP, stage_entered=day(-15))
    lab.add("qualifying", "waived", touchpoints=[touch(-30)], lint_ignore={"stale": "on leave"})
    assert sorted(only(lab, "PL301")) == ["never", "quiet", "rotting"]
    lab.config("rules:\n  stale:\n    days: 20\n    stages: {closing: {days: 10}}\n")
    assert only(lab, "PL301") == []


def test_pl302_stuck_in_stage(lab):
    lab.add("qualifying", "stuck", stage_entered=day(-31))
    lab.add("qualifying", "moving", stage_entered=day(-30))
    lab.add("closing", "proposal", stage_entered=day(-15))
    lab.add("prospecting", "first", stage_entered=DROP, created=day(-40))
    lab.add("closing", "waived", stage_entered=day(-40), lint_ignore={"PL302": "legal"})
    assert sorted(only(lab, "PL302")) == ["first", "proposal", "stuck"]
    lab.config("rules: {stuck-in-stage: {stages: {closing: {days: 0}}, days: 45}}\n")
    assert only(lab, "PL302") == []


def test_pl302_cannot_tell_outside_git_is_info(lab):
    lab.add("closing", "unknown", stage_entered=DROP)
    (f,) = lab.findings("PL302")
    assert f.severity == "info"
    assert "cannot tell" in f.message and "not a git repository" in f.message


def test_pl303_every_open_task_counts_each_at_its_line(lab):
    tasks = [
        {"due": day(-4), "summary": "Call legal", "done": day(-4)},  # done: never late
        {"due": day(-2), "summary": "Send the quote"},
        {"due": day(5), "summary": "Book the demo"},
    ]
    path = lab.add("qualifying", "many", next_step_due=day(-1), tasks=tasks)
    found = lab.findings("PL303")
    assert [f.deal_id for f in found] == ["many", "many"]
    lines = path.read_text().splitlines()
    assert lines[found[0].line - 1].startswith("next_step_due:")
    assert lines[found[1].line - 1] == "- due: 2026-11-25"  # the entry's first line
    assert "Send the quote" in lines[found[1].line]
    assert found[1].message == "'Send the quote' was due 2026-11-25 (2 days ago)"


def test_pl203_an_open_task_is_a_next_step(lab):
    lab.add(
        "qualifying",
        "tasks",
        next_step=DROP,
        next_step_due=DROP,
        tasks=[{"due": day(3), "summary": "Call"}],
    )
    lab.add(
        "qualifying",
        "alldone",
        next_step=DROP,
        next_step_due=DROP,
        tasks=[{"due": day(-3), "summary": "Call", "done": day(-3)}],
    )
    assert only(lab, "PL203") == ["alldone"]


def test_pl307_snoozed_deals_silence_the_time_rules_until_the_day(lab):
    old = {
        "created": day(-200),
        "stage_entered": day(-200),
        "next_step_due": day(-30),
        "expected_close": day(-10),
        "touchpoints": [touch(-150)],
    }
    lab.add("qualifying", "asleep", snoozed_until=day(10), snooze_reason="Budget frozen", **old)
    lab.add("qualifying", "awake", **old)
    time_rules = ("PL301", "PL302", "PL303", "PL304", "PL305", "PL501")
    by_deal = {f.deal_id for f in lab.findings(*time_rules)}
    assert by_deal == {"awake"}
    (f,) = lab.findings("PL307")
    assert f.deal_id == "asleep" and f.severity == "info"
    assert f.message == "snoozed until 2026-12-07 (Budget frozen)"
    # on the day it ends, the deal is awake again: every time rule sees it
    on_the_day = {f.deal_id for f in lab.findings(*time_rules, today=day(10))}
    assert on_the_day == {"awake", "asleep"}
    assert lab.findings("PL307", today=day(10)) == []


def test_pl308_a_snooze_longer_than_the_maximum(lab):
    lab.add("qualifying", "long", snoozed_until=day(91))
    lab.add("qualifying", "ok", snoozed_until=day(90))
    (f,) = lab.findings("PL308")
    assert f.deal_id == "long" and "longer than snooze.max_days 90" in f.message
    lab.config("snooze: {max_days: 120}\n")
    assert lab.findings("PL308") == []
    lab.config("snooze: {max_days: 0}\n")
    lab.add("qualifying", "forever", snoozed_until=day(3000))
    assert lab.findings("PL308") == []


def test_pl303_overdue_next_step_with_grace(lab):
    lab.add("qualifying", "late", next_step_due=day(-1))
    lab.add("qualifying", "today", next_step_due=day(0))
    lab.add("qualifying", "waived", next_step_due=day(-9), lint_ignore={"PL303": "ok"})
    lab.add("won", "closed", next_step_due=day(-9), closed=day(-1))
    assert only(lab, "PL303") == ["late"]
    lab.config("rules: {overdue-next-step: {stages: {qualifying: {grace_days: 1}}}}\n")
    assert only(lab, "PL303") == []


def test_pl304_missed_close_date(lab):
    lab.add("closing", "late", expected_close=day(-2))
    lab.add("closing", "ontime", expected_close=day(0))
    lab.add("closing", "waived", expected_close=day(-2), lint_ignore={"PL304": "ok"})
    assert only(lab, "PL304") == ["late"]
    lab.config("rules: {missed-close-date: {stages: {closing: {grace_days: 5}}}}\n")
    assert only(lab, "PL304") == []


def test_pl305_past_sales_cycle(lab):
    lab.add("qualifying", "old", created=day(-91))
    lab.add("qualifying", "young", created=day(-90))
    lab.add("qualifying", "waived", created=day(-200), lint_ignore={"PL305": "strategic"})
    lab.add("lost", "closed", created=day(-200), closed=day(-1), lost_reason="price")
    assert only(lab, "PL305") == ["old"]
    lab.config("rules: {past-sales-cycle: {stages: {qualifying: {days: 120}}}}\n")
    assert only(lab, "PL305") == []


def test_pl306_slow_first_contact(lab):
    lab.add("prospecting", "waiting", created=day(-3), touchpoints=DROP)
    lab.add("prospecting", "noted", created=day(-3), touchpoints=[touch(-2, "note", None)])
    lab.add("prospecting", "new", created=day(-2), touchpoints=DROP)
    lab.add("prospecting", "called", created=day(-3), touchpoints=[touch(-3)])
    lab.add(
        "prospecting",
        "waived",
        created=day(-9),
        touchpoints=DROP,
        lint_ignore={"slow-first-contact": "agency lead"},
    )
    assert sorted(only(lab, "PL306")) == ["noted", "waiting"]
    lab.config("rules: {slow-first-contact: {stages: {prospecting: {days: 5}}}}\n")
    assert only(lab, "PL306") == []


# --- PL4xx, PL5xx qualification and outreach ------------------------------------------------


def test_pl401_unqualified_past_the_gate(lab):
    lab.add("connecting", "nobudget", qualification={"need": "x", "fit": "y", "timeline": "z"})
    lab.add(
        "closing",
        "said-no",
        qualification={"budget": "no", "need": "x", "fit": True, "timeline": "tbd"},
    )
    lab.add("qualifying", "early", qualification=DROP)
    lab.add("closing", "good")
    lab.add("closing", "waived", qualification=DROP, lint_ignore={"unqualified": "renewal"})
    found = {f.deal_id: f.message for f in lab.findings("PL401")}
    assert set(found) == {"nobudget", "said-no"}
    assert found["said-no"].endswith("no budget, timeline")
    lab.config("rules: {unqualified: {stages: {closing: {severity: off}}}}\n")
    assert only(lab, "PL401") == ["nobudget"]


def test_pl402_effort_on_unqualified(lab):
    six = [touch(-i) for i in range(6, 0, -1)]
    lab.add("qualifying", "busy", qualification={"need": "x"}, touchpoints=six)
    lab.add("qualifying", "five", qualification={"need": "x"}, touchpoints=six[:5])
    lab.add("qualifying", "qualified", touchpoints=six * 2)
    lab.add(
        "qualifying",
        "waived",
        qualification={},
        touchpoints=six,
        lint_ignore={"PL402": "partner-led"},
    )
    assert only(lab, "PL402") == ["busy"]
    lab.config("rules: {effort-on-unqualified: {stages: {qualifying: {max_touchpoints: 6}}}}\n")
    assert only(lab, "PL402") == []


def test_pl501_unanswered_outreach(lab):
    silent = [touch(-i, "email", "no-reply") for i in range(6, 0, -1)]
    lab.add("prospecting", "ghost", touchpoints=[touch(-9), *silent])
    lab.add("prospecting", "five", touchpoints=[touch(-9), *silent[:5]])
    lab.add("prospecting", "answered", touchpoints=[*silent[:3], touch(-3), *silent[3:]])
    lab.add(
        "prospecting", "met", touchpoints=[*silent[:3], touch(-3, "meeting", None), *silent[3:]]
    )
    lab.add("prospecting", "notes", touchpoints=[*silent[:3], touch(-3, "note", None), *silent[3:]])
    lab.add("prospecting", "waived", touchpoints=silent, lint_ignore={"PL501": "event lead"})
    found = {f.deal_id: f for f in lab.findings("PL501")}
    assert set(found) == {"ghost", "notes"}
    text = (lab.root / "prospecting/ghost.md").read_text().splitlines()
    assert "date: 2026-11-26" in text[found["ghost"].line - 1]  # the last attempt's line
    lab.config("rules: {unanswered-outreach: {stages: {prospecting: {attempts: 7}}}}\n")
    assert only(lab, "PL501") == []


# --- PL6xx shape ----------------------------------------------------------------------------


def test_pl601_stage_over_capacity(lab):
    for i in range(11):
        lab.add("closing", f"c{i}")
    (f,) = lab.findings("PL601")
    assert f.path == "pipeline.yaml" and "11 open deals in closing (limit 10)" in f.message
    (lab.root / "closing" / "c0.md").unlink()
    assert lab.findings("PL601") == []
    lab.config("rules:\n  stage-over-capacity:\n    stages: {closing: {max_open: 5}}\n")
    (f,) = lab.findings("PL601")
    assert f.line == 2


def test_pl602_bottleneck(lab):
    for i in range(6):
        lab.add("qualifying", f"q{i}")
    for i in range(4):
        lab.add("prospecting", f"p{i}")
    (f,) = lab.findings("PL602")
    assert "qualifying holds 6 of 10" in f.message
    lab.config("rules: {bottleneck: {stages: {qualifying: {max_share: 0.6}}}}\n")
    assert lab.findings("PL602") == []
    lab.config("rules: {bottleneck: {min_open: 11}}\n")
    assert lab.findings("PL602") == []


def test_pl603_thin_funnel(lab):
    for i in range(4):
        lab.add("prospecting", f"p{i}")
    lab.add("qualifying", "q")
    (f,) = lab.findings("PL603")
    assert "only 4 open deals in prospecting" in f.message
    lab.add("prospecting", "p4")
    assert lab.findings("PL603") == []
    lab.config("rules: {thin-funnel: {stage: qualifying, min_deals: 2}}\n")
    assert len(lab.findings("PL603")) == 1


def test_pl604_low_coverage(lab):
    lab.add("closing", "a", value=10000)  # 0.7 -> 7,000 weighted
    lab.add("prospecting", "b", value=10000)  # 0.1 -> 1,000
    lab.add("prospecting", "eur", value=99999, currency="EUR")  # other currency: not summed
    assert lab.findings("PL604") == []  # no quota: silent
    lab.config("quota: 3000\n")
    (f,) = lab.findings("PL604")
    assert "weighted open value 8,000 USD" in f.message and f.line == 1
    lab.config("quota: 2666\n")
    assert lab.findings("PL604") == []
    lab.config("quota: 6000\nrules: {low-coverage: {weighted: false}}\n")
    assert lab.findings("PL604") == []


def test_pl604_counts_other_currencies_at_todays_rate(lab):
    lab.add("closing", "a", value=10000)  # 0.7 -> 7,000 weighted
    lab.add("closing", "eur", value=1000, currency="EUR")  # 1,000 x 1.5 x 0.7 -> 1,050
    lab.add("closing", "jpy", value=10**6, currency="JPY")  # no rate: counted nowhere
    (lab.root / "rates.csv").write_text(f"currency,from,rate\nEUR,{day(-30)},1.5\n")
    lab.config("quota: 3000\n")
    (f,) = lab.findings("PL604")
    assert "weighted open value 8,050 USD" in f.message
    assert "1 open deal with no rate not counted" in f.message


def test_pl605_a_currency_without_a_rate_on_its_day(lab):
    (lab.root / "rates.csv").write_text(f"currency,from,rate\nEUR,{day(-30)},1.1\n")
    lab.add("prospecting", "usd")
    lab.add("prospecting", "eur", currency="EUR")
    lab.add("prospecting", "jpy", currency="JPY")
    lab.add("prospecting", "novalue", currency="JPY", value=DROP)  # nothing to convert
    lab.add("won", "early", currency="EUR", closed=day(-31))  # before EUR's first rate
    lab.add("won", "later", currency="EUR", closed=day(-30))
    found = {f.deal_id: f for f in lab.findings("PL605")}
    assert sorted(found) == ["early", "jpy"]
    assert "rates.csv has no rate for JPY" in found["jpy"].message
    assert f"EUR has no rate on {day(-31)} (its first in rates.csv holds from {day(-30)})" in (
        found["early"].message
    )
    text = (lab.root / "prospecting" / "jpy.md").read_text().splitlines()
    assert text[found["jpy"].line - 1] == "currency: JPY"


def test_pl107_rows_of_the_rate_table_that_cannot_be_used(lab):
    lab.add("prospecting", "x")
    rows = [
        "currency,from,rate",
        "# a comment line",
        "EUR,2026-01-01,1.1",
        "GBP,2026-01-01,-1.3",
        "CHF,2026-13-01,1",
        "SEK,2026-01-01,lots",
        "USD,2026-01-01,1",
        "EUR,2026-01-01,1.2",
        "NOK,2026-01-01",
        "DKK,2026-01-01,0",
    ]
    (lab.root / "rates.csv").write_text("\n".join(rows) + "\n")
    got = [(f.path, f.line, f.message) for f in lab.findings("PL107")]
    assert [line for _, line, _ in got] == [4, 5, 6, 7, 8, 9, 10]
    assert {path for path, _, _ in got} == {"rates.csv"}
    assert "rate: '-1.3' is not a positive number" in got[0][2]
    assert "from: '2026-13-01' is no date" in got[1][2]
    assert "USD is the base currency" in got[3][2]
    assert "EUR from 2026-01-01 is given twice (line 3)" in got[4][2]
    (lab.root / "rates.csv").write_text("code,day,value\n")
    ((path, line, message),) = [(f.path, f.line, f.message) for f in lab.findings("PL107")]
    assert (path, line) == ("rates.csv", 1) and "header must be currency,from,rate" in message


# --- the registry and the runner ------------------------------------------------------------


def test_every_rule_has_a_test_here():
    tested = {
        code
        for name in dir(sys.modules[__name__])
        if name.startswith("test_pl")
        for code in re.findall(r"pl\d{3}", name)
    }
    missing = [r.code for r in lint.RULES if r.code.lower() not in tested]
    assert missing == []


def test_every_rule_is_documented():
    for r in lint.RULES:
        assert r.doc and len(r.doc) > 80, r.code
        assert r.summary and r.name == r.name.lower() and " " not in r.name, r.code
        assert r.severity in lint.SEVERITIES, r.code
        for opt in r.options:
            assert opt.doc.endswith("."), (r.code, opt.key)
            assert lint.setting(default_config(), r, opt.key) == opt.default


def test_setting_precedence():
    from pipectl.config import parse_config

    cfg = default_config()
    assert lint.setting(cfg, "PL301", "days") == 14
    assert lint.setting(cfg, "stale", "days", stage="closing") == 7
    cfg = parse_config({"rules": {"stale": {"days": 21}}}, None, "")
    assert lint.setting(cfg, "PL301", "days", stage="qualifying") == 21
    assert lint.setting(cfg, "PL301", "days", stage="closing") == 21
    cfg = parse_config({"rules": {"PL301": {"stages": {"closing": {"days": 3}}}}}, None, "")
    assert lint.setting(cfg, "stale", "days", stage="closing") == 3
    assert lint.setting(cfg, "stale", "days", stage="won") == 14
    with pytest.raises(KeyError):
        lint.setting(cfg, "stale", "nope")


def test_a_crashing_rule_is_one_finding_and_the_others_still_run(lab, monkeypatch):
    import dataclasses

    from pipectl.lint import runner

    lab.add("qualifying", "nov", value=DROP)

    def boom(ctx, r):
        raise RuntimeError("kaboom")

    broken = dataclasses.replace(lint.get_rule("PL301"), check=boom)
    monkeypatch.setattr(runner, "select_rules", lambda s, i: (broken, lint.get_rule("PL201")))
    found = lab.findings()
    assert [f.code for f in found] == ["PL000", "PL201"]
    assert "PL301 stale crashed (RuntimeError: kaboom)" in found[0].message


def test_select_by_prefix_name_and_ignore():
    codes = [r.code for r in lint.select_rules(["PL3", "unqualified"], ["PL302"])]
    assert codes == [
        "PL301", "PL303", "PL304", "PL305", "PL306", "PL307", "PL308", "PL309", "PL401"
    ]  # fmt: skip
    from pipectl.errors import UsageError

    with pytest.raises(UsageError, match="no rule matches 'PL9'"):
        lint.select_rules(["PL9"])


def test_pl205_a_value_must_agree_with_the_line_items(lab):
    items = [{"product": "Seat", "quantity": 2, "unit_price": 50, "recurring": "monthly"}]
    lab.add("qualifying", "agrees", value=1200, line_items=items)  # 2 × 50 × 12 months
    lab.add("qualifying", "disagrees", value=1000, line_items=items)
    lab.add("won", "closed-too", closed=day(-1), value=5, line_items=items)
    lab.add("qualifying", "items-only", value=DROP, line_items=items)
    assert sorted(only(lab, "PL205")) == ["closed-too", "disagrees"]
    assert only(lab, "PL201") == []  # priced items are a value


def test_pl206_line_items_need_a_price_and_the_catalogues_backing(lab):
    lab.add("qualifying", "unpriced", line_items=[{"product": "Seat"}])
    lab.add("qualifying", "priced", line_items=[{"product": "Seat", "unit_price": 9}])
    assert only(lab, "PL206") == ["unpriced"]
    (lab.root / "products.csv").write_text("product,unit_price,recurring\nDesk,9,one-off\n")
    assert sorted(only(lab, "PL206")) == ["priced", "unpriced"]  # Seat is no product


def test_pl110_an_id_in_two_pipelines_of_a_workspace(tmp_path):
    from pipectl.lint.workspace import lint_all
    from pipectl.store import Pipeline

    sales, partners = Lab(tmp_path / "ws" / "sales"), Lab(tmp_path / "ws" / "partners")
    sales.add("prospecting", "acme")
    sales.add("won", "solo")
    partners.add("qualifying", "acme")
    partners.add("prospecting", "other")
    assert not [f for f in sales.findings("PL110")]  # one pipeline alone: nothing to compare
    pairs = [("partners", Pipeline(partners.root)), ("sales", Pipeline(sales.root))]
    done = lint_all(tmp_path / "ws", pairs, day(0), select=("PL110",))
    assert [(f.path, f.line, f.message) for f in done.result.findings] == [
        ("partners/qualifying/acme.md", 1, "id 'acme' is also used by sales/prospecting/acme.md"),
        ("sales/prospecting/acme.md", 1, "id 'acme' is also used by partners/qualifying/acme.md"),
    ]
    assert done.across == (("partners", 1), ("sales", 1))
    off = lint_all(tmp_path / "ws", pairs, day(0), ignore=("PL110",))
    assert not [f for f in off.result.findings if f.code == "PL110"]


# --- accounts and contacts (lint/rules_records.py; the whole story in tests/test_records.py) --


def _records_lint(cli, pipeline, code: str) -> list[tuple[str, int]]:
    import json

    r = cli("lint", "--select", code, "--today", "2026-03-01", "--format", "json")
    return sorted((f["path"], f["line"]) for f in json.loads(r.stdout))


def test_pl108_a_record_file_with_a_refused_value(cli, pipeline):
    (pipeline / "accounts").mkdir()
    (pipeline / "accounts/a.md").write_text("---\nname: A\ndomains: a.example\nowner: x\n---\n")
    (pipeline / "accounts/b.md").write_text("---\nname: B\nowner: x\n---\n")
    (pipeline / "contacts").mkdir()
    (pipeline / "contacts/c.md").write_text("---\nrole: CTO\n---\n")
    assert _records_lint(cli, pipeline, "PL108") == [("accounts/a.md", 3), ("contacts/c.md", 1)]


def test_pl109_a_link_to_no_record(cli, pipeline, write_deal):
    (pipeline / "accounts").mkdir()
    (pipeline / "accounts/a.md").write_text("---\nname: A\nowner: x\n---\n")
    write_deal(pipeline, "qualifying", "ok", "---\ntitle: ok\naccount: a\n---\n")
    write_deal(pipeline, "qualifying", "bad", "---\ntitle: bad\naccount: b\n---\n")
    assert _records_lint(cli, pipeline, "PL109") == [("qualifying/bad.md", 3)]


def test_pl207_an_account_without_an_owner(cli, pipeline):
    (pipeline / "accounts").mkdir()
    (pipeline / "accounts/a.md").write_text("---\nname: A\nowner: x\n---\n")
    (pipeline / "accounts/b.md").write_text("---\nname: B\nowner: ''\n---\n")
    assert _records_lint(cli, pipeline, "PL207") == [("accounts/b.md", 1)]


def test_pl309_a_renewal_within_the_lead_time(cli, pipeline, write_deal):
    for name, renewal in (("soon", "2026-04-15"), ("late", "2026-02-01"), ("far", "2026-12-01")):
        text = f"---\ntitle: {name}\nclosed: 2025-04-15\nrenewal_date: {renewal}\n---\n"
        write_deal(pipeline, "won", name, text)
    write_deal(pipeline, "qualifying", "open", "---\ntitle: o\nrenewal_date: 2026-03-02\n---\n")
    assert _records_lint(cli, pipeline, "PL309") == [("won/late.md", 4), ("won/soon.md", 4)]
