"""No user text acts as a workflow command in a GitHub Actions log (issue 18).

The log is read the way GitHub's runner reads it (actions/runner, ActionCommandManager): each
line, leading blanks skipped, that starts `::` is a command, and so is, in the old syntax, a
line holding `##[`; after `::stop-commands::TOKEN` no command is obeyed until `::TOKEN::`.
pipectl runs as a real process, as in a job, on a pipeline whose folder name, titles and
field values hold `::`, `%`, CR, LF, ANSI escapes, `::stop-commands::` and GitLab's section
markers.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import make_repo
from lintlab import Lab, touch

TODAY = "2026-11-27"
EVIL = (
    "x\n::add-mask::secret\r\n::error title=pwn::owned %0A %25 \x1b[31mred\x1b[0m "
    "##[add-mask]v1 ::stop-commands::abc\n::abc::\nsection_start:1700000000:evil\r\x1b[0Kend"
)
# a folder name (part of every path pipectl prints) can hold all of it but "/"
EVIL_FOLDER = "sales\n::add-mask::folder\r::warning file=x::forged %25 \x1b[2J ##[add-mask]f"


def runner_commands(log: str) -> list[tuple[str, str]]:
    """(command, whole line) for every workflow command the runner would obey in `log`."""
    obeyed: list[tuple[str, str]] = []
    stop_token: str | None = None
    for line in log.splitlines():  # every line break .NET's reader splits on, and more
        name = data = None
        trimmed = line.lstrip()
        if trimmed.startswith("::"):
            m = re.match(r"::([^ :]*)[^:]*(?:::(.*))?", trimmed)
            if m and m.group(2) is not None:
                name, data = m.group(1), m.group(2)
        elif "##[" in line:
            m = re.search(r"##\[([^ \]]*)[^\]]*\](.*)", line)
            if m:
                name, data = m.group(1), m.group(2)
        if name is None:
            continue
        if stop_token is not None:
            if name == stop_token:
                stop_token = None
            continue
        if name == "stop-commands":
            stop_token = data or None
            continue
        obeyed.append((name, line))
    assert stop_token is None, "the log ends with commands still stopped"
    return obeyed


def _unescape_property(value: str) -> str:
    for code, char in (("%3A", ":"), ("%2C", ","), ("%0D", "\r"), ("%0A", "\n"), ("%25", "%")):
        value = value.replace(code, char)
    return value


def _file_property(line: str) -> str:
    props = line.split(" ", 1)[1].split("::", 1)[0]
    found = dict(p.split("=", 1) for p in props.split(","))
    return _unescape_property(found["file"])


@pytest.fixture(scope="module")
def evil(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = make_repo(tmp_path_factory.mktemp("evil") / "repo")
    lab = Lab(repo / EVIL_FOLDER)
    lab.add("qualifying", "bad-value", title=EVIL, value=EVIL, next_step=EVIL)
    lab.add("qualifying", "bad-owner", title=EVIL, owner=f"a,b: {EVIL}", company=EVIL)
    lab.add("qualifying", "broken", text=f"---\ntitle: [{EVIL}\n---\n")
    lab.add("closing", "quiet", title=EVIL, touchpoints=[touch(-40)], next_step=EVIL)
    return lab.root


def _pipectl(cwd: Path, *args: str, actions: bool = True) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.pop("GITHUB_ACTIONS", None)
    if actions:
        env["GITHUB_ACTIONS"] = "true"
    return subprocess.run(
        [sys.executable, "-m", "pipectl", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="surrogateescape",
        check=False,
    )


def test_the_only_commands_are_pipectls_annotations_with_escaped_file_names(evil):
    findings = json.loads(_pipectl(evil, "lint", "--today", TODAY, "-f", "json").stdout)
    assert len(findings) >= 4
    # from the repository root, the folder name leads every line of the text report
    run = _pipectl(evil.parent, "-C", EVIL_FOLDER, "lint", "--today", TODAY, "--statistics")
    assert run.returncode == 1, run.stderr
    obeyed = runner_commands(run.stdout + run.stderr)
    assert all(name in ("error", "warning", "notice") for name, _ in obeyed)
    assert len(obeyed) == len(findings)
    files = sorted(_file_property(line) for _, line in obeyed)
    # CR and LF by GitHub's own escapes, which the runner decodes; an ESC shown escaped, so
    # the log viewer never obeys it (such a path cannot link to its file either way)
    shown = EVIL_FOLDER.replace("\x1b", "\\x1b")
    assert files == sorted(f"{shown}/{f['path']}" for f in findings)
    # the hostile text did reach the log, inert: escaped, between the stop-commands fences
    assert "::add-mask::folder" in run.stdout and "##[add-mask]f/" in run.stdout
    assert "\x1b" not in run.stdout and "\r" not in run.stdout


def test_every_format_and_an_error_are_inert_too(evil):
    for fmt in ("text", "json", "gitlab", "sarif", "github"):
        run = _pipectl(evil, "lint", "--today", TODAY, "-f", fmt)
        names = {name for name, _ in runner_commands(run.stdout + run.stderr)}
        assert names <= {"error", "warning", "notice"}, (fmt, names)
        assert fmt == "github" or not names, fmt
        assert "\x1b" not in run.stdout and "\r" not in run.stdout
        if fmt in ("json", "gitlab", "sarif"):
            json.loads(run.stdout)  # escaped, still the same JSON
    out = evil / "report.sarif"
    run = _pipectl(evil, "lint", "--today", TODAY, "-f", "sarif", "-o", str(out))
    assert runner_commands(run.stdout) == []
    assert "##[add-mask]" in json.dumps(json.loads(out.read_text("utf-8")), ensure_ascii=False)
    # an error naming a hostile path: fenced off on stderr as well
    bad = _pipectl(evil, "lint", f"missing\n::add-mask::{EVIL}.md")
    assert bad.returncode == 2
    assert runner_commands(bad.stdout + bad.stderr) == []
    assert "no such file or folder" in bad.stderr


def test_each_run_fences_with_a_fresh_token(evil):
    def token(log: str) -> str:
        return re.findall(r"^::stop-commands::(\w+)$", log, re.M)[0]

    a = _pipectl(evil, "lint", "--today", TODAY).stdout
    b = _pipectl(evil, "lint", "--today", TODAY).stdout
    assert len(token(a)) == 32 and token(a) != token(b)
    assert a.rstrip("\n").endswith(f"::{token(a)}::")


def test_outside_actions_nothing_is_fenced(evil):
    run = _pipectl(evil, "lint", "--today", TODAY, actions=False)
    assert "stop-commands::" not in run.stdout.replace("::stop-commands::abc", "")
    assert run.stdout.splitlines()[-1].startswith("Found ")


def test_the_parser_sees_what_the_runner_obeys():
    log = "  ::add-mask::x\nsay ##[set-output name=a;]b\n::stop-commands::t\n::error::no\n::t::\n"
    assert [n for n, _ in runner_commands(log)] == ["add-mask", "set-output"]
