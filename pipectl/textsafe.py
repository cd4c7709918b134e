"""The one sanitiser of user text bound for a screen or a log: control characters escaped.

Every text output (render/, lint's text and GitHub formats) passes user text through `visible`.
Kernel: imports nothing from pipectl, never prints.
"""

from __future__ import annotations

import re

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
