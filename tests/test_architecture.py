"""docs/architecture.md matches the tree: every module it names exists, and it names them all."""

from __future__ import annotations

import re

from conftest import REPO_ROOT

PACKAGE = REPO_ROOT / "pipectl"


def _table() -> dict[str, set[str]]:
    """The modules of the doc's package table, as paths relative to pipectl/."""
    text = (REPO_ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    named: dict[str, set[str]] = {}
    package = ""
    rows = [line.split("|")[1:-1] for line in text.splitlines() if line.startswith("| ")]
    for first, modules, *_ in ((c.strip() for c in r) for r in rows if len(r) == 3):
        if first not in ("", "package"):
            package = "" if first in ("kernel", "library face") else first.strip("`")
        for module in re.findall(r"`([\w*]+\.py)`", modules):
            named.setdefault(package, set()).add(module)
    return named


def _tree() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE)
        if path.name == "__init__.py" or path.name == "__main__.py" or "__pycache__" in rel.parts:
            continue
        package = "" if len(rel.parts) == 1 else rel.parts[0] + "/"
        found.setdefault(package, set()).add(path.name)
    return found


def test_every_named_module_exists() -> None:
    for package, modules in _table().items():
        for module in modules:
            assert list((PACKAGE / package).glob(module)), (
                f"docs/architecture.md: {package}{module}"
            )


def test_every_module_is_named() -> None:
    table = _table()
    for package, modules in _tree().items():
        assert package in table, f"docs/architecture.md does not name the package {package}"
        for module in modules:
            covered = any(re.fullmatch(p.replace("*", r"\w+"), module) for p in table[package])
            assert covered, f"docs/architecture.md does not name {package}{module}"


def test_the_layer_diagram_names_every_package() -> None:
    text = (REPO_ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    diagram = text.split("```")[1]
    for package in sorted(p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()):
        assert f"{package}/" in diagram, f"the diagram in docs/architecture.md lacks {package}/"


def test_every_test_file_the_docs_cite_exists() -> None:
    cited = REPO_ROOT.glob("**/*.md")
    texts = [p.read_text(encoding="utf-8") for p in cited if ".git" not in p.parts]
    paths = {m for text in texts for m in re.findall(r"\btests/[\w/]+\.py\b", text)}
    assert paths, "the docs cite no test at all: the pattern is wrong"
    missing = sorted(p for p in paths if not (REPO_ROOT / p).is_file())
    assert missing == [], f"docs cite test files that do not exist: {missing}"
