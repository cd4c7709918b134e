"""Terminal and log injection: user text reaches a screen or a CI log only through the one
sanitiser (pipectl/textsafe.py), in every text output, so a deal cannot retitle or clear a
terminal, overwrite a line with `\\r`, reorder a line (bidi overrides) or forge a line that a
CI log takes for a workflow command.

Click strips CSI colour sequences (ESC [ ... m) from output that is not a terminal, so these
cases use what it lets through: OSC (ESC ] ... BEL), a bare ESC, `\\r`, line breaks and
U+202E. JSON and SARIF are escaped by json and stay as they are.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import Cli, git

from pipectl.textsafe import visible

TODAY = "2026-11-27"
OSC = "\x1b]0;pwned\x07"  # retitles the terminal
FORGED = "\n::error file=x::forged"

HOSTILE = (
    "---\n"
    "title: Hostile\n"
    'owner: "al\\e]0;pwned\\aice\\rmallory"\n'
    'next_step: "call\\e]0;pwned\\a\\rback\\n::error file=x::forged \\u202eevil"\n'
    "next_step_due: 2026-11-01\n"
    "created: 2026-01-01\n"
    "value: 10\n"
    "---\n"
)


def controls(text: str) -> list[str]:
    """Characters a terminal would obey, line breaks aside."""
    return [c for c in text if c != "\n" and visible(c) != c]


def commit_all(root: Path) -> None:
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "hostile fixture")


@pytest.fixture
def hostile(pipeline: Path, write_deal) -> Path:
    write_deal(pipeline, "prospecting", "esc", HOSTILE)
    # a file name with a line break and an OSC, in two stages (PL104 names the other path)
    for stage in ("prospecting", "qualifying"):
        write_deal(pipeline, stage, f"bad{OSC}{FORGED}", "---\ntitle: [\n---\n")
    commit_all(pipeline)
    return pipeline


def test_visible_escapes_every_control_but_keeps_lines_when_asked():
    assert visible(f"a{OSC}\rb\u202ec\u2028d\x85\ne\tf") == (
        "a\\x1b]0;pwned\\x07\\rb\\u202ec\\u2028d\\x85\\ne\\tf"
    )
    assert visible("one\r\ntwo\tthree\rfour\x1b", lines=True) == "one\ntwo\tthree\\rfour\\x1b"
    assert visible("plain café 東京 🚀") == "plain café 東京 🚀"


def test_render_text_reexports_the_one_sanitiser():
    from pipectl.render import text

    assert text.visible is visible


def test_agenda_shows_owners_and_next_steps_escaped(hostile):
    r = Cli(hostile)("agenda", "--owner", "all", "--today", TODAY)
    assert r.exit_code == 0, r.output
    assert "esc" in r.stdout
    assert not controls(r.stdout)
    assert not [ln for ln in r.stdout.splitlines() if ln.startswith("::")]
    assert "al\\x1b]0;pwned\\x07ice\\rmallory" in r.stdout  # shown, escaped
    assert "\\u202eevil" in r.stdout


def test_agenda_of_one_hostile_owner_is_escaped_in_its_heading(hostile):
    r = Cli(hostile)("agenda", "--owner", f"al{OSC}ice\rmallory", "--today", TODAY)
    assert r.exit_code == 0, r.output
    assert not controls(r.stdout)
    assert "Agenda for al\\x1b]0;pwned\\x07ice\\rmallory" in r.stdout


def test_sweep_plan_shows_owners_escaped_and_aligned(hostile, write_deal):
    write_deal(hostile, "prospecting", "plain", HOSTILE.replace("owner: ", "owner: bob #"))
    r = Cli(hostile)("sweep", "--today", TODAY)
    assert r.exit_code == 0, r.output
    assert "al\\x1b]0;pwned\\x07ice\\rmallory" in r.stdout
    assert not controls(r.stdout)
    # the reasons line up: widths are measured on the escaped text that is shown
    rows = [ln for ln in r.stdout.splitlines() if ln.startswith(("esc ", "plain "))]
    assert len(rows) == 2 and len({ln.index("open 330 days") for ln in rows}) == 1


def test_lint_text_cannot_be_forged_by_a_file_name(hostile):
    r = Cli(hostile)("lint", "--today", TODAY)
    assert r.exit_code == 1, r.output
    assert not controls(r.stdout)
    assert not [ln for ln in r.stdout.splitlines() if ln.startswith("::")]
    lines = r.stdout.splitlines()
    # one line per finding: the file name's line break is shown as \n, on the finding's line
    bad = [ln for ln in lines if "prospecting/bad" in ln.split(":")[0]]  # relative to the cwd
    assert bad and all("\\x1b]0;pwned\\x07\\n::error file=x::forged.md:" in ln for ln in bad)
    also = [ln for ln in bad if " PL104 " in ln]  # the message names the other file
    assert also and "qualifying/bad\\x1b]0;pwned\\x07\\n::error" in also[0]


def test_lint_github_annotations_escape_as_github_documents(hostile):
    r = Cli(hostile)("lint", "--today", TODAY, "-f", "github")
    assert r.exit_code == 1, r.output
    assert not controls(r.stdout)
    # the annotations, then the text report for the log: one annotation per finding, each a
    # well-formed workflow command, and no other line the runner would take for one
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith("::")]
    findings = json.loads(Cli(hostile)("lint", "--today", TODAY, "-f", "json").stdout)
    assert len(lines) == len(findings)
    assert all(
        ln.startswith(("::error file=", "::warning file=", "::notice file=")) for ln in lines
    )
    bad = [ln for ln in lines if "file=prospecting/bad" in ln]
    # GitHub decodes %0A and %3A back into the real file name; the ESC is shown, not obeyed
    assert bad and all(
        "file=prospecting/bad\\x1b]0;pwned\\x07%0A%3A%3Aerror file=x%3A%3Aforged.md," in ln
        for ln in bad
    )
    also = [ln for ln in bad if "title=PL104 " in ln]
    assert also and "qualifying/bad\\x1b]0;pwned\\x07%0A::error file=x::forged" in also[0]


def test_warnings_and_errors_on_stderr_are_escaped(hostile):
    r = Cli(hostile)("agenda", "--owner", "all", "--today", TODAY)
    assert "skipped " in r.stderr and "/prospecting/bad\\x1b]0;pwned\\x07\\n::error" in r.stderr
    assert not controls(r.stderr)
    assert not [ln for ln in r.stderr.splitlines() if ln.startswith("::")]
    r = Cli(hostile)("show", f"nope{OSC}{FORGED}")
    assert r.exit_code == 2
    assert r.stderr.startswith("pipectl: error: ") and len(r.stderr.splitlines()) == 1
    assert not controls(r.stderr)


def test_what_a_changing_command_did_is_escaped(pipeline, write_deal):
    write_deal(pipeline, "prospecting", f"mv{OSC}{FORGED}", "---\ntitle: M\n---\n")
    commit_all(pipeline)
    r = Cli(pipeline)("next", "mv", "call\rback")
    assert r.exit_code == 0, r.output
    assert "mv\\x1b]0;pwned\\x07\\n::error" in r.stdout
    assert not controls(r.stdout)
    assert len(r.stdout.splitlines()) == 1


def test_report_text_escapes_currencies_and_the_owner_asked_for(pipeline: Path, write_deal) -> None:
    deal = HOSTILE.replace("value: 10\n", 'value: 10\ncurrency: "E\\e]0;pwned\\aUR"\n')
    write_deal(pipeline, "prospecting", "esc", deal)
    commit_all(pipeline)
    for args in (("report",), ("report", "--owner", f"al{OSC}ice")):
        out = Cli(pipeline)(*args, "--today", TODAY).output
        assert "E\\x1b]0;pwned\\x07UR" in out or "al\\x1b" in out
        assert controls(out) == []
