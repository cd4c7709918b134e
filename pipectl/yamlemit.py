"""One YAML value on one line, as pipectl writes it into a deal: `scalar` and `flow`.

The emitter's own output, short-cut for the common values (an import writes thousands of
files). `dealedit.py` writes with these and re-exports them; nothing here edits a file.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from typing import Any

import yaml

# Text, ints and dates that YAML writes as they are, without the emitter: an import writes
# thousands of files and yaml.safe_dump costs ~25 µs a value. Output is the emitter's own.
_PLAIN_TEXT = re.compile(r"[^\W\d_](?:[\w .,()/&'+—–-]*[\w.)])?")
_YAML_WORDS = frozenset({"yes", "no", "true", "false", "on", "off", "null", "y", "n"})


def scalar(value: Any) -> str:
    """One YAML value on one line that reads back as the same value."""
    if type(value) is str and _PLAIN_TEXT.fullmatch(value) and value.lower() not in _YAML_WORDS:
        return value
    if type(value) is int:
        return str(value)
    if type(value) is dt.date:
        return value.isoformat()
    if isinstance(value, list | Mapping):
        return flow(value)
    out = yaml.dump(
        value, Dumper=_OneLineDumper, allow_unicode=True, width=math.inf, default_flow_style=True
    )
    # only the dump's own line end and spaces: str.strip() would eat a value's no-break space
    return out.removesuffix("\n").removesuffix("\n...").strip(" \n")


def flow(value: Any) -> str:
    """A list or mapping in flow style on one line, e.g. a touchpoint entry."""
    out = yaml.dump(
        value,
        Dumper=_OneLineDumper,
        allow_unicode=True,
        width=math.inf,
        default_flow_style=True,
        sort_keys=False,
    )
    return out.strip()


class _OneLineDumper(yaml.SafeDumper):
    """Keeps every value on one line: text holding a line break is double-quoted, escaped.

    Left to itself the emitter folds such text over several lines, and YAML takes NEL,
    U+2028 and U+2029 for line breaks too, even inside quotes.
    """


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    breaks = any(c in data for c in ("\n", "\r", "\x85", "\u2028", "\u2029"))
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style='"' if breaks else None)


_OneLineDumper.add_representer(str, _represent_str)
