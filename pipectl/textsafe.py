"""The one sanitiser of user text bound for a screen or a log: control characters escaped.

Every text output (render/, lint's text and GitHub formats) passes user text through `visible`;
under GitHub Actions, output that may hold user text is fenced off from the runner's workflow
commands (`github_log`). Kernel: imports nothing from pipectl, never prints.
"""

from __future__ import annotations

import os
import re
import secrets

# C0 and C1 control characters: in a file they are the user's, on a screen they would be
# obeyed (ESC sequences retitle, clear or recolour a terminal; `\r` overwrites the line; a line
# break starts a new line that a CI log may take for a workflow command). The bidirectional
# embeddings, overrides and isolates reorder what a reader sees ("Trojan Source"). All are
# shown escaped instead.
_OTHERS = r"\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069"
_CONTROLS = re.compile(rf"[\x00-\x1f{_OTHERS}]")
_CONTROLS_BUT_LINES = re.compile(rf"[\x00-\x08\x0b-\x1f{_OTHERS}]")


def visible(text: str, lines: bool = False) -> str:
    """Text safe to print: control characters escaped (`\\x1b`); `lines` keeps \\n and \\t."""
    if lines:
        return _CONTROLS_BUT_LINES.sub(_escape, text.replace("\r\n", "\n"))
    return _CONTROLS.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    return match.group().encode("unicode_escape").decode("ascii")


# --- CI logs ---------------------------------------------------------------------------------
# GitHub's runner obeys a line of a job's log that starts with `::` (leading blanks skipped:
# `::add-mask::`, `::error::`, `::set-output::`) and, in the older syntax, one holding `##[`
# anywhere. Text a user controls (file names, titles, messages) must never be read as one.


def in_github_actions() -> bool:
    """Whether the output goes to a GitHub Actions log (the runner sets GITHUB_ACTIONS)."""
    return os.environ.get("GITHUB_ACTIONS") == "true"


def github_log(text: str) -> str:
    """Text for a GitHub Actions log, where no line of it may act as a workflow command:
    between `::stop-commands::TOKEN` and `::TOKEN::`, a fresh random token per call, so no
    text inside can guess it to switch commands back on."""
    if not text:
        return text
    token = secrets.token_hex(16)
    while token in text:  # 128 random bits; the loop only makes "never" a proof
        token = secrets.token_hex(16)
    body = text if text.endswith("\n") else text + "\n"
    return f"::stop-commands::{token}\n{body}::{token}::\n"


def for_log(text: str) -> str:
    """`github_log(text)` under GitHub Actions, else the text as it is."""
    return github_log(text) if in_github_actions() else text


def json_for_log(text: str) -> str:
    """JSON text with `##[` written `##\\u005b`: the same JSON value, but no line a runner
    takes for an old-style command. (A JSON line never starts with `::`: it starts with a
    blank, a quote, a bracket or a digit, and `#` only occurs inside strings.)"""
    return text.replace("##[", "##\\u005b")
