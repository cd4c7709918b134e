"""Line items and recurring revenue: what a deal sells, and the amounts that follow from it.

`line_items:` lists `{product, quantity, unit_price, discount, recurring}` entries; a deal
without `value:` is worth what its items add up to (one-off items once, monthly ones for
`term_months`, 12 by default), and `mrr:` states monthly recurring revenue where there are no
items. The optional catalogue (`products.csv` beside pipeline.yaml: product, unit_price,
recurring) names the products items may sell; lint checks items against it. The one reader
of these fields: checks, amounts, the catalogue. Never prints, never runs git.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pipectl.fieldtypes import MAX_AMOUNT, is_number

LINE_ITEM_KEYS = ("product", "quantity", "unit_price", "discount", "recurring")
RECURRING = ("monthly", "one-off")
DEFAULT_TERM = 12  # months a recurring item runs for when the deal names no term_months
PRODUCTS_FILE = "products.csv"
PRODUCTS_HEADER = ("product", "unit_price", "recurring")
MAX_PRODUCTS_BYTES = 1 << 20
_ENTRY = "{" + ", ".join(LINE_ITEM_KEYS) + "}"


@dataclass(frozen=True)
class Amounts:
    """What a deal's items (or its `mrr:`) come to: the one-off part, the monthly part and
    the term; `contract` is what `value` is when the deal states none."""

    one_off: float
    monthly: float
    term_months: int

    @property
    def contract(self) -> float:
        return self.one_off + self.monthly * self.term_months

    @property
    def first_year(self) -> float:
        """One-off plus the first year of recurring (fewer months for a shorter term)."""
        return self.one_off + self.monthly * min(DEFAULT_TERM, self.term_months)


def item_problem(item: Any) -> str | None:
    """Why one entry of `line_items:` is refused, or None."""
    if not isinstance(item, Mapping):
        return f"must be a mapping {_ENTRY}"
    for key in item:
        if key not in LINE_ITEM_KEYS:
            return f"{key!r} is not one of {', '.join(LINE_ITEM_KEYS)}"
    product = item.get("product")
    if not isinstance(product, str) or not product.strip() or "\n" in product:
        return "product: must be a name on one line"
    for key, low, high in (("quantity", 0.0, MAX_AMOUNT), ("unit_price", 0.0, MAX_AMOUNT)):
        value = item.get(key)
        if value is not None and (not is_number(value) or not low <= value <= high):
            return f"{key}: must be a number of at least 0"
    if item.get("quantity") == 0:
        return "quantity: must be more than 0"
    discount = item.get("discount")
    if discount is not None and (not is_number(discount) or not 0 <= discount <= 1):
        return "discount: must be a fraction from 0 to 1 (0.1 is 10% off)"
    recurring = item.get("recurring")
    if recurring is not None and recurring not in RECURRING:
        return f"recurring: must be {' or '.join(RECURRING)}"
    return None


def problems(raw: Any) -> Iterator[tuple[int | None, str]]:
    """(entry index or None for the whole list, message) for each refused part."""
    if not isinstance(raw, list):
        yield None, f"line_items: must be a list of {_ENTRY} entries"
        return
    for i, item in enumerate(raw):
        problem = item_problem(item)
        if problem:
            yield i, f"line item {i + 1}: {problem}"


def amounts(fields: Mapping[str, Any]) -> Amounts | None:
    """The deal's one-off and monthly amounts from its line items, else its `mrr:`; None
    when it has neither, or an item cannot be priced (no unit_price: the file must say)."""
    items = fields.get("line_items")
    term = fields.get("term_months")
    term_months = term if isinstance(term, int) and not isinstance(term, bool) and term > 0 else 0
    one_off = monthly = 0.0
    priced = False
    if isinstance(items, list) and items:
        for item in items:
            if item_problem(item) is not None or item.get("unit_price") is None:
                return None
            quantity = item.get("quantity")
            amount = float(item["unit_price"]) * (1.0 if quantity is None else float(quantity))
            amount *= 1.0 - float(item.get("discount") or 0)
            if item.get("recurring") == "monthly":
                monthly += amount
            else:
                one_off += amount
        priced = True
    mrr: Any = fields.get("mrr")
    if not monthly and is_number(mrr) and 0 <= mrr <= MAX_AMOUNT:
        monthly, priced = float(mrr), True
    if not priced:
        return None
    return Amounts(one_off, monthly, term_months or DEFAULT_TERM)


def items_value(fields: Mapping[str, Any]) -> float | None:
    """What the line items say the deal is worth; None without (priceable) items."""
    if not isinstance(fields.get("line_items"), list) or not fields["line_items"]:
        return None
    found = amounts(fields)
    return None if found is None else round(found.contract, 2)


# --- the catalogue ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Product:
    name: str
    unit_price: float | None
    recurring: str


def load_products(text: str) -> tuple[dict[str, Product], list[tuple[int, str]]]:
    """The catalogue from its text: products by name, and (line, problem) for rows refused."""
    found: dict[str, Product] = {}
    bad: list[tuple[int, str]] = []
    rows = csv.reader(io.StringIO(text))
    for number, row in enumerate(rows, start=1):
        cells = [c.strip() for c in row]
        if not cells or cells == [""] or cells[0].startswith("#"):
            continue
        if tuple(c.lower() for c in cells) == PRODUCTS_HEADER:
            continue
        if len(cells) != 3:
            bad.append(
                (number, f"a row is {', '.join(PRODUCTS_HEADER)}: 3 cells, not {len(cells)}")
            )
            continue
        name, price, recurring = cells
        try:
            unit_price = float(price) if price else None
        except ValueError:
            unit_price = -1.0
        if unit_price is not None and (unit_price < 0 or not is_number(unit_price)):
            bad.append((number, f"unit_price: {price!r} is not an amount"))
        elif recurring not in RECURRING:
            bad.append((number, f"recurring: {recurring!r} is not {' or '.join(RECURRING)}"))
        elif name in found:
            bad.append((number, f"{name!r} is listed twice"))
        else:
            found[name] = Product(name, unit_price, recurring)
    return found, bad


def catalogue_problems(items: Any, products: Mapping[str, Product]) -> Iterator[tuple[int, str]]:
    """(entry index, message) for each item the catalogue does not back: an unknown
    product, an item without unit_price, or one billed otherwise than its product."""
    if not isinstance(items, list):
        return
    for i, item in enumerate(items):
        if not isinstance(item, Mapping) or item_problem(item) is not None:
            continue  # PL103 reports the entry itself
        name = str(item.get("product"))
        product = products.get(name)
        if products and product is None:
            known = ", ".join(sorted(products)[:8])
            yield i, f"line item {i + 1}: product {name!r} is not in {PRODUCTS_FILE} ({known})"
            continue
        if item.get("unit_price") is None:
            hint = (
                f" (the catalogue's is {product.unit_price:g})"
                if product and product.unit_price is not None
                else ""
            )
            yield i, f"line item {i + 1}: no unit_price, so the deal has no value from it{hint}"
        recurring = item.get("recurring") or "one-off"
        if product is not None and recurring != product.recurring:
            yield (
                i,
                (
                    f"line item {i + 1}: {name!r} is billed {product.recurring} in the catalogue, "
                    f"the item says {recurring}"
                ),
            )


def value_problem(fields: Mapping[str, Any], stated: float | None) -> str | None:
    """Why a stated `value:` disagrees with the line items (beyond a cent), or None."""
    computed = items_value(fields)
    if computed is None or stated is None or abs(computed - stated) < 0.005:
        return None
    return f"value {stated:,.2f} is not what the line items come to ({computed:,.2f})"


JSON_SCHEMA: Mapping[str, Any] = {
    "type": ["array", "null"],
    "items": {
        "type": "object",
        "properties": {
            "product": {"type": "string", "minLength": 1},
            "quantity": {"type": "number", "exclusiveMinimum": 0},
            "unit_price": {"type": "number", "minimum": 0},
            "discount": {"type": "number", "minimum": 0, "maximum": 1},
            "recurring": {"enum": list(RECURRING)},
        },
        "required": ["product"],
        "additionalProperties": False,
    },
}

FIELDS_DOC: Sequence[str] = (
    "",
    "## Line items and recurring revenue",
    "",
    "`line_items:` lists what the deal sells, each a mapping of `product` (a name), "
    "`quantity` (default 1), `unit_price`, `discount` (a fraction: 0.1 is 10% off) and "
    "`recurring` (`monthly` or `one-off`, the default). Without `value:`, the deal is worth "
    "its items: one-off ones once, monthly ones for `term_months` (12 when not given). "
    "`mrr:` states monthly recurring revenue for a deal without monthly items. Lint flags a "
    "`value` the items disagree with (PL113) and, with a `products.csv` catalogue beside "
    "pipeline.yaml, items it does not back (PL114). See docs/forecast.md.",
    "",
    "```yaml",
    "line_items:",
    "  - {product: Analytics seat, quantity: 20, unit_price: 45, recurring: monthly}",
    "  - {product: Onboarding, unit_price: 3000, discount: 0.1}",
    "term_months: 12",
    "```",
)
