"""The Maven CRM export imported with its accounts.csv: one account record per row of the
CSV, every deal with an account linked to its record, and each account's won revenue equal to
the sums computed from the CSV here, independently of pipectl. Run again, nothing changes."""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from typing import Any

import pytest
from conftest import DATA, REPO_ROOT, Cli, commit_count, git, make_repo

from pipectl.deal import slugify

MAVEN = DATA / "maven-crm"
MAPPING = REPO_ROOT / "docs" / "maven-mapping.yaml"


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Any:
    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as mp:  # module scope: conftest's isolation is not on yet
        mp.setenv("HOME", str(home))
        mp.setenv("GIT_CONFIG_GLOBAL", str(home / "gitconfig"))
        mp.setenv("GIT_CONFIG_NOSYSTEM", "1")
        mp.delenv("PIPECTL_TODAY", raising=False)
        root = make_repo(tmp_path_factory.mktemp("maven") / "pipeline")
        cli = Cli(root)
        assert cli("init").exit_code == 0
        args = ("import", str(MAVEN / "sales_pipeline.csv"), "--mapping", str(MAPPING))
        result = cli(*args, "--accounts", str(MAVEN / "accounts.csv"))
        assert result.exit_code == 0, result.output
        commits = commit_count(root)
        again = cli(*args, "--accounts", str(MAVEN / "accounts.csv"))
        yield root, cli, result, commits, again


def _rows(name: str) -> list[dict[str, str]]:
    with (MAVEN / name).open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_one_account_record_per_row_of_accounts_csv(imported):
    root, _cli, result, _, _ = imported
    names = {r["account"] for r in _rows("accounts.csv")}
    assert len(names) == 85
    files = sorted(p.stem for p in (root / "accounts").glob("*.md"))
    assert len(files) == 85
    assert set(files) == {slugify(n) for n in names}
    acme = (root / "accounts" / f"{slugify('Acme Corporation')}.md").read_text()
    assert "name: Acme Corporation\n" in acme and "industry: technolgy\n" in acme
    assert "wrote 85 new accounts" in result.output


def test_every_deal_with_an_account_is_linked_and_won_revenue_matches_the_csv(imported):
    root, cli, _, _, _ = imported
    won: dict[str, float] = defaultdict(float)
    with_account = 0
    for row in _rows("sales_pipeline.csv"):
        if row["account"]:
            with_account += 1
            if row["deal_stage"] == "Won":
                won[slugify(row["account"])] += float(row["close_value"])
    r = cli("lint", "--select", "PL109", "--format", "json")
    assert json.loads(r.stdout) == []  # no dangling link
    linked = 0
    for path in root.glob("*/*.md"):
        if path.parent.name in ("accounts", "contacts"):
            continue
        text = path.read_text()
        if "\ncompany: " in text:
            assert "\naccount: " in text, path
            linked += 1
    assert linked == with_account
    r = cli("customers", "--format", "json")
    got = {c["id"]: c["won"] for c in json.loads(r.stdout)}
    assert got == pytest.approx(dict(won))
    one = max(won, key=lambda k: won[k])
    shown = json.loads(cli("account", "show", one, "--format", "json").stdout)
    assert shown["won"] == pytest.approx(won[one])


def test_importing_again_changes_nothing(imported):
    root, _cli, _, commits, again = imported
    assert again.exit_code == 0, again.output
    assert "no changes" in again.output
    assert commit_count(root) == commits
    assert git(root, "status", "--porcelain") == ""
