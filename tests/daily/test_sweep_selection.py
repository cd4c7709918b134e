"""What sweep may act on: only deals PL305/PL501 select, never one that replied within the
rule's window, never one whose `lint-ignore` silences the rule; and never a next step
overwritten without the plan saying so. Through the CLI on real git repositories."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from conftest import Cli, commit_count, git, last_commit_paths

from pipectl.config import default_config
from pipectl.daily.sweep import REPLIED, candidates
from pipectl.deal import parse_deal

TODAY = "2026-11-27"

# A live closing deal: past the 90-day cycle, but the buyer replied ten days ago.
LIVE = """\
---
title: Live Deal
owner: alice
value: 20000
created: 2026-06-01
next_step: Negotiate terms
next_step_due: 2026-12-01
touchpoints:
  - {date: 2026-11-10, kind: email, summary: Proposal sent}
  - {date: 2026-11-17, kind: call, summary: Went through the terms, outcome: replied}
---
"""

# Past the cycle too, its last reply long before the 90-day window: a dead lead.
GONE_QUIET = """\
---
title: Gone Quiet
owner: alice
value: 4000
created: 2026-06-01
touchpoints:
  - {date: 2026-08-01, kind: call, summary: Interested, outcome: replied}
  - {date: 2026-08-20, kind: email, summary: Follow-up, outcome: no-reply}
---
"""

SIX_ATTEMPTS = """\
  - {date: 2026-10-21, kind: email, summary: one, outcome: no-reply}
  - {date: 2026-10-23, kind: call, summary: two, outcome: voicemail}
  - {date: 2026-10-26, kind: email, summary: three}
  - {date: 2026-10-29, kind: message, summary: four}
  - {date: 2026-11-02, kind: email, summary: five}
  - {date: 2026-11-05, kind: call, summary: six, outcome: no-reply}
"""


def silent(extra: str = "", created: str = "2026-10-20", step: str = "") -> str:
    """Six unanswered attempts in a row (PL501); `extra` adds frontmatter lines."""
    head = f"---\ntitle: T\nowner: bob\nvalue: 100\ncreated: {created}\n{step}{extra}"
    return f"{head}touchpoints:\n{SIX_ATTEMPTS}---\n"


def commit_all(root: Path) -> None:
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "deals")


def sweep_json(root: Path, *args: str) -> dict:
    result = Cli(root)("sweep", "--today", TODAY, "--json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_a_deal_that_replied_within_the_window_is_left_alone(pipeline: Path, write_deal) -> None:
    live = write_deal(pipeline, "closing", "live-deal", LIVE)
    write_deal(pipeline, "prospecting", "gone-quiet", GONE_QUIET)
    commit_all(pipeline)
    commits = commit_count(pipeline)

    result = Cli(pipeline)("sweep", "--last-chance", "--today", TODAY)
    assert result.exit_code == 0, result.output
    assert live.read_text() == LIVE  # its next step "Negotiate terms" is untouched
    assert commit_count(pipeline) == commits + 1
    assert last_commit_paths(pipeline) == ["prospecting/gone-quiet.md"]  # the dead lead is swept
    lines = result.output.splitlines()
    at = lines.index(next(line for line in lines if line.startswith("live-deal ")))
    assert lines[at + 1] == "  -> left alone: replied 2026-11-17, within PL305's 90-day window"
    assert "1 candidate, 1 left alone; sent 1 last chance in one commit" in result.output

    data = sweep_json(pipeline)
    states = {c["id"]: (c["state"], c["replied"], c["action"]) for c in data["candidates"]}
    assert states["live-deal"] == ("replied", "2026-11-17", None)


def test_a_reply_before_a_hand_written_last_chance_keeps_close_away(
    pipeline: Path, write_deal
) -> None:
    text = LIVE.replace(
        "  - {date: 2026-11-10, kind: email, summary: Proposal sent}\n", ""
    ).replace(
        "outcome: replied}\n",
        "outcome: replied}\n  - {date: 2026-11-18, kind: email, summary: 'Last chance?'}\n",
    )
    path = write_deal(pipeline, "closing", "live-deal", text.replace("2026-12-01", "2026-11-20"))
    commit_all(pipeline)
    commits = commit_count(pipeline)
    result = Cli(pipeline)("sweep", "--close", "--today", TODAY)
    assert result.exit_code == 0, result.output
    assert path.is_file() and not (pipeline / "lost/live-deal.md").exists()
    assert commit_count(pipeline) == commits
    assert "left alone: replied 2026-11-17" in result.output


def test_a_reply_noted_during_the_attempts_holds_pl501(pipeline: Path, write_deal) -> None:
    note = "  - {date: 2026-10-30, kind: note, summary: Wrote back on LinkedIn, outcome: replied}\n"
    text = silent().replace("  - {date: 2026-11-02", note + "  - {date: 2026-11-02")
    path = write_deal(pipeline, "connecting", "noted", text)
    write_deal(pipeline, "connecting", "silent-inc", silent())
    commit_all(pipeline)
    result = Cli(pipeline)("sweep", "--last-chance", "--today", TODAY)
    assert result.exit_code == 0, result.output
    assert path.read_text() == text
    assert last_commit_paths(pipeline) == ["connecting/silent-inc.md"]
    assert "left alone: replied 2026-10-30, during the 6 unanswered attempts" in result.output


def test_lint_ignore_skips_the_deal_and_says_why(pipeline: Path, write_deal) -> None:
    reason = "waiting for the trade fair in January"
    # by rule name, as lint accepts it
    ignored = silent(f"lint-ignore:\n  unanswered-outreach: {reason}\n")
    path = write_deal(pipeline, "connecting", "fair-co", ignored)
    # PL305 silenced, but PL501 still selects it: swept on PL501's grounds
    other = silent("lint-ignore: {PL305: strategic account}\n", created="2026-06-01")
    write_deal(pipeline, "connecting", "strategic", other)
    commit_all(pipeline)

    dry = Cli(pipeline)("sweep", "--today", TODAY)
    assert dry.exit_code == 0, dry.output
    assert f"  -> skipped: lint-ignore PL501 — {reason}" in dry.output.splitlines()

    result = Cli(pipeline)("sweep", "--last-chance", "--today", TODAY)
    assert result.exit_code == 0, result.output
    assert path.read_text() == ignored
    assert last_commit_paths(pipeline) == ["connecting/strategic.md"]
    assert f"skipped: lint-ignore PL501 — {reason}" in result.output

    data = sweep_json(pipeline)
    by_id = {c["id"]: c for c in data["candidates"]}
    assert by_id["fair-co"]["state"] == "skipped" and by_id["fair-co"]["codes"] == []
    assert by_id["fair-co"]["ignored"] == {"PL501": reason}
    assert by_id["strategic"]["codes"] == ["PL501"]
    assert by_id["strategic"]["ignored"] == {"PL305": "strategic account"}


def test_sweep_selects_exactly_what_lint_reports(pipeline: Path, write_deal) -> None:
    from pipectl import lint
    from pipectl.store import Pipeline

    write_deal(pipeline, "closing", "live-deal", LIVE)
    write_deal(pipeline, "prospecting", "gone-quiet", GONE_QUIET)
    write_deal(pipeline, "connecting", "silent-inc", silent())
    write_deal(pipeline, "connecting", "fair-co", silent("lint-ignore: {PL501: the fair}\n"))
    # no reason: lint does not honour it, and neither does sweep
    write_deal(pipeline, "connecting", "no-reason", silent("lint-ignore: [PL501]\n"))
    write_deal(pipeline, "qualifying", "young", "---\ntitle: Y\ncreated: 2026-11-20\n---\n")
    commit_all(pipeline)

    found = lint.run(Pipeline(pipeline), dt.date.fromisoformat(TODAY), select=("PL305", "PL501"))
    flagged = {(f.deal_id, f.code) for f in found.findings if f.code in ("PL305", "PL501")}
    data = sweep_json(pipeline)
    selected = {(c["id"], code) for c in data["candidates"] for code in c["codes"]}
    assert selected == flagged
    states = {c["id"]: c["state"] for c in data["candidates"]}
    assert states == {
        "live-deal": "replied",
        "gone-quiet": "due",
        "silent-inc": "due",
        "fair-co": "skipped",
        "no-reason": "due",
    }


def test_a_replaced_next_step_is_shown_in_the_plan_and_named_in_the_commit(
    pipeline: Path, write_deal
) -> None:
    step = "next_step: Negotiate terms\nnext_step_due: 2026-12-01\n"
    path = write_deal(pipeline, "closing", "stepped", silent(step=step))
    write_deal(pipeline, "connecting", "no-step", silent())
    commit_all(pipeline)
    shown = "     replaces next step: 'Negotiate terms' (due 2026-12-01)"

    for args in ((), ("--last-chance", "--dry-run")):
        dry = Cli(pipeline)("sweep", "--today", TODAY, *args)
        assert dry.exit_code == 0, dry.output
        lines = dry.output.splitlines()
        assert lines.count(shown) == 1  # once: the deal without a next step has no such line
        assert lines[lines.index(shown) - 2].startswith("stepped ")

    data = sweep_json(pipeline, "--dry-run", "--last-chance")
    replaces = {c["id"]: c["replaces_next_step"] for c in data["candidates"]}
    assert replaces == {
        "stepped": {"next_step": "Negotiate terms", "next_step_due": "2026-12-01"},
        "no-step": None,
    }

    result = Cli(pipeline)("sweep", "--last-chance", "--today", TODAY)
    assert result.exit_code == 0, result.output
    assert shown in result.output.splitlines()
    assert "next_step: Close as lost unless they answer the last chance" in path.read_text()
    body = git(pipeline, "log", "-1", "--format=%b")
    assert "stepped: replaced next step 'Negotiate terms' (due 2026-12-01)" in body
    assert "no-step: replaced" not in body


def test_an_undated_reply_counts_as_recent() -> None:
    text = GONE_QUIET.replace("{date: 2026-08-01, kind: call", "{kind: call")
    deal = parse_deal(text.encode(), Path("prospecting/d.md"), "prospecting")
    (found,) = candidates([deal], default_config(), dt.date.fromisoformat(TODAY))
    assert found.state == REPLIED
    assert found.held == ("replied (a reply with no date), within PL305's 90-day window",)
