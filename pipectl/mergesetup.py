"""Telling git to merge deal files with pipectl: the clone's config and the .gitattributes line.

Kernel, so `init` (ops), `setup` and `sync` (team/) register the driver the same way; the
driver itself runs in team/driver.py. Never prints; git runs only through GitRepo.
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

from pipectl.errors import DealError
from pipectl.gitrepo import GitRepo
from pipectl.store import read_regular
from pipectl.writes import Change

DRIVER = "pipectl"
# Every Markdown file one folder down: the stage folders, including stages added later.
# A file there that is no deal is merged as plain text by the driver.
ATTRIBUTES_LINE = f"*/*.md merge={DRIVER}"
DRIVER_NAME = "pipectl deal merge (touchpoints united, fields three-way, body as text)"
ATTRIBUTES_FILE = ".gitattributes"
# git reads no attributes file over 100 MB; one pipectl would edit is a page of lines
MAX_ATTRIBUTES_BYTES = 1 << 20


def driver_command(use_path: bool = False) -> str:
    """The shell command git runs for a deal file that both sides changed.

    By default this Python's own path: it works from GUIs and IDEs whose PATH lacks pipectl,
    and the config holding it is per clone, so a machine-specific path is right there.
    """
    program = "pipectl" if use_path else f"{shlex.quote(sys.executable)} -m pipectl"
    return f"{program} merge-driver %O %A %B %P"


def registered_command(git: GitRepo) -> str | None:
    proc = git.run(["config", "--get", f"merge.{DRIVER}.driver"], check=False)
    return proc.stdout.strip() or None


def register(git: GitRepo, use_path: bool = False) -> str:
    """Set merge.pipectl.driver and .name in the clone's own config (never committed)."""
    command = driver_command(use_path)
    git.run(["config", f"merge.{DRIVER}.name", DRIVER_NAME])
    git.run(["config", f"merge.{DRIVER}.driver", command])
    return command


def has_entry(attributes: str) -> bool:
    return any(f"merge={DRIVER}" in line.split() for line in attributes.splitlines())


def attributes_with_entry(existing: str | None) -> str | None:
    """The .gitattributes text with pipectl's line added, or None when it is there already."""
    if existing is None:
        return (
            f"# deal files: merged by pipectl (`pipectl setup` once per clone)\n{ATTRIBUTES_LINE}\n"
        )
    if has_entry(existing):
        return None
    nl = "\r\n" if "\r\n" in existing else "\n"
    sep = "" if not existing or existing.endswith("\n") else nl
    return f"{existing}{sep}{ATTRIBUTES_LINE}{nl}"


def add_attributes(change: Change, root: Path) -> bool:
    """Within a change (e.g. `pipectl init`'s), add the entry to root/.gitattributes.

    The file is the repository's, so it is read like a deal (`read_regular`): a FIFO or
    /dev/zero under that name is refused, never waited on or read without end, and so is a
    link (git itself does not read a .gitattributes that is one).
    """
    path = root / ATTRIBUTES_FILE
    shown = change.pipeline.display(path)
    existing: str | None = None
    if os.path.lexists(path):
        data = read_regular(path, shown, follow=False, limit=MAX_ATTRIBUTES_BYTES, kind="file")
        try:
            existing = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DealError(f"not valid UTF-8 ({exc.reason}); not changed", shown) from None
    new = attributes_with_entry(existing)
    if new is not None:
        change.write(path, new)
    return new is not None
