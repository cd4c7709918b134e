"""One message style: click's usage errors (a missing argument, an unknown option or command,
a bad value) are pipectl's one line `pipectl: error: … (hint: pipectl CMD --help)`, exit 2,
nothing on stdout; help itself is unchanged."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from conftest import REPO_ROOT, Cli
from typer.testing import CliRunner

from pipectl.cli import app

CASES = [
    (("log", "acme", "call"), "missing argument 'summary'", "pipectl log"),
    (("log",), "missing argument 'deal'", "pipectl log"),
    (("next", "acme", "--due", "fri"), "missing argument 'step'", "pipectl next"),
    (("list", "--bogus"), "no such option: --bogus", "pipectl list"),
    (("--bogus", "list"), "no such option: --bogus", "pipectl"),
    (("bogus",), "no such command 'bogus'", "pipectl"),
    (("lisst",), "no such command 'lisst'; did you mean 'list', 'lost', 'lint'?", "pipectl"),
    (
        ("add", "Acme", "--value", "lots"),
        "invalid value for '--value': 'lots' is not a valid float",
        "pipectl add",
    ),
    (
        ("board", "--limit", "-1"),
        "invalid value for '--limit': -1 is not in the range x>=0",
        "pipectl board",
    ),
    (("list", "--stage"), "option '--stage' requires an argument", "pipectl list"),
]


@pytest.mark.parametrize(("args", "message", "command"), CASES)
def test_a_usage_error_is_one_line_with_a_hint(cli: Cli, args, message, command) -> None:
    r = cli(*args)
    assert r.exit_code == 2, r.output
    assert r.stdout == ""
    assert r.stderr == f"pipectl: error: {message} (hint: {command} --help)\n"


def test_a_close_option_name_is_suggested_on_the_same_line(cli: Cli) -> None:
    r = cli("list", "--ownr", "alice")
    assert r.exit_code == 2
    [line] = r.stderr.splitlines()
    assert line.startswith("pipectl: error: no such option: --ownr")
    assert "--owner" in line and line.endswith("(hint: pipectl list --help)")


def test_a_bad_choice_of_pipectl_is_one_line_too(cli: Cli) -> None:
    for args, needle in (
        (("list", "--format", "xml"), "--format: 'xml' is not one of table, tsv, csv, json"),
        (("lint", "--fail-on", "fatal"), "--fail-on: 'fatal'"),
    ):
        r = cli(*args)
        assert r.exit_code == 2
        [line] = r.stderr.splitlines()
        assert line.startswith("pipectl: error: ") and needle in line


def test_control_characters_in_what_was_typed_are_escaped(cli: Cli) -> None:
    r = cli("list", "--x\x1b[2J")
    assert r.exit_code == 2
    assert "\x1b" not in r.stderr and "\\x1b[2J" in r.stderr


def test_help_is_unchanged(cli: Cli) -> None:
    r = cli("log", "--help")
    assert r.exit_code == 0 and r.stdout.startswith("Usage: pipectl log [OPTIONS]")
    r = CliRunner().invoke(app, [])  # bare `pipectl`: its help, as before
    assert "Commands:" in r.output and "error" not in r.output
    r = Cli(REPO_ROOT)()  # `pipectl -C DIR` and no command
    assert r.exit_code == 2
    assert r.stderr == "pipectl: error: missing command (hint: pipectl --help)\n"


def test_the_console_script_prints_the_same_line(pipeline) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "pipectl", "-C", str(pipeline), "log", "acme", "call"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr == "pipectl: error: missing argument 'summary' (hint: pipectl log --help)\n"
