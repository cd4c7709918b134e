"""The defects an independent review found after issues 12 and 13, each through the CLI on a
real git repository: a line ending git converts, comments inside a block, a field required
everywhere at a stage's gate, touchpoint faults told by place, `add --force`'s trailer, the
file a refusal names, unsetting an empty value, the roster and git's author identity, and
the report's stays."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import Cli, commit_count, git, last_commit_paths
from test_schema_writes import refused, snapshot

from pipectl.gitrepo import GitRepo


def commit_all(root: Path, message: str = "by hand") -> None:
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)


def head_message(root: Path) -> str:
    return git(root, "log", "-1", "--format=%B")


DEAL = "---\ntitle: Acme\ncreated: 2026-03-01\n{extra}---\n# Acme\n"


@pytest.fixture
def acme(pipeline: Path, write_deal) -> Path:
    path = write_deal(pipeline, "prospecting", "acme", DEAL.format(extra=""))
    commit_all(pipeline, "add acme by hand")
    return path


# --- 2. a block with comments inside is refused, never flattened -----------------------------


@pytest.mark.parametrize(
    "block",
    [
        "tags:\n  - a  # first\n  - b\n",
        "tags:\n  - a\n  # the next one is new\n  - b\n",
        "extra:\n  k: 1  # why\n  j: 2\n",
    ],
)
def test_setting_a_block_with_comments_inside_is_refused(
    cli: Cli, pipeline: Path, write_deal, block: str
) -> None:
    path = write_deal(pipeline, "prospecting", "acme", DEAL.format(extra=block))
    commit_all(pipeline)
    key = block.split(":")[0]
    line = refused(cli, pipeline, "set", "acme", f"{key}=z", message="has comments inside")
    comment = 1 + next(i for i, ln in enumerate(path.read_text().splitlines()) if "#" in ln)
    assert f"{path}:{comment}: {key}:" in line and "edit it by hand" in line


def test_a_hash_inside_a_value_is_no_comment(cli: Cli, pipeline: Path, write_deal) -> None:
    block = "tags:\n  - a#b\n  - '#1'\nextra:\n  k: \"x # y\"\n"
    path = write_deal(pipeline, "prospecting", "acme", DEAL.format(extra=block))
    commit_all(pipeline)
    assert cli("set", "acme", "tags=c", "extra={z: 1}").exit_code == 0
    text = path.read_text()
    assert "tags: [c]\n" in text and "extra: {z: 1}\n" in text


# --- 3. a field required in every stage is lint's, not a gate's ------------------------------


def test_a_field_required_everywhere_does_not_gate_a_close(
    cli: Cli, pipeline: Path, acme: Path
) -> None:
    config = pipeline / "pipeline.yaml"
    fields = (
        "fields:\n  region: {type: text, required: true}\n"
        "  seats: {type: integer, required: [won]}\n"
    )
    config.write_text(config.read_text() + fields)
    commit_all(pipeline, "fields")
    r = cli("lost", "acme", "--reason", "price")
    assert r.exit_code == 0, r.output
    assert (pipeline / "lost" / "acme.md").exists()
    r = cli("lint", "--select", "PL102")
    assert r.exit_code == 1 and "region" in r.stdout  # lint still says it
    # a field required only in some stages still gates entering them
    assert cli("move", "acme", "prospecting", "--reopen").exit_code == 0
    line = refused(cli, pipeline, "won", "acme", message="cannot enter won: missing seats")
    assert "region" not in line
    assert cli("set", "acme", "seats=5").exit_code == 0
    assert cli("won", "acme").exit_code == 0


# --- 4. touchpoint faults are told by the touchpoint, not by its place ------------------------

TOUCHPOINTS = (
    "touchpoints:\n"
    "  - {date: 2026-03-02, kind: call, summary: first}\n"
    "  - {date: 2026-03-03, kind: visit, summary: the old fault}\n"
)


def test_deleting_an_earlier_touchpoint_is_no_new_fault(
    cli: Cli, pipeline: Path, write_deal, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_deal(pipeline, "prospecting", "acme", DEAL.format(extra=TOUCHPOINTS))
    commit_all(pipeline)
    editor = tmp_path / "editor.py"
    editor.write_text(
        "import sys\np = sys.argv[1]\nt = open(p).read()\n"
        "first = '  - {date: 2026-03-02, kind: call, summary: first}\\n'\n"
        "open(p, 'w').write(t.replace(first, ''))\n"
    )
    monkeypatch.setenv("EDITOR", f"{sys.executable} {editor}")
    r = cli("edit", "acme")
    assert r.exit_code == 0, r.output
    assert "first" not in path.read_text()
    # a second fault alike is still a new one
    twice = TOUCHPOINTS + "  - {date: 2026-03-03, kind: visit, summary: the old fault}\n"
    before = snapshot(pipeline)
    editor.write_text(
        f"p = __import__('sys').argv[1]\nopen(p, 'w').write({DEAL.format(extra=twice)!r})\n"
    )
    r = cli("edit", "acme")
    assert r.exit_code == 2 and "touchpoint 3: kind 'visit'" in r.stderr, r.output
    assert snapshot(pipeline) == before


# --- 6. add --force says so in its commit -----------------------------------------------------


def test_add_force_writes_the_forced_trailer(cli: Cli, pipeline: Path) -> None:
    assert cli("add", "Plain").exit_code == 0
    assert "Pipectl-Forced" not in head_message(pipeline)
    r = cli("add", "Gated", "--stage", "connecting", "--force")
    assert r.exit_code == 0, r.output
    assert "Pipectl-Forced: yes" in head_message(pipeline)


# --- 7. a refusal names the deal's file -------------------------------------------------------


def test_a_value_that_is_no_date_names_the_file(cli: Cli, pipeline: Path, acme: Path) -> None:
    line = refused(cli, pipeline, "set", "acme", "next_step_due=soonish", message="not a date")
    assert line.startswith(f"pipectl: error: {acme}: next_step_due: 'soonish'"), line


@pytest.mark.parametrize(
    "args",
    [
        ("move", "acme", "qualifying", "--date", "someday"),
        ("lost", "acme", "--reason", "price", "--date", "someday"),
        ("won", "acme", "--date", "2999-01-01"),
        ("log", "acme", "call", "Hello", "--date", "someday"),
        ("next", "acme", "Call back", "--due", "someday"),
    ],
)
def test_a_date_option_that_is_no_date_names_the_file(
    cli: Cli, pipeline: Path, acme: Path, args: tuple[str, ...]
) -> None:
    what = "--due" if "--due" in args else "--date"
    line = refused(cli, pipeline, *args, message=what)
    assert line.startswith(f"pipectl: error: {acme}: {what}: "), line


def test_a_bad_date_of_a_new_deal_names_the_file_it_would_make(cli: Cli, pipeline: Path) -> None:
    new = pipeline / "qualifying" / "new-co.md"
    for args in (
        ("--date", "someday"),
        ("--next-step", "Call", "--due", "someday"),
        ("--set", "expected_close=someday"),
    ):
        line = refused(cli, pipeline, "add", "New Co", "--stage", "qualifying", *args, message="")
        assert line.startswith(f"pipectl: error: {new}: "), line
    line = refused(cli, pipeline, "move", "nobody", "qualifying", "--date", "x", message="")
    assert line.startswith("pipectl: error: --date: 'x'"), line  # no such deal: as it was


def test_a_gate_refusal_names_the_file(cli: Cli, pipeline: Path, acme: Path) -> None:
    line = refused(cli, pipeline, "move", "acme", "connecting", message="acme cannot enter")
    assert line.startswith(f"pipectl: error: {acme}: acme cannot enter"), line
    line = refused(cli, pipeline, "add", "Next", "--stage", "closing", message="cannot enter")
    new = pipeline / "closing" / "next.md"
    assert line.startswith(f"pipectl: error: {new}: cannot enter closing"), line


# --- 8. --unset removes a key whose value is empty --------------------------------------------


@pytest.mark.parametrize(
    ("extra", "key", "gone"),
    [
        ("region:\nowner: x\n", "region", "region:\n"),
        ("region:   \nowner: x\n", "region", "region:   \n"),
        ("qualification:\n  budget:\n  need: yes\n", "qualification.budget", "  budget:\n"),
    ],
)
def test_unset_removes_an_empty_value_in_place(
    cli: Cli, pipeline: Path, write_deal, extra: str, key: str, gone: str
) -> None:
    path = write_deal(pipeline, "prospecting", "acme", DEAL.format(extra=extra))
    commit_all(pipeline)
    before = path.read_text()
    r = cli("set", "acme", "--unset", key)
    assert r.exit_code == 0, r.output
    assert path.read_text() == before.replace(gone, "", 1)
    assert commit_count(pipeline) == 3 and git(pipeline, "status", "--porcelain") == ""
    refused(cli, pipeline, "set", "acme", "--unset", key, message=f"{key}: not set")


# --- 1. core.autocrlf: a deal checked out with CRLF is no uncommitted edit ---------------------


@pytest.fixture
def crlf(pipeline: Path, write_deal) -> Path:
    """A pipeline in a repo with core.autocrlf=true (Git for Windows' default) whose deals were
    checked out with CRLF: HEAD holds LF, the files hold CRLF, and git calls them clean."""
    git(pipeline, "config", "core.autocrlf", "true")
    for name in ("acme", "beta", "gamma"):
        write_deal(pipeline, "prospecting", name, DEAL.format(extra=f"owner: {name}\n"))
    commit_all(pipeline, "deals")
    for name in ("acme", "beta", "gamma"):
        (pipeline / "prospecting" / f"{name}.md").unlink()
    git(pipeline, "checkout", "--", "prospecting")
    path = pipeline / "prospecting" / "acme.md"
    assert b"\r\n" in path.read_bytes() and git(pipeline, "status", "--porcelain") == ""
    assert b"\r\n" not in git(pipeline, "cat-file", "-p", "HEAD:prospecting/acme.md").encode()
    return path


def test_a_crlf_checkout_is_written_and_keeps_its_line_ends(cli: Cli, crlf: Path) -> None:
    root = crlf.parents[1]
    r = cli("log", "acme", "call", "Discovery", "--date", "2026-03-02")
    assert r.exit_code == 0, r.output
    assert cli("set", "acme", "value=100").exit_code == 0
    data = crlf.read_bytes()
    assert b"value: 100\r\n" in data and b"summary: Discovery}\r\n" in data
    assert data.count(b"\n") == data.count(b"\r\n")  # every line still ends with CRLF
    assert git(root, "status", "--porcelain") == ""
    assert commit_count(root) == 4


def test_many_crlf_deals_in_one_change_are_checked_together(
    cli: Cli, crlf: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sweep writes every candidate in one change: git is asked about them all at once,
    never once per deal."""
    root = crlf.parents[1]
    asked: list[str] = []
    run = GitRepo.run

    def counted(self: GitRepo, args, **kw):  # type: ignore[no-untyped-def]
        asked.append(args[0])
        return run(self, args, **kw)

    monkeypatch.setattr(GitRepo, "run", counted)
    r = cli("sweep", "--last-chance", "--today", "2026-11-27")
    assert r.exit_code == 0, r.output
    for name in ("acme", "beta", "gamma"):
        data = (root / "prospecting" / f"{name}.md").read_bytes()
        assert b"touchpoints:\r\n  - {date: 2026-11-27" in data, data
        assert data.count(b"\n") == data.count(b"\r\n")
    assert last_commit_paths(root) == [f"prospecting/{n}.md" for n in ("acme", "beta", "gamma")]
    assert git(root, "status", "--porcelain") == ""
    assert asked.count("hash-object") == 1 and asked.count("check-attr") <= 1, asked


def test_a_real_edit_under_autocrlf_is_still_refused(cli: Cli, crlf: Path) -> None:
    root = crlf.parents[1]
    crlf.write_bytes(crlf.read_bytes().replace(b"owner: acme\r\n", b"owner: someone\r\n"))
    before = snapshot(root)
    r = cli("set", "acme", "value=100")
    assert r.exit_code == 2 and "has changes not committed yet" in r.stderr, r.output
    assert snapshot(root) == before and commit_count(root) == 2


def test_files_whose_attributes_differ_are_hashed_each_by_its_own(crlf: Path) -> None:
    root = crlf.parents[1]
    (root / ".gitattributes").write_text("prospecting/beta.md -text\n")
    crlf_bytes, lf_bytes = b"a: 1\r\nb: 2\r\n", b"a: 1\nb: 2\n"
    ids = GitRepo(root).stored_ids(
        [(f"prospecting/{n}.md", crlf_bytes) for n in ("acme", "beta", "gamma")]
    )
    lf, as_is = raw_id(root, lf_bytes), raw_id(root, crlf_bytes)
    assert ids == {
        "prospecting/acme.md": lf,
        "prospecting/beta.md": as_is,
        "prospecting/gamma.md": lf,
    }


def raw_id(root: Path, data: bytes) -> str:
    """The blob id of exactly these bytes, unconverted."""
    args = ["git", "hash-object", "--no-filters", "--stdin"]
    return (
        subprocess.run(args, cwd=root, input=data, capture_output=True, check=True)
        .stdout.decode()
        .strip()
    )


# --- 5. the report's stays: a backdated stage_entered, commit dates out of order ---------------


def on(monkeypatch: pytest.MonkeyPatch, day: str) -> None:
    """The next commits are dated `day` (author and committer), as a backdated history."""
    for var in ("GIT_AUTHOR_DATE", "GIT_COMMITTER_DATE"):
        monkeypatch.setenv(var, f"{day}T12:00:00+00:00")


def stays(root: Path) -> dict:
    import json

    r = Cli(root)("report", "--json", "--today", "2026-03-01")
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)["time_in_stage"]


def test_a_backdated_move_ends_the_stay_before_it_when_it_says(
    cli: Cli, pipeline: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    on(monkeypatch, "2026-01-05")
    assert cli("add", "Acme", "--date", "2026-01-05").exit_code == 0
    on(monkeypatch, "2026-01-20")  # recorded on the 20th, it happened on the 10th
    assert cli("move", "acme", "qualifying", "--date", "2026-01-10").exit_code == 0
    got = stays(pipeline)
    assert got["prospecting"]["avg_days"] == 5  # 5 to 10 January, not to the 20th
    assert got["qualifying"]["open_avg_days"] == 50  # as lint and the board count it
    r = cli("board", "--json", "--today", "2026-03-01")
    assert r.exit_code == 0 and '"days_in_stage": 50' in r.stdout, r.stdout


def test_commit_dates_out_of_order_never_count_negative_days(
    cli: Cli, pipeline: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    on(monkeypatch, "2026-01-10")
    assert cli("add", "Acme", "--date", "2026-01-10").exit_code == 0
    on(monkeypatch, "2026-01-20")
    assert cli("move", "acme", "qualifying", "--date", "2026-01-20").exit_code == 0
    on(monkeypatch, "2026-01-15")  # a clock set wrong, a rebase: this commit dates earlier
    assert cli("move", "acme", "closing", "--date", "2026-01-15", "--force").exit_code == 0
    on(monkeypatch, "2026-01-25")
    assert cli("move", "acme", "connecting", "--date", "2026-01-25", "--force").exit_code == 0
    got = stays(pipeline)
    assert got["prospecting"]["avg_days"] == 10
    assert (got["qualifying"]["count"], got["qualifying"]["avg_days"]) == (1, 0)  # not -5
    assert got["closing"]["avg_days"] == 10
    assert got["connecting"]["open_avg_days"] == 35


# --- 9. the roster matches the author identity git resolves -----------------------------------


def test_the_default_owner_is_the_author_git_would_record(
    pipeline: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from test_roster import ROSTER, owner_of

    with (pipeline / "pipeline.yaml").open("a", encoding="utf-8") as f:
        f.write(ROSTER)
    git(pipeline, "config", "user.name", "Alice Smith")
    git(pipeline, "config", "user.email", "alice@acme.example")
    commit_all(pipeline, "the team")
    cli = Cli(pipeline)
    assert cli("add", "One").exit_code == 0
    assert owner_of(pipeline, "one") == "alice"
    # $GIT_AUTHOR_NAME overrides the config, as git's own author is Bob Jones now
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Bob Jones")
    r = cli("add", "Two")
    assert r.exit_code == 0, r.output
    assert git(pipeline, "log", "-1", "--format=%an").strip() == "Bob Jones"
    assert owner_of(pipeline, "two") == "bob"
    # so does author.name over user.email; at one level the email is the surer word
    monkeypatch.delenv("GIT_AUTHOR_NAME")
    git(pipeline, "config", "author.name", "Bob Jones")
    assert cli("add", "Three").exit_code == 0 and owner_of(pipeline, "three") == "bob"
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Bob Jones")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "alice@acme.example")
    assert cli("add", "Four").exit_code == 0 and owner_of(pipeline, "four") == "alice"
