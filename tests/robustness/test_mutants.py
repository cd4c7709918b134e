"""Tests that kill the mutants issue 13's mutation audit found surviving the whole suite.

One test per mutant id; the docstring says what the mutant was. `scripts/mutants.py` holds
each of them (`--named`) and checks that it is killed: apply it to a copy of the tree, run
this file first. Each test goes through the CLI on real files in a real git repository.
The audit's T6 (PL302), R5, I1 and I4 were already killed by tests added since (the script
checks them all the same)."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from conftest import QUALIFIED, Cli, commit_count, git, make_repo
from test_history import Timeline

TODAY = "2026-03-01"


def ok(cli: Cli, *args: str) -> str:
    r = cli(*args)
    assert r.exit_code == 0, (args, r.output)
    return r.output


def commit_all(root: Path, message: str) -> None:
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)


def hand_deal(root: Path, stage: str, deal_id: str, extra: str = "") -> Path:
    """A deal written by hand and committed."""
    path = root / stage / f"{deal_id}.md"
    path.write_text(
        f"---\ntitle: {deal_id.title()}\ncompany: {deal_id.title()} Inc\nowner: alice\n"
        f"created: 2026-01-05\nvalue: 1000\n{extra}---\nNotes.\n",
        encoding="utf-8",
    )
    commit_all(root, f"hand: {deal_id}")
    return path


# --- the schema's criteria (Q4, Q5) -----------------------------------------------------


@pytest.mark.parametrize("budget", ["no", "No", "false", "off"])
def test_Q4_a_yaml_boolean_no_is_not_a_met_criterion(cli: Cli, pipeline: Path, budget: str) -> None:
    """Q4: `criterion_met` counted YAML's boolean false (`budget: no`) as met, so a deal
    with `no` passed the qualification gate."""
    qual = f"qualification:\n  budget: {budget}\n  need: yes\n  fit: yes\n  timeline: yes\n"
    path = hand_deal(pipeline, "qualifying", "acme", qual)
    before, commits = path.read_bytes(), commit_count(pipeline)
    r = cli("move", "acme", "connecting")
    assert r.exit_code == 2, r.output
    assert "budget" in r.output
    assert path.read_bytes() == before and commit_count(pipeline) == commits
    assert not (pipeline / "connecting" / "acme.md").exists()
    # and lint's PL401 (past the gate, not qualified) names it once the deal is moved by hand
    git(pipeline, "mv", "qualifying/acme.md", "connecting/acme.md")
    git(pipeline, "commit", "-q", "-m", "moved by hand")
    lint = cli("lint", "--format", "json")
    found = [f for f in json.loads(lint.stdout) if f["code"] == "PL401"]
    assert found and "budget" in found[0]["message"], lint.stdout


@pytest.mark.parametrize("empty", ["{}", "[]", "''"])
def test_Q5_an_empty_mapping_or_list_is_not_a_met_criterion(
    cli: Cli, pipeline: Path, empty: str
) -> None:
    """Q5: `criterion_met` counted an empty `{}` or `[]` as met (evidence with nothing in it)."""
    qual = f"qualification:\n  budget: yes\n  need: {empty}\n  fit: yes\n  timeline: yes\n"
    path = hand_deal(pipeline, "qualifying", "acme", qual)
    before = path.read_bytes()
    r = cli("move", "acme", "connecting")
    assert r.exit_code == 2, r.output
    assert "need" in r.output
    assert path.read_bytes() == before
    # the same deal with evidence moves
    path.write_text(path.read_text().replace(f"need: {empty}", "need: [pain, urgency]"))
    commit_all(pipeline, "evidence")
    ok(cli, "move", "acme", "connecting")


# --- lint settings (T6) ------------------------------------------------------------------


def _lint_codes(cli: Cli, pipeline: Path, rules: str) -> list[str]:
    cfg = pipeline / "pipeline.yaml"
    text = cfg.read_text()
    assert "\nrules: {}\n" in text
    cfg.write_text(text.replace("\nrules: {}\n", f"\nrules:\n{rules}"), encoding="utf-8")
    commit_all(pipeline, "rules")
    r = cli("lint", "--format", "json", "--today", TODAY)
    assert r.exit_code in (0, 1), r.output
    return [f["code"] for f in json.loads(r.stdout) if f["deal_id"] == "acme"]


def test_T6b_days_0_turns_stale_off(cli: Cli, pipeline: Path) -> None:
    """T6b: PL301 (stale) dropped its `limit <= 0` guard, so `stale: {days: 0}` flagged
    every deal not touched today instead of turning the rule off."""
    hand_deal(pipeline, "prospecting", "acme")
    assert "PL301" not in _lint_codes(cli, pipeline, "  stale: {days: 0}\n")
    # the control: the same deal, 55 days untouched, is stale at one day
    cfg = pipeline / "pipeline.yaml"
    cfg.write_text(cfg.read_text().replace("stale: {days: 0}", "stale: {days: 1}"), "utf-8")
    commit_all(pipeline, "rules")
    r = cli("lint", "--format", "json", "--today", TODAY)
    assert "PL301" in [f["code"] for f in json.loads(r.stdout)], r.stdout


# --- ops: log and edit (O14, O13) ----------------------------------------------------------


@pytest.mark.parametrize("summary", ["", "   ", "\t"])
def test_O14_log_refuses_an_empty_summary(cli: Cli, pipeline: Path, summary: str) -> None:
    """O14: `log` lost its check for an empty summary and logged a touchpoint saying
    nothing."""
    ok(cli, "add", "Acme", "--date", "2026-02-01")
    path, commits = pipeline / "prospecting" / "acme.md", commit_count(pipeline)
    before = path.read_bytes()
    r = cli("log", "acme", "call", summary)
    assert r.exit_code == 2, r.output
    assert "summary" in r.output
    assert path.read_bytes() == before and commit_count(pipeline) == commits


def test_O13_edit_keeps_a_change_made_while_the_editor_was_open(
    cli: Cli, pipeline: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """O13: `pipectl edit` lost its check that the file still holds what it read, and
    overwrote a change made to the deal (by hand, by another tool) while the editor was
    open."""
    ok(cli, "add", "Acme", "--date", "2026-02-01", "--value", "1000")
    path = pipeline / "prospecting" / "acme.md"
    editor = tmp_path / "editor.sh"
    # the editor changes the copy it is given, and meanwhile someone changes the deal itself
    editor.write_text(
        "#!/bin/sh\n"
        "sed -i 's/^value: 1000$/value: 2000/' \"$1\"\n"
        f"sed -i 's/^value: 1000$/value: 3000/' '{path}'\n",
        encoding="utf-8",
    )
    editor.chmod(editor.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("VISUAL", str(editor))
    commits = commit_count(pipeline)
    r = cli("edit", "acme")
    assert r.exit_code == 2, r.output
    assert "changed on disk while you edited it" in r.output
    assert "value: 3000" in path.read_text(), "the change made meanwhile was lost"
    assert commit_count(pipeline) == commits


# --- dealedit: line endings (D2) ------------------------------------------------------------


def test_D2_a_replaced_line_keeps_its_own_crlf_in_a_mixed_file(cli: Cli, pipeline: Path) -> None:
    """D2: dealedit's `_replace_pair` lost its check of the line's own ending: in a file with
    LF lines, a CRLF line replaced by `set` came back with LF (a byte the user never asked
    to change)."""
    path = pipeline / "prospecting" / "acme.md"
    lines = ["---\n", "title: Acme\n", "owner: alice\n", "created: 2026-01-05\n"]
    lines += ["qualification:\r\n", "value: 1000\n", "---\n", "Notes.\n"]
    path.write_bytes("".join(lines).encode())
    commit_all(pipeline, "hand: acme")
    ok(cli, "set", "acme", "qualification.budget=yes")
    got = path.read_bytes().decode().splitlines(keepends=True)
    assert got[4] == "qualification:\r\n", got
    assert got[5].strip() == "budget: 'yes'" and got[5].endswith("\r\n"), got
    assert got[:4] == lines[:4] and got[6:] == lines[5:], got


# --- the merge driver (M4) ----------------------------------------------------------------


def _tags_merge(tmp_path: Path, ours: str, theirs: str) -> str:
    root = make_repo(tmp_path / "team")
    cli = Cli(root)
    ok(cli, "init")
    ok(cli, "setup")
    ok(cli, "add", "Acme", "--date", "2026-02-01", *QUALIFIED)
    path = root / "prospecting" / "acme.md"
    text = path.read_text()
    assert "tags:" not in text
    path.write_text(text.replace("title: Acme\n", "title: Acme\ntags: [inbound, hot]\n"))
    commit_all(root, "tags")
    git(root, "checkout", "-q", "-b", "theirs")
    path.write_text(path.read_text().replace("tags: [inbound, hot]", f"tags: {theirs}"))
    commit_all(root, "theirs")
    git(root, "checkout", "-q", "main")
    path.write_text(path.read_text().replace("tags: [inbound, hot]", f"tags: {ours}"))
    commit_all(root, "ours")
    git(root, "merge", "-q", "--no-edit", "theirs")
    return next(line for line in path.read_text().splitlines() if line.startswith("tags:"))


def test_M4_a_tag_one_side_removed_stays_removed_in_a_merge(tmp_path: Path) -> None:
    """M4: the merge driver's tag set counted a tag as removed only when BOTH sides removed
    it (`and` for `or`): a tag removed on one side came back with the merge."""
    # ours removes `hot`, theirs adds `q3`: the merge keeps inbound, adds q3, hot stays gone
    assert _tags_merge(tmp_path, "[inbound]", "[inbound, hot, q3]") == "tags: [inbound, q3]"


def test_M4b_a_tag_ours_removed_does_not_come_back_from_theirs(tmp_path: Path) -> None:
    """M4b: the merge driver took theirs' tags without leaving out the removed ones, so a
    tag ours removed came back from theirs' unchanged copy of it."""
    assert _tags_merge(tmp_path, "[hot, vip]", "[inbound, hot, q3]") == "tags: [hot, vip, q3]"


# --- the report's and history's windows (R1, R5) -------------------------------------------


@pytest.fixture
def timeline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Timeline:
    root = make_repo(tmp_path / "repo")
    t = Timeline(root, monkeypatch)
    t.on("2026-01-05").run("init")
    return t


def test_R1_report_until_includes_its_last_day(timeline: Timeline) -> None:
    """R1: the report's window tested `day < until`: a deal won on the --until day was left
    out of the window it names as inclusive."""
    t = timeline
    t.on("2026-01-05").add("Acme", "--value", "1000", "--date", "2026-01-05")
    t.on("2026-02-10").run("won", "acme", "--date", "2026-02-10")

    def won(*window: str) -> int:
        out = json.loads(t.run("report", "--json", "--today", TODAY, *window))
        return int(out["won_count"])

    assert won("--since", "2026-02-10", "--until", "2026-02-10") == 1
    assert won("--until", "2026-02-10") == 1
    assert won("--until", "2026-02-09") == 0
    assert won("--since", "2026-02-11") == 0


@pytest.mark.parametrize("cache", ["index", "no-cache"])
def test_R5_history_until_includes_its_last_day(
    timeline: Timeline, monkeypatch: pytest.MonkeyPatch, cache: str
) -> None:
    """R5: history's window tested `day < until`: the events of the --until day itself were
    left out. R5b is the same boundary where events come without the index."""
    t = timeline
    t.on("2026-01-05").add("Acme", "--date", "2026-01-05")
    t.on("2026-01-10").run("move", "acme", "qualifying", "--date", "2026-01-10")
    t.on("2026-01-12").run("log", "acme", "call", "Hi", "--date", "2026-01-12")
    if cache == "no-cache":
        monkeypatch.setenv("PIPECTL_NO_CACHE", "1")

    def days(*window: str) -> list[str]:
        data = json.loads(t.run("history", "--json", *window))
        return [e["date"][:10] for e in data["events"] if e["deal"] == "acme"]

    assert days("--until", "2026-01-10") == ["2026-01-05", "2026-01-10"]
    assert days("--since", "2026-01-10", "--until", "2026-01-10") == ["2026-01-10"]
    assert days("acme", "--until", "2026-01-12")[-1] == "2026-01-12"


# --- the report's stays (H1, H2) ----------------------------------------------------------


def _stays(timeline: Timeline) -> dict:
    t = timeline
    # added on 01-20 with `created: 2026-01-05` (as an import or a late entry writes it)
    t.on("2026-01-20").add("Acme", "--value", "1000", "--date", "2026-01-05")
    # moved on 02-01, recorded only on 02-10 (`move --date`, committed later)
    t.on("2026-02-10").run("move", "acme", "qualifying", "--date", "2026-02-01")
    return dict(json.loads(t.run("report", "--json", "--today", TODAY))["time_in_stage"])


def test_H1_report_first_stay_starts_at_created(timeline: Timeline) -> None:
    """H1: the report's first stay began at the commit that added the deal, ignoring the
    file's earlier `created` (an imported deal's stay shrank to its import day)."""
    stays = _stays(timeline)
    # prospecting from created (01-05) to the day it entered qualifying as `move --date`
    # recorded it (02-01; the move's commit is 02-10): 27 days, not 12
    assert stays["prospecting"]["count"] == 1
    assert stays["prospecting"]["avg_days"] == 27


def test_H2_report_current_stay_starts_at_stage_entered(timeline: Timeline) -> None:
    """H2: the report's current stay began at git's move commit, ignoring `stage_entered`
    (the day the deal was moved, as `move --date` recorded it)."""
    stays = _stays(timeline)
    # in qualifying since stage_entered (02-01) on 03-01: 28 days, not 19
    assert stays["qualifying"]["open_count"] == 1
    assert stays["qualifying"]["open_avg_days"] == 28


# --- git arrivals (T9) ---------------------------------------------------------------------


def test_T9_a_deal_moved_back_by_hand_arrived_on_its_newest_move(
    timeline: Timeline,
) -> None:
    """T9: the history fold kept a path's OLDEST arrival (`setdefault` for `=`): a deal moved
    back by hand to a stage it had been in before counted from its first stay there, and
    lint and the report said "329 days"."""
    t = timeline
    root = t.root
    deal = root / "qualifying" / "acme.md"
    deal.write_text(
        "---\ntitle: Acme\ncompany: Acme Inc\nowner: alice\ncreated: 2025-01-02\n"
        "value: 1000\n---\nA body.\n",
        encoding="utf-8",
    )
    t.on("2025-04-05")
    commit_all(root, "hand: acme")  # arrives in qualifying (no stage_entered)
    t.on("2025-06-01").git("mv", "qualifying/acme.md", "prospecting/acme.md")
    t.git("commit", "-q", "-m", "back to prospecting")
    t.on("2026-02-20").git("mv", "prospecting/acme.md", "qualifying/acme.md")
    t.git("commit", "-q", "-m", "qualifying again")
    report = json.loads(t.run("report", "--json", "--today", TODAY))
    oldest = {d["id"]: d for d in report["aging"]["oldest"]}
    assert oldest["acme"]["days_in_stage"] == 9  # since 02-20, not since 2025-04-05 (330)
    r = t.cli("lint", "--format", "json", "--today", TODAY)
    stuck = [f for f in json.loads(r.stdout) if f["code"] == "PL302"]
    assert stuck == [], stuck


# --- import: re-run and reopen (I1, I2, I4) -------------------------------------------------

MAP = ("--map", "title=Name", "--map", "stage=Phase", "--map", "value=Amount")
STAGES = ("--stage-map", "Lead=prospecting", "--stage-map", "Won=won", "--stage-map", "Lost=lost")


@pytest.fixture
def today(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    def set_today(day: str) -> None:
        monkeypatch.setenv("PIPECTL_TODAY", day)

    return set_today


def cli_import(cli: Cli, src: Path, text: str, *more: str) -> str:
    src.write_text(text, encoding="utf-8")
    r = cli("import", str(src), *MAP, *STAGES, *more)
    assert r.exit_code == 0, r.output
    return r.output


def test_I2_reimport_reopening_a_lost_deal_drops_closed_and_lost_reason(
    cli: Cli, pipeline: Path, today, tmp_path: Path
) -> None:
    """I2: a re-import moving a lost deal back to an open stage kept its `closed` and
    `lost_reason` (the guard for an open target removed): an open deal that says it closed."""
    src = tmp_path / "deals.csv"
    reason = ("--map", "lost_reason=Reason", "--map", "closed=Closed")
    today("2026-02-01")
    cli_import(
        cli, src, "Name,Phase,Amount,Reason,Closed\nAcme,Lost,100,price,2026-01-20\n", *reason
    )
    lost = pipeline / "lost" / "acme.md"
    assert "lost_reason: price" in lost.read_text()
    today("2026-02-20")
    cli_import(cli, src, "Name,Phase,Amount,Reason,Closed\nAcme,Lead,100,,\n", *reason)
    text = (pipeline / "prospecting" / "acme.md").read_text()
    assert not lost.exists()
    assert "closed:" not in text and "lost_reason" not in text, text
    assert "stage_entered: 2026-02-20" in text
    lint = cli("lint", "--format", "json", "--today", "2026-02-21")
    assert "PL1" not in " ".join(f["code"] for f in json.loads(lint.stdout))
