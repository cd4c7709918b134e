"""Output that fits the terminal and the pipe (`list`, `agenda`): piped, every value in full,
one deal a line; on a terminal (a real pty, or $COLUMNS) no line wider than the screen,
titles shortened first and ids never; --format table|tsv|csv|json; colour only on a
terminal and never with NO_COLOR."""

from __future__ import annotations

import csv
import io
import json
import os
import pty
import re
import select
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO_ROOT, Cli

TODAY = "2026-11-27"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _title(n: int) -> str:
    """An 80-character title, different for every deal."""
    return f"Deal {n:03d} for Globex Interplanetary Holdings: renewal and expansion, phase II"[
        :80
    ].ljust(80, "x")


def _fill(root: Path, count: int, *, long_ids: bool) -> list[str]:
    """`count` deals with 80-character titles, written as files (as a hand-written deal is)."""
    ids = []
    for n in range(count):
        deal_id = (
            f"globex-interplanetary-holdings-renewal-and-expansion-phase-ii-{n:03d}"
            if long_ids
            else f"deal-{n:03d}"
        )
        ids.append(deal_id)
        stage = ("prospecting", "qualifying")[n % 2]
        (root / stage / f"{deal_id}.md").write_text(
            "---\n"
            f"title: '{_title(n)}'\n"
            "company: Globex Interplanetary Holdings\n"
            f"owner: {('alice', 'bob')[n % 2]}\n"
            f"value: {1000 * (n + 1)}\n"
            f"created: 2026-11-0{1 + n % 9}\n"
            "next_step: Send the revised pricing proposal to procurement\n"
            f"next_step_due: 2026-11-{10 + n % 19}\n"
            "---\n# notes\n"
        )
    return ids


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "NO_COLOR")}
    return {**env, "PYTHONPATH": str(REPO_ROOT), "PIPECTL_TODAY": TODAY, **extra}


def _in_pty(root: Path, columns: int, *args: str, **env: str) -> str:
    """pipectl's output on a real terminal `columns` wide (no $COLUMNS to help it)."""
    import fcntl
    import termios

    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    attrs = termios.tcgetattr(follower)
    attrs[1] &= ~termios.ONLCR  # "\n" as written, not "\r\n"
    termios.tcsetattr(follower, termios.TCSANOW, attrs)
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipectl", "-C", str(root), *args],
        stdin=follower,
        stdout=follower,
        stderr=subprocess.PIPE,
        env=_env(**env),
    )
    os.close(follower)
    chunks = []
    while True:
        ready, _, _ = select.select([leader], [], [], 60)
        if not ready:
            proc.kill()
            pytest.fail("no output from pipectl in a pty within 60 s")
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the follower side closed: all read
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert proc.wait(timeout=60) == 0, proc.stderr.read() if proc.stderr else ""
    return b"".join(chunks).decode()


def _first_column(lines: list[str]) -> list[str]:
    return [line.split()[0] for line in lines[1:]]


def test_piped_list_is_every_value_in_full_one_deal_a_line(pipeline: Path) -> None:
    ids = _fill(pipeline, 100, long_ids=True)
    out = subprocess.run(
        f"{sys.executable} -m pipectl -C {pipeline} list | cat",
        shell=True,
        capture_output=True,
        text=True,
        env=_env(),
        check=True,
    ).stdout
    lines = out.splitlines()
    assert len(lines) == 101
    assert lines[0].split()[:2] == ["ID", "TITLE"]
    assert sorted(_first_column(lines)) == sorted(ids)
    assert "…" not in out and "\x1b" not in out
    for n, deal_id in enumerate(ids):
        [line] = [ln for ln in lines if ln.startswith(deal_id + " ")]
        assert _title(n) in line
        assert "Send the revised pricing proposal to procurement" in line


@pytest.mark.parametrize("columns", [80, 120])
def test_on_a_terminal_the_table_fits_and_ids_stay_whole(pipeline: Path, columns: int) -> None:
    ids = _fill(pipeline, 100, long_ids=False)
    out = _in_pty(pipeline, columns, "list")
    assert "\x1b[1m" in out  # the header, in bold on a terminal
    lines = ANSI.sub("", out).splitlines()
    assert len(lines) == 101
    assert max(len(line) for line in lines) <= columns
    assert sorted(_first_column(lines)) == sorted(ids)
    assert "…" in lines[1]  # the title gave way first
    assert lines[0].split()[:3] == ["ID", "TITLE", "STAGE"]


def test_no_color_turns_the_bold_off(pipeline: Path) -> None:
    _fill(pipeline, 3, long_ids=False)
    out = _in_pty(pipeline, 120, "list", NO_COLOR="1")
    assert "\x1b" not in out and out.startswith("ID ")


@pytest.mark.parametrize("columns", [80, 120])
def test_columns_env_fits_titles_first(
    cli: Cli, pipeline: Path, monkeypatch: pytest.MonkeyPatch, columns: int
) -> None:
    ids = _fill(pipeline, 100, long_ids=False)
    monkeypatch.setenv("COLUMNS", str(columns))
    lines = cli("list").stdout.splitlines()
    assert len(lines) == 101 and max(len(line) for line in lines) <= columns
    assert sorted(_first_column(lines)) == sorted(ids)
    header = lines[0].split()
    assert header[:3] == ["ID", "TITLE", "STAGE"] and header[-1] == "DUE"
    row = lines[1]
    assert "…" in row and "2026-11-" in row and "prospecting" in row


def test_ids_wider_than_the_screen_stay_whole(
    cli: Cli, pipeline: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Columns give way (shortened, then left out) before an id is ever cut."""
    ids = _fill(pipeline, 5, long_ids=True)
    monkeypatch.setenv("COLUMNS", "80")
    lines = cli("list").stdout.splitlines()
    assert sorted(_first_column(lines)) == sorted(ids)
    assert lines[0].split() == ["ID", "STAGE", "VALUE", "DUE"]
    assert cli("list", "--width", "200").stdout.splitlines()[0].split()[:2] == ["ID", "TITLE"]


def test_tsv_and_csv_have_every_value_and_one_deal_a_line(cli: Cli, pipeline: Path) -> None:
    ids = _fill(pipeline, 4, long_ids=True)
    (pipeline / "prospecting" / "tab.md").write_text(
        '---\ntitle: "a\\tb\\nc, \\"q\\""\nvalue: 12.5\n---\n'
    )
    tsv = cli("list", "--format", "tsv").stdout.splitlines()
    assert tsv[0].split("\t") == [
        "id",
        "title",
        "stage",
        "company",
        "owner",
        "value",
        "next_step",
        "next_step_due",
    ]
    assert len(tsv) == 6 and all(len(line.split("\t")) == 8 for line in tsv)
    rows = {line.split("\t")[0]: line.split("\t") for line in tsv[1:]}
    assert set(rows) == {*ids, "tab"}
    assert rows[ids[0]][1:] == [
        _title(0),
        "prospecting",
        "Globex Interplanetary Holdings",
        "alice",
        "1000",
        "Send the revised pricing proposal to procurement",
        "2026-11-10",
    ]
    assert rows["tab"][1] == 'a\\tb\\nc, "q"' and rows["tab"][5] == "12.5"
    out = cli("list", "--format", "CSV").stdout
    assert len(out.splitlines()) == 6
    records = list(csv.DictReader(io.StringIO(out)))
    assert {r["id"]: r["title"] for r in records}["tab"] == 'a\\tb\\nc, "q"'
    assert [r["id"] for r in records] == [line.split("\t")[0] for line in tsv[1:]]


def test_json_is_the_same_by_format_or_flag(cli: Cli, pipeline: Path) -> None:
    _fill(pipeline, 3, long_ids=False)
    by_flag = json.loads(cli("list", "--json").stdout)
    assert json.loads(cli("list", "--format", "json").stdout) == by_flag
    assert len(by_flag) == 3


def test_a_bad_format_is_one_line_exit_2(cli: Cli) -> None:
    for args in (("list", "--format", "xml"), ("agenda", "--format", "html")):
        r = cli(*args)
        assert r.exit_code == 2
        assert r.stderr.startswith(f"pipectl: error: --format: '{args[-1]}' is not one of ")
        assert len(r.stderr.splitlines()) == 1
    r = cli("list", "--json", "--format", "tsv")
    assert r.exit_code == 2 and "pick one" in r.stderr


def test_an_empty_tsv_is_its_header(cli: Cli) -> None:
    assert cli("list", "--format", "tsv").stdout.startswith("id\ttitle\t")
    assert cli("list").stdout == "no deals\n"


def test_agenda_formats_and_the_pipe(pipeline: Path) -> None:
    _fill(pipeline, 6, long_ids=True)
    cli = Cli(pipeline)
    tsv = cli("agenda", "--today", TODAY, "--owner", "all", "--format", "tsv").stdout
    lines = tsv.splitlines()
    assert lines[0].split("\t")[:3] == ["section", "id", "stage"]
    assert len(lines) == 7 and all(len(line.split("\t")) == 10 for line in lines)
    assert {line.split("\t")[0] for line in lines[1:]} == {"overdue"}
    data = json.loads(cli("agenda", "--today", TODAY, "--owner", "all", "--json").stdout)
    assert [line.split("\t")[1] for line in lines[1:]] == [i["id"] for i in data["items"]]
    as_csv = cli("agenda", "--today", TODAY, "--owner", "all", "--format", "csv").stdout
    assert [r["id"] for r in csv.DictReader(io.StringIO(as_csv))] == [
        i["id"] for i in data["items"]
    ]
    piped = subprocess.run(
        [sys.executable, "-m", "pipectl", "-C", str(pipeline), "agenda", "--owner", "all"],
        capture_output=True,
        text=True,
        env=_env(),
        check=True,
    ).stdout
    assert "…" not in piped
    assert all(f"{i['id']} " in piped for i in data["items"])


def test_agenda_on_a_terminal_fits(pipeline: Path) -> None:
    _fill(pipeline, 6, long_ids=False)
    out = ANSI.sub("", _in_pty(pipeline, 80, "agenda", "--owner", "all"))
    assert max(len(line) for line in out.splitlines()) <= 80
    assert all(f"  deal-00{n} " in out for n in range(6))


def test_board_takes_format_json_and_refuses_tsv(cli: Cli, pipeline: Path) -> None:
    _fill(pipeline, 3, long_ids=False)
    by_flag = json.loads(cli("board", "--today", TODAY, "--json").stdout)
    assert json.loads(cli("board", "--today", TODAY, "--format", "json").stdout) == by_flag
    assert cli("board", "--today", TODAY, "--format", "table").stdout.startswith("PROSPECTING")
    r = cli("board", "--format", "tsv")
    assert r.exit_code == 2
    assert r.stderr == "pipectl: error: --format: 'tsv' is not one of table, json\n"
