"""Every regex over user data costs the length of its input, not its square (issue 13: a 250 KB
deal made lint take 66 s, a trailer of 150,000 spaces made history take two minutes, a 60 KB
number cell in import took 57 s).

Two checks, both deterministic. The structure: every pattern in pipectl (compiled at module
level, or a literal given to `re.*`) is read with Python's own regex parser and refused when it
has a shape that backtracks more than linearly on a failing match: a repeat inside a repeat, two
repeats in a row that can match the same character (`.*?\\s*$`, `[^:]*?[ \\t]*:`), or, when it is
not anchored at its start, a leading repeat that something must follow (`\\s*X$` searched for).
The inputs: per kind of user data (a deal's line for lint and the YAML locator, a commit trailer
for history, a cell for import, a line for the merge driver), an input large enough that the
shapes above would take minutes, through the CLI on real files and real git, under a 20 s
backstop. The shape check is what fails first if such a pattern comes back; the backstop is for
a shape it does not know.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import QUALIFIED, REPO_ROOT, git, make_repo

import pipectl

try:
    from re import _constants as C  # type: ignore[attr-defined]
    from re import _parser as P  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover (Python < 3.11)
    import sre_constants as C  # type: ignore[no-redef]
    import sre_parse as P  # type: ignore[no-redef]

BACKSTOP = 20  # seconds: linear work on these inputs takes well under one
MAXREPEAT = C.MAXREPEAT
REPEATS = (C.MAX_REPEAT, C.MIN_REPEAT, getattr(C, "POSSESSIVE_REPEAT", None))
# characters that stand for every class a pattern of pipectl may name
ALPHABET = [chr(c) for c in range(0x250)] + list("\u00a0\u2028\u2029\u202f—–€£¥₹\ufeff")


# --- the shape of a pattern ------------------------------------------------------------------


def _chars(items: Any, flags: int) -> set[str]:
    """The characters one repetition of `items` may start with (approximated on ALPHABET)."""
    out: set[str] = set()
    for op, arg in items:
        if op is C.LITERAL:
            out.add(chr(arg))
        elif op is C.NOT_LITERAL:
            out.update(c for c in ALPHABET if c != chr(arg))
        elif op is C.ANY:
            out.update(c for c in ALPHABET if flags & re.DOTALL or c != "\n")
        elif op in (C.IN, C.CATEGORY):
            rx = re.compile(_class_source(op, arg))
            out.update(c for c in ALPHABET if rx.fullmatch(c))
        elif op is C.SUBPATTERN:
            out |= _chars(arg[-1], flags)
        elif op is C.BRANCH:
            for branch in arg[1]:
                out |= _chars(branch, flags)
        elif op in REPEATS:
            out |= _chars(arg[2], flags)
        if not _can_be_empty([(op, arg)]):
            break
    return out


_CATEGORY = {
    C.CATEGORY_DIGIT: r"\d",
    C.CATEGORY_NOT_DIGIT: r"\D",
    C.CATEGORY_SPACE: r"\s",
    C.CATEGORY_NOT_SPACE: r"\S",
    C.CATEGORY_WORD: r"\w",
    C.CATEGORY_NOT_WORD: r"\W",
}


def _class_source(op: Any, arg: Any) -> str:
    if op is C.CATEGORY:
        return _CATEGORY[arg]
    parts, negate = [], False
    for kind, value in arg:
        if kind is C.NEGATE:
            negate = True
        elif kind is C.LITERAL:
            parts.append(re.escape(chr(value)))
        elif kind is C.RANGE:
            parts.append(f"{re.escape(chr(value[0]))}-{re.escape(chr(value[1]))}")
        elif kind is C.CATEGORY:
            parts.append(_CATEGORY[value])
    return f"[{'^' if negate else ''}{''.join(parts)}]"


def _can_be_empty(items: Any) -> bool:
    for op, arg in items:
        if op is C.AT:
            continue
        if op in REPEATS:
            if arg[0] == 0 or _can_be_empty(arg[2]):
                continue
            return False
        if op is C.SUBPATTERN:
            if _can_be_empty(arg[-1]):
                continue
            return False
        if op is C.BRANCH:
            if any(_can_be_empty(b) for b in arg[1]):
                continue
            return False
        return False
    return True


def _unbounded(op: Any, arg: Any) -> bool:
    return op in REPEATS and arg[1] == MAXREPEAT


def _has_unbounded(items: Any) -> bool:
    for op, arg in items:
        if _unbounded(op, arg):
            return True
        if op in REPEATS and _has_unbounded(arg[2]):
            return True
        if op is C.SUBPATTERN and _has_unbounded(arg[-1]):
            return True
        if op is C.BRANCH and any(_has_unbounded(b) for b in arg[1]):
            return True
    return False


def _leading_repeats(items: Any) -> Iterator[tuple[Any, Any]]:
    """The unbounded repeats a match of `items` may begin with."""
    for op, arg in items:
        if _unbounded(op, arg):
            yield op, arg
        elif op is C.SUBPATTERN:
            yield from _leading_repeats(arg[-1])
        elif op is C.BRANCH:
            for branch in arg[1]:
                yield from _leading_repeats(branch)
        if not _can_be_empty([(op, arg)]):
            return


def shape_problems(items: Any, flags: int, anchored: bool = False, after: Any = ()) -> list[str]:
    """Why a parsed pattern may backtrack more than linearly; empty when it cannot. `after`:
    what follows `items` in the pattern around them (a group's items are followed by what
    comes after the group)."""
    items = list(items)
    after = list(after)
    problems: list[str] = []
    if items and not anchored and items[0][0] is not C.AT:
        first = next(_leading_repeats(items[:1]), None)
        if first is not None and not _can_be_empty(items[1:] + after):
            problems.append("a leading repeat, unanchored, that something must follow")
    for i, (op, arg) in enumerate(items):
        rest = items[i + 1 :] + after
        if op in REPEATS:
            if arg[1] > 1 and _has_unbounded(arg[2]):
                problems.append("a repeat inside a repeat")
            problems += shape_problems(arg[2], flags, True, rest)
        elif op is C.SUBPATTERN:
            problems += shape_problems(arg[-1], flags, True, rest)
        elif op is C.BRANCH:
            for branch in arg[1]:
                problems += shape_problems(branch, flags, anchored or i > 0, rest)
        if _unbounded(op, arg):
            mine = _chars(arg[2], flags)
            for later in _following(rest):
                if mine & _chars(later[1][2], flags):
                    problems.append("two repeats in a row that match the same character")
    return problems


def _following(items: Any) -> Iterator[tuple[Any, Any]]:
    """The unbounded repeats that may come right after (past what can match empty)."""
    for op, arg in items:
        yield from _leading_repeats([(op, arg)])
        if not _can_be_empty([(op, arg)]):
            return


def problems_of(
    pattern: str | re.Pattern[str], flags: int = 0, anchored: bool = False
) -> list[str]:
    """`anchored`: the pattern is only ever used with match or fullmatch (tried at one place)."""
    if isinstance(pattern, re.Pattern):
        pattern, flags = pattern.pattern, pattern.flags
    parsed = P.parse(pattern, flags)
    return shape_problems(list(parsed), parsed.state.flags, anchored)


# --- every pattern in pipectl ---------------------------------------------------------------


def module_patterns() -> Iterator[tuple[str, re.Pattern[str], bool]]:
    """(where, pattern, only ever used with match/fullmatch) for each module-level pattern."""
    used = _uses()
    for info in pkgutil.walk_packages(pipectl.__path__, "pipectl."):
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            values = value if isinstance(value, tuple | list) else (value,)
            for v in values:
                if isinstance(v, re.Pattern) and isinstance(v.pattern, str):
                    anchored = name in used and used[name] <= {"match", "fullmatch", "pattern"}
                    yield f"{info.name}.{name}", v, anchored


def _uses() -> dict[str, set[str]]:
    """Every `NAME.attr` in pipectl's source: how each named pattern is used."""
    out: dict[str, set[str]] = {}
    for path in (REPO_ROOT / "pipectl").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                out.setdefault(node.value.id, set()).add(node.attr)
    return out


# `re.compile` of a literal at module level is read from the module, with how it is used
RE_CALLS = {"match", "search", "sub", "subn", "split", "fullmatch", "findall", "finditer"}


def literal_patterns() -> Iterator[tuple[str, str, bool]]:
    """(where, pattern, used with match/fullmatch) for each literal given to `re.*`."""
    for path in sorted((REPO_ROOT / "pipectl").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "re"
                and node.func.attr in RE_CALLS
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                where = f"{path.relative_to(REPO_ROOT)}:{node.lineno}"
                yield where, node.args[0].value, node.func.attr in ("match", "fullmatch")


def test_the_shape_check_knows_the_quadratic_patterns_issue_13_found() -> None:
    # the three that took minutes, as they were
    assert problems_of(r"^Pipectl-(Action|Deal):[ \t]*(\S.*?)\s*$")
    assert problems_of(
        r"""^(?:"([^"\n]+)"|'([^'\n]+)'|([^\s#'"\-?:,\[\]{}&*!|>%@`][^:\n]*?))[ \t]*:(?:[ \t]|$)"""
    )
    assert problems_of(r"^([A-Z]{3}|[$€£¥₹])\s*|\s*([A-Z]{3}|[$€£¥₹])$")
    # and the classics
    assert problems_of(r"^(a+)+$") and problems_of(r"(\w+\s?)*$") and problems_of(r"\s*x")
    # linear ones pass
    for ok in (r"^\d{1,3}(,\d{3})+(\.\d+)?$", r"[^a-z0-9]+", r"^Pipectl-(Action|Deal):(.*)$"):
        assert problems_of(ok) == [], ok


def test_every_pattern_in_pipectl_is_linear() -> None:
    bad = [
        f"{where}: {p.pattern!r} {problems_of(p, anchored=anchored)}"
        for where, p, anchored in module_patterns()
        if problems_of(p, anchored=anchored)
    ]
    for where, pattern, anchored in literal_patterns():
        try:
            parsed = P.parse(pattern)
        except re.error:
            continue
        found = shape_problems(list(parsed), parsed.state.flags, anchored)
        if found:
            bad.append(f"{where}: {pattern!r} {found}")
    assert bad == []
    assert len(list(module_patterns())) > 15  # the walk found pipectl's patterns


# --- each kind of input, through the CLI, under the backstop ---------------------------------


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipectl", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=BACKSTOP,
    )


@pytest.fixture
def pipe(tmp_path: Path) -> Path:
    root = make_repo(tmp_path / "repo")
    assert run(root, "init").returncode == 0
    assert run(root, "add", "Acme", "--value", "100", *QUALIFIED).returncode == 0
    return root


SPACES = " " * 250_000  # 250 KB: at the square of it, each regex above takes minutes
CELL = " " * 100_000  # 100 KB, under csv's old 128 KB cap: a cell at its square takes minutes


@pytest.mark.parametrize(
    "line",
    [
        f"note{SPACES}x",  # no colon: a key pattern's lazy part grows to the end
        f"note{SPACES}: x",  # the colon after the blanks
        f"title: a{SPACES}b",
        f'"quoted{SPACES}x": 1',
        f"tags: [a,\nb{SPACES}c]",  # valid YAML: a flow list goes on at the line's start
    ],
    ids=["no-colon", "colon-after-blanks", "long-value", "quoted-key", "flow-list"],
)
def test_lint_list_and_show_read_a_deal_with_a_250_kb_line(pipe: Path, line: str) -> None:
    path = pipe / "prospecting" / "acme.md"
    text = path.read_text()
    path.write_text(text.replace("---\n", f"---\n{line}\n", 1))
    git(pipe, "commit", "-qam", "a long line")
    for args in (("lint",), ("list",), ("show", "acme"), ("history", "acme")):
        result = run(pipe, *args)  # a TimeoutExpired past the backstop fails the test
        assert result.returncode in (0, 1, 2), (args, result.stderr[-500:])
        assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "value",
    [f"acme{SPACES}x", f"acme{SPACES}", f"{SPACES}acme"],
    ids=["inside", "after", "before"],
)
def test_history_reads_a_trailer_of_250_000_blanks(pipe: Path, value: str) -> None:
    (pipe / "prospecting" / "acme.md").write_text(
        (pipe / "prospecting" / "acme.md").read_text() + "more\n"
    )
    message = pipe.parent / "message"
    message.write_text(f"by hand\n\nPipectl-Deal: {value}\nPipectl-Action: note\n")
    git(pipe, "commit", "-qa", "-F", str(message))
    for args in (("history", "acme"), ("report",), ("lint",)):
        result = run(pipe, *args)
        assert result.returncode in (0, 1, 2), (args, result.stderr[-500:])


@pytest.mark.parametrize(
    "cell",
    [f"1{CELL}2", f"USD{CELL}", f"{CELL}EUR x", f"1{',000' * 25_000}x", "9" * 100_000],
    ids=["blanks-inside", "currency-then-blanks", "blanks-then-currency", "groups", "digits"],
)
def test_import_reads_a_100_kb_cell_in_every_kind_of_column(pipe: Path, cell: str) -> None:
    src = pipe.parent / "big.csv"
    columns = ("value", "probability", "created", "tags", "seats")
    src.write_text(
        "title," + ",".join(columns) + "\n" + "Big," + ",".join(f'"{cell}"' for _ in columns) + "\n"
    )
    result = run(pipe, "import", str(src), "--dry-run")
    assert result.returncode in (0, 2), result.stderr[-500:]
    semi = pipe.parent / "big-semi.csv"
    semi.write_text(src.read_text().replace(",", ";").replace('";"', '";"'))
    result = run(pipe, "import", str(semi), "--dry-run")
    assert result.returncode in (0, 2), result.stderr[-500:]


def test_the_merge_driver_merges_deals_with_250_kb_lines(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo")
    assert run(root, "init").returncode == 0
    assert run(root, "setup").returncode == 0
    assert run(root, "add", "Acme", "--value", "100").returncode == 0
    path = root / "prospecting" / "acme.md"
    base = path.read_text()
    long_lines = f"note: a{SPACES}x\nlabels: [a,\nb{SPACES}c]\n"  # the flow list: no colon
    path.write_text(base.replace("---\n", f"---\n{long_lines}", 1) + f"body{SPACES}\n")
    git(root, "commit", "-qam", "long lines")
    git(root, "checkout", "-qb", "side")
    assert run(root, "set", "acme", "value=200").returncode == 0
    git(root, "checkout", "-q", "main")
    assert run(root, "log", "acme", "call", f"long{SPACES[:100_000]}call").returncode == 0
    merged = subprocess.run(
        ["git", "merge", "--no-edit", "-q", "side"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=BACKSTOP,
    )
    assert merged.returncode == 0, merged.stderr[-500:]  # the driver merged both sides
    text = path.read_text()
    assert "value: 200" in text and f"long{SPACES[:100_000]}call" in text
    assert long_lines in text and f"body{SPACES}" in text


def test_the_yaml_locator_finds_keys_in_long_lines_in_linear_work() -> None:
    from pipectl.yamltext import TOP_KEY_RE, key_lines

    assert problems_of(TOP_KEY_RE) == []
    lines = [f"k{i}{SPACES[: 2_000 * i]}: v" for i in range(1, 6)] + [f"x{SPACES}"]
    assert key_lines("\n".join(lines)) == {f"k{i}": i for i in range(1, 6)}
