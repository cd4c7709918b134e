"""Amounts of money as people read them: the one formatter every output and message uses.

Grouped thousands, cents only when there are any (12,000 and 1,234.50), "-" for no amount.
Never converts currencies and never prints.
"""

from __future__ import annotations


def money(value: float | None) -> str:
    """An amount for text: `12,000`, `1,234.50`; "-" when there is none."""
    if value is None:
        return "-"
    return f"{value:,.0f}" if value == int(value) else f"{value:,.2f}"
