"""The columns that feed one part of one entry of a deal's list: `contacts.N.PART` and
`line_items.N.PART`, and the folding of a row's cells into those lists, as export writes them.

Shared by the column mapping (which names may feed a field, how a cell reads) and the rows
(folding); never reads a file or prints.
"""

from __future__ import annotations

import re
from typing import Any

from pipectl.fieldtypes import CONTACT_KEYS
from pipectl.lineitems import LINE_ITEM_KEYS

# One part of one of the deal's `contacts:`, a column of its own: `contacts.2.email` is the
# email of the second contact (1 to 99); `line_items.1.product` alike, for `line_items:`
CONTACT_KEY_RE = re.compile(r"^contacts\.([1-9][0-9]?)\.(" + "|".join(CONTACT_KEYS) + r")$")
LINE_ITEM_KEY_RE = re.compile(r"^line_items\.([1-9][0-9]?)\.(" + "|".join(LINE_ITEM_KEYS) + r")$")
# the lists of mappings whose entries' parts may each come from a column of their own
ENTRY_COLUMNS = (
    ("contacts", CONTACT_KEY_RE, CONTACT_KEYS),
    ("line_items", LINE_ITEM_KEY_RE, LINE_ITEM_KEYS),
)
NUMBER_PARTS = ("quantity", "unit_price", "discount")  # a line item's parts that are numbers


def fold_entries(values: dict[str, Any]) -> None:
    """A row's `contacts.N.PART` and `line_items.N.PART` cells, in place, as one list each:
    the entries in the order of N (an entry whose cells are all empty is none), each entry's
    parts in the order of its keys (CONTACT_KEYS, LINE_ITEM_KEYS), as export writes them."""
    for name, rx, parts in ENTRY_COLUMNS:
        found: dict[int, dict[str, Any]] = {}
        for key in [k for k in values if k.startswith(name + ".")]:
            m = rx.match(key)
            if m is not None:
                found.setdefault(int(m.group(1)), {})[m.group(2)] = values.pop(key)
        if found:
            values[name] = [
                {part: found[n][part] for part in parts if part in found[n]} for n in sorted(found)
            ]
