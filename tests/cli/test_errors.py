"""The one error boundary (pipectl/cli/app.py): a PipectlError is one line and its exit code;
anything else is a bug, exit 4 (never 1, which CI reads as "findings"), one line asking for a
report, and the traceback only with PIPECTL_DEBUG=1. The exit codes are documented."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO_ROOT, Cli

from pipectl import errors
from pipectl.daily import agenda as daily_agenda

TODAY = "2026-11-27"


def _boom(*args: object, **kwargs: object) -> None:
    raise RuntimeError("boom \x1b]0;pwned\x07\n::error::forged")


def _internal_line(stderr: str) -> str:
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


def test_a_crash_is_exit_4_with_one_escaped_line(cli: Cli, monkeypatch) -> None:
    monkeypatch.setattr(daily_agenda, "agenda", _boom)
    r = cli("agenda", "--today", TODAY)
    assert r.exit_code == errors.EXIT_INTERNAL == 4
    line = _internal_line(r.stderr)
    assert line.startswith(
        "pipectl: internal error: RuntimeError: boom \\x1b]0;pwned\\x07\\n::error::forged — "
    )
    assert "please report it" in line and "PIPECTL_DEBUG=1" in line
    assert "Traceback" not in r.output


def test_pipectl_debug_adds_the_traceback(cli: Cli, monkeypatch) -> None:
    monkeypatch.setattr(daily_agenda, "agenda", _boom)
    monkeypatch.setenv("PIPECTL_DEBUG", "1")
    r = cli("agenda", "--today", TODAY)
    assert r.exit_code == 4
    assert "Traceback (most recent call last)" in r.stderr and "_boom" in r.stderr
    assert r.stderr.splitlines()[-1].startswith("pipectl: internal error: RuntimeError: boom")


def test_a_long_internal_message_is_cut(cli: Cli, monkeypatch) -> None:
    def huge(*args: object, **kwargs: object) -> None:
        raise ValueError("x" * 100_000)

    monkeypatch.setattr(daily_agenda, "agenda", huge)
    r = cli("agenda", "--today", TODAY)
    assert r.exit_code == 4
    assert len(_internal_line(r.stderr)) < 600


def test_the_cli_s_own_exits_pass_through(cli: Cli, pipeline: Path, write_deal) -> None:
    """typer's Exit and Abort are RuntimeErrors, its usage errors Exceptions: not bugs."""
    assert cli("lint", "--no-such-option").exit_code == 2
    assert cli("list", "--today", "someday").exit_code == 2
    write_deal(pipeline, "prospecting", "d", "---\ntitle: D\n---\n")
    assert cli("lint", "--today", TODAY).exit_code == 1  # findings, through typer.Exit(1)
    assert cli("rules").exit_code == 0


def _subprocess(cwd: Path, *args: str, code: str | None = None) -> subprocess.CompletedProcess:
    argv = ["-m", "pipectl"] if code is None else ["-c", code]
    return subprocess.run(
        [sys.executable, *argv, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO_ROOT), "HOME": str(cwd)},
    )


def test_a_crash_in_a_real_process_is_exit_4(pipeline: Path) -> None:
    code = (
        "import sys\n"
        "from pipectl.daily import agenda\n"
        "def boom(*a, **k): raise KeyError('no such thing')\n"
        "agenda.agenda = boom\n"
        "from pipectl.__main__ import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    r = _subprocess(pipeline, "agenda", "--today", TODAY, code=code)
    assert r.returncode == 4, r.stderr
    assert _internal_line(r.stderr).startswith("pipectl: internal error: KeyError: 'no such thing'")
    assert r.stdout == ""


PAST_THE_END = "past the last date there is (9999-12-31)"


@pytest.mark.parametrize(
    ("config", "args", "message"),
    [
        (
            "sweep:\n  grace_days: 3000000\n",
            ("sweep", "--today", TODAY),
            "sweep.grace_days: must be a whole number of days from 0 to 36500",
        ),
        ("", ("sweep", "--today", "9999-12-31"), PAST_THE_END),
        ("", ("sweep", "--today", "9999-12-31", "--last-chance"), PAST_THE_END),
    ],
)
def test_a_deadline_past_the_last_date_is_refused(
    pipeline: Path, write_deal, config, args, message
):
    """From the issue's tracebacks (OverflowError, exit 1): a sweep whose deadline would be
    past 9999-12-31 is refused in one line, exit 2, nothing written."""
    with (pipeline / "pipeline.yaml").open("a") as f:
        f.write(config)
    write_deal(pipeline, "prospecting", "old", "---\ntitle: Old\ncreated: 2020-01-01\n---\n")
    before = (pipeline / "prospecting" / "old.md").read_bytes()
    r = _subprocess(pipeline, *args)
    assert r.returncode == 2, r.stderr
    assert _internal_line(r.stderr).startswith("pipectl: error: ")
    assert "sweep.grace_days: " in r.stderr and message in r.stderr
    assert (pipeline / "prospecting" / "old.md").read_bytes() == before


def test_a_last_chance_dated_near_the_last_date_waits(pipeline: Path, write_deal) -> None:
    write_deal(
        pipeline,
        "prospecting",
        "far",
        "---\ntitle: Far\ncreated: 2020-01-01\ntouchpoints:\n"
        "  - {date: 9999-12-30, kind: email, summary: 'Last chance: bye'}\n---\n",
    )
    r = _subprocess(pipeline, "sweep", "--today", TODAY, "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["candidates"][0]["state"] == "waiting"  # the deadline never comes


def _readme_exit_codes() -> dict[int, str]:
    text = (REPO_ROOT / "README.md").read_text()
    section = text.split("\n## Exit codes\n", 1)[1].split("\n## ", 1)[0]
    return {int(m[1]): m[2] for m in re.finditer(r"^\| (\d) \| (.+) \|$", section, re.M)}


def test_every_exit_code_is_documented() -> None:
    codes = {v for k, v in vars(errors).items() if k.startswith("EXIT_")}
    documented = _readme_exit_codes()
    assert set(documented) == codes
    assert "internal error" in documented[errors.EXIT_INTERNAL]
    for doc in ("docs/lint.md", "docs/ci.md"):  # the pages CI users read list them too
        assert "**4** an internal error" in (REPO_ROOT / doc).read_text(), doc


@pytest.mark.parametrize(
    "args", [("list", "--overdue"), ("agenda", "--owner", "all"), ("board",), ("lint",)]
)
def test_a_bad_rule_setting_is_refused_by_every_command_that_reads_it(
    cli: Cli, pipeline: Path, args: tuple[str, ...]
) -> None:
    cli("add", "Late", "--next-step", "Call", "--due", "2026-11-01")
    config = pipeline / "pipeline.yaml"
    before = config.read_text(encoding="utf-8")
    config.write_text(before.replace("\nrules: {}\n", "\nrules: {PL303: {grace_days: soon}}\n"))
    result = cli(*args, "--today", "2026-11-15")
    assert result.exit_code == 2, result.output
    assert re.search(
        r"pipeline\.yaml:\d+: rules\.PL303\.grace_days: must be a whole", result.stderr
    )
