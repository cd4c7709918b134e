"""P12 of docs/performance.md: `pipectl lsp`'s diagnostics after a keystroke in a 500-line
deal, against `pipectl lint FILE` run from the shell on the same file.

The server is started once (not timed) and the deal opened; each run sends one change of the
text (a new touchpoint typed) and waits for the diagnostics. The server waits its debounce
(300 ms) before it lints, on purpose: "ours" is the time from the change to the diagnostics
less that wait, which is what the editor's own debounce must cover. Two pipelines: the
example one (a rep's) and P2's generated one (10,000 open deals; `--quick` 1,000).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.harness import PIPECTL, PROJECT, TODAY, Bench, Cmd, Row, Timing, run_once, sh
from pipectl.lsp.server import DEBOUNCE_SECONDS

DEAL_LINES = 500
TARGET = 0.3


def big_deal() -> str:
    """A 500-line deal: a long frontmatter of touchpoints, then notes."""
    head = [
        "---",
        "title: Big account",
        "company: Big Account Inc.",
        "owner: alice",
        "value: 250000",
        "created: 2025-01-06",
        "stage_entered: 2025-01-06",
        "next_step: Quarterly review",
        f"next_step_due: {TODAY}",
        "qualification: {budget: approved, need: yes, fit: yes, timeline: Q3}",
        "touchpoints:",
    ]
    touch = [
        f"  - {{date: 2025-{1 + i // 28:02d}-{1 + i % 28:02d}, kind: call, summary: Check-in {i}}}"
        for i in range(240)
    ]
    body = ["---", "# Big account", ""]
    lines = head + touch + body
    lines += [f"Meeting note {i}: what was said, and what comes next." for i in range(500)]
    return "\n".join(lines[:DEAL_LINES]) + "\n"


class Client:
    """A minimal LSP client over the server's pipes: Content-Length framed JSON-RPC."""

    def __init__(self, cwd: Path):
        self.proc = subprocess.Popen(
            [*PIPECTL, "lsp"],
            cwd=cwd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env={**os.environ, "PIPECTL_TODAY": TODAY},
        )
        self.ids = 0

    def send(self, method: str, params: Any, request: bool = False) -> int | None:
        msg: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "params": params}
        ident = None
        if request:
            self.ids += 1
            ident = msg["id"] = self.ids
        data = json.dumps(msg).encode()
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(data) + data)
        self.proc.stdin.flush()
        return ident

    def read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        length = 0
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("pipectl lsp exited")
            if line in (b"\r\n", b"\n"):
                break
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        return dict(json.loads(self.proc.stdout.read(length)))

    def until(self, match: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        while True:
            msg = self.read()
            if match(msg):
                return msg

    def diagnostics(self, uri: str) -> dict[str, Any]:
        return self.until(
            lambda m: (
                m.get("method") == "textDocument/publishDiagnostics" and m["params"]["uri"] == uri
            )
        )

    def close(self) -> None:
        ident = self.send("shutdown", None, request=True)
        self.until(lambda m: m.get("id") == ident)
        self.send("exit", None)
        self.proc.wait(10)


def _vm_hwm(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def measure(root: Path, rel: str, runs: int) -> tuple[Timing, Timing, list[float]]:
    """Keystrokes through the server, paired with `pipectl lint FILE` from the shell."""
    path = root / rel
    uri = path.resolve().as_uri()
    text = path.read_text(encoding="utf-8")
    client = Client(root)
    client.send(
        "initialize",
        {"processId": None, "rootUri": root.resolve().as_uri(), "capabilities": {}},
        request=True,
    )
    client.until(lambda m: m.get("id") == 1)
    client.send("initialized", {})
    doc = {"uri": uri, "languageId": "markdown", "version": 1, "text": text}
    client.send("textDocument/didOpen", {"textDocument": doc})
    client.diagnostics(uri)
    base = Cmd([*PIPECTL, "lint", "--today", TODAY, rel], root, ok=(0, 1))
    ours, shell = Timing(), Timing()
    ratios = []
    marker = "touchpoints:\n"
    for i in range(runs):
        typed = text.replace(marker, f"{marker}  - {{date: {TODAY}, kind: call, summary: k{i}}}\n")
        change = {
            "textDocument": {"uri": uri, "version": i + 2},
            "contentChanges": [{"text": typed}],
        }
        t0 = time.perf_counter()
        client.send("textDocument/didChange", change)
        client.diagnostics(uri)
        secs = time.perf_counter() - t0 - DEBOUNCE_SECONDS
        ours.seconds.append(secs)
        ours.peak_kb = max(ours.peak_kb, _vm_hwm(client.proc.pid))
        b, kb = run_once(base)
        shell.seconds.append(b)
        shell.peak_kb = max(shell.peak_kb, kb)
        ratios.append(secs / b)
    client.close()
    return ours, shell, ratios


def rows_p12(ctx: Bench) -> list[Row]:
    out = []
    example = ctx.work.root / "lsp-example"
    if not (example / ".git" / "bench-complete").exists():
        shutil.rmtree(example, ignore_errors=True)
        shutil.copytree(PROJECT / "example_pipeline", example)
        (example / "closing" / "big-account.md").write_text(big_deal(), encoding="utf-8")
        run_once(
            sh(
                "git init -q && git add -A && git -c user.name=b -c user.email=b@b "
                "commit -qm seed && touch .git/bench-complete",
                example,
            )
        )
    what = f"pipectl lsp: a keystroke in a {DEAL_LINES}-line deal, example_pipeline/"
    a, b, r = measure(example, "closing/big-account.md", ctx.runs)
    out.append(Row("P12", what, "pipectl lint FILE", TARGET).fill(a, b, r))
    n = ctx.size("p2")
    repo = ctx.p2_repo or ctx.work.pipeline("lint", n, history_deals=min(n, 600))
    stage = next(p for p in sorted(repo.iterdir()) if p.is_dir() and any(p.glob("*.md")))
    (stage / "big-account.md").write_text(big_deal(), encoding="utf-8")
    try:
        what = f"pipectl lsp: a keystroke in a {DEAL_LINES}-line deal, {n:,} open deals"
        a, b, r = measure(repo, f"{stage.name}/big-account.md", ctx.runs)
        out.append(Row("P12", what, "pipectl lint FILE", TARGET).fill(a, b, r))
    finally:
        (stage / "big-account.md").unlink()  # the generated repository is reused as it was
    return out


ROWS: dict[str, Callable[[Bench], list[Row]]] = {"P12": rows_p12}
