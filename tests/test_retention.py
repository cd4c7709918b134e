"""Renewals and churn (issue 22): a lost renewal is churn in the report's retention figures,
never a lost new deal; a won one renewed revenue. Through the CLI on a real git repo, every
figure worked out here from the deals below."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import Cli, git, make_repo

TODAY = "2026-11-30"
# id: (stage, value, closed, renewal_of)
DEALS = {
    "acme": ("won", 10000, "2025-11-01", None),
    "acme-2026": ("won", 12000, "2026-10-30", "acme"),  # renewed, bigger
    "globex": ("won", 8000, "2025-09-01", None),
    "globex-2026": ("lost", 8000, "2026-09-15", "globex"),  # churned
    "initech": ("won", 5000, "2025-12-01", None),
    "initech-2026": ("qualifying", 5000, None, "initech"),  # renewal still open
    "umbrella": ("won", 3000, "2026-11-02", None),  # new business
    "hooli": ("lost", 7000, "2026-10-01", None),  # a lost new deal
}


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = make_repo(tmp_path_factory.mktemp("retention") / "repo")
    (root / "pipeline.yaml").write_text("base_currency: USD\n")
    for deal_id, (stage, value, closed, of) in DEALS.items():
        lines = ["---", f"title: {deal_id}", "created: 2025-06-01", f"value: {value}"]
        lines += [f"closed: {closed}"] if closed else []
        lines += ["lost_reason: price"] if stage == "lost" else []
        lines += [f"renewal_of: {of}"] if of else []
        (root / stage).mkdir(exist_ok=True)
        (root / stage / f"{deal_id}.md").write_text("\n".join([*lines, "---", ""]))
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "deals")
    return root


def report(root: Path, *args: str) -> dict:
    r = Cli(root)("report", "--json", "--today", TODAY, *args)
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def test_renewals_are_retention_and_a_lost_one_is_churn(root: Path) -> None:
    data = report(root)
    assert data["retention"] == {
        "renewed_count": 1,
        "renewed_value": 12000,
        "churned_count": 1,
        "churned_value": 8000,
        "gross_retention": round(12000 / (12000 + 8000), 4),
        "open_count": 1,
        "open_value": 5000,
    }
    # new business only: acme, globex, initech, umbrella won; hooli lost
    assert (data["won_count"], data["lost_count"]) == (4, 1)
    assert data["won_value"] == 10000 + 8000 + 5000 + 3000
    assert data["lost_value"] == 7000
    assert data["win_rate"] == 4 / 5


def test_the_window_narrows_retention_as_it_does_outcomes(root: Path) -> None:
    data = report(root, "--since", "2026-10-01")
    assert (data["retention"]["renewed_count"], data["retention"]["churned_count"]) == (1, 0)
    assert data["retention"]["gross_retention"] == 1.0


def test_the_text_report_has_a_retention_line(root: Path) -> None:
    r = Cli(root)("report", "--today", TODAY)
    assert (
        "Retention: renewed 1 (12,000 USD), churned 1 (8,000 USD), gross retention 60%; "
        "1 renewals open (5,000 USD)" in r.stdout
    )


def test_a_pipeline_without_renewals_says_nothing_of_them(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "plain")
    assert Cli(root)("init").exit_code == 0
    r = Cli(root)("report", "--today", TODAY)
    assert "Retention" not in r.stdout
    assert report(root)["retention"]["gross_retention"] is None
