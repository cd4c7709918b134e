"""`pipectl serve` as a user starts it: a real process listening on a free port."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from conftest import Cli


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(port: int, host: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/", headers={"Host": host})
    status = conn.getresponse().status
    conn.close()
    return status


def test_serve_listens_on_loopback_and_answers_only_to_its_name(pipeline: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipectl", "serve", "--port", str(port)],
        cwd=pipeline,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith(f"serving {pipeline}") and f"http://127.0.0.1:{port}/" in line
        deadline = time.monotonic() + 15
        while True:
            try:
                status = get(port, f"127.0.0.1:{port}")
                break
            except OSError:
                assert time.monotonic() < deadline, "the server did not answer"
                time.sleep(0.1)
        assert status == 200
        assert get(port, f"localhost:{port}") == 200
        assert get(port, f"rebound.example:{port}") == 403  # DNS rebinding
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(10)
    assert "no authentication" not in (proc.stderr.read() if proc.stderr else "")


def test_a_wildcard_address_is_refused(cli: Cli) -> None:
    result = cli("serve", "--host", "0.0.0.0")
    assert result.exit_code == 2
    assert result.output.startswith("pipectl: error: --host 0.0.0.0 listens on every address")
    assert result.output.count("\n") == 1


def test_another_address_warns_there_is_no_authentication(pipeline: Path) -> None:
    """192.0.2.1 (TEST-NET-1) is no address of this machine: the warning, then one line."""
    proc = subprocess.run(
        [sys.executable, "-m", "pipectl", "serve", "--host", "192.0.2.1", "--port", "8765"],
        cwd=pipeline,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 2
    lines = proc.stderr.splitlines()
    assert lines[0].startswith("pipectl: warning: pipectl serve has no authentication")
    assert lines[1].startswith("pipectl: error: cannot listen on 192.0.2.1:8765")
    assert len(lines) == 2 and "Traceback" not in proc.stderr
