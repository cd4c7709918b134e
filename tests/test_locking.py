"""The per-clone lock: concurrent pipectl processes take turns; a dead holder blocks nobody."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import Cli, commit_count, git

from pipectl import locking
from pipectl.deal import parse_yaml, split
from pipectl.errors import LockError


def run_pipectl(cwd: Path, *args: str, timeout: str = "120") -> subprocess.Popen[str]:
    env = {**os.environ, "PIPECTL_LOCK_TIMEOUT": timeout}
    return subprocess.Popen(
        [sys.executable, "-m", "pipectl", "-C", str(cwd), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


HOLDER = """
import sys, time
from pathlib import Path
from pipectl import locking
with locking.hold(Path(sys.argv[1])):
    print("held", flush=True)
    time.sleep(600)
"""


@pytest.fixture
def acme(cli, pipeline: Path) -> Path:
    assert cli("add", "Acme Corp").exit_code == 0
    return pipeline


def lock_file(repo: Path) -> Path:
    return repo / ".git" / "pipectl.lock"


def hold_in_child(repo: Path) -> subprocess.Popen[str]:
    child = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(lock_file(repo))], stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None and child.stdout.readline() == "held\n"
    return child


def test_ten_processes_logging_on_one_deal_all_land_one_commit_each(acme):
    before = commit_count(acme)
    procs = [run_pipectl(acme, "log", "acme", "call", f"Call number {i}") for i in range(10)]
    results = [(p.wait(timeout=300), *p.communicate()) for p in procs]
    for code, out, err in results:
        assert code == 0, err
        assert err == "" and out.startswith("logged call on acme-corp")
    text = (acme / "prospecting" / "acme-corp.md").read_text()
    summaries = sorted(t["summary"] for t in parse_yaml(split(text))["touchpoints"])
    assert summaries == sorted(f"Call number {i}" for i in range(10))
    assert commit_count(acme) == before + 10
    assert git(acme, "status", "--porcelain") == ""


def test_a_killed_holders_stale_lock_does_not_block_the_next_command(acme):
    child = hold_in_child(acme)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    # the dead process's pid is still written in the lock file: only the kernel lock is gone
    assert lock_file(acme).read_text().strip() == str(child.pid)
    proc = run_pipectl(acme, "log", "acme", "call", "After the crash", timeout="10")
    code, (_out, err) = proc.wait(timeout=60), proc.communicate()
    assert code == 0, err
    assert "After the crash" in (acme / "prospecting" / "acme-corp.md").read_text()


def test_a_live_holder_makes_the_next_command_give_up_clearly(acme, monkeypatch):
    child = hold_in_child(acme)
    try:
        monkeypatch.setenv("PIPECTL_LOCK_TIMEOUT", "0.2")
        before = commit_count(acme)
        result = Cli(acme)("log", "acme", "call", "Blocked")
        assert result.exit_code == 2
        assert f"another pipectl command (pid {child.pid}) is changing this pipeline" in (
            result.stderr
        )
        assert "PIPECTL_LOCK_TIMEOUT" in result.stderr and "Traceback" not in result.output
        assert commit_count(acme) == before
        assert "Blocked" not in (acme / "prospecting" / "acme-corp.md").read_text()
    finally:
        child.kill()
        child.wait()


def test_sync_waits_for_the_same_lock(acme, monkeypatch):
    child = hold_in_child(acme)
    try:
        monkeypatch.setenv("PIPECTL_LOCK_TIMEOUT", "0.1")
        result = Cli(acme)("sync")
        assert result.exit_code == 2 and "another pipectl command" in result.stderr
    finally:
        child.kill()
        child.wait()


def test_the_lock_excludes_a_second_holder_in_the_same_process(tmp_path):
    path = tmp_path / "x.lock"
    with locking.hold(path, timeout=1), pytest.raises(LockError), locking.hold(path, timeout=0):
        pass
    with locking.hold(path, timeout=0):
        assert path.read_text().strip() == str(os.getpid())
    assert path.read_text() == ""


def test_a_bad_timeout_setting_falls_back_to_the_default(monkeypatch):
    monkeypatch.setenv("PIPECTL_LOCK_TIMEOUT", "soon")
    assert locking.timeout_from_env() == locking.DEFAULT_TIMEOUT
