"""The layering of docs/architecture.md holds: contracts pass, guard what they say, no cycles.

`lint-imports` (import-linter) runs the contracts of pyproject.toml in scripts/check; these
tests prove there is no import cycle anywhere (function-local and TYPE_CHECKING imports
included) and that breaking an arrow on a copy of the package makes the contracts fail.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import grimp
import pytest
from conftest import REPO_ROOT


def _graph() -> grimp.ImportGraph:
    return grimp.build_graph("pipectl", cache_dir=None)


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def children(module: str) -> Iterator[str]:
        return iter(sorted(graph.find_modules_directly_imported_by(module)))

    for start in sorted(graph.modules):
        if start in index:
            continue
        work = [(start, children(start))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, pending = work[-1]
            child = next(pending, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append(
                        (child, iter(sorted(graph.find_modules_directly_imported_by(child))))
                    )
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    found.append(sorted(group))
    return found


def test_no_module_is_in_an_import_cycle() -> None:
    assert _cycles(_graph()) == []


def test_the_cycle_finder_finds_a_cycle(tmp_path: Path) -> None:
    graph = _graph()
    graph.add_import(importer="pipectl.deal", imported="pipectl.ops")
    assert any("pipectl.deal" in group and "pipectl.ops" in group for group in _cycles(graph))


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    # the folder's own copy of the package comes first on the path, before the installed one
    code = "import sys; sys.path.insert(0, '.'); from importlinter.cli import lint_imports_command"
    command = [sys.executable, "-c", f"{code}; lint_imports_command()", "--no-cache"]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)


def test_the_contracts_pass() -> None:
    result = _lint_imports(REPO_ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.fixture(scope="module")
def copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("layers")
    skip = shutil.ignore_patterns("__pycache__")
    shutil.copytree(REPO_ROOT / "pipectl", root / "pipectl", ignore=skip)
    shutil.copy(REPO_ROOT / "pyproject.toml", root / "pyproject.toml")
    return root


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        ("deal.py", "import typer", "Kernel: never the wings"),
        ("store.py", "from pipectl.render import text", "Kernel: never the wings"),
        ("lint/rules_time.py", "from pipectl.render import text", "Lint rules: only"),
        ("lint/rules_shape.py", "from pipectl.lint import registry", "Lint rules: only"),
        ("render/text.py", "from pipectl.cli import app", "Wings: never the CLI"),
        ("daily/board.py", "from pipectl.transfer import exporter", "Layers: cli, render"),
        ("lint/settings.py", "from pipectl.lint import context", "Lint layers:"),
        ("team/merge.py", "from pipectl.team import driver", "No cycles between"),
    ],
)
def test_removing_a_guard_breaks_a_contract(
    copy: Path, module: str, line: str, broken: str
) -> None:
    path = copy / "pipectl" / module
    original = path.read_text(encoding="utf-8")
    # after the module docstring and `from __future__`, as a real import would be
    text = re.sub(r"(from __future__ import annotations\n)", rf"\1{line}\n", original, count=1)
    assert text != original
    path.write_text(text, encoding="utf-8")
    try:
        result = _lint_imports(copy)
    finally:
        path.write_text(original, encoding="utf-8")
    assert result.returncode == 1, result.stdout
    broken_now = [line for line in result.stdout.splitlines() if line.endswith(" BROKEN")]
    assert any(line.startswith(broken) for line in broken_now), result.stdout


def test_every_kernel_module_is_under_the_kernel_contract() -> None:
    """A new top-level module is guarded from the day it is made, not when someone remembers."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10: import-linter's own TOML reader
        import tomli as tomllib

    config = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    kernel = next(c for c in contracts if c["name"].startswith("Kernel:"))
    guarded = set(kernel["source_modules"])
    top = {f"pipectl.{p.stem}" for p in (REPO_ROOT / "pipectl").glob("*.py")}
    top -= {"pipectl.__init__", "pipectl.__main__", "pipectl.api"}  # the faces over it all
    assert sorted(top - guarded) == []
