"""A workspace of two pipelines (`sales/`, `partners/`) in one real git repository, through the
CLI: a move across pipelines (one commit, `history` and `git log --follow` agree, the target's
gate, ids unique), `--all` of the reading commands, and lint and report figures that equal the
per-pipeline ones summed here by hand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import QUALIFIED, Cli, commit_count, git, last_commit_paths, make_repo

TODAY = "2026-11-20"


@pytest.fixture
def space(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository holding the pipelines sales/ and partners/, no pipectl.yaml."""
    monkeypatch.setenv("PIPECTL_TODAY", TODAY)
    root = make_repo(tmp_path / "biz")
    for name in ("sales", "partners"):
        r = Cli(root)("init", str(root / name))
        assert r.exit_code == 0, r.output
    return root


def run(where: Path, *args: str) -> tuple[int, str]:
    r = Cli(where)(*args)
    return r.exit_code, r.output


def add(where: Path, title: str, *args: str) -> None:
    code, out = run(where, "add", title, *args)
    assert code == 0, out


def history(where: Path, deal: str) -> list[dict[str, object]]:
    code, out = run(where, "history", deal, "--json")
    assert code == 0, out
    return json.loads(out)["events"]  # type: ignore[no-any-return]


def test_move_across_pipelines_is_one_rename_that_history_and_git_follow(space: Path) -> None:
    partners = space / "partners"
    add(partners, "Acme reseller deal", "--company", "Acme", "--value", "5000", "--owner", "ann")
    code, out = run(partners, "log", "acme", "call", "Intro call with their channel team")
    assert code == 0, out
    code, out = run(partners, "set", "acme", "next_step=Send the partner terms")
    assert code == 0, out
    before = commit_count(space)

    code, out = run(partners, "move", "acme", "sales/qualifying")
    assert code == 0, out
    assert out.strip() == "move acme-reseller-deal: partners/prospecting -> sales/qualifying"
    assert commit_count(space) == before + 1
    old, new = (
        "partners/prospecting/acme-reseller-deal.md",
        "sales/qualifying/acme-reseller-deal.md",
    )
    assert last_commit_paths(space) == [old, new]
    assert not (space / old).exists() and (space / new).exists()
    status = git(space, "show", "-M", "--name-status", "--format=", "HEAD").split()
    assert status[0].startswith("R") and status[1:] == [old, new]
    message = git(space, "log", "-1", "--format=%B")
    assert "Pipectl-From-Pipeline: partners" in message
    assert "Pipectl-To-Pipeline: sales" in message

    code, out = run(space / "sales", "move", "acme", "prospecting")
    assert code == 0, out

    # git log --follow and pipectl history name the same commits, in the same order
    follow = git(space, "log", "--follow", "--format=%H", "--", f"sales/prospecting/{new[17:]}")
    events = history(space / "sales", "acme")
    assert [e["commit"] for e in events] == follow.split()[::-1]
    assert [(e["kind"], e["from_stage"], e["stage"]) for e in events] == [
        ("created", None, "partners/prospecting"),
        ("logged", None, "partners/prospecting"),
        ("changed", None, "partners/prospecting"),
        ("moved", "partners/prospecting", "sales/qualifying"),
        ("moved", "sales/qualifying", "sales/prospecting"),
    ]
    # read from the pipeline it left, the life is the same whole life
    assert history(partners, "acme-reseller-deal") == events


def test_move_across_applies_the_target_gate_and_keeps_ids_unique(space: Path) -> None:
    partners, sales = space / "partners", space / "sales"
    add(partners, "Globex", "--value", "100")
    add(sales, "Globex", "--value", "200")
    add(partners, "Initech", "--value", "300")
    before = commit_count(space)
    files = sorted(p.read_bytes() for p in space.rglob("*.md"))

    code, out = run(partners, "move", "globex", "sales/qualifying")
    assert code == 2
    assert "sales has a deal 'globex' already" in out and "pipectl rename" in out
    code, out = run(partners, "move", "initech", "sales/connecting")
    assert code == 2
    assert "initech cannot enter connecting: missing qualification.budget" in out
    code, out = run(partners, "move", "initech", "nowhere/qualifying")
    assert code == 2 and "no pipeline 'nowhere' in this workspace" in out
    code, out = run(partners, "move", "initech", "sales/nosuch")
    assert code == 2 and "unknown stage 'nosuch'" in out
    assert commit_count(space) == before
    assert sorted(p.read_bytes() for p in space.rglob("*.md")) == files

    code, out = run(partners, "set", "initech", *[a for a in QUALIFIED if a != "--set"])
    assert code == 0, out
    code, out = run(space, "move", "initech", "sales/connecting")  # from the workspace root
    assert code == 0, out
    assert (sales / "connecting" / "initech.md").exists()


def test_from_the_workspace_root_without_C_the_error_says_what_to_do(space: Path) -> None:
    code, out = run(space, "list")
    assert code == 2
    assert out.startswith("pipectl: error: ")
    assert "is a workspace of pipelines (partners, sales)" in out
    assert "-C PIPELINE" in out and "--all" in out


def test_list_all_shows_each_deal_with_its_pipeline(space: Path) -> None:
    add(space / "sales", "Umbrella", "--value", "1000", "--owner", "bo")
    add(space / "partners", "Hooli", "--value", "250")
    code, out = run(space, "list", "--all", "--json")
    assert code == 0, out
    assert [(d["pipeline"], d["id"], d["path"]) for d in json.loads(out)] == [
        ("partners", "hooli", "prospecting/hooli.md"),
        ("sales", "umbrella", "prospecting/umbrella.md"),
    ]
    code, out = run(space / "sales", "list", "--all", "--format", "csv")
    assert code == 0, out
    assert out.splitlines()[0].startswith("pipeline,id,title,stage")
    assert out.splitlines()[1:] == [
        "partners,hooli,Hooli,prospecting,,Test User,250,,",
        "sales,umbrella,Umbrella,prospecting,,bo,1000,,",
    ]
    code, out = run(space, "list", "--all")
    assert code == 0, out
    assert out.splitlines()[0].split()[:2] == ["PIPELINE", "ID"]


def test_pipectl_yaml_lists_the_pipelines_and_its_faults_name_the_line(space: Path) -> None:
    add(space / "sales", "Umbrella", "--value", "1000")
    add(space / "partners", "Hooli", "--value", "250")
    (space / "pipectl.yaml").write_text("pipelines:\n  - sales\n")
    code, out = run(space, "list", "--all", "--format", "tsv")
    assert code == 0, out
    assert [line.split("\t")[:2] for line in out.splitlines()[1:]] == [["sales", "umbrella"]]
    (space / "pipectl.yaml").write_text("pipelines:\n  - sales\n  - nothere\n")
    code, out = run(space, "list", "--all")
    assert code == 2
    assert "pipectl.yaml:3: pipelines: 'nothere' holds no pipeline.yaml" in out
    (space / "pipectl.yaml").write_text("pipelines:\n  - ../elsewhere\n")
    code, out = run(space, "list", "--all")
    assert code == 2 and "pipectl.yaml:1: pipelines:" in out and "inside the workspace" in out
    (space / "pipectl.yaml").write_text("pipeline: [sales]\n")
    code, out = run(space, "list", "--all")
    assert code == 2 and "pipectl.yaml:1: pipeline: unknown key (known: pipelines)" in out


def _findings(where: Path, *args: str) -> list[dict[str, object]]:
    code, out = run(where, "lint", "--format", "json", "--today", TODAY, *args)
    assert code in (0, 1), out
    return json.loads(out)  # type: ignore[no-any-return]


def test_lint_all_is_the_pipelines_findings_summed_and_an_id_in_two(space: Path) -> None:
    sales, partners = space / "sales", space / "partners"
    add(sales, "Shared id", "--value", "10")
    add(sales, "No value here")
    add(partners, "Shared id", "--owner", "cy")
    add(partners, "Partner two", "--value", "5", "--owner", "cy", "--next-step", "Call")
    per = {name: _findings(space / name) for name in ("sales", "partners")}
    whole = _findings(space, "--all")

    dupes = [f for f in whole if f["code"] == "PL110"]
    assert sorted((f["path"], f["message"]) for f in dupes) == [
        (
            "partners/prospecting/shared-id.md",
            "id 'shared-id' is also used by sales/prospecting/shared-id.md",
        ),
        (
            "sales/prospecting/shared-id.md",
            "id 'shared-id' is also used by partners/prospecting/shared-id.md",
        ),
    ]
    rest = [f for f in whole if f["code"] != "PL110"]
    assert len(rest) == len(per["sales"]) + len(per["partners"])
    assert sorted((f["path"], f["code"], f["line"]) for f in rest) == sorted(
        (f"{name}/{f['path']}", f["code"], f["line"]) for name, found in per.items() for f in found
    )
    for level in ("error", "warning", "info"):
        summed = sum(1 for found in per.values() for f in found if f["severity"] == level)
        extra = sum(1 for f in dupes if f["severity"] == level)
        assert sum(1 for f in whole if f["severity"] == level) == summed + extra

    code, text = run(space, "lint", "--all", "--today", TODAY)
    assert code == 1
    lines = text.splitlines()
    total = len(whole)
    assert lines[-1].startswith(f"Found {total} problems (")
    assert any(
        line.startswith("sales ") and f"Found {len(per['sales'])} problems" in line
        for line in lines
    )
    assert "sales/prospecting/no-value-here.md:1:1: PL201" in text
    code, out = run(space, "lint", "--all", "sales")
    assert code == 2 and "give no PATH" in out
    # one pipeline alone never sees the other's ids
    assert not [f for f in per["sales"] if f["code"] == "PL110"]


def test_report_all_totals_are_the_pipelines_figures_summed(space: Path) -> None:
    sales, partners = space / "sales", space / "partners"
    add(sales, "S open", "--value", "1000.25", "--owner", "a")
    add(sales, "S win", "--value", "4000", "--owner", "a")
    add(sales, "S loss", "--value", "700", "--owner", "a")
    add(partners, "P open", "--value", "333.33", "--owner", "b", "--stage", "qualifying")
    add(partners, "P win", "--value", "1500", "--owner", "b")
    add(partners, "P win two", "--value", "99.5", "--owner", "b")
    for where, deal in ((sales, "s-win"), (partners, "p-win"), (partners, "p-win-two")):
        assert run(where, "won", deal)[0] == 0
    assert run(sales, "lost", "s-loss", "--reason", "price")[0] == 0

    per = {}
    for name in ("sales", "partners"):
        code, out = run(space / name, "report", "--json")
        assert code == 0, out
        per[name] = json.loads(out)
    code, out = run(space, "report", "--all", "--json")
    assert code == 0, out
    whole = json.loads(out)
    assert whole["pipelines"] == per  # each pipeline's part is its own report, unchanged
    total = whole["total"]
    assert total["currency"] == "USD"
    for key in ("deal_count", "open_count", "won_count", "lost_count"):
        assert total[key] == per["sales"][key] + per["partners"][key]
    for key in ("open_value", "weighted_value", "won_value", "lost_value"):
        assert total[key] == pytest.approx(per["sales"][key] + per["partners"][key], abs=0.005)
    # and from the deals themselves
    assert total["open_value"] == 1333.58
    assert total["won_value"] == 5599.5
    assert total["lost_value"] == 700
    assert (total["won_count"], total["lost_count"]) == (3, 1)
    assert total["win_rate"] == 0.75
    # each pipeline's weighted value is rounded to cents before the sum: within a cent each
    assert total["weighted_value"] == pytest.approx(1000.25 * 0.1 + 333.33 * 0.2, abs=0.011)

    code, text = run(space, "report", "--all")
    assert code == 0, text
    assert "== sales ==" in text and "== partners ==" in text and "== total ==" in text
    assert "open value: 1,333.58, weighted: " in text
    assert "won: 3 (5,599.50), lost: 1 (700), win rate: 75%" in text


def test_report_all_refuses_to_add_two_base_currencies(space: Path) -> None:
    config = space / "partners" / "pipeline.yaml"
    text = config.read_text()
    assert "base_currency: USD" in text
    config.write_text(text.replace("base_currency: USD", "base_currency: EUR"))
    code, out = run(space, "report", "--all")
    assert code == 2
    assert "different currencies (partners: EUR, sales: USD)" in out and "--currency" in out
    code, out = run(space, "report", "--all", "--html", "x.html")
    assert code == 2 and "-C PIPELINE" in out


def test_search_agenda_and_board_read_every_pipeline(space: Path) -> None:
    add(space / "sales", "Acme renewal", "--value", "900", "--owner", "bo")
    add(space / "partners", "Acme channel", "--value", "300", "--owner", "bo")
    add(space / "partners", "Other", "--value", "5", "--owner", "bo")

    code, out = run(space, "search", "--all", "acme", "--json")
    assert code == 0, out
    assert sorted((f["pipeline"], f["id"]) for f in json.loads(out)) == [
        ("partners", "acme-channel"),
        ("sales", "acme-renewal"),
    ]
    code, out = run(space, "search", "--all", "acme")
    assert code == 0, out
    heads = [line.split()[:2] for line in out.splitlines() if not line.startswith(" ")]
    assert sorted(heads) == [["partners", "acme-channel"], ["sales", "acme-renewal"]]

    code, out = run(space, "agenda", "--all", "--owner", "bo", "--format", "csv")
    assert code == 0, out
    rows = [line.split(",")[:3] for line in out.splitlines()]
    assert rows[0] == ["pipeline", "section", "id"]
    assert sorted(r[0] + "/" + r[2] for r in rows[1:]) == [
        "partners/acme-channel",
        "partners/other",
        "sales/acme-renewal",
    ]
    code, out = run(space, "agenda", "--all", "--owner", "bo", "--json")
    assert code == 0, out
    assert [p["pipeline"] for p in json.loads(out)] == ["partners", "sales"]

    code, out = run(space, "board", "--workspace", "--json")
    assert code == 0, out
    boards = json.loads(out)
    assert [b["pipeline"] for b in boards] == ["partners", "sales"]
    code, out = run(space, "board", "--workspace")
    assert code == 0, out
    assert out.startswith("== partners ==\n") and "\n== sales ==\n" in out


def test_docs_table_of_pipectl_yaml_is_generated_from_the_spec() -> None:
    from pipectl.workspace import spec_markdown

    page = (Path(__file__).parent.parent / "docs" / "workspace.md").read_text(encoding="utf-8")
    assert spec_markdown() in page


def test_discovery_finds_nested_pipelines_but_not_inside_one_or_hidden(tmp_path: Path) -> None:
    from pipectl import workspace

    root = make_repo(tmp_path / "r")
    for folder in ("a", "teams/emea", "a/won/nested", ".hidden/p", "deep/1/2/3/4/5"):
        (root / folder).mkdir(parents=True)
        (root / folder / "pipeline.yaml").write_text("")
    found = workspace.find(root / "teams")
    assert found is not None and not found.declared
    assert found.names == ("a", "teams/emea")
    assert workspace.find(root / "a" / "won") == found  # from inside a pipeline, the same
    empty = make_repo(tmp_path / "empty")
    assert workspace.find(empty) is None


def test_a_deal_back_and_forth_and_an_undone_crossing_are_one_life(space: Path) -> None:
    partners, sales = space / "partners", space / "sales"
    add(partners, "Wayne Enterprises deal", "--value", "800", "--owner", "di")
    assert run(partners, "move", "wayne", "sales/qualifying")[0] == 0
    code, out = run(sales, "undo")  # takes the move back in both pipelines, one commit
    assert code == 0, out
    assert (partners / "prospecting" / "wayne-enterprises-deal.md").exists()
    assert not (sales / "qualifying" / "wayne-enterprises-deal.md").exists()
    assert run(partners, "move", "wayne", "sales/qualifying")[0] == 0
    assert run(sales, "log", "wayne", "call", "Pricing call with procurement")[0] == 0
    assert run(sales, "move", "wayne", "partners/qualifying")[0] == 0

    events = history(partners, "wayne")
    assert [(e["kind"], e["from_stage"], e["stage"]) for e in events] == [
        ("created", None, "partners/prospecting"),
        ("moved", "partners/prospecting", "sales/qualifying"),
        ("moved", "sales/qualifying", "partners/prospecting"),  # the undo
        ("moved", "partners/prospecting", "sales/qualifying"),
        ("logged", None, "sales/qualifying"),
        ("moved", "sales/qualifying", "partners/qualifying"),
    ]
    path = "partners/qualifying/wayne-enterprises-deal.md"
    follow = git(space, "log", "--follow", "--format=%H", "--", path).split()[::-1]
    assert [e["commit"] for e in events] == follow
    assert history(space / "sales", "wayne-enterprises-deal") == events


def test_a_broken_pipeline_or_no_pipeline_is_one_line_and_exit_2(
    space: Path, tmp_path: Path
) -> None:
    config = space / "partners" / "pipeline.yaml"
    config.write_text(config.read_text() + "stages: [\n")
    for args in (
        ("list", "--all"),
        ("lint", "--all"),
        ("report", "--all"),
        ("search", "--all", "x"),
    ):
        code, out = run(space, *args)
        assert code == 2, (args, out)
        assert out.startswith("pipectl: error: ") and out.count("\n") == 1
        assert "partners/pipeline.yaml:" in out
    lonely = tmp_path / "lonely"
    lonely.mkdir()
    code, out = run(lonely, "list", "--all")
    assert code == 2 and "no pipelines in or below" in out and out.count("\n") == 1


def test_history_all_is_every_pipeline_with_each_crossing_one_move(space: Path) -> None:
    add(space / "partners", "Soylent deal", "--value", "70")
    add(space / "sales", "Tyrell deal", "--value", "80")
    assert run(space / "partners", "move", "soylent", "sales/qualifying")[0] == 0
    code, out = run(space, "history", "--all", "--json")
    assert code == 0, out
    rows = [(e["pipeline"], e["deal"], e["kind"], e["stage"]) for e in json.loads(out)["events"]]
    assert rows == [
        ("partners", "soylent-deal", "created", "partners/prospecting"),
        ("sales", "tyrell-deal", "created", "sales/prospecting"),
        ("sales", "soylent-deal", "moved", "sales/qualifying"),
    ]
    code, out = run(space, "history", "--all", "soyl")  # a deal looked up in every pipeline
    assert code == 0, out
    assert "moved partners/prospecting → sales/qualifying" in out
