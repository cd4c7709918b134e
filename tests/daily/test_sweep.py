"""pipectl sweep on real repositories: dry run, last chance, close, one commit per run."""

from __future__ import annotations

import datetime as dt
import difflib
import json
from pathlib import Path

import pytest
from conftest import Cli, commit_count, git, last_commit_paths

from pipectl.config import default_config
from pipectl.daily.sweep import ANSWERED, DUE, EXPIRED, WAITING, candidates
from pipectl.deal import parse_deal

# Past the 90-day cycle on 2026-11-27; a comment and a quoted value that must survive.
OLD = """\
---
title: Old Lead   # from the trade fair
company: Old Co
owner: alice
value: 5000
created: 2026-07-01
next_step: 'Call again'
next_step_due: 2026-08-01
touchpoints:
  - {date: 2026-07-02, kind: email, summary: Intro, outcome: no-reply}
---
# Old Lead

Met at the fair.
"""

# Six unanswered attempts in a row (PL501), created recently.
SILENT = """\
---
title: Silent Inc
owner: bob
value: 8000
created: 2026-10-20
touchpoints:
  - {date: 2026-10-21, kind: email, summary: one, outcome: no-reply}
  - {date: 2026-10-23, kind: call, summary: two, outcome: voicemail}
  - {date: 2026-10-26, kind: email, summary: three}
  - {date: 2026-10-29, kind: message, summary: four}
  - {date: 2026-11-02, kind: email, summary: five}
  - {date: 2026-11-05, kind: call, summary: six, outcome: no-reply}
---
"""

# Young and answered: not a candidate.
FRESH = """\
---
title: Fresh Ltd
owner: alice
value: 3000
created: 2026-11-10
touchpoints:
  - {date: 2026-11-11, kind: call, summary: Discovery, outcome: replied}
---
"""


def commit_all(root: Path, message: str = "deals") -> None:
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)


@pytest.fixture
def swept(pipeline: Path, write_deal) -> Path:
    write_deal(pipeline, "prospecting", "old-lead", OLD)
    write_deal(pipeline, "connecting", "silent-inc", SILENT)
    write_deal(pipeline, "qualifying", "fresh-ltd", FRESH)
    commit_all(pipeline)
    return pipeline


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*.md"))
        if ".git" not in p.parts
    }


def test_dry_run_lists_candidates_and_changes_nothing(swept: Path) -> None:
    before, commits = snapshot(swept), commit_count(swept)
    result = Cli(swept)("sweep", "--today", "2026-11-27")
    assert result.exit_code == 0, result.output
    assert "old-lead" in result.output and "silent-inc" in result.output
    assert "fresh-ltd" not in result.output
    assert "open 149 days, past the 90-day cycle" in result.output
    assert "6 attempts in a row without a reply" in result.output
    assert "dry run, nothing changed: 2 candidates; --last-chance would send 2" in result.output
    assert snapshot(swept) == before
    assert commit_count(swept) == commits
    assert git(swept, "status", "--porcelain") == ""


def test_dry_run_with_an_action_flag_changes_nothing(swept: Path) -> None:
    before, commits = snapshot(swept), commit_count(swept)
    result = Cli(swept)("sweep", "--last-chance", "--dry-run", "--today", "2026-11-27")
    assert result.exit_code == 0, result.output
    assert "would send by email today, answer by 2026-12-04" in result.output
    assert snapshot(swept) == before and commit_count(swept) == commits


def test_last_chance_is_one_commit_adding_only_its_lines(swept: Path) -> None:
    before = snapshot(swept)
    commits = commit_count(swept)
    result = Cli(swept)("sweep", "--last-chance", "--today", "2026-11-27")
    assert result.exit_code == 0, result.output
    assert "sent 2 last chances in one commit" in result.output
    assert commit_count(swept) == commits + 1
    assert last_commit_paths(swept) == ["connecting/silent-inc.md", "prospecting/old-lead.md"]
    message = git(swept, "log", "-1", "--format=%B")
    assert message.splitlines()[0] == "sweep: 2 last chances sent"
    assert "Pipectl-Action: sweep" in message
    assert "Pipectl-Deal: old-lead" in message and "Pipectl-Deal: silent-inc" in message

    old_before = before["prospecting/old-lead.md"].decode().splitlines()
    old_after = (swept / "prospecting/old-lead.md").read_text().splitlines()
    diff = list(difflib.unified_diff(old_before, old_after, lineterm="", n=0))[2:]
    removed = [line[1:] for line in diff if line.startswith("-")]
    added = [line[1:] for line in diff if line.startswith("+")]
    assert removed == ["next_step: 'Call again'", "next_step_due: 2026-08-01"]
    assert added == [
        "next_step: Close as lost unless they answer the last chance",
        "next_step_due: 2026-12-04",
        "  - {date: 2026-11-27, kind: email, summary: 'Last chance: closing the file unless we "
        "hear back by 2026-12-04'}",
    ]
    numstat = git(swept, "show", "--numstat", "--format=", "HEAD", "--", "connecting/silent-inc.md")
    assert numstat.split()[:2] == ["3", "0"]  # next_step, next_step_due, one touchpoint


def test_last_chance_is_not_sent_twice(swept: Path) -> None:
    cli = Cli(swept)
    assert cli("sweep", "--last-chance", "--today", "2026-11-27").exit_code == 0
    commits = commit_count(swept)
    result = cli("sweep", "--last-chance", "--today", "2026-11-29")
    assert result.exit_code == 0, result.output
    assert commit_count(swept) == commits
    assert "sent 2026-11-27, waiting until 2026-12-04" in result.output
    assert "nothing to do today" in result.output


def test_close_moves_exactly_the_expired_unanswered_deals_to_lost(swept: Path) -> None:
    cli = Cli(swept)
    assert cli("sweep", "--last-chance", "--today", "2026-11-27").exit_code == 0
    # silent-inc answers after its last chance; old-lead stays silent
    assert (
        cli(
            "log", "silent", "call", "Called back", "--outcome", "replied", "--date", "2026-12-01"
        ).exit_code
        == 0
    )

    commits = commit_count(swept)
    early = cli("sweep", "--close", "--today", "2026-12-04")  # the deadline day itself
    assert early.exit_code == 0, early.output
    assert commit_count(swept) == commits

    result = cli("sweep", "--close", "--today", "2026-12-05")
    assert result.exit_code == 0, result.output
    assert commit_count(swept) == commits + 1
    assert (swept / "lost/old-lead.md").is_file()
    assert not (swept / "prospecting/old-lead.md").exists()
    assert (swept / "connecting/silent-inc.md").is_file()
    assert (swept / "qualifying/fresh-ltd.md").is_file()
    text = (swept / "lost/old-lead.md").read_text()
    assert "lost_reason: no-response\n" in text and "closed: 2026-12-05\n" in text
    assert git(swept, "log", "-1", "--format=%s") == "sweep: 1 closed as lost (no-response)\n"
    status = git(swept, "show", "--name-status", "--format=", "-M", "HEAD").split()
    assert status[0].startswith("R") and status[1:] == [
        "prospecting/old-lead.md",
        "lost/old-lead.md",
    ]
    assert git(swept, "status", "--porcelain") == ""
    again = cli("sweep", "--close", "--today", "2026-12-06")
    assert again.exit_code == 0 and commit_count(swept) == commits + 1


def test_one_run_can_send_and_close_in_one_commit(pipeline: Path, write_deal) -> None:
    expired = OLD.replace(
        "touchpoints:\n",
        "touchpoints:\n  - {date: 2026-11-01, kind: email, summary: 'Last chance: last try'}\n",
    ).replace("next_step_due: 2026-08-01", "next_step_due: 2026-11-08")
    write_deal(pipeline, "prospecting", "expired-co", expired)
    write_deal(pipeline, "connecting", "silent-inc", SILENT)
    commit_all(pipeline)
    commits = commit_count(pipeline)
    result = Cli(pipeline)("sweep", "--last-chance", "--close", "--today", "2026-11-27", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["sent"] == ["silent-inc"] and data["closed"] == ["expired-co"]
    assert data["committed"] is True and data["dry_run"] is False
    states = {c["id"]: (c["state"], c["action"]) for c in data["candidates"]}
    assert states == {"expired-co": ("expired", "close"), "silent-inc": ("due", "last-chance")}
    assert commit_count(pipeline) == commits + 1
    subject = git(pipeline, "log", "-1", "--format=%s").strip()
    assert subject == "sweep: 1 last chance sent, 1 closed as lost (no-response)"


def test_settings_come_from_pipeline_yaml(pipeline: Path, write_deal) -> None:
    config = pipeline / "pipeline.yaml"
    config.write_text(
        "sweep:\n  grace_days: 3\n  kind: call\nrules:\n  past-sales-cycle:\n    days: 200\n"
    )
    write_deal(pipeline, "prospecting", "old-lead", OLD)  # 149 days: within a 200-day cycle
    write_deal(pipeline, "connecting", "silent-inc", SILENT)
    commit_all(pipeline)
    result = Cli(pipeline)("sweep", "--last-chance", "--today", "2026-11-27", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["sent"] == ["silent-inc"]
    text = (pipeline / "connecting/silent-inc.md").read_text()
    assert "next_step_due: 2026-11-30\n" in text
    assert "kind: call, summary: 'Last chance: closing the file unless we hear back by" in text


def test_rule_turned_off_picks_nothing(pipeline: Path, write_deal) -> None:
    config = pipeline / "pipeline.yaml"
    config.write_text("rules:\n  PL305: {severity: 'off'}\n")
    write_deal(pipeline, "prospecting", "old-lead", OLD)
    commit_all(pipeline)
    result = Cli(pipeline)("sweep", "--today", "2026-11-27")
    assert result.exit_code == 0, result.output
    assert "No deals to sweep on 2026-11-27" in result.output


def test_lost_reason_missing_from_the_list_is_a_config_error(swept: Path) -> None:
    config = swept / "pipeline.yaml"
    config.write_text("lost_reasons: [price, other]\n")
    commits = commit_count(swept)
    result = Cli(swept)("sweep", "--close", "--today", "2026-12-30")
    assert result.exit_code == 2
    assert "sweep.lost_reason: 'no-response' is not one of lost_reasons" in result.output
    assert "Traceback" not in result.output
    assert commit_count(swept) == commits


def test_bad_sweep_setting_names_its_line(pipeline: Path) -> None:
    config = pipeline / "pipeline.yaml"
    config.write_text(config.read_text() + "\nsweep:\n  grace_days: soon\n")
    result = Cli(pipeline)("sweep")
    assert result.exit_code == 2
    assert "pipeline.yaml:" in result.output and "sweep.grace_days" in result.output


def test_owner_filter(swept: Path) -> None:
    result = Cli(swept)("sweep", "--owner", "bob", "--today", "2026-11-27", "--json")
    assert [c["id"] for c in json.loads(result.output)["candidates"]] == ["silent-inc"]


# --- the states, as pure functions --------------------------------------------------------


def _deal(text: str, stage: str = "prospecting"):
    return parse_deal(text.encode(), Path(f"{stage}/d.md"), stage)


def _with(touchpoints: list[str], due: str | None = None) -> str:
    lines = "".join(f"  - {t}\n" for t in touchpoints)
    next_due = f"next_step_due: {due}\n" if due else ""
    return f"---\ntitle: D\ncreated: 2026-01-01\n{next_due}touchpoints:\n{lines}---\n"


LC = "{date: 2026-11-01, kind: email, summary: 'LAST CHANCE: shall we close?'}"


@pytest.mark.parametrize(
    ("touchpoints", "due", "today", "state"),
    [
        ([], None, "2026-11-27", DUE),
        ([LC], None, "2026-11-08", WAITING),  # grace: 7 days from the last chance
        ([LC], None, "2026-11-09", EXPIRED),
        ([LC], "2026-11-20", "2026-11-15", WAITING),  # the next step's date wins when later
        ([LC], "2026-10-01", "2026-11-09", EXPIRED),  # an old due date does not count
        ([LC, "{date: 2026-11-03, kind: note, summary: thinking}"], None, "2026-11-27", EXPIRED),
        ([LC, "{date: 2026-11-03, kind: meeting, summary: met}"], None, "2026-11-27", ANSWERED),
        (
            [LC, "{date: 2026-11-03, kind: email, summary: re, outcome: positive}"],
            None,
            "2026-11-27",
            ANSWERED,
        ),
    ],
)
def test_last_chance_states(touchpoints: list[str], due: str | None, today: str, state: str):
    found = candidates(
        [_deal(_with(touchpoints, due))], default_config(), dt.date.fromisoformat(today)
    )
    assert [c.state for c in found] == [state]


def test_answered_then_silent_again_is_due_another_last_chance() -> None:
    answered = "{date: 2026-11-03, kind: call, summary: ok, outcome: replied}"
    silent = [f"{{date: 2026-11-{10 + i}, kind: email, summary: try {i}}}" for i in range(6)]
    deal = _deal(_with([LC, answered, *silent]).replace("2026-01-01", "2026-10-01"))
    (found,) = candidates([deal], default_config(), dt.date(2026, 11, 27))
    assert found.codes == ("PL501",) and found.state == DUE


def test_closed_stages_are_never_candidates() -> None:
    deal = _deal(_with([]), stage="lost")
    assert candidates([deal], default_config(), dt.date(2026, 11, 27)) == ()


def test_a_refused_commit_puts_every_file_back(pipeline: Path, write_deal) -> None:
    expired = OLD.replace(
        "touchpoints:\n",
        "touchpoints:\n  - {date: 2026-11-01, kind: email, summary: 'Last chance: last try'}\n",
    )
    write_deal(pipeline, "prospecting", "expired-co", expired)
    write_deal(pipeline, "connecting", "silent-inc", SILENT)
    commit_all(pipeline)
    before, commits = snapshot(pipeline), commit_count(pipeline)
    hook = pipeline / ".git/hooks/pre-commit"
    hook.write_text("#!/bin/sh\necho 'refused by policy' >&2\nexit 1\n")
    hook.chmod(0o755)
    result = Cli(pipeline)("sweep", "--last-chance", "--close", "--today", "2026-11-27")
    assert result.exit_code == 3
    assert "refused by policy" in result.output
    assert snapshot(pipeline) == before and commit_count(pipeline) == commits
    assert git(pipeline, "status", "--porcelain") == ""


def test_no_commit_changes_the_files_only(swept: Path) -> None:
    commits = commit_count(swept)
    result = Cli(swept)("sweep", "--last-chance", "--no-commit", "--today", "2026-11-27")
    assert result.exit_code == 0, result.output
    assert "(not committed)" in result.output
    assert commit_count(swept) == commits
    assert sorted(git(swept, "diff", "--name-only").split()) == [
        "connecting/silent-inc.md",
        "prospecting/old-lead.md",
    ]


def test_text_layout(swept: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    result = Cli(swept)("sweep", "--today", "2026-11-27")
    assert (
        result.output
        == """\
old-lead    prospecting  alice  open 149 days, past the 90-day cycle
  -> would send by email today, answer by 2026-12-04
     replaces next step: 'Call again' (due 2026-08-01)
silent-inc  connecting   bob    6 attempts in a row without a reply
  -> would send by email today, answer by 2026-12-04

dry run, nothing changed: 2 candidates; --last-chance would send 2
"""
    )


def test_crlf_and_bom_files_keep_their_bytes(pipeline: Path, write_deal) -> None:
    raw = ("\ufeff" + OLD.replace("\n", "\r\n")).encode()
    path = write_deal(pipeline, "prospecting", "old-lead", raw)
    commit_all(pipeline)
    cli = Cli(pipeline)
    assert cli("sweep", "--last-chance", "--today", "2026-11-27").exit_code == 0
    after = path.read_bytes()
    assert after.startswith(b"\xef\xbb\xbf---\r\ntitle: Old Lead   # from the trade fair\r\n")
    assert after.count(b"\n") == after.count(b"\r\n") == raw.count(b"\n") + 1
    assert after.endswith(b"---\r\n# Old Lead\r\n\r\nMet at the fair.\r\n")
    assert cli("sweep", "--close", "--today", "2026-12-05").exit_code == 0
    moved = (pipeline / "lost/old-lead.md").read_bytes()
    # +1 touchpoint, +3 (stage_entered, closed, lost_reason), -2 (the next step and its due
    # date: a closed deal has none)
    assert moved.count(b"\n") == moved.count(b"\r\n") == raw.count(b"\n") + 2
    assert moved.startswith(b"\xef\xbb\xbf---\r\n") and b"lost_reason: no-response\r\n" in moved


def test_a_duplicate_id_is_refused_before_anything_is_written(repo):
    from conftest import Cli, commit_count, git

    cli = Cli(repo)
    assert cli("init").exit_code == 0
    text = "---\ntitle: Old\ncreated: 2020-01-01\n---\n"
    for stage in ("prospecting", "qualifying"):
        (repo / stage / "old.md").write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "two copies")
    before = commit_count(repo)
    r = cli("sweep", "--last-chance", "--today", "2026-11-27")
    assert r.exit_code == 2
    assert "more than one stage" in r.stderr
    assert commit_count(repo) == before
    assert (repo / "prospecting" / "old.md").read_text() == text
    assert (repo / "qualifying" / "old.md").read_text() == text
