"""Shell completion through the real protocol: `pipectl` run as a shell runs it, with typer's
environment variables (bash: COMP_WORDS/COMP_CWORD; zsh and fish: _TYPER_COMPLETE_ARGS), and
once in a real interactive bash in a pty with the script from `--show-completion` sourced."""

from __future__ import annotations

import os
import pty
import select
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, Cli

TEAM = """
team:
  - handle: alice
    name: Alice Martin
  - handle: bob
    name: Bob Stone
"""


@pytest.fixture
def deals(cli: Cli, pipeline: Path) -> Path:
    with (pipeline / "pipeline.yaml").open("a", encoding="utf-8") as f:
        f.write(TEAM)
    for title, owner in (("Acme Corp — 50 seats", "alice"), ("Beta Ltd", "bob")):
        assert cli("add", title, "--owner", owner).exit_code == 0
    assert cli("add", "Acorn Foods", "--owner", "alice", "--id", "acorn").exit_code == 0
    return pipeline


def complete(cwd: Path, shell: str, words: str, **extra: str) -> subprocess.CompletedProcess[str]:
    """One completion request as the shell's script makes it (`words` as typed so far)."""
    env = {**os.environ, "_PIPECTL_COMPLETE": f"complete_{shell}", **extra}
    if shell == "bash":
        parts = words.split()
        cword = len(parts) if words.endswith(" ") else len(parts) - 1
        env |= {"COMP_WORDS": words, "COMP_CWORD": str(cword)}
    else:
        env["_TYPER_COMPLETE_ARGS"] = words
    if shell == "fish":
        env.setdefault("_TYPER_COMPLETE_FISH_ACTION", "get-args")
    return subprocess.run(
        [sys.executable, "-m", "pipectl"], cwd=cwd, env=env, capture_output=True, text=True
    )


def bash(cwd: Path, words: str) -> list[str]:
    proc = complete(cwd, "bash", words)
    assert proc.returncode == 0 and not proc.stderr, proc.stderr
    return proc.stdout.split()


def test_bash_completes_deal_ids_by_prefix(deals: Path) -> None:
    assert bash(deals, "pipectl show ac") == ["acme-corp-50-seats", "acorn"]
    assert bash(deals, "pipectl show acm") == ["acme-corp-50-seats"]
    assert bash(deals, "pipectl move b") == ["beta-ltd"]
    assert bash(deals, "pipectl show zz") == []


def test_bash_completes_commands_options_stages_owners(deals: Path) -> None:
    assert "show" in bash(deals, "pipectl sh")
    assert {"add", "show", "log", "lint", "search", "rename", "rm", "undo"} <= set(
        bash(deals, "pipectl ")
    )
    assert bash(deals, "pipectl rename acm") == ["acme-corp-50-seats"]
    assert bash(deals, "pipectl rm b") == ["beta-ltd"]
    assert bash(deals, "pipectl search x --field comp") == ["company"]
    assert "notes" in bash(deals, "pipectl search x --field no")
    assert bash(deals, "pipectl move acme ") == [
        "prospecting",
        "qualifying",
        "connecting",
        "closing",
        "won",
        "lost",
    ]
    assert bash(deals, "pipectl list --stage q") == ["qualifying"]
    assert bash(deals, "pipectl list --owner ") == ["alice", "bob"]
    assert "--owner" in bash(deals, "pipectl list --")


def test_bash_completes_kinds_outcomes_rules_fields(deals: Path) -> None:
    assert "call" in bash(deals, "pipectl log acme ")
    assert bash(deals, "pipectl log acme call hi --outcome rep") == ["replied"]
    codes = bash(deals, "pipectl rule PL30")
    assert codes[0] == "PL301" and all(c.startswith("PL30") for c in codes)
    assert "PL301" in bash(deals, "pipectl lint --select PL3")
    assert bash(deals, "pipectl set acme own") == ["owner="]
    assert bash(deals, "pipectl set acme owner=a") == ["owner=alice"]
    assert "qualification.budget=" in bash(deals, "pipectl set acme qual")


def test_zsh_gets_ids_with_titles(deals: Path) -> None:
    proc = complete(deals, "zsh", "pipectl show ac")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("_arguments '*: :((")
    assert '"acme-corp-50-seats":"Acme Corp — 50 seats"' in proc.stdout
    assert '"acorn":"Acorn Foods"' in proc.stdout
    owners = complete(deals, "zsh", "pipectl board --owner ").stdout
    assert '"alice":"Alice Martin"' in owners and '"bob":"Bob Stone"' in owners


def test_fish_gets_ids_stages_owners_with_descriptions(deals: Path) -> None:
    proc = complete(deals, "fish", "pipectl show ac")
    assert proc.stdout.splitlines() == [
        "acme-corp-50-seats\tAcme Corp — 50 seats",
        "acorn\tAcorn Foods",
    ]
    stages = complete(deals, "fish", "pipectl move acorn w").stdout.splitlines()
    assert stages == ["won\twon"]
    owners = complete(deals, "fish", "pipectl agenda --owner b").stdout.splitlines()
    assert owners == ["bob\tBob Stone"]
    # fish asks first whether there are arguments to offer (exit 0) or files (exit 1)
    assert (
        complete(deals, "fish", "pipectl show ac", _TYPER_COMPLETE_FISH_ACTION="is-args").returncode
        == 0
    )
    assert (
        complete(deals, "fish", "pipectl show zz", _TYPER_COMPLETE_FISH_ACTION="is-args").returncode
        == 1
    )


def test_completion_honours_directory_and_is_quiet_outside_a_pipeline(
    deals: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert bash(elsewhere, "pipectl show ac") == []
    assert bash(elsewhere, f"pipectl -C {deals} show ac") == ["acme-corp-50-seats", "acorn"]


def test_a_broken_deal_still_completes(deals: Path, write_deal: Callable[..., Path]) -> None:
    write_deal(deals, "prospecting", "acute", "---\ntitle: [unclosed\n---\n")
    proc = complete(deals, "zsh", "pipectl show acu")
    assert proc.returncode == 0 and '"acute"' in proc.stdout


def test_show_completion_prints_each_shells_script(
    deals: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipectl.cli import complete as comp

    assert "complete_bash" in comp.script("bash") and "complete -o default -F" in comp.script(
        "bash"
    )
    assert "compdef _pipectl_completion pipectl" in comp.script("zsh")
    assert "complete --command pipectl" in comp.script("fish")
    monkeypatch.setattr("typer._completion_shared._get_shell_name", lambda: None)
    monkeypatch.setenv("SHELL", "/usr/bin/fish")
    assert comp.shell_name() == "fish"
    result = Cli(deals)("--show-completion")
    assert result.exit_code == 0 and "complete --command pipectl" in result.output


def test_an_unknown_shell_is_one_line(deals: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("typer._completion_shared._get_shell_name", lambda: "tcsh")
    monkeypatch.setenv("SHELL", "/bin/tcsh")
    result = Cli(deals)("--install-completion")
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "pipectl: error: no completion for the shell tcsh: bash, zsh and fish have one"
    ]


def test_install_completion_for_bash(deals: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("typer._completion_shared._get_shell_name", lambda: "bash")
    result = Cli(deals)("--install-completion")
    assert result.exit_code == 0, result.output
    home = Path(os.environ["HOME"])
    installed = home / ".bash_completions" / "pipectl.sh"
    assert "complete_bash" in installed.read_text()
    assert f"source '{installed}'" in (home / ".bashrc").read_text()


def test_real_bash_completes_a_deal_id_on_tab(deals: Path, tmp_path: Path) -> None:
    """`pipectl show ac<TAB>` in an interactive bash with the script sourced becomes the id."""
    (deals / "prospecting" / "acorn.md").unlink()  # `ac` is then a unique prefix
    bindir = tmp_path / "bin"
    bindir.mkdir()
    wrapper = bindir / "pipectl"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m pipectl "$@"\n')
    wrapper.chmod(0o755)
    env = {
        **os.environ,
        "PATH": f"{bindir}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "PYTHONPATH": str(REPO_ROOT),
        "SHELL": shutil.which("bash") or "bash",
        "TERM": "dumb",
        "PS1": "$ ",
        "HISTFILE": str(tmp_path / "history"),
    }
    main, child = pty.openpty()
    proc = subprocess.Popen(
        ["bash", "--norc", "--noprofile", "-i"],
        stdin=child,
        stdout=child,
        stderr=child,
        cwd=deals,
        env=env,
        start_new_session=True,
    )
    os.close(child)
    seen = b""

    def until(marker: bytes, timeout: float = 20.0) -> bytes:
        nonlocal seen
        end = time.monotonic() + timeout
        while marker not in seen and time.monotonic() < end:
            ready, _, _ = select.select([main], [], [], 0.2)
            if ready:
                try:
                    seen += os.read(main, 4096)
                except OSError:
                    break
        assert marker in seen, seen.decode(errors="replace")[-2000:]
        return seen

    try:
        os.write(main, b"source <(pipectl --show-completion); echo SOURCED-$?\n")
        until(b"SOURCED-0")
        os.write(main, b"complete -p pipectl\n")
        until(b"_pipectl_completion pipectl")
        os.write(main, b"pipectl show ac\t")
        until(b"acme-corp-50-seats")
    finally:
        os.write(main, b"\x03exit\n")
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        os.close(main)


def test_other_runs_never_import_the_completion_code(deals: Path) -> None:
    """Completion costs nothing elsewhere: `pipectl/cli/complete.py` and lint's registry are
    imported only when a shell asks; search imports nothing heavy."""
    from tests.cli.test_startup import HEAVY

    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "pipectl", "search", "acme"],
        cwd=deals,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    modules = {ln.rsplit("|", 1)[1].strip() for ln in proc.stderr.splitlines() if "|" in ln}
    assert "pipectl.search" in modules  # measured
    assert "pipectl.cli.complete" not in modules
    assert not {m.split(".")[0] for m in modules} & HEAVY
