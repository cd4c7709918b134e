"""Every everyday command through the CLI on a real git repository."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import QUALIFIED, Cli, commit_count, git, last_commit_paths, make_repo


def fm(path: Path) -> dict:
    text = path.read_text(encoding="utf-8")
    return yaml.safe_load(text.split("---\n")[1])


def test_init_creates_config_stages_and_one_commit(repo: Path):
    r = Cli(repo)("init")
    assert r.exit_code == 0, r.output
    assert (repo / "pipeline.yaml").is_file()
    for stage in ("prospecting", "qualifying", "connecting", "closing", "won", "lost"):
        assert (repo / stage).is_dir()
    assert commit_count(repo) == 1
    assert "init pipeline" in git(repo, "log", "-1", "--format=%B")
    assert git(repo, "status", "--porcelain") == ""


def test_init_outside_a_repo_runs_git_init(tmp_path: Path, monkeypatch):
    for var in ("GIT_AUTHOR", "GIT_COMMITTER"):
        monkeypatch.setenv(f"{var}_NAME", "Ann")
        monkeypatch.setenv(f"{var}_EMAIL", "ann@example.com")
    folder = tmp_path / "sales"
    r = Cli(tmp_path)("init", str(folder))
    assert r.exit_code == 0, r.output
    assert "initialised an empty git repository" in r.output
    assert commit_count(folder) == 1
    assert (folder / "pipeline.yaml").is_file()


def test_init_without_identity_leaves_no_half_made_repo(tmp_path: Path):
    folder = tmp_path / "sales"
    r = Cli(tmp_path)("init", str(folder))
    assert r.exit_code == 3
    assert "git config --global user.name" in r.stderr
    assert not (folder / ".git").exists()
    assert list(folder.iterdir()) == []
    # the advice works as printed, from where the user is (HOME is the test's own)
    advice = r.stderr.split("set it once with: ", 1)[1].split(" (or run", 1)[0]
    subprocess.run(advice, shell=True, cwd=folder, check=True)
    assert Cli(tmp_path)("init", str(folder)).exit_code == 0


def test_init_twice_is_refused(pipeline: Path):
    r = Cli(pipeline)("init")
    assert r.exit_code == 2
    assert "already exists" in r.stderr


def test_add_writes_a_deal_with_created_and_commits_only_it(cli: Cli, pipeline: Path):
    r = cli(
        "add",
        "Müller & Söhne GmbH",
        "--company",
        "Müller & Söhne",
        "--value",
        "12000",
        "--owner",
        "alice",
        "--next-step",
        "Call back",
        "--due",
        "2026-12-01",
        "--expected-close",
        "2027-01-15",
        "--tag",
        "enterprise",
        "--date",
        "2026-11-02",
    )
    assert r.exit_code == 0, r.output
    path = pipeline / "prospecting" / "muller-sohne-gmbh.md"
    data = fm(path)
    assert data["title"] == "Müller & Söhne GmbH"
    assert data["value"] == 12000
    assert str(data["created"]) == "2026-11-02"
    assert str(data["next_step_due"]) == "2026-12-01"
    assert data["tags"] == ["enterprise"]
    assert last_commit_paths(pipeline) == ["prospecting/muller-sohne-gmbh.md"]
    body = git(pipeline, "log", "-1", "--format=%B")
    assert "Pipectl-Action: add" in body and "Pipectl-Deal: muller-sohne-gmbh" in body


def test_add_existing_id_is_refused_and_nothing_written(cli: Cli, pipeline: Path):
    assert cli("add", "Acme").exit_code == 0
    before = commit_count(pipeline)
    r = cli("add", "ACME", "--stage", "closing")
    assert r.exit_code == 2
    assert "exists already" in r.stderr and "--id" in r.stderr
    assert not (pipeline / "closing" / "acme.md").exists()
    assert commit_count(pipeline) == before


@pytest.mark.parametrize("bad", ["../../etc/passwd", "a/b", ".hidden", "UPPER"])
def test_ids_never_point_outside_a_stage_folder(cli: Cli, pipeline: Path, bad: str):
    r = cli("add", "Evil", "--id", bad)
    assert r.exit_code == 2
    assert "invalid id" in r.stderr
    assert git(pipeline, "status", "--porcelain") == ""


def test_add_in_a_stage_and_unknown_stage(cli: Cli, pipeline: Path):
    assert (
        cli("add", "Beta", "--stage", "closing", "--date", "2026-11-01", *QUALIFIED).exit_code == 0
    )
    assert str(fm(pipeline / "closing" / "beta.md")["stage_entered"]) == "2026-11-01"
    r = cli("add", "Gamma", "--stage", "negotiation")
    assert r.exit_code == 2
    assert "unknown stage 'negotiation'" in r.stderr and "prospecting" in r.stderr


def test_move_sets_stage_entered_and_commits_both_paths(cli: Cli, pipeline: Path):
    cli("add", "Acme Corp", "--date", "2026-11-01", *QUALIFIED)
    before = commit_count(pipeline)
    r = cli("move", "acme", "closing", "--date", "2026-11-20")
    assert r.exit_code == 0, r.output
    assert "prospecting -> closing" in r.output
    assert not (pipeline / "prospecting" / "acme-corp.md").exists()
    assert str(fm(pipeline / "closing" / "acme-corp.md")["stage_entered"]) == "2026-11-20"
    assert commit_count(pipeline) == before + 1
    assert last_commit_paths(pipeline) == ["closing/acme-corp.md", "prospecting/acme-corp.md"]
    assert git(pipeline, "log", "-1", "--format=%s") == "move acme-corp: prospecting -> closing\n"
    # git sees a rename, so history follows the deal
    assert "R" in git(pipeline, "show", "-M", "--name-status", "--format=", "HEAD")


def test_move_to_the_same_stage_is_refused(cli: Cli):
    cli("add", "Acme")
    r = cli("move", "acme", "prospecting")
    assert r.exit_code == 2 and "already in prospecting" in r.stderr


def test_won_and_lost_set_closed_and_reason(cli: Cli, pipeline: Path):
    cli("add", "Alpha", "--date", "2026-11-01")
    cli("add", "Bravo")
    assert cli("won", "alpha", "--date", "2026-11-25").exit_code == 0
    data = fm(pipeline / "won" / "alpha.md")
    assert str(data["closed"]) == "2026-11-25"
    r = cli("lost", "bravo")
    assert r.exit_code == 2 and "--reason" in r.stderr
    r = cli("lost", "bravo", "--reason", "bored")
    assert r.exit_code == 2 and "unknown lost reason" in r.stderr
    assert cli("lost", "bravo", "--reason", "price").exit_code == 0
    data = fm(pipeline / "lost" / "bravo.md")
    assert data["lost_reason"] == "price" and "closed" in data
    assert git(pipeline, "log", "-1", "--format=%s").startswith("lost bravo: prospecting -> lost")


def test_reopening_a_lost_deal_clears_closed(cli: Cli, pipeline: Path):
    cli("add", "Alpha")
    cli("lost", "alpha", "--reason", "timing")
    assert cli("move", "alpha", "qualifying", "--reopen").exit_code == 0
    data = fm(pipeline / "qualifying" / "alpha.md")
    assert "closed" not in data and "lost_reason" not in data


def test_log_appends_only_the_touchpoint_line(cli: Cli, pipeline: Path):
    cli("add", "Acme", "--date", "2026-11-01")
    path = pipeline / "prospecting" / "acme.md"
    cli("log", "acme", "email", "Intro email", "--outcome", "no-reply", "--date", "2026-11-02")
    before = path.read_text()
    r = cli("log", "acme", "call", "Discovery: needs, budget", "-o", "replied")
    assert r.exit_code == 0, r.output
    after = path.read_text()
    added = [ln for ln in after.splitlines() if ln not in before.splitlines()]
    assert len(added) == 1 and "Discovery: needs, budget" in added[0]
    assert len(after.splitlines()) == len(before.splitlines()) + 1
    tps = fm(path)["touchpoints"]
    assert [t["kind"] for t in tps] == ["email", "call"]
    assert tps[1]["summary"] == "Discovery: needs, budget"


def test_log_rejects_unknown_kind_and_outcome(cli: Cli):
    cli("add", "Acme")
    r = cli("log", "acme", "carrier-pigeon", "coo")
    assert r.exit_code == 2 and "unknown touchpoint kind" in r.stderr
    r = cli("log", "acme", "call", "hi", "--outcome", "maybe")
    assert r.exit_code == 2 and "unknown outcome" in r.stderr


def test_next_and_set_are_one_line_diffs(cli: Cli, pipeline: Path):
    cli("add", "Acme", "--value", "100", "--owner", "bob")
    assert cli("next", "acme", "Send proposal", "--due", "2026-12-01").exit_code == 0
    data = fm(pipeline / "prospecting" / "acme.md")
    assert data["next_step"] == "Send proposal" and str(data["next_step_due"]) == "2026-12-01"
    r = cli("set", "acme", "value=15000", "qualification.budget=15k approved", "fit=yes")
    assert r.exit_code == 0, r.output
    diff = git(pipeline, "show", "--format=", "-U0", "HEAD")
    changed = [ln for ln in diff.splitlines() if ln[:1] in "+-" and ln[:3] not in ("+++", "---")]
    assert "-value: 100" in changed and "+value: 15000" in changed
    assert len([c for c in changed if c.startswith("-")]) == 1
    data = fm(pipeline / "prospecting" / "acme.md")
    assert data["qualification"] == {"budget": "15k approved"}
    assert data["fit"] == "yes"
    assert cli("set", "acme", "--unset", "fit").exit_code == 0
    assert "fit" not in fm(pipeline / "prospecting" / "acme.md")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["value=lots"], "value: 'lots' is not an amount"),
        (["expected_close=soon"], "not a date"),
        (["stage=won"], "pipectl move"),
        (["novalue"], "expected key=value"),
        ([], "nothing to set"),
    ],
)
def test_set_refuses_bad_values(cli: Cli, pipeline: Path, args: list[str], message: str):
    cli("add", "Acme")
    before = (pipeline / "prospecting" / "acme.md").read_bytes()
    r = cli("set", "acme", *args)
    assert r.exit_code == 2
    assert message in r.stderr
    assert (pipeline / "prospecting" / "acme.md").read_bytes() == before


def test_set_to_the_same_value_makes_no_commit(cli: Cli, pipeline: Path):
    cli("add", "Acme", "--value", "100")
    before = commit_count(pipeline)
    r = cli("set", "acme", "value=100")
    assert r.exit_code == 0 and "unchanged" in r.output
    assert commit_count(pipeline) == before


def test_show_and_list(cli: Cli, pipeline: Path):
    cli("add", "Acme Corp", "--company", "Acme", "--owner", "alice", "--value", "1200")
    cli("add", "Beta Ltd", "--owner", "bob", "--stage", "closing", "--tag", "smb", *QUALIFIED)
    cli("log", "acme", "call", "Discovery")
    r = cli("show", "acme")
    assert r.exit_code == 0
    assert "Acme Corp  [acme-corp]" in r.output and "Discovery" in r.output
    assert (
        cli("show", "acme", "--raw").output
        == (pipeline / "prospecting" / "acme-corp.md").read_text()
    )
    shown = json.loads(cli("show", "acme", "--json").output)
    assert shown["stage"] == "prospecting" and shown["fields"]["value"] == 1200
    r = cli("list")
    assert "acme-corp" in r.output and "beta-ltd" in r.output and "1,200" in r.output
    listed = json.loads(cli("list", "--json", "--owner", "bob").output)
    assert [d["id"] for d in listed] == ["beta-ltd"]
    assert [d["id"] for d in json.loads(cli("list", "--json", "--tag", "smb").output)] == [
        "beta-ltd"
    ]
    assert [d["id"] for d in json.loads(cli("list", "--json", "-s", "closing").output)] == [
        "beta-ltd"
    ]
    assert cli("list", "--stage", "nope").exit_code == 2


def test_list_overdue(cli: Cli):
    cli("add", "Late", "--next-step", "Call", "--due", "2026-11-01")
    cli("add", "Fine", "--next-step", "Call", "--due", "2026-12-01")
    cli("add", "Closed", "--next-step", "Call", "--due", "2026-11-01")
    cli("won", "closed")
    out = json.loads(cli("list", "--json", "--overdue", "--today", "2026-11-15").output)
    assert [d["id"] for d in out] == ["late"]


def test_due_without_next_step_is_refused(cli: Cli, pipeline: Path):
    r = cli("add", "Dated", "--due", "2025-12-01")
    assert r.exit_code == 2 and "--next-step" in r.stderr
    assert not (pipeline / "prospecting" / "dated.md").exists()


def test_directory_that_does_not_exist(tmp_path: Path):
    r = Cli(tmp_path / "nope")("list")
    assert r.exit_code == 2 and "no such folder" in r.stderr


def test_prefix_resolution(cli: Cli):
    cli("add", "Acme One")
    cli("add", "Acme Two")
    r = cli("show", "acme")
    assert r.exit_code == 2
    assert "ambiguous" in r.stderr and "acme-one" in r.stderr and "acme-two" in r.stderr
    assert cli("show", "acme-t").exit_code == 0
    r = cli("show", "acme-tow")
    assert r.exit_code == 2 and "did you mean" in r.stderr
    r = cli("show", "zzz")
    assert r.exit_code == 2 and "`pipectl list` shows the ids" in r.stderr


def test_an_unrelated_staged_file_stays_uncommitted(cli: Cli, pipeline: Path):
    cli("add", "Acme")
    (pipeline / "notes.txt").write_text("mine\n")
    git(pipeline, "add", "notes.txt")
    (pipeline / "pipeline.yaml").write_text(
        (pipeline / "pipeline.yaml").read_text() + "# my unstaged edit\n"
    )
    assert cli("log", "acme", "call", "hello").exit_code == 0
    assert last_commit_paths(pipeline) == ["prospecting/acme.md"]
    status = git(pipeline, "status", "--porcelain")
    assert "A  notes.txt" in status and " M pipeline.yaml" in status


def test_refusing_hook_exits_3_and_restores_everything(cli: Cli, pipeline: Path):
    cli("add", "Acme")
    hook = pipeline / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\necho 'policy: no commits today' >&2\nexit 1\n")
    hook.chmod(0o755)
    snapshot = {
        p: p.read_bytes() for p in pipeline.rglob("*") if p.is_file() and ".git" not in p.parts
    }
    status = git(pipeline, "status", "--porcelain")
    before = commit_count(pipeline)
    for args in (
        ["log", "acme", "call", "hi"],
        ["move", "acme", "qualifying"],
        ["add", "Newco"],
        ["set", "acme", "value=5"],
    ):
        r = cli(*args)
        assert r.exit_code == 3, (args, r.output)
        assert "policy: no commits today" in r.stderr
        assert "Traceback" not in r.output
        now = {
            p: p.read_bytes() for p in pipeline.rglob("*") if p.is_file() and ".git" not in p.parts
        }
        assert now == snapshot
        assert git(pipeline, "status", "--porcelain") == status
    assert commit_count(pipeline) == before


def test_missing_identity_exits_3_with_a_hint(tmp_path: Path):
    repo = tmp_path / "r"
    repo.mkdir()
    git(repo, "init", "-q")
    r = Cli(repo)("init")
    assert r.exit_code == 3
    assert 'git config --global user.name "Your Name"' in r.stderr
    assert r.stderr.count("\n") <= 2
    assert sorted(p.name for p in repo.iterdir()) == [".git"]


def test_index_lock_exits_3_and_keeps_files(cli: Cli, pipeline: Path):
    cli("add", "Acme")
    path = pipeline / "prospecting" / "acme.md"
    before = path.read_bytes()
    (pipeline / ".git" / "index.lock").write_text("")
    r = cli("log", "acme", "call", "hi")
    assert r.exit_code == 3
    assert "index.lock" in r.stderr
    assert path.read_bytes() == before


def test_no_commit_leaves_the_change_uncommitted(cli: Cli, pipeline: Path):
    cli("add", "Acme")
    before = commit_count(pipeline)
    assert cli("log", "acme", "call", "hi", "--no-commit").exit_code == 0
    assert commit_count(pipeline) == before
    assert git(pipeline, "status", "--porcelain").strip() == "M prospecting/acme.md"


def test_outside_git_works_and_warns(tmp_path: Path):
    folder = tmp_path / "plain"
    folder.mkdir()
    (folder / "pipeline.yaml").write_text("currency: EUR\n")
    cli = Cli(folder)
    r = cli("add", "Acme")
    assert r.exit_code == 0
    assert "no audit trail" in r.stderr
    assert (folder / "prospecting" / "acme.md").exists()
    r = cli("move", "acme", "qualifying")
    assert r.exit_code == 0 and (folder / "qualifying" / "acme.md").exists()


def test_pipeline_in_a_subfolder_commits_only_its_own_paths(tmp_path: Path):
    repo = make_repo(tmp_path / "big")
    (repo / "src.py").write_text("print(1)\n")
    git(repo, "add", "src.py")
    git(repo, "commit", "-qm", "code")
    (repo / "src.py").write_text("print(2)\n")
    sales = repo / "sales"
    assert Cli(repo)("init", str(sales)).exit_code == 0
    cli = Cli(sales)
    assert cli("add", "Acme").exit_code == 0
    assert last_commit_paths(repo) == ["sales/prospecting/acme.md"]
    assert " M src.py" in git(repo, "status", "--porcelain")


@pytest.mark.parametrize(
    ("content", "line", "what"),
    [
        (b"---\ntitle: ok\nvalue: [1, 2\n---\nbody\n", 4, "invalid YAML"),
        (b"---\ntitle: ok\n\xff\xfe\n---\n", 3, "not valid UTF-8"),
        (b"no frontmatter here\n", 1, "no frontmatter"),
        (b"---\ntitle: x\nbody without a closing fence\n", 1, "never closed"),
        (b"---\ntitle: a\ntitle: b\n---\n", 3, "duplicate key"),
    ],
)
def test_broken_files_exit_2_with_file_and_line(
    cli: Cli, pipeline: Path, write_deal, content: bytes, line: int, what: str
):
    path = write_deal(pipeline, "prospecting", "broken", content)
    for args in (["log", "broken", "call", "hi"], ["set", "broken", "value=1"], ["show", "broken"]):
        r = cli(*args)
        assert r.exit_code == 2, (args, r.output)
        assert f"prospecting/broken.md:{line}:" in r.stderr
        assert what in r.stderr
        assert r.stderr.count("\n") == 1
        assert "Traceback" not in r.output
    assert path.read_bytes() == content


def test_bad_config_names_file_line_and_key(cli: Cli, pipeline: Path):
    (pipeline / "pipeline.yaml").write_text("currency: USD\nqualification:\n  gate: nowhere\n")
    r = cli("list")
    assert r.exit_code == 2
    assert "pipeline.yaml:3: qualification.gate" in r.stderr


def test_no_pipeline_here(tmp_path: Path):
    r = Cli(tmp_path)("list")
    assert r.exit_code == 2
    assert "pipectl init" in r.stderr


def write_editor(tmp_path: Path, script: str) -> str:
    editor = tmp_path / "editor.py"
    editor.write_text(f"import sys\npath = sys.argv[1]\n{script}\n")
    return f"{sys.executable} {editor}"


def test_edit_commits_a_valid_change(cli: Cli, pipeline: Path, tmp_path: Path, monkeypatch):
    cli("add", "Acme")
    monkeypatch.setenv("EDITOR", write_editor(tmp_path, "open(path, 'a').write('More notes.\\n')"))
    r = cli("edit", "acme")
    assert r.exit_code == 0, r.output
    assert (pipeline / "prospecting" / "acme.md").read_text().endswith("More notes.\n")
    assert git(pipeline, "log", "-1", "--format=%s").strip() == "edit acme"


def test_edit_without_change_makes_no_commit(cli: Cli, pipeline: Path, tmp_path, monkeypatch):
    cli("add", "Acme")
    monkeypatch.setenv("EDITOR", write_editor(tmp_path, "pass"))
    before = commit_count(pipeline)
    r = cli("edit", "acme")
    assert r.exit_code == 0 and "unchanged" in r.output
    assert commit_count(pipeline) == before


def test_broken_edit_is_refused_and_kept(cli: Cli, pipeline: Path, tmp_path, monkeypatch):
    cli("add", "Acme")
    path = pipeline / "prospecting" / "acme.md"
    before = path.read_bytes()
    monkeypatch.setenv(
        "EDITOR",
        write_editor(
            tmp_path,
            "t = open(path).read()\nopen(path, 'w').write(t.replace('title:', 'title: [', 1))",
        ),
    )
    r = cli("edit", "acme")
    assert r.exit_code == 2
    assert "invalid YAML" in r.stderr and "kept in" in r.stderr
    kept = Path(r.stderr.split("kept in ")[-1].strip())
    assert kept.exists() and "title: [" in kept.read_text()
    assert path.read_bytes() == before


def test_add_with_edit(cli: Cli, pipeline: Path, tmp_path: Path, monkeypatch):
    monkeypatch.setenv(
        "EDITOR", write_editor(tmp_path, "open(path, 'a').write('Met at the fair.\\n')")
    )
    r = cli("add", "Fair Lead", "--edit")
    assert r.exit_code == 0, r.output
    assert (pipeline / "prospecting" / "fair-lead.md").read_text().endswith("Met at the fair.\n")
    assert last_commit_paths(pipeline) == ["prospecting/fair-lead.md"]


def test_python_dash_m_and_version():
    import subprocess

    out = subprocess.run(
        [sys.executable, "-m", "pipectl", "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout.startswith("pipectl ")


def test_every_command_has_help():
    import typer.main

    from pipectl.cli import app

    group = typer.main.get_command(app)
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        assert command.help and command.help.strip(), f"{name} has no help"
        for param in command.params:
            if param.param_type_name == "option" and param.name != "help":
                assert getattr(param, "help", None), f"{name} --{param.name} has no help"


def test_a_stage_name_taken_by_a_file_is_a_clean_error(cli: Cli, pipeline: Path):
    cli("add", "Acme")
    (pipeline / "connecting" / ".gitkeep").unlink()
    (pipeline / "connecting").rmdir()
    (pipeline / "connecting").write_text("not a folder\n")
    r = cli("move", "acme", "connecting", "--force")
    assert r.exit_code == 2
    assert "connecting/acme.md" in r.stderr and "Traceback" not in r.output
    assert (pipeline / "prospecting" / "acme.md").exists()


def test_an_unbalanced_editor_command_is_a_clean_error(cli: Cli, monkeypatch):
    cli("add", "Acme")
    monkeypatch.setenv("EDITOR", 'vim "')
    r = cli("edit", "acme")
    assert r.exit_code == 2 and "$EDITOR" in r.stderr


def test_an_unopenable_lock_is_a_clean_error(cli: Cli, pipeline: Path):
    cli("add", "Acme")
    (pipeline / ".git" / "pipectl.lock").unlink(missing_ok=True)
    (pipeline / ".git" / "pipectl.lock").mkdir()
    r = cli("log", "acme", "call", "hi")
    assert r.exit_code == 2 and "lock file" in r.stderr


def test_change_builds_and_sanitises_every_commit_message(pipeline: Path):
    from pipectl.store import Pipeline
    from pipectl.writes import Change

    ch = Change(Pipeline(pipeline), commit=False)
    ch.set_message("log  acme:\n\ncall", "log", "acme")
    assert ch.message == "log acme: call\n\nPipectl-Action: log\nPipectl-Deal: acme\n"
    ch.set_message(
        "sweep: 2\nPipectl-Action: won",
        "sweep",
        ("a", "b\r\nPipectl-Deal: victim", ""),
        body=[["last chance: a,\x1b[2Jb", "  kept  spacing"], []],
        trailers={"Import-Source": "f.csv\n\nPipectl-Action: x\u2028"},
    )
    assert ch.message == (
        "sweep: 2 Pipectl-Action: won\n\n"
        "last chance: a, [2Jb\n  kept  spacing\n\n"
        "Pipectl-Action: sweep\nPipectl-Deal: a\nPipectl-Deal: b Pipectl-Deal: victim\n"
        "Pipectl-Import-Source: f.csv Pipectl-Action: x\n"
    )
    ch.set_message("x" * 150, "set", shorten=True)
    assert ch.message == "x" * 99 + "…\n\nPipectl-Action: set\n"
    with pytest.raises(ValueError):
        ch.set_message("s", "a", trailers={"Bad\nKey": "v"})
