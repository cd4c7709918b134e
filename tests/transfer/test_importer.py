"""`pipectl import`: mapping, all-or-nothing checks with real line numbers, one commit,
idempotent re-import that edits deals in place, and rollback when git refuses."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import Cli, commit_count, git, last_commit_paths

CSV = """\
Deal Name,Account,Amount,Phase,Opened,Rep,Notes
Acme rollout,Acme Corp,"$12,000.50",Won,3/1/2026,alice,"two
lines"
Globex pilot,Globex,12 000,Negotiation,3/15/2026,bob,
Initech renewal,,,Lead,,carol,
"""
MAP = [
    "--map",
    "title=Deal Name",
    "--map",
    "company=Account",
    "--map",
    "value=Amount",
    "--map",
    "stage=Phase",
    "--map",
    "created=Opened",
    "--map",
    "owner=Rep",
    "--map",
    "notes=Notes",
    "--stage-map",
    "Negotiation=closing",
    "--stage-map",
    "Lead=prospecting",
    "--date-format",
    "M/D/YYYY",
]


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def deal_files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.glob("*/*.md"))


def test_import_maps_columns_parses_values_and_commits_once(cli: Cli, pipeline: Path) -> None:
    src = write(pipeline.parent, "deals.csv", CSV)
    before = commit_count(pipeline)
    result = cli("import", str(src), *MAP)
    assert result.exit_code == 0, result.output
    assert "3 added" in result.stdout
    assert deal_files(pipeline) == [
        "closing/globex-pilot.md",
        "prospecting/initech-renewal.md",
        "won/acme-rollout.md",
    ]
    assert (pipeline / "won" / "acme-rollout.md").read_text() == (
        "---\n"
        "title: Acme rollout\n"
        "company: Acme Corp\n"
        "owner: alice\n"
        "value: 12000.5\n"
        "created: 2026-03-01\n"
        'notes: "two\\nlines"\n'
        "---\n"
        "# Acme rollout\n"
    )
    globex = (pipeline / "closing" / "globex-pilot.md").read_text()
    assert "value: 12000\n" in globex and "created: 2026-03-15\n" in globex
    initech = (pipeline / "prospecting" / "initech-renewal.md").read_text()
    assert "company" not in initech and "value" not in initech and "created" not in initech
    assert commit_count(pipeline) == before + 1
    assert last_commit_paths(pipeline) == deal_files(pipeline)
    message = git(pipeline, "log", "-1", "--format=%B")
    assert message.startswith("import deals.csv: 3 added\n")
    assert "Pipectl-Action: import" in message


def test_a_bad_row_stops_everything_with_its_real_line(cli: Cli, pipeline: Path) -> None:
    # the quoted two-line cell makes the CSV line numbers differ from the row numbers
    bad = CSV + "Hooli deal,Hooli,12k,Won,3/2/2026,dan,\nVandelay,Vandelay,5,Lost,31/12/2026,eve,\n"
    src = write(pipeline.parent, "deals.csv", bad)
    before = commit_count(pipeline)
    result = cli("import", str(src), *MAP)
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert "deals.csv:6: Amount: '12k' is not a number" in lines[0]
    assert "deals.csv:7: Opened: '31/12/2026' is no real date (M/D/YYYY)" in lines[1]
    assert "2 invalid rows; nothing imported" in result.stderr
    assert "Traceback" not in result.output
    assert deal_files(pipeline) == []
    assert commit_count(pipeline) == before
    assert git(pipeline, "status", "--porcelain") == ""


def test_unknown_stage_value_names_the_fix(cli: Cli, pipeline: Path) -> None:
    src = write(pipeline.parent, "d.csv", "title,stage\nA,won\nB,Pending\n")
    result = cli("import", str(src))
    assert result.exit_code == 2
    assert "d.csv:3: unknown stage 'Pending' (map it with --stage-map 'Pending=STAGE'" in (
        result.stderr
    )
    assert deal_files(pipeline) == []


def test_skip_invalid_imports_the_rest_and_lists_what_it_skipped(cli: Cli, pipeline: Path) -> None:
    src = write(pipeline.parent, "d.csv", "title,value\nGood one,100\nBad one,lots\nAlso good,7\n")
    result = cli("import", str(src), "--skip-invalid")
    assert result.exit_code == 0, result.output
    assert "d.csv:3: value: 'lots' is not a number" in result.stderr
    assert result.stderr.startswith("pipectl: warning: skipped ")
    assert deal_files(pipeline) == ["prospecting/also-good.md", "prospecting/good-one.md"]
    message = git(pipeline, "log", "-1", "--format=%B")
    assert "skipped 1 invalid rows:" in message and "d.csv:3: value" in message


def test_the_same_id_twice_names_both_lines(cli: Cli, pipeline: Path) -> None:
    src = write(pipeline.parent, "d.csv", "id,title\nX-1,First\nY-2,Other\nx 1,Again\n")
    result = cli("import", str(src))
    assert result.exit_code == 2
    assert "d.csv:2: id 'x-1' is also on line 4" in result.stderr
    assert "d.csv:4: id 'x-1' is also on line 2" in result.stderr
    assert deal_files(pipeline) == []


def test_importing_twice_changes_nothing_and_makes_no_commit(cli: Cli, pipeline: Path) -> None:
    src = write(pipeline.parent, "deals.csv", CSV)
    assert cli("import", str(src), *MAP).exit_code == 0
    before = commit_count(pipeline)
    snapshot = {p: (pipeline / p).read_bytes() for p in deal_files(pipeline)}
    result = cli("import", str(src), *MAP)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("no changes: 3 deals")
    assert commit_count(pipeline) == before
    assert {p: (pipeline / p).read_bytes() for p in deal_files(pipeline)} == snapshot


def test_reimport_updates_mapped_fields_in_place_and_moves(
    cli: Cli, pipeline: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PIPECTL_TODAY", "2026-04-10")
    src = write(pipeline.parent, "deals.csv", CSV)
    assert cli("import", str(src), *MAP).exit_code == 0
    # the user edits the deal by hand: a comment, a custom key, notes in the body
    path = pipeline / "closing" / "globex-pilot.md"
    text = path.read_text().replace("owner: bob\n", "owner: bob   # our best rep\nseats: 40\n")
    path.write_text(text + "\nCalled them on Monday.\n")
    git(pipeline, "commit", "-qam", "hand edit")
    before = commit_count(pipeline)
    changed = CSV.replace("12 000,Negotiation", "15 000,Won")
    result = cli("import", str(write(pipeline.parent, "deals.csv", changed)), *MAP)
    assert result.exit_code == 0, result.output
    assert "1 moved" in result.stdout and "2 unchanged" in result.stdout
    assert not path.exists()
    moved = (pipeline / "won" / "globex-pilot.md").read_text()
    expected = (
        text.replace("value: 12000\n", "value: 15000\n").replace(
            "---\n# Globex", "stage_entered: 2026-04-10\nclosed: 2026-04-10\n---\n# Globex"
        )
        + "\nCalled them on Monday.\n"
    )
    assert moved == expected
    assert commit_count(pipeline) == before + 1
    assert last_commit_paths(pipeline) == ["closing/globex-pilot.md", "won/globex-pilot.md"]


def test_new_only_refuses_existing_deals(cli: Cli, pipeline: Path) -> None:
    assert cli("add", "Acme rollout").exit_code == 0
    src = write(pipeline.parent, "d.csv", "title\nAcme rollout\nNew one\n")
    result = cli("import", str(src), "--new-only")
    assert result.exit_code == 2
    assert "d.csv:2: deal 'acme-rollout' exists already (" in result.stderr
    assert deal_files(pipeline) == ["prospecting/acme-rollout.md"]


def test_dry_run_writes_nothing(cli: Cli, pipeline: Path) -> None:
    src = write(pipeline.parent, "deals.csv", CSV)
    before = commit_count(pipeline)
    result = cli("import", str(src), *MAP, "--dry-run")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("would import ")
    assert "deals.csv: 3 added" in result.stdout
    assert "won" in result.stdout and "closing" in result.stdout
    assert deal_files(pipeline) == []
    assert commit_count(pipeline) == before


def test_mapping_file_templates_and_fallbacks(cli: Cli, pipeline: Path) -> None:
    mapping = write(
        pipeline.parent,
        "map.yaml",
        "date_format: D.M.YYYY\n"
        "fields:\n"
        "  id: code\n"
        '  title: ["{firm} — {item}", "{item}"]\n'
        "  closed: [lost_on, won_on]\n"
        "  stage: state\n"
        "stages: {W: won, L: lost}\n",
    )
    src = write(
        pipeline.parent,
        "d.csv",
        "code,firm,item,state,won_on,lost_on\nAB12,Acme,Seats,W,3.1.2026,\nCD34,,Racks,L,,5.2.2026\n",
    )
    result = cli("import", str(src), "--mapping", str(mapping))
    assert result.exit_code == 0, result.output
    won = (pipeline / "won" / "ab12.md").read_text()
    assert "title: Acme — Seats\n" in won and "closed: 2026-01-03\n" in won
    assert "stage_entered: 2026-01-03\n" in won  # entering won/lost is closing
    lost = (pipeline / "lost" / "cd34.md").read_text()
    assert "title: Racks\n" in lost and "closed: 2026-02-05\n" in lost


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--map", "title=Nope"], "title: no column 'Nope' in"),
        (["--map", "title"], "--map: expected NAME=VALUE"),
        (["--stage-map", "X=limbo"], "no stage 'limbo'"),
        (["--date-format", "YY/MM"], "--date-format 'YY/MM'"),
        (["--map", "touchpoints=title"], "touchpoints cannot come from a CSV column"),
    ],
)
def test_bad_options_are_usage_errors(
    cli: Cli, pipeline: Path, args: list[str], message: str
) -> None:
    src = write(pipeline.parent, "d.csv", "title\nA\n")
    result = cli("import", str(src), *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_unreadable_files_are_usage_errors(cli: Cli, pipeline: Path) -> None:
    latin = pipeline.parent / "latin.csv"
    latin.write_bytes("title\nCaf\xe9 deal\n".encode("latin-1"))
    result = cli("import", str(latin))
    assert result.exit_code == 2 and "latin.csv:2: not utf-8-sig text" in result.stderr
    result = cli("import", str(latin), "--encoding", "latin-1")
    assert result.exit_code == 0, result.output
    assert (pipeline / "prospecting" / "cafe-deal.md").read_text().startswith("---\ntitle: Café")
    ragged = write(pipeline.parent, "ragged.csv", "title,value\nA,1,extra\n")
    result = cli("import", str(ragged))
    assert result.exit_code == 2 and "ragged.csv:2: 3 cells but the header has 2" in result.stderr


def test_semicolons_bom_and_crlf_from_a_spreadsheet(cli: Cli, pipeline: Path) -> None:
    src = pipeline.parent / "excel.csv"
    src.write_bytes("\ufefftitle;value\r\nSmall;\r\nBig;1 500\r\n".encode())
    result = cli("import", str(src))
    assert result.exit_code == 0, result.output
    assert "value: 1500\n" in (pipeline / "prospecting" / "big.md").read_text()
    assert "value" not in (pipeline / "prospecting" / "small.md").read_text()


def test_a_refused_commit_puts_everything_back(cli: Cli, pipeline: Path) -> None:
    hook = pipeline / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\necho 'no imports today' >&2\nexit 1\n")
    hook.chmod(0o755)
    src = write(pipeline.parent, "deals.csv", CSV)
    before = commit_count(pipeline)
    result = cli("import", str(src), *MAP)
    assert result.exit_code == 3
    assert "no imports today" in result.stderr
    assert deal_files(pipeline) == []
    assert commit_count(pipeline) == before
    assert git(pipeline, "status", "--porcelain") == ""


def test_many_rows_commit_only_their_paths(cli: Cli, pipeline: Path) -> None:
    # more paths than fit comfortably on a command line go to git through stdin / a file
    (pipeline / "notes.txt").write_text("the user's own work\n")
    git(pipeline, "add", "notes.txt")
    rows = "".join(f"Deal {i},{i * 10}\n" for i in range(300))
    src = write(pipeline.parent, "many.csv", "title,value\n" + rows)
    result = cli("import", str(src))
    assert result.exit_code == 0, result.output
    committed = last_commit_paths(pipeline)
    assert len(committed) == 300 and "notes.txt" not in committed
    assert git(pipeline, "status", "--porcelain") == "A  notes.txt\n"


def test_json_import_names_the_bad_item(cli: Cli, pipeline: Path) -> None:
    src = write(
        pipeline.parent,
        "d.json",
        '[{"id": "a", "stage": "won", "fields": {"title": "A", "closed": "2026-01-02"}},'
        ' {"id": "b", "stage": "limbo", "fields": {}}, {"id": "c", "fields": {"a: b": 1}}]',
    )
    result = cli("import", str(src))
    assert result.exit_code == 2
    assert "d.json: item 2: unknown stage 'limbo'" in result.stderr
    assert "d.json: item 3: field name 'a: b' cannot be written as a plain YAML key" in (
        result.stderr
    )
    assert deal_files(pipeline) == []
    result = cli("import", str(src), "--skip-invalid")
    assert result.exit_code == 0, result.output
    assert "closed: 2026-01-02\n" in (pipeline / "won" / "a.md").read_text()
    broken = write(pipeline.parent, "broken.json", '[{"id": "a",\n  oops}]')
    result = cli("import", str(broken))
    assert result.exit_code == 2 and "broken.json:2: not JSON" in result.stderr
    result = cli("import", str(src), "--map", "title=x")
    assert result.exit_code == 2 and "apply to CSV files" in result.stderr


def test_progress_only_on_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    from pipectl.cli.transfer import _Progress

    quiet = _Progress(enabled=False)
    quiet("checking", 250, 8800)
    quiet.clear()
    assert capsys.readouterr().err == ""
    shown = _Progress(enabled=True)
    shown("checking", 250, 8800)
    shown("committing", 0, 1)
    shown.clear()
    assert capsys.readouterr().err == ("\r\x1b[Kchecking 250/8,800\r\x1b[Kcommitting…\r\x1b[K")


def test_no_progress_when_stderr_is_not_a_terminal(cli: Cli, pipeline: Path) -> None:
    notes = "Long notes. " * 400
    rows = "".join(f"Deal {i},{i},{notes}\n" for i in range(20))
    src = write(pipeline.parent, "big.csv", "title,value,body\n" + rows)
    assert src.stat().st_size > 64 * 1024
    result = cli("import", str(src))
    assert result.exit_code == 0, result.output
    assert result.stderr == ""


def _many(n: int, stage: str) -> str:
    return "id,title,stage\n" + "".join(f"d{i},Deal {i},{stage}\n" for i in range(n))


def test_many_rows_with_nothing_else_staged(cli: Cli, pipeline: Path) -> None:
    # the user's unstaged edit and untracked file stay out of the commit
    (pipeline / "pipeline.yaml").write_text((pipeline / "pipeline.yaml").read_text() + "# mine\n")
    (pipeline / "scratch.txt").write_text("untracked\n")
    src = write(pipeline.parent, "many.csv", _many(250, "prospecting"))
    assert cli("import", str(src)).exit_code == 0
    assert len(last_commit_paths(pipeline)) == 250
    assert git(pipeline, "status", "--porcelain") == " M pipeline.yaml\n?? scratch.txt\n"
    # moving them all: the commit holds each deletion and each new file
    before = commit_count(pipeline)
    src = write(pipeline.parent, "many.csv", _many(250, "won"))
    result = cli("import", str(src))
    assert result.exit_code == 0, result.output
    assert "250 moved" in result.stdout
    assert commit_count(pipeline) == before + 1
    paths = last_commit_paths(pipeline)
    assert len(paths) == 500 and "prospecting/d7.md" in paths and "won/d7.md" in paths
    assert git(pipeline, "status", "--porcelain") == " M pipeline.yaml\n?? scratch.txt\n"
    assert len(list((pipeline / "won").glob("*.md"))) == 250


def test_many_rows_and_a_refused_commit_leave_the_index_as_it_was(cli: Cli, pipeline: Path) -> None:
    src = write(pipeline.parent, "many.csv", _many(250, "prospecting"))
    assert cli("import", str(src)).exit_code == 0
    hook = pipeline / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\nexit 1\n")
    hook.chmod(0o755)
    before = commit_count(pipeline)
    moved = _many(250, "won").replace("d0,Deal 0,won\n", "d0,Deal 0,won\nnew,New,won\n")
    result = cli("import", str(write(pipeline.parent, "many.csv", moved)))
    assert result.exit_code == 3
    assert commit_count(pipeline) == before
    assert git(pipeline, "status", "--porcelain") == ""
    assert len(list((pipeline / "prospecting").glob("*.md"))) == 250
    assert not list((pipeline / "won").glob("*.md"))


def test_without_a_created_column_deals_come_in_on_the_import_day(
    cli: Cli, pipeline: Path, monkeypatch
) -> None:
    monkeypatch.setenv("PIPECTL_TODAY", "2026-11-27")
    src = write(pipeline.parent, "plain.csv", "Name,Amount\nAcme,100\nGlobex,\n")
    result = cli("import", str(src), "--map", "title=Name", "--map", "value=Amount")
    assert result.exit_code == 0, result.output
    text = (pipeline / "prospecting" / "acme.md").read_text()
    assert "created: 2026-11-27\n" in text
    lint = cli("lint", "--today", "2026-11-27", "--select", "PL102", "--format", "json")
    assert lint.exit_code == 0, lint.output


def test_a_file_name_with_line_breaks_cannot_forge_trailers(cli: Cli, pipeline: Path) -> None:
    """The file's name goes into the subject, the skipped rows and a trailer: all one line."""
    name = "evil\n\nPipectl-Action: x\nPipectl-Deal: victim\x1b[2J.csv"
    src = write(pipeline.parent, name, "title,stage\nAcme,prospecting\nBad,nowhere\n")
    result = cli("import", str(src), "--skip-invalid")
    assert result.exit_code == 0, result.output
    message = git(pipeline, "log", "-1", "--format=%B")
    shown = "evil Pipectl-Action: x Pipectl-Deal: victim [2J.csv"
    parsed = subprocess.run(
        ["git", "interpret-trailers", "--parse"],
        input=message,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert parsed.splitlines() == ["Pipectl-Action: import", f"Pipectl-Import-Source: {shown}"]
    trailers = git(pipeline, "log", "-1", "--format=%(trailers:only,unfold)")
    assert trailers.splitlines() == [
        "Pipectl-Action: import",
        f"Pipectl-Import-Source: {shown}",
        "",
    ]
    assert message.splitlines()[0] == f"import {shown}: 1 added"
    assert f"  {shown}:3: unknown stage 'nowhere'" in message
    assert "\x1b" not in message


# --- the deal schema, checked per row before anything is written --------------------------


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file of the pipeline (outside .git) and its bytes."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(root).parts
    }


def stderr_lines(result, src: Path) -> list[str]:
    """stderr's lines, with the source file named by its name alone."""
    return result.stderr.replace(f"{src.parent}/", "").splitlines()


def declare(pipeline: Path, fields: str) -> None:
    """Add a `fields:` section to pipeline.yaml and commit it."""
    config = pipeline / "pipeline.yaml"
    config.write_text(config.read_text() + "fields:\n" + fields)
    git(pipeline, "commit", "-qam", "declare fields")


SCHEMA_CSV = (
    "id,title,stage,created,closed,value\n"
    "ok1,Fine deal,won,2026-01-02,2026-01-10,100\n"
    "ab12,Closed too early,won,2026-02-01,2026-01-10,100\n"
    "lr1,Lost quietly,lost,2026-01-02,2026-01-20,\n"
)


def test_a_row_the_schema_refuses_is_a_row_error_with_its_line(cli: Cli, pipeline: Path) -> None:
    src = write(pipeline.parent, "data.csv", SCHEMA_CSV)
    before, files = commit_count(pipeline), snapshot(pipeline)
    for extra in ((), ("--dry-run",)):
        result = cli("import", str(src), *extra)
        assert result.exit_code == 2, result.output
        first = stderr_lines(result, src)[0]
        assert first == (
            "data.csv:3: closed: 2026-01-10 is before created (2026-02-01)"
            " (and 1 more: stage_entered)"
        )
        assert "won/ab12.md" not in result.stderr and "Traceback" not in result.output
        assert "1 invalid row; nothing imported" in result.stderr
        assert snapshot(pipeline) == files
        assert commit_count(pipeline) == before
        assert git(pipeline, "status", "--porcelain") == ""


def test_skip_invalid_skips_rows_the_schema_refuses_and_says_so(cli: Cli, pipeline: Path) -> None:
    src = write(pipeline.parent, "data.csv", SCHEMA_CSV)
    result = cli("import", str(src), "--skip-invalid")
    assert result.exit_code == 0, result.output
    assert stderr_lines(result, src)[0].startswith(
        "pipectl: warning: skipped data.csv:3: closed: 2026-01-10 is before created (2026-02-01)"
    )
    # a lost deal without its lost reason still comes in: the old system's gaps are lint's
    assert deal_files(pipeline) == ["lost/lr1.md", "won/ok1.md"]
    message = git(pipeline, "log", "-1", "--format=%B")
    assert message.startswith("import data.csv: 2 added\n")
    assert "skipped 1 invalid rows:\n  data.csv:3: closed: 2026-01-10 is before created" in message
    lint = cli("lint", "--select", "PL102", "--format", "json")
    assert "lost_reason" in lint.stdout


def test_a_custom_field_is_read_by_its_type_and_checked(cli: Cli, pipeline: Path) -> None:
    declare(
        pipeline,
        "  seats: {type: integer, min: 1}\n"
        "  renewal: {type: date}\n"
        "  code: {type: text}\n"
        "  pilot: {type: bool}\n"
        "  segment: {type: enum, values: [smb, enterprise]}\n",
    )
    src = write(
        pipeline.parent,
        "data.csv",
        "title,seats,renewal,code,pilot,segment\n"
        "Acme,50,3/1/2027,true,yes,smb\n"
        "Globex,fifty,,,,\n"
        "Initech,0,,,,\n"
        "Hooli,,,,maybe,\n"
        "Vandelay,,,,,mid\n",
    )
    before, files = commit_count(pipeline), snapshot(pipeline)
    result = cli("import", str(src), "--date-format", "M/D/YYYY")
    assert result.exit_code == 2, result.output
    assert stderr_lines(result, src)[:4] == [
        "data.csv:3: seats: 'fifty' is not a whole number",
        "data.csv:4: seats: 0 must be 1 or more",
        "data.csv:5: pilot: 'maybe' is not true or false",
        "data.csv:6: segment: 'mid' is not one of smb, enterprise",
    ]
    assert snapshot(pipeline) == files and commit_count(pipeline) == before
    result = cli("import", str(src), "--date-format", "M/D/YYYY", "--skip-invalid")
    assert result.exit_code == 0, result.output
    assert (
        sum(
            ln.startswith("pipectl: warning: skipped data.csv:") for ln in stderr_lines(result, src)
        )
        == 4
    )
    assert deal_files(pipeline) == ["prospecting/acme.md"]
    text = (pipeline / "prospecting" / "acme.md").read_text()
    assert "seats: 50\nrenewal: 2027-03-01\ncode: 'true'\npilot: true\nsegment: smb\n" in text
    assert cli("lint", "--select", "PL103").exit_code == 0


def test_a_json_item_the_schema_refuses_names_its_item(cli: Cli, pipeline: Path) -> None:
    src = write(
        pipeline.parent,
        "d.json",
        '[{"id": "a", "fields": {"title": "A", "created": "2026-01-02"}},'
        ' {"id": "b", "fields": {"title": "B", "value": "lots"}},'
        ' {"id": "c", "fields": {"title": "C", "created": "2026-03-01", "touchpoints":'
        ' [{"date": "2026-02-01", "kind": "call", "summary": "Early"}]}}]',
    )
    before, files = commit_count(pipeline), snapshot(pipeline)
    result = cli("import", str(src))
    assert result.exit_code == 2
    assert stderr_lines(result, src)[:2] == [
        "d.json: item 2: value: 'lots' is not an amount (a number, e.g. 12000)",
        "d.json: item 3: touchpoint 1: date 2026-02-01 is before created (2026-03-01)",
    ]
    assert snapshot(pipeline) == files and commit_count(pipeline) == before
    result = cli("import", str(src), "--skip-invalid")
    assert result.exit_code == 0, result.output
    assert (
        "pipectl: warning: skipped d.json: item 2: value: 'lots' is not an amount"
        in (stderr_lines(result, src)[0])
    )
    assert deal_files(pipeline) == ["prospecting/a.md"]


def test_reimport_refuses_only_what_the_row_brings_in(
    cli: Cli, pipeline: Path, write_deal, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PIPECTL_TODAY", "2026-04-10")
    # an old fault of the file (a probability over 1) never blocks an unrelated update
    write_deal(
        pipeline,
        "closing",
        "acme",
        "---\ntitle: Acme\ncreated: 2026-03-01\nprobability: 7\nvalue: 10\n---\n# Acme\n",
    )
    git(pipeline, "add", ".")
    git(pipeline, "commit", "-qm", "by hand")
    before, files = commit_count(pipeline), snapshot(pipeline)
    # won on a day before the deal was created: closed and stage_entered are refused
    early = write(pipeline.parent, "d.csv", "id,stage,closed\nacme,won,2026-02-01\n")
    result = cli("import", str(early))
    assert result.exit_code == 2, result.output
    assert stderr_lines(result, early)[0] == (
        "d.csv:2: deal 'acme' cannot be updated: closed: 2026-02-01 is before created "
        "(2026-03-01) (and 1 more: stage_entered)"
    )
    assert snapshot(pipeline) == files and commit_count(pipeline) == before
    values = write(pipeline.parent, "d.csv", "id,stage,value\nacme,closing,20\n")
    result = cli("import", str(values))
    assert result.exit_code == 0, result.output
    text = (pipeline / "closing" / "acme.md").read_text()
    assert "value: 20\n" in text and "probability: 7\n" in text
    declare(pipeline, "  seats: {type: integer}\n")
    files = snapshot(pipeline)
    seats = write(pipeline.parent, "d.csv", "id,stage,seats\nacme,closing,fifty\n")
    result = cli("import", str(seats))
    assert result.exit_code == 2
    assert "d.csv:2: deal 'acme' cannot be updated: seats: 'fifty' is not a whole number" in (
        result.stderr
    )
    assert snapshot(pipeline) == files
