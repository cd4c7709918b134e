"""Hostile and broken files: each gets a clear error naming the file, in bounded time and
memory, and no command changes a byte of the pipeline because of it.

Each case commits the bad file first, so "nothing changed" is both the bytes of every file and
`git status --porcelain`. Cases that could hang or blow up memory run pipectl in a subprocess
under a timeout and an address-space limit (RLIMIT_AS), so a regression fails instead of
hanging the suite; a segfault shows up as a negative return code.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO_ROOT, Cli, commit_count, git

from pipectl import yamlio

# --- helpers ---------------------------------------------------------------------------------


def snapshot(root: Path) -> dict[str, bytes | str]:
    """Every path under root except .git: file bytes, 'dir' or 'link -> target'."""
    out: dict[str, bytes | str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d != ".git"]
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            rel = p.relative_to(root).as_posix()
            if p.is_symlink():
                out[rel] = f"link -> {os.readlink(p)}"
            elif p.is_dir():
                out[rel] = "dir"
            else:
                out[rel] = p.read_bytes()
    return out


def status(root: Path) -> str:
    return git(root, "status", "--porcelain", "--untracked-files=all")


def commit_all(root: Path) -> None:
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "hostile fixture")


class Frozen:
    """The state of a repo, to assert a command left it exactly as it was."""

    def __init__(self, root: Path):
        self.root = root
        self.files = snapshot(root)
        self.status = status(root)
        self.commits = commit_count(root)

    def assert_unchanged(self) -> None:
        assert snapshot(self.root) == self.files
        assert status(self.root) == self.status
        assert commit_count(self.root) == self.commits


def run_bounded(cwd: Path, *args: str, timeout: float = 60, mem_mb: int = 1024):
    """pipectl in a subprocess with a timeout and an address-space limit."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (mem_mb << 20, mem_mb << 20))

    return subprocess.run(
        [sys.executable, "-m", "pipectl", "-C", str(cwd), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=limit,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )


def billion_laughs(levels: int = 9) -> str:
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, levels + 1):
        refs = ", ".join([f"*a{i - 1}"] * 9)
        lines.append(f"a{i}: &a{i} [{refs}]")
    return "\n".join(lines) + "\n"


GOOD = "---\ntitle: Good Deal\nvalue: 100\n---\n# Good\n"
LINT = ("lint", "--today", "2026-11-27")

# The commands each broken deal is put through; all must refuse it with exit 2.
COMMANDS = (
    ("show", "{id}"),
    ("show", "{id}", "--json"),
    ("set", "{id}", "value=5"),
    ("move", "{id}", "qualifying"),
    ("log", "{id}", "call", "hello"),
    ("next", "{id}", "call back"),
    ("won", "{id}"),
)

BROKEN = {
    # name: (file bytes, expected message, expected line or None)
    "non-utf8": (b"---\ntitle: caf\xe9\n---\n", "not valid UTF-8 (byte 0xe9)", 2),
    "tab-indent": (b"---\ntitle: x\n\tvalue: 3\n---\n", "found a tab character", 3),
    "duplicate-key": (b"---\ntitle: x\nvalue: 1\ntitle: y\n---\n", "duplicate key 'title'", 4),
    "python-object": (
        b"---\ntitle: !!python/object/apply:os.system ['touch PWNED']\n---\n",
        "could not determine a constructor for the tag",
        2,
    ),
    "python-name": (
        b"---\ntitle: x\nv: !!python/name:os.system\n---\n",
        "could not determine a constructor for the tag",
        3,
    ),
    "custom-tag": (b"---\ntitle: !vault secret\n---\n", "could not determine a constructor", 2),
    # found by fuzzing: both were a TypeError / ValueError traceback
    "set-tag-key": (b"---\ntitle: x\n!!set touchpoints: 1\n---\n", "found unhashable key", 3),
    "set-tag-scalar": (b"---\ntitle: x\nneed: !!set yes\n---\n", "expected a mapping node", 3),
    "bool-tag": (b"---\ntitle: x\ntags: [a, !!bool maybe]\n---\n", "fit its tag !!bool", 3),
    "int-tag": (b"---\ntitle: x\nvalue: !!int 12k\n---\n", "'12k' does not fit its tag !!int", 3),
    "never-closed": (b"---\ntitle: x\nvalue: 3\n\nnotes here\n", "frontmatter never closed", 1),
    "empty": (b"", "no frontmatter", 1),
    "no-frontmatter": (b"# Just notes\n", "no frontmatter", 1),
    "only-fence": (b"---", "no frontmatter", 1),
    "not-a-mapping": (b"---\n- a\n- b\n---\n", "frontmatter must be a mapping", 2),
    "bad-yaml": (b"---\ntitle: [unclosed\nvalue: 3\n---\n", "invalid YAML", 3),
    "billion-laughs": (
        ("---\ntitle: x\n" + billion_laughs() + "---\n").encode(),
        "expands to more than",
        None,
    ),
    "self-alias": (b"---\ntitle: x\nloop: &a [*a]\n---\n", "nested deeper than", None),
    "deep-flow": (
        ("---\ntitle: x\nv: " + "[" * 10_000 + "]" * 10_000 + "\n---\n").encode(),
        "nested deeper than",
        None,
    ),
    "deep-block": (  # 10,000 nested block sequences on one line
        ("---\ntitle: x\nv:\n" + "- " * 10_000 + "x\n---\n").encode(),
        "nested deeper than",
        None,
    ),
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_deal_is_refused_by_every_command(name, pipeline, cli, write_deal):
    data, message, line = BROKEN[name]
    deal_id = f"bad-{name}"
    write_deal(pipeline, "prospecting", deal_id, data)
    write_deal(pipeline, "prospecting", "good", GOOD)
    commit_all(pipeline)
    frozen = Frozen(pipeline)
    where = f"prospecting/{deal_id}.md" + (f":{line}: " if line else ": ")  # no line: none shown
    for command in COMMANDS:
        r = cli(*(word.format(id=deal_id) for word in command))
        assert r.exit_code == 2, (command, r.output)
        assert message in r.stderr, (command, r.stderr)
        assert where in r.stderr, (command, r.stderr)
        assert "Traceback" not in r.output
        assert len(r.stderr.strip().splitlines()) == 1
        frozen.assert_unchanged()
    # the rest of the pipeline still lists; the broken file is named, not fatal
    r = cli("list", "--json")
    assert r.exit_code == 0, r.output
    assert '"id": "good"' in r.stdout
    assert "warning: skipped" in r.stderr and where in r.stderr
    assert not (pipeline / "PWNED").exists()
    frozen.assert_unchanged()
    # lint reports it as PL101 at the same line, and goes on with the others
    finding = lint_finding(cli, f"prospecting/{deal_id}.md")
    assert finding["code"] == "PL101" and finding["severity"] == "error"
    assert message in finding["message"]
    assert finding["line"] == (line or 1)  # an error with no line of its own is on the first
    frozen.assert_unchanged()


def lint_finding(cli, path: str) -> dict:
    """The one lint finding on `path` (lint exits 1 on an error finding, never crashes)."""
    r = cli("lint", "--format", "json", "--today", "2026-11-27")
    assert r.exit_code == 1, r.output
    assert "Traceback" not in r.output
    findings = [f for f in json.loads(r.stdout) if f["path"] == path]
    assert len(findings) == 1, findings
    return findings[0]


@pytest.mark.parametrize("name", ["billion-laughs", "deep-flow"])
def test_hostile_yaml_is_bounded_in_a_subprocess(name, pipeline, write_deal):
    data, message, _line = BROKEN[name]
    write_deal(pipeline, "prospecting", "bomb", data)
    for args in (("show", "bomb", "--json"), ("list", "--json"), LINT):
        proc = run_bounded(pipeline, *args, timeout=60, mem_mb=1024)
        assert proc.returncode in (0, 1, 2), proc.stderr  # a crash would be negative
        assert message in proc.stderr + proc.stdout
        assert "Traceback" not in proc.stderr


def test_deeper_than_the_c_composer_survives():
    """libyaml's composer recurses on the C stack: 100,000 levels crashed the process."""
    code = (
        "from pipectl import yamlio\n"
        "for text in ('[' * 100000 + ']' * 100000, '- ' * 100000 + 'x', '{a: ' * 100000):\n"
        "    try:\n"
        "        yamlio.load(text)\n"
        "    except yamlio.YAMLError as exc:\n"
        "        print(type(exc).__name__)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO_ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["TooComplexError", "TooComplexError", "TooComplexError"]


def test_yaml_bounds_accept_ordinary_aliases():
    text = "base: &b {owner: alice, currency: EUR}\nother: *b\nlist: [*b, *b]\n"
    data = yamlio.load(text)
    assert data["other"] == {"owner": "alice", "currency": "EUR"}
    with pytest.raises(yamlio.TooComplexError):
        yamlio.load("v: " + "[" * (yamlio.MAX_DEPTH + 1) + "]" * (yamlio.MAX_DEPTH + 1))


# --- files pipectl can read, and edits that keep them as they are ----------------------------


def test_bom_crlf_and_mixed_endings_are_read_and_kept(pipeline, cli, write_deal):
    bom = write_deal(pipeline, "prospecting", "bom", b"\xef\xbb\xbf---\r\ntitle: B\r\n---\r\nx\r\n")
    mixed = write_deal(
        pipeline, "prospecting", "mixed", b"---\ntitle: M\r\nvalue: 3\n---\r\nbody\r\nmore\n"
    )
    commit_all(pipeline)
    r = cli("show", "bom")
    assert r.exit_code == 0 and r.stdout.startswith("B  [bom]"), r.output
    assert cli("set", "bom", "value=7").exit_code == 0
    assert bom.read_bytes() == b"\xef\xbb\xbf---\r\ntitle: B\r\nvalue: 7\r\n---\r\nx\r\n"
    assert cli("set", "mixed", "value=4").exit_code == 0
    assert mixed.read_bytes() == b"---\ntitle: M\r\nvalue: 4\n---\r\nbody\r\nmore\n"


def test_ten_megabyte_body_is_fast_and_kept(pipeline, write_deal):
    body = ("x" * 99 + "\n") * 100_000  # 10 MB
    path = write_deal(pipeline, "prospecting", "big", "---\ntitle: Big\nvalue: 1\n---\n" + body)
    commit_all(pipeline)
    proc = run_bounded(pipeline, "set", "big", "value=2", timeout=60, mem_mb=1024)
    assert proc.returncode == 0, proc.stderr
    assert path.read_bytes() == ("---\ntitle: Big\nvalue: 2\n---\n" + body).encode()
    proc = run_bounded(pipeline, "list", "--json", timeout=60, mem_mb=1024)
    assert proc.returncode == 0, proc.stderr
    assert '"id": "big"' in proc.stdout
    proc = run_bounded(pipeline, *LINT, "--format", "json", timeout=60, mem_mb=1024)
    assert proc.returncode in (0, 1), proc.stderr
    assert "prospecting/big.md" in proc.stdout


def test_file_names_with_spaces_and_unicode(pipeline, cli, write_deal):
    name = "Zoë & co deal"
    write_deal(pipeline, "prospecting", name, "---\ntitle: Zoë\n---\n")
    commit_all(pipeline)
    assert cli("show", name).exit_code == 0
    r = cli("log", name, "call", "hi")
    assert r.exit_code == 0, r.output
    r = cli("move", name, "qualifying")
    assert r.exit_code == 0, r.output
    assert (pipeline / "qualifying" / f"{name}.md").is_file()
    show = ("show", "--no-renames", "--name-only", "--format=", "HEAD")
    paths = git(pipeline, "-c", "core.quotepath=off", *show)
    assert sorted(paths.split("\n")[:-1]) == [f"prospecting/{name}.md", f"qualifying/{name}.md"]
    assert status(pipeline) == ""


@pytest.mark.parametrize("bad_id", ["../../etc/passwd", "/etc/passwd", "a/b", "..", ".hidden"])
def test_path_like_ids_are_refused(bad_id, pipeline, cli):
    frozen = Frozen(pipeline)
    r = cli("add", "Evil", "--id", bad_id)
    assert r.exit_code == 2, r.output
    assert "invalid id" in r.stderr
    for command in (("show", bad_id), ("move", bad_id, "qualifying"), ("set", bad_id, "v=1")):
        r = cli(*command)
        assert r.exit_code == 2, r.output
        assert "no deal" in r.stderr
    r = cli("move", "good", "../../etc")
    assert r.exit_code == 2
    frozen.assert_unchanged()


def test_directory_named_like_a_deal(pipeline, cli):
    (pipeline / "prospecting" / "folder.md").mkdir()
    (pipeline / "prospecting" / "folder.md" / "inner.txt").write_text("x")
    commit_all(pipeline)
    frozen = Frozen(pipeline)
    for command in (("show", "folder"), ("set", "folder", "value=1"), ("move", "folder", "won")):
        r = cli(*command)
        assert r.exit_code == 2, r.output
        assert "prospecting/folder.md: is a directory" in r.stderr
    assert cli("list").exit_code == 0
    assert "is a directory" in lint_finding(cli, "prospecting/folder.md")["message"]
    frozen.assert_unchanged()


def test_nothing_hostile_is_executed(pipeline, cli, write_deal):
    """Tags that would run code in an unsafe loader are never constructed."""
    marker = pipeline.parent / "executed"
    payloads = [
        f"!!python/object/apply:os.system ['touch {marker}']",
        f"!!python/object/apply:subprocess.call [['touch', '{marker}']]",
        "!!python/object/new:os.system",
        f'!!python/object/apply:builtins.exec [\'open("{marker}", "w")\']',
    ]
    for i, payload in enumerate(payloads):
        write_deal(pipeline, "prospecting", f"p{i}", f"---\ntitle: {payload}\n---\n")
        r = cli("show", f"p{i}")
        assert r.exit_code == 2
    assert cli("list", "--json").exit_code == 0
    assert cli(*LINT).exit_code == 1
    assert not marker.exists()


# --- a hostile pipeline.yaml ----------------------------------------------------------------

CONFIGS = {
    "not-utf8": (b"currency: \xff\n", "not UTF-8"),
    "not-a-mapping": (b"- a\n- b\n", "must be a mapping"),
    "bad-yaml": (b"stages: [a, b\n", "invalid YAML"),
    "python-tag": (b"currency: !!python/object/apply:os.system ['true']\n", "constructor"),
    "laughs": (("x: 1\n" + billion_laughs()).encode(), "expands to more than"),
    "deep": (("rules: " + "[" * 50_000 + "]" * 50_000 + "\n").encode(), "nested deeper than"),
    "path-stage": (b"stages: [prospecting, ../../etc, won]\n", "lowercase word"),
    "git-stage": (b"stages: [.git, won]\n", "lowercase word"),
    "dup-stage": (b"stages: [a, a]\n", "listed twice"),
    "unknown-key": (b"hooks: {pre: 'rm -rf /'}\n", "unknown key"),
    "stages-alias-bomb": (
        (
            billion_laughs(7).replace("a0:", "rules: {a0:").replace("\n", ", ")[:-2]
            + "}\n"
            + "stages: *a7\n"
        ).encode(),
        "expands to more than",
    ),
}


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_hostile_pipeline_yaml(name, pipeline, write_deal):
    data, message = CONFIGS[name]
    write_deal(pipeline, "prospecting", "good", GOOD)
    (pipeline / "pipeline.yaml").write_bytes(data)
    commit_all(pipeline)
    frozen = Frozen(pipeline)
    for args in (("list",), ("show", "good"), ("set", "good", "value=1"), LINT):
        proc = run_bounded(pipeline, *args, timeout=60, mem_mb=1024)
        assert proc.returncode == 2, (args, proc.stderr)
        assert message in proc.stderr, (args, proc.stderr)
        assert "pipeline.yaml" in proc.stderr
        assert "Traceback" not in proc.stderr
    frozen.assert_unchanged()


def test_no_config_key_runs_a_command():
    """Every key pipeline.yaml may hold is data; none names a program to run."""
    from pipectl.config import CONFIG_SPEC

    for entry in CONFIG_SPEC:
        assert entry.kind in ("list", "str", "map", "bool", "number"), entry
        for word in ("command", "exec", "hook", "script", "shell", "run"):
            assert word not in entry.key, entry


# --- links, FIFOs, huge files: never followed out, never blocking, never read whole ----------


def test_symlink_out_of_the_pipeline_is_neither_read_nor_written(
    pipeline, cli, tmp_path, monkeypatch
):
    monkeypatch.setenv("EDITOR", "false")  # were the link followed, `edit` fails, not hangs
    secret = tmp_path / "secret.md"
    secret.write_bytes(b"---\ntitle: TOP SECRET\nvalue: 1\n---\nkeys\n")
    (pipeline / "prospecting" / "leak.md").symlink_to(secret)
    commit_all(pipeline)
    frozen = Frozen(pipeline)
    for command in (*COMMANDS, ("show", "{id}", "--raw"), ("edit", "{id}")):
        r = cli(*(word.format(id="leak") for word in command))
        assert r.exit_code == 2, (command, r.output)
        assert "prospecting/leak.md: is a symbolic link to outside the pipeline" in r.stderr
        assert "TOP SECRET" not in r.output
        frozen.assert_unchanged()
    r = cli("list", "--json")
    assert r.exit_code == 0 and "TOP SECRET" not in r.output
    finding = lint_finding(cli, "prospecting/leak.md")
    assert "symbolic link to outside the pipeline" in finding["message"]
    assert "TOP SECRET" not in cli(*LINT, "--format", "json").output
    assert secret.read_bytes() == b"---\ntitle: TOP SECRET\nvalue: 1\n---\nkeys\n"


def test_symlink_inside_the_pipeline_is_read_but_never_written(pipeline, cli, write_deal):
    target = write_deal(pipeline, "prospecting", "real", GOOD)
    (pipeline / "qualifying" / "alias.md").symlink_to(target)
    commit_all(pipeline)
    frozen = Frozen(pipeline)
    r = cli("show", "alias")
    assert r.exit_code == 0 and "Good Deal" in r.stdout
    for command in (("set", "alias", "value=5"), ("log", "alias", "call", "x"), ("won", "alias")):
        r = cli(*command)
        assert r.exit_code == 2, r.output
        assert "qualifying/alias.md: is a symbolic link; pipectl does not write" in r.stderr
        frozen.assert_unchanged()


def test_stage_folder_linked_out_of_the_repo_is_not_written(pipeline, cli, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    git(pipeline, "rm", "-q", "-r", "connecting")
    (pipeline / "connecting").symlink_to(outside, target_is_directory=True)
    commit_all(pipeline)
    frozen = Frozen(pipeline)
    r = cli("add", "Sneaky", "--stage", "connecting", "--force")
    assert r.exit_code == 2, r.output
    assert "connecting/sneaky.md: is outside" in r.stderr
    assert list(outside.iterdir()) == []
    frozen.assert_unchanged()


def test_planted_temp_file_link_is_never_written_through(pipeline, cli, write_deal, monkeypatch):
    """The temp file's name is unguessable; even a link at that very name is not followed."""
    write_deal(pipeline, "prospecting", "good", GOOD)
    commit_all(pipeline)
    victim = pipeline.parent / "victim"
    victim.write_text("untouched")
    monkeypatch.setattr("secrets.token_hex", lambda n=None: "feedface")
    tmp = pipeline / "prospecting" / f".good.md.pipectl-{os.getpid()}-feedface.tmp"
    tmp.symlink_to(victim)
    frozen = Frozen(pipeline)
    r = cli("set", "good", "value=5")
    assert r.exit_code == 2, r.output
    assert "prospecting/good.md: cannot write: File exists" in r.stderr
    assert victim.read_text() == "untouched"
    frozen.assert_unchanged()


@pytest.mark.parametrize("target", ["/dev/zero", "/dev/urandom"])
def test_link_to_a_device_is_not_read(target, pipeline):
    (pipeline / "prospecting" / "zero.md").symlink_to(target)
    for args in (("list", "--json"), ("show", "zero"), LINT):
        proc = run_bounded(pipeline, *args, timeout=60, mem_mb=512)
        assert proc.returncode in (0, 1, 2), proc.stderr
        assert "zero.md" in proc.stderr + proc.stdout
        assert "is a symbolic link to outside the pipeline" in proc.stderr + proc.stdout


def test_fifo_named_like_a_deal_does_not_block(pipeline):
    os.mkfifo(pipeline / "prospecting" / "pipe.md")
    for args in (("list", "--json"), ("show", "pipe"), LINT):
        proc = run_bounded(pipeline, *args, timeout=60, mem_mb=512)
        assert proc.returncode in (0, 1, 2), proc.stderr
        assert "prospecting/pipe.md" in proc.stderr + proc.stdout
        assert "is not a regular file" in proc.stderr + proc.stdout


def test_oversized_deal_is_refused_not_read(pipeline, cli, write_deal, monkeypatch):
    monkeypatch.setattr("pipectl.store.MAX_DEAL_BYTES", 1000)
    write_deal(pipeline, "prospecting", "huge", "---\ntitle: x\n---\n" + "y" * 2000)
    commit_all(pipeline)
    frozen = Frozen(pipeline)
    for command in (("show", "huge"), ("set", "huge", "value=1")):
        r = cli(*command)
        assert r.exit_code == 2
        assert "prospecting/huge.md: is larger than 0 MB" in r.stderr
    frozen.assert_unchanged()


def test_fifo_outside_the_stages_does_not_block_lint(pipeline):
    """PL105 looks for stray deal files in other folders: it must not open a FIFO there."""
    (pipeline / "inbox").mkdir()
    os.mkfifo(pipeline / "inbox" / "pipe.md")
    (pipeline / "inbox" / "zero.md").symlink_to("/dev/zero")
    proc = run_bounded(pipeline, *LINT, timeout=60, mem_mb=512)
    assert proc.returncode in (0, 1), proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_file_only_libyaml_reads_is_refused_for_edits_with_its_name(pipeline, cli, write_deal):
    """Found by fuzzing: libyaml accepts a tab inside a plain key, the pure-Python composer
    that locates values for editing does not; that was a traceback, now a clean refusal."""
    write_deal(pipeline, "prospecting", "tabbed", "---\nt\title: Tabbed\nvalue: 1\n---\nbody\n")
    commit_all(pipeline)
    frozen = Frozen(pipeline)
    assert cli("show", "tabbed").exit_code == 0
    for command in (("set", "tabbed", "value=2"), ("log", "tabbed", "call", "hi")):
        r = cli(*command)
        assert r.exit_code == 2, r.output
        assert "prospecting/tabbed.md: cannot edit this frontmatter safely" in r.stderr
        assert len(r.stderr.strip().splitlines()) == 1
    frozen.assert_unchanged()


def test_a_clone_runs_no_merge_driver_until_its_user_registers_one(pipeline, cli, tmp_path):
    """The repo may name `merge=pipectl` (and filters) in .gitattributes; only a clone's own
    config defines what runs, and pipectl never registers anything as a side effect."""
    (pipeline / ".gitattributes").write_text("*/*.md merge=pipectl filter=evil\n")
    commit_all(pipeline)
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(pipeline), str(clone))
    git(clone, "config", "user.name", "Other")
    git(clone, "config", "user.email", "other@example.com")
    other = Cli(clone)
    for command in (("add", "Acme"), ("list",), ("log", "acme", "call", "hi"), LINT):
        assert other(*command).exit_code in (0, 1)
    config = git(clone, "config", "--list", "--local")
    assert "merge.pipectl" not in config and "filter.evil" not in config


def test_line_breaks_in_a_title_or_file_name_cannot_forge_trailers(pipeline, cli, write_deal):
    forged = "\n\nPipectl-Action: won\nPipectl-Deal: victim"
    assert cli("add", "Victim").exit_code == 0
    assert cli("add", f"Forge{forged}", "--id", "forge").exit_code == 0
    write_deal(pipeline, "prospecting", f"odd{forged}", "---\ntitle: Odd\n---\n")
    commit_all(pipeline)
    r = cli("log", f"odd{forged}", "call", f"hi{forged}")
    assert r.exit_code == 0, r.output
    for rev in ("HEAD", "HEAD~2"):
        message = git(pipeline, "log", "-1", "--format=%B", rev)
        trailers = git(pipeline, "log", "-1", "--format=%(trailers:only)", rev).split("\n")
        assert len(message.split("\n\n")[0].splitlines()) == 1  # a one-line subject
        assert [ln for ln in message.splitlines() if ln.startswith("Pipectl-Action")] == [
            trailers[0]
        ]
        assert [t for t in trailers if t.startswith("Pipectl-Action")] == [
            f"Pipectl-Action: {'log' if rev == 'HEAD' else 'add'}"
        ]
    r = cli("history", "victim", "--json")
    assert [e["action"] for e in json.loads(r.stdout)["events"]] == ["add"]


def test_terminal_escapes_in_a_deal_are_shown_not_obeyed(pipeline, cli, write_deal):
    """ESC sequences would retitle, clear or recolour the terminal; a line break in a value
    would print a line of the file's choosing (which a CI log may take for a command)."""
    write_deal(
        pipeline,
        "prospecting",
        "esc",
        (
            '---\ntitle: "T\\n::error file=x::forged\\e[2J"\nowner: "\\e]0;pwned\\a"\n'
            'company: "a\\rb\\u2028c\\x9b"\n'
            'touchpoints:\n  - {date: 2026-01-01, kind: "call\\n::warning::k", summary: s}\n'
            "---\nnotes\x1b[31m red\r\n::notice::body line\n"
        ),
    )
    for args in (("show", "esc"), ("list",)):
        r = cli(*args)
        assert r.exit_code == 0, r.output
        assert not [c for c in r.stdout if c not in "\n" and (ord(c) < 32 or 127 <= ord(c) < 160)]
        assert "\u2028" not in r.stdout
        assert "\\x1b]0;pwned\\x07" in r.stdout  # shown, escaped
    r = cli("show", "esc")
    forged = [ln for ln in r.stdout.splitlines() if ln.startswith("::")]
    assert forged == ["::notice::body line"]  # the body's own lines are notes, kept as lines


def test_nan_and_infinity_give_strict_json(pipeline, cli, write_deal):
    """`.nan` and `.inf` are YAML floats; JSON has neither (jq and strict parsers reject it)."""
    write_deal(
        pipeline, "prospecting", "odd", "---\ntitle: x\nvalue: .nan\nprobability: -.inf\n---\n"
    )

    def strict(text: str):
        return json.loads(text, parse_constant=lambda c: pytest.fail(f"{c} in JSON"))

    for args in (("list", "--json"), ("show", "odd", "--json")):
        r = cli(*args)
        assert r.exit_code == 0, r.output
        strict(r.stdout)
    assert cli("list").exit_code == 0
