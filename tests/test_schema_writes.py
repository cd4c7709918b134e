"""Every write refuses what the schema refuses, through the CLI on a real repository: exit 2,
one line naming the file (and line) and the field, every file byte-identical, no commit."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml
from conftest import QUALIFIED, Cli, commit_count, git

from pipectl.dates import today


def snapshot(root: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in root.rglob("*") if p.is_file() and ".git" not in p.parts}


def refused(cli: Cli, root: Path, *args: str, message: str, where: str | None = None) -> str:
    """Run a command that must be refused; return its one line of error."""
    before, commits = snapshot(root), commit_count(root)
    r = cli(*args)
    assert r.exit_code == 2, (args, r.output)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.output, r.stderr
    assert message in lines[0], lines[0]
    if where is not None:
        assert where in lines[0], lines[0]
    assert snapshot(root) == before
    assert commit_count(root) == commits
    assert git(root, "status", "--porcelain") == ""
    return lines[0]


def fm(path: Path) -> dict:
    return yaml.safe_load(path.read_text().split("---\n")[1])


@pytest.fixture
def acme(cli: Cli, pipeline: Path) -> Path:
    assert cli("add", "Acme", "--date", "2026-03-01", "--value", "100").exit_code == 0
    return pipeline / "prospecting" / "acme.md"


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e400"])
def test_add_refuses_nan_and_infinities(cli: Cli, pipeline: Path, value: str) -> None:
    refused(cli, pipeline, "add", "X", "--value", value, message="value:", where="x.md:")


@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf", "1e400", "lots", "-5", "true"])
def test_set_refuses_what_is_no_amount(cli: Cli, pipeline: Path, acme: Path, value: str) -> None:
    line = refused(cli, pipeline, "set", "acme", f"value={value}", message="value: ")
    assert line.startswith(f"pipectl: error: {acme}:") or "acme.md:" in line


def test_set_refuses_a_criterion_that_does_not_exist_with_close_matches(
    cli: Cli, pipeline: Path, acme: Path
) -> None:
    line = refused(cli, pipeline, "set", "acme", "qualification.colour=blue", message="colour")
    assert "not a criterion" in line
    line = refused(cli, pipeline, "set", "acme", "qualification.budgte=15k", message="budgte")
    assert "did you mean budget?" in line


def test_set_reads_a_word_as_the_fields_type(cli: Cli, pipeline: Path, acme: Path) -> None:
    assert cli("set", "acme", "tags=solo").exit_code == 0
    assert fm(acme)["tags"] == ["solo"]
    assert cli("set", "acme", "tags=a, b").exit_code == 0
    assert fm(acme)["tags"] == ["a", "b"]
    assert cli("set", "acme", "extra={a: 1}").exit_code == 0
    assert fm(acme)["extra"] == {"a": 1}
    assert cli("set", "acme", "next_step={call}").exit_code == 0  # text stays text
    assert fm(acme)["next_step"] == "{call}"


def test_unsetting_an_absent_field_says_so(cli: Cli, pipeline: Path, acme: Path) -> None:
    refused(cli, pipeline, "set", "acme", "--unset", "region", message="region: not set")


def test_a_declared_field_type_is_enforced_by_set_and_lint(cli: Cli, pipeline: Path) -> None:
    config = pipeline / "pipeline.yaml"
    config.write_text(
        config.read_text() + "\nfields:\n  seats: {type: integer, min: 1}\n"
        "  segment: {type: enum, values: [smb, mid]}\n"
    )
    git(pipeline, "commit", "-q", "-am", "fields")
    assert cli("add", "Acme", "--date", "2026-03-01").exit_code == 0
    refused(cli, pipeline, "set", "acme", "seats=fifty", message="seats: 'fifty' is not a whole")
    refused(cli, pipeline, "set", "acme", "segment=huge", message="segment: 'huge' is not one of")
    assert cli("set", "acme", "seats=50", "segment=mid").exit_code == 0
    path = pipeline / "prospecting" / "acme.md"
    path.write_text(path.read_text().replace("seats: 50", "seats: fifty"))
    git(pipeline, "commit", "-q", "-am", "by hand")
    r = cli("lint", "--select", "PL103")
    assert r.exit_code == 1 and "seats: 'fifty' is not a whole number" in r.stdout
    # an unrelated change to the deal is not blocked by the fault already there
    assert cli("log", "acme", "call", "Hi").exit_code == 0


def test_won_before_created_is_refused(cli: Cli, pipeline: Path, acme: Path) -> None:
    line = refused(cli, pipeline, "won", "acme", "--date", "2020-01-01", message="closed: ")
    assert "is before created (2026-03-01)" in line


def test_a_touchpoint_before_created_is_refused(cli: Cli, pipeline: Path, acme: Path) -> None:
    line = refused(cli, pipeline, "log", "acme", "call", "Hi", "--date", "2026-02-01", message="")
    assert "touchpoint 1: date 2026-02-01 is before created" in line


def test_a_date_in_the_future_is_refused(cli: Cli, pipeline: Path, acme: Path) -> None:
    ahead = (today() + dt.timedelta(days=2)).isoformat()
    for args in (["won", "acme"], ["log", "acme", "call", "Hi"], ["add", "Later"]):
        refused(cli, pipeline, *args, "--date", ahead, message="--date: ", where="in the future")
    tomorrow = (today() + dt.timedelta(days=1)).isoformat()  # a time zone ahead: allowed
    assert cli("log", "acme", "call", "Hi", "--date", tomorrow).exit_code == 0


def test_a_closed_deal_moves_only_when_reopened(cli: Cli, pipeline: Path, acme: Path) -> None:
    assert cli("won", "acme").exit_code == 0
    refused(cli, pipeline, "lost", "acme", "-r", "price", message="acme is won: pass --reopen")
    refused(cli, pipeline, "move", "acme", "qualifying", message="pass --reopen to reopen it")
    assert cli("lost", "acme", "-r", "price", "--reopen").exit_code == 0
    body = git(pipeline, "log", "-1", "--format=%B")
    assert "won -> lost" in body and "Pipectl-Reopened: yes" in body
    assert cli("move", "acme", "qualifying", "--reopen").exit_code == 0
    assert "Pipectl-Action: reopen" in git(pipeline, "log", "-1", "--format=%B")
    refused(cli, pipeline, "move", "acme", "prospecting", "--reopen", message="is open")


def test_closing_a_deal_clears_its_next_step_and_git_keeps_it(
    cli: Cli, pipeline: Path, acme: Path
) -> None:
    assert cli("next", "acme", "Negotiate terms", "--due", "2026-12-20").exit_code == 0
    assert cli("lost", "acme", "-r", "price").exit_code == 0
    data = fm(pipeline / "lost" / "acme.md")
    assert "next_step" not in data and "next_step_due" not in data
    assert "next_step: Negotiate terms" in git(pipeline, "show", "HEAD~1:prospecting/acme.md")


def test_add_to_the_lost_stage_needs_its_reason(cli: Cli, pipeline: Path) -> None:
    line = refused(cli, pipeline, "add", "Gone", "--stage", "lost", message="cannot enter lost")
    assert "lost_reason" in line
    assert cli("add", "Gone", "--stage", "lost", "--set", "lost_reason=price").exit_code == 0
    data = fm(pipeline / "lost" / "gone.md")
    assert data["lost_reason"] == "price" and "closed" in data


def test_moving_into_a_gated_stage_lists_what_is_missing(
    cli: Cli, pipeline: Path, acme: Path
) -> None:
    assert cli("set", "acme", "qualification.budget=no", "qualification.need=yes").exit_code == 0
    line = refused(cli, pipeline, "move", "acme", "connecting", message="acme cannot enter")
    assert "qualification.budget, qualification.fit, qualification.timeline" in line
    assert "--force" in line
    assert cli("move", "acme", "connecting", "--force").exit_code == 0
    assert "Pipectl-Forced: yes" in git(pipeline, "log", "-1", "--format=%B")
    r = cli("lint", "--select", "PL401")
    assert r.exit_code == 1 and "not qualified" in r.stdout  # lint keeps flagging it


def test_a_per_stage_requirement_needs_evidence_not_no(cli: Cli, pipeline: Path) -> None:
    config = pipeline / "pipeline.yaml"
    config.write_text(
        config.read_text().replace(
            "qualification:\n",
            "required_fields_by_stage: {qualifying: [qualification.budget]}\nqualification:\n",
            1,
        )
    )
    git(pipeline, "commit", "-q", "-am", "budget first")
    assert (
        cli("add", "Acme", "--date", "2026-03-01", "--set", "qualification.budget=no").exit_code
        == 0
    )
    line = refused(cli, pipeline, "move", "acme", "qualifying", message="qualification.budget")
    assert "cannot enter qualifying" in line
    r = cli("lint", "--select", "PL102")
    assert r.exit_code == 0  # prospecting does not ask for it
    assert cli("set", "acme", "qualification.budget=15k approved").exit_code == 0
    assert cli("move", "acme", "qualifying").exit_code == 0


def test_a_qualified_deal_enters_the_gate(cli: Cli, pipeline: Path) -> None:
    assert cli("add", "Acme", "--date", "2026-03-01", *QUALIFIED).exit_code == 0
    assert cli("move", "acme", "closing").exit_code == 0


def test_edit_refuses_a_bad_date_and_keeps_the_users_text(
    cli: Cli, pipeline: Path, acme: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    editor = tmp_path / "editor.py"
    editor.write_text(
        "import sys, pathlib\n"
        "p = pathlib.Path(sys.argv[1])\n"
        "p.write_text(p.read_text().replace('created: 2026-03-01', 'created: 2026-02-31'))\n"
    )
    monkeypatch.setenv("EDITOR", f"python3 {editor}")
    before, commits = acme.read_bytes(), commit_count(pipeline)
    r = cli("edit", "acme")  # no terminal: no offer to edit again, the text is kept
    assert r.exit_code == 2, r.output
    warning, error = r.stderr.strip().splitlines()
    assert "acme.md:" in warning and "created: '2026-02-31' is not a date" in warning
    kept = Path(error.rsplit(" ", 1)[1])
    assert "created: 2026-02-31" in kept.read_text()
    assert acme.read_bytes() == before and commit_count(pipeline) == commits
