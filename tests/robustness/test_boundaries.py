"""Nothing let in, round two (issue 13): what leads out of the pipeline is refused.

A lock file planted as a link (or a `.git` file naming any folder), a stage folder or a
pipeline.yaml that links out, git's location variables set by another repository's hook, a
.gitattributes that is a FIFO or a device: each is refused with one line naming the file,
and nothing outside the pipeline (or its real git dir) is read, created or changed. Every
case runs pipectl through its CLI on real files in real git repositories.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO_ROOT, Cli, commit_count, git, make_repo
from test_hostile import Frozen, commit_all, run_bounded

SECRET = b"---\ntitle: TOP SECRET\nvalue: 1\n---\nthe keys\n"


def one_line_error(r, text: str) -> None:
    assert text in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "Traceback" not in r.output


def clean_git(cwd: Path, *args: str) -> str:
    """git with none of the location variables a test sets for pipectl."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_") or "CONFIG" in k}
    return subprocess.run(
        ["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True
    ).stdout


# --- 1. the lock file: never through a link, never in a folder that is no git dir -----------


@pytest.fixture
def outside_git(tmp_path: Path) -> Path:
    """A pipeline unpacked from an archive: pipeline.yaml and stages, no repository."""
    root = tmp_path / "unpacked"
    assert Cli(root)("init", "--no-commit").exit_code == 0
    subprocess.run(["rm", "-rf", str(root / ".git")], check=True)
    return root


@pytest.mark.parametrize("plant", ["symlink", "hardlink", "fifo"])
def test_a_planted_lock_file_outside_git_is_neither_truncated_nor_written(
    plant, outside_git, tmp_path
):
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"precious\n")
    lock = outside_git / ".pipectl.lock"
    if plant == "symlink":
        lock.symlink_to(victim)
    elif plant == "hardlink":
        os.link(victim, lock)
    else:
        os.mkfifo(lock)
    r = Cli(outside_git)("add", "Acme")
    assert r.exit_code == 2, r.output
    why = {"symlink": "is a symbolic link", "hardlink": "has other names", "fifo": "is not a file"}
    one_line_error(r, f".pipectl.lock: {why[plant]}")
    assert victim.read_bytes() == b"precious\n"
    assert not (outside_git / "prospecting" / "acme.md").exists()


def test_a_lock_file_planted_as_a_link_in_the_git_dir_is_not_followed(pipeline, cli, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"precious\n")
    lock = pipeline / ".git" / "pipectl.lock"  # init made it; a plant replaces it
    lock.unlink()
    lock.symlink_to(victim)
    commits = commit_count(pipeline)
    r = cli("add", "Acme")
    assert r.exit_code == 2, r.output
    one_line_error(r, "pipectl.lock: is a symbolic link")
    assert victim.read_bytes() == b"precious\n"
    assert commit_count(pipeline) == commits


@pytest.mark.parametrize("target", ["missing", "empty", "ssh"])
@pytest.mark.parametrize("command", [("add", "Acme"), ("lint",), ("list",)])
def test_a_git_file_naming_a_folder_that_is_no_git_dir_gets_nothing_created_in_it(
    target, command, pipeline, tmp_path
):
    """`gitdir: /x` in a `.git` file: git refuses it, and so does pipectl, before its lock or
    its caches are made there (the lock used to create /x/pipectl.lock, folders included)."""
    elsewhere = tmp_path / "x"
    if target == "empty":
        elsewhere.mkdir()
    if target == "ssh":  # a real folder of the user's, with files
        elsewhere.mkdir()
        (elsewhere / "id_rsa").write_text("key\n")
    before = sorted(p.name for p in elsewhere.iterdir()) if elsewhere.exists() else None
    subprocess.run(["rm", "-rf", str(pipeline / ".git")], check=True)
    (pipeline / ".git").write_text(f"gitdir: {elsewhere}\n")
    r = Cli(pipeline)(*command)
    assert r.exit_code == 3, r.output
    one_line_error(r, f".git: points to {elsewhere}, which is not a git directory")
    after = sorted(p.name for p in elsewhere.iterdir()) if elsewhere.exists() else None
    assert after == before
    assert not (pipeline / "prospecting" / "acme.md").exists()


def test_a_linked_worktree_keeps_its_lock_in_its_own_git_dir(pipeline, cli, tmp_path):
    """A `.git` file that names a real git dir (a linked worktree) is what it is for."""
    assert cli("add", "Acme").exit_code == 0
    tree = tmp_path / "tree"
    git(pipeline, "worktree", "add", "-q", "-b", "side", str(tree))
    r = Cli(tree)("log", "acme", "call", "From the worktree")
    assert r.exit_code == 0, r.output
    assert "From the worktree" in git(pipeline, "show", "side:prospecting/acme.md")
    assert (pipeline / ".git" / "worktrees" / "tree" / "pipectl.lock").is_file()
    assert git(tree, "status", "--porcelain") == ""


def test_an_empty_dot_git_folder_is_passed_over_as_git_passes_it(tmp_path):
    """An archive's empty `.git` inside another repository: git works in the outer one, so
    pipectl must too; it used to take the empty folder for the repository and miss the outer
    one's state (here a detached HEAD, on which it committed without a word)."""
    outer = make_repo(tmp_path / "outer")
    root = outer / "sales"
    assert Cli(root)("init").exit_code == 0
    git(outer, "checkout", "-q", "--detach")
    (root / ".git").mkdir()
    commits = commit_count(outer)
    r = Cli(root)("add", "Acme")
    assert r.exit_code == 3, r.output
    one_line_error(r, "HEAD is detached")
    assert commit_count(outer) == commits
    assert list((root / ".git").iterdir()) == []


# --- 2. stage folders and pipeline.yaml that lead out: not read, not written ----------------


@pytest.fixture
def linked_out(pipeline: Path, tmp_path: Path) -> Path:
    """A committed stage folder (connecting) that is a link to a folder outside the repo."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "leak.md").write_bytes(SECRET)
    (outside / "other.md").write_bytes(SECRET)
    git(pipeline, "rm", "-q", "-r", "connecting")
    (pipeline / "connecting").symlink_to(outside, target_is_directory=True)
    (pipeline / "prospecting" / "good.md").write_text("---\ntitle: Good\nvalue: 5\n---\n")
    commit_all(pipeline)
    return pipeline


@pytest.mark.parametrize(
    "command",
    [
        ("show", "leak", "--raw"),
        ("show", "leak"),
        ("show", "lea"),  # a prefix lists the folders
        ("export",),
        ("export", "--format", "json"),
        ("export", "--stage", "connecting"),
        ("set", "leak", "value=9"),
        ("move", "leak", "closing", "--force"),
        ("log", "leak", "call", "hi"),
        ("import", "--dry-run", "{csv}"),
    ],
)
def test_a_stage_folder_linked_out_of_the_pipeline_is_never_read(command, linked_out, tmp_path):
    csv = tmp_path / "in.csv"
    csv.write_text("title\nNewco\n")
    frozen = Frozen(linked_out)
    r = Cli(linked_out)(*(word.format(csv=csv) for word in command))
    assert r.exit_code == 2, r.output
    assert "TOP SECRET" not in r.output and "the keys" not in r.output
    exact = command[1:2] == ("leak",)
    what = "connecting/leak.md: is in a folder" if exact else "connecting: is a stage folder"
    one_line_error(r, f"{what} linked to outside the pipeline; not read")
    frozen.assert_unchanged()
    assert (tmp_path / "outside" / "leak.md").read_bytes() == SECRET


def test_lint_and_list_name_the_folder_and_go_on(linked_out):
    cli = Cli(linked_out)
    r = cli("lint", "--format", "json", "--today", "2026-11-27")
    assert r.exit_code == 1, r.output  # an error finding, not a crash (4)
    assert "TOP SECRET" not in r.output
    findings = json.loads(r.stdout)
    folder = [f for f in findings if f["path"] == "connecting"]
    assert [f["code"] for f in folder] == ["PL101"], findings
    assert "linked to outside the pipeline" in folder[0]["message"]
    assert any(f["path"] == "prospecting/good.md" for f in findings)  # the others are linted
    r = cli("list", "--json")
    assert r.exit_code == 0, r.output
    assert [d["id"] for d in json.loads(r.stdout)] == ["good"]
    assert "connecting" in r.stderr and "TOP SECRET" not in r.output


def test_a_stage_folder_linked_out_of_the_pipeline_but_into_its_repo_is_not_written(tmp_path):
    """A pipeline in a subfolder of its repository: a stage folder may not lead to the rest
    of the repository either (writes used to be bounded by the repository, reads by the
    pipeline)."""
    repo = make_repo(tmp_path / "repo")
    root = repo / "sales"
    assert Cli(root)("init").exit_code == 0
    (repo / "archive").mkdir()
    git(root, "rm", "-q", "-r", "connecting")
    (root / "connecting").symlink_to("../archive", target_is_directory=True)
    commit_all(repo)
    frozen = Frozen(repo)
    r = Cli(root)("add", "Sneaky", "--stage", "connecting", "--force")
    assert r.exit_code == 2, r.output
    one_line_error(r, "connecting/sneaky.md: is outside")
    assert list((repo / "archive").iterdir()) == []
    frozen.assert_unchanged()


CONFIG_COMMANDS = (("list",), ("lint",), ("show", "good"), ("add", "Acme"), ("report",))


@pytest.mark.parametrize("target", ["outside", "dev-zero", "huge-inside", "fifo"])
def test_pipeline_yaml_is_read_only_as_a_small_regular_file_inside_the_pipeline(
    target, pipeline, tmp_path
):
    config = pipeline / "pipeline.yaml"
    text = config.read_bytes()
    config.unlink()
    expect = "pipeline.yaml: is a symbolic link to outside the pipeline; not read"
    if target == "outside":
        (tmp_path / "theirs.yaml").write_bytes(text)
        config.symlink_to(tmp_path / "theirs.yaml")
    elif target == "dev-zero":
        config.symlink_to("/dev/zero")
    elif target == "huge-inside":  # a link inside the pipeline is fine, 2 GB is not
        big = pipeline / "big.yaml"
        with big.open("wb") as f:
            f.write(text)
            f.truncate(2 << 30)  # sparse: 2 GB on paper, nothing on disk
        config.symlink_to("big.yaml")
        expect = "pipeline.yaml: is larger than 1 MB; not read"
    else:
        os.mkfifo(config)
        expect = "pipeline.yaml: is not a regular file; not read"
    for command in CONFIG_COMMANDS:
        proc = run_bounded(pipeline, *command, timeout=60, mem_mb=512)
        assert proc.returncode == 2, (command, proc.stderr)
        assert expect in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
        assert "TOP SECRET" not in proc.stdout
    assert not (pipeline / "prospecting" / "acme.md").exists()


def test_pipeline_yaml_linked_inside_the_pipeline_is_read(pipeline, cli):
    config = pipeline / "pipeline.yaml"
    (pipeline / "settings").mkdir()
    config.rename(pipeline / "settings" / "pipeline.yaml")
    config.symlink_to("settings/pipeline.yaml")
    assert cli("add", "Acme").exit_code == 0
    assert cli("list").exit_code == 0


# --- 3. git's location variables never send a commit elsewhere -------------------------------


@pytest.fixture
def two_repos(cli, pipeline: Path, tmp_path: Path) -> tuple[Path, Path]:
    """The pipeline (with a deal) and another repository, one commit each."""
    assert cli("add", "Acme").exit_code == 0
    other = make_repo(tmp_path / "other")
    (other / "file.txt").write_text("theirs\n")
    git(other, "add", "file.txt")
    git(other, "commit", "-q", "-m", "theirs")
    return pipeline, other


def repo_state(repo: Path) -> tuple[str, str, bytes, list[str]]:
    objects = sorted(str(p.relative_to(repo)) for p in (repo / ".git" / "objects").rglob("*"))
    refs = clean_git(repo, "for-each-ref")
    return (
        clean_git(repo, "rev-parse", "HEAD"),
        refs,
        (repo / ".git" / "index").read_bytes(),
        objects,
    )


VARIABLES = {
    "GIT_DIR": lambda o: {"GIT_DIR": str(o / ".git")},
    "GIT_WORK_TREE": lambda o: {"GIT_WORK_TREE": str(o)},
    "GIT_INDEX_FILE": lambda o: {"GIT_INDEX_FILE": str(o / ".git" / "index")},
    "GIT_OBJECT_DIRECTORY": lambda o: {"GIT_OBJECT_DIRECTORY": str(o / ".git" / "objects")},
    "GIT_COMMON_DIR": lambda o: {"GIT_COMMON_DIR": str(o / ".git")},
    "all, as a hook has them": lambda o: {
        "GIT_DIR": str(o / ".git"),
        "GIT_WORK_TREE": str(o),
        "GIT_INDEX_FILE": str(o / ".git" / "index"),
        "GIT_PREFIX": "",
    },
}


@pytest.mark.parametrize("variables", list(VARIABLES))
@pytest.mark.parametrize(
    "command", [("log", "acme", "call", "Hello"), ("set", "acme", "value=7"), ("add", "Newco")]
)
def test_location_variables_never_send_a_commit_to_another_repository(
    variables, command, two_repos, monkeypatch
):
    pipeline, other = two_repos
    theirs = repo_state(other)
    commits = commit_count(pipeline)
    for key, value in VARIABLES[variables](other).items():
        monkeypatch.setenv(key, value)
    r = Cli(pipeline)(*command)
    assert r.exit_code == 0, r.output
    monkeypatch.undo()  # read both repositories as they are, without the variables
    assert repo_state(other) == theirs
    assert commit_count(pipeline) == commits + 1
    assert clean_git(pipeline, "status", "--porcelain") == ""
    clean_git(pipeline, "fsck", "--no-dangling")  # the commit's objects are in this repo
    changed = clean_git(pipeline, "show", "--name-only", "--format=", "HEAD").split()
    assert changed and all(p.startswith("prospecting/") for p in changed)


def test_run_from_another_repositorys_pre_commit_hook(two_repos):
    """git gives its hooks the index it is building (`commit --only`: a temporary one); a
    pipectl run from the hook used to commit that index's tree into the pipeline."""
    pipeline, other = two_repos
    hook = other / ".git" / "hooks" / "pre-commit"
    hook.write_text(
        f"#!/bin/sh\nPYTHONPATH={REPO_ROOT} exec {sys.executable} -m pipectl "
        f"-C {pipeline} log acme call 'From the hook'\n"
    )
    hook.chmod(0o755)
    (other / "file.txt").write_text("theirs, changed\n")
    git(other, "commit", "-q", "--only", "-m", "theirs again", "--", "file.txt")
    assert clean_git(pipeline, "ls-files") == clean_git(
        pipeline, "ls-tree", "-r", "--name-only", "HEAD"
    )
    assert "file.txt" not in clean_git(pipeline, "ls-tree", "-r", "--name-only", "HEAD")
    assert "From the hook" in (pipeline / "prospecting" / "acme.md").read_text()
    assert clean_git(pipeline, "status", "--porcelain") == ""
    assert clean_git(other, "ls-tree", "-r", "--name-only", "HEAD").split() == ["file.txt"]


def test_git_config_variable_does_not_take_the_merge_driver_elsewhere(
    cli, pipeline, tmp_path, monkeypatch
):
    elsewhere = tmp_path / "elsewhere.gitconfig"
    monkeypatch.setenv("GIT_CONFIG", str(elsewhere))
    r = cli("setup")
    assert r.exit_code == 0, r.output
    assert not elsewhere.exists()
    monkeypatch.delenv("GIT_CONFIG")
    assert "merge.pipectl.driver" in clean_git(pipeline, "config", "--local", "--list")


# --- 4. .gitattributes is read like a deal ---------------------------------------------------


@pytest.mark.parametrize("plant", ["fifo", "dev-zero", "huge", "not-utf8"])
@pytest.mark.parametrize("command", ["setup", "init"])
def test_a_hostile_gitattributes_is_refused_without_hanging(plant, command, pipeline, tmp_path):
    root = pipeline if command == "setup" else tmp_path / "fresh"
    root.mkdir(exist_ok=True)
    attributes = root / ".gitattributes"
    attributes.unlink(missing_ok=True)
    expect = {
        "fifo": ".gitattributes: is not a regular file; not read",
        "dev-zero": ".gitattributes: is a symbolic link; not read",
        "huge": ".gitattributes: is larger than 1 MB; not read",
        "not-utf8": ".gitattributes: not valid UTF-8",
    }[plant]
    if plant == "fifo":
        os.mkfifo(attributes)
    elif plant == "dev-zero":
        attributes.symlink_to("/dev/zero")
    elif plant == "huge":
        attributes.write_bytes(b"# padding\n" * 200_000)
    else:
        attributes.write_bytes(b"*.txt text # caf\xe9\n")
    before = sorted(p.name for p in root.iterdir())
    proc = run_bounded(root, command, timeout=30, mem_mb=512)
    assert proc.returncode == 2, proc.stderr
    assert expect in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert sorted(p.name for p in root.iterdir()) == before  # init made nothing, kept nothing


# --- 5. deal files named .MD ------------------------------------------------------------------


def test_a_deal_file_named_with_an_upper_case_extension_is_reported_by_lint(pipeline, cli):
    deal = b"---\ntitle: Shouty\nvalue: 5\n---\n"
    (pipeline / "prospecting" / "shouty.MD").write_bytes(deal)
    (pipeline / "qualifying" / "mixed.Md").write_bytes(deal)
    (pipeline / "qualifying" / "NOTES.MD").write_text("# not a deal: no frontmatter\n")
    (pipeline / "inbox").mkdir()
    (pipeline / "inbox" / "lost.MD").write_bytes(deal)
    r = cli("lint", "--format", "json", "--today", "2026-11-27")
    found = {f["path"]: f["message"] for f in json.loads(r.stdout) if f["code"] == "PL105"}
    assert set(found) == {"prospecting/shouty.MD", "qualifying/mixed.Md", "inbox/lost.MD"}
    assert found["prospecting/shouty.MD"].endswith("rename it to shouty.md")
    assert found["qualifying/mixed.Md"].endswith("rename it to mixed.md")
    assert "move it into a stage folder" in found["inbox/lost.MD"]
    assert found["inbox/lost.MD"].endswith("and rename it to lost.md")
    # only lint sees such a file: ids, and so deal file names, are lower-case
    assert cli("show", "shouty").exit_code == 2
    assert json.loads(cli("list", "--json").stdout) == []


# --- 6. which commands register the merge driver: exactly those SECURITY.md names -------------


REGISTERING = {"init", "setup", "sync"}
OTHERS = (
    ("add", "Newco"),
    ("log", "acme", "call", "hi"),
    ("set", "acme", "value=3"),
    ("move", "acme", "qualifying"),
    ("show", "acme"),
    ("list",),
    ("lint",),
    ("board",),
    ("report",),
    ("export",),
)


def registered(root: Path) -> bool:
    return "merge.pipectl" in git(root, "config", "--local", "--list")


def test_security_md_names_every_command_that_registers_the_merge_driver(cli, pipeline, tmp_path):
    """SECURITY.md said only `setup` registers pipectl's merge driver; `init` and `sync` do
    too. The document must name exactly the commands that do."""
    assert cli("add", "Acme").exit_code == 0
    bare = tmp_path / "remote.git"
    git(tmp_path, "clone", "-q", "--bare", str(pipeline), str(bare))
    seen = set()
    fresh = make_repo(tmp_path / "fresh")
    assert Cli(fresh)("init").exit_code == 0
    if registered(fresh):
        seen.add("init")
    for command in (("setup",), ("sync",), *OTHERS):
        clone = tmp_path / f"clone-{command[0]}"
        git(tmp_path, "clone", "-q", str(bare), str(clone))
        git(clone, "config", "user.name", "Other")
        git(clone, "config", "user.email", "other@example.com")
        r = Cli(clone)(*command)
        assert r.exit_code in (0, 1), (command, r.output)
        if registered(clone):
            seen.add(command[0])
    assert seen == REGISTERING
    text = (REPO_ROOT / "SECURITY.md").read_text()
    bullet = text[text.index("**Never runs a merge driver or filter a repository names.**") :]
    bullet = bullet[: bullet.index("\n- ")]
    every = {c[0] for c in OTHERS} | REGISTERING
    assert {c for c in every if f"`pipectl {c}`" in bullet} == seen, bullet
