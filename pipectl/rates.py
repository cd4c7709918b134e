"""The dated rate table (`rates.csv` beside pipeline.yaml) and the conversion of amounts.

One row per rate: `currency,from,rate`, the rate being the units of the base currency one unit
of `currency` is worth from the day `from` on, until the currency's next row. `#` lines and
blank lines are comments. The table is read from text (`load_rates`) so that `--as-of` reads
a commit's table as the worktree's; `read_rates` reads it for a pipeline, of the worktree or
of a commit. A row that cannot be used (not three cells, a bad date, a rate that is no
positive number, the base currency, a currency and day given twice) is a problem naming its
line: lint reports each (PL107), every figure refuses the table (`checked`), because a
figure converted at a rate from the wrong row would be wrong without a word.

Conversion: an amount in currency C on day D is worth `amount × rate(C, D)` in the base
currency, and `× rate(C, D) / rate(T, D)` in another currency T; each converted amount is
rounded to the cent (half up) before any sum. docs/forecast.md has the rules and an example.
Never prints, never runs git.
"""

from __future__ import annotations

import csv
import datetime as dt
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from pipectl.errors import ConfigError, DealError

RATES_FILE = "rates.csv"
HEADER = ("currency", "from", "rate")
# a table of a few thousand rows at most; a bigger file is no rate table
MAX_RATES_BYTES = 1 << 20
_CENT = Decimal("0.01")


@dataclass(frozen=True)
class RateProblem:
    """A row of the table that cannot be used, and why."""

    line: int
    message: str


@dataclass(frozen=True)
class Rates:
    """The rate table: per currency (upper case) its rates in date order, and its problems."""

    base: str
    table: Mapping[str, tuple[tuple[dt.date, Decimal], ...]] = field(default_factory=dict)
    problems: tuple[RateProblem, ...] = ()
    path: str = RATES_FILE
    lines: Mapping[tuple[str, dt.date], int] = field(default_factory=dict, compare=False)

    def rate(self, currency: str, day: dt.date) -> Decimal | None:
        """Units of base one unit of `currency` is worth on `day`; None: no rate then."""
        code = norm(currency)
        if code == norm(self.base):
            return Decimal(1)
        rows = self.table.get(code)
        if not rows:
            return None
        i = bisect_right([d for d, _ in rows], day)
        return rows[i - 1][1] if i else None

    def first_day(self, currency: str) -> dt.date | None:
        rows = self.table.get(norm(currency))
        return rows[0][0] if rows else None

    def checked(self) -> Rates:
        """The table when every row is usable; else a ConfigError naming the first bad row."""
        if self.problems:
            p = self.problems[0]
            more = (
                f" (and {len(self.problems) - 1} more: pipectl lint)" if self.problems[1:] else ""
            )
            raise ConfigError(p.message + more, self.path, p.line)
        return self


def norm(currency: str) -> str:
    """A currency code as the table keys it: `eur ` is EUR."""
    return currency.strip().upper()


def deal_currency(fields: Mapping[str, Any], base: str) -> str:
    """The currency a deal's value is in: its own `currency`, else the base currency."""
    own = fields.get("currency")
    return norm(own) if isinstance(own, str) and own.strip() else norm(base)


def load_rates(text: str, base: str, path: str = RATES_FILE) -> Rates:
    """The table from its text; every unusable row a problem with its line."""
    rows: dict[str, list[tuple[dt.date, Decimal]]] = {}
    lines: dict[tuple[str, dt.date], int] = {}
    problems: list[RateProblem] = []
    header: list[str] | None = None
    for number, raw in enumerate(text.splitlines(), 1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        cells = [c.strip() for c in next(csv.reader([raw]), [])]
        if header is None:
            header = [c.lower() for c in cells]
            if sorted(header) != sorted(HEADER):
                problems.append(RateProblem(number, f"the header must be {','.join(HEADER)}"))
                break
            continue
        if len(cells) != len(header):
            problems.append(RateProblem(number, f"{len(cells)} cells, expected {len(header)}"))
            continue
        row = dict(zip(header, cells, strict=True))
        code, problem = norm(row["currency"]), None
        day = _day(row["from"])
        rate = _rate(row["rate"])
        if not code or any(c.isspace() for c in code):
            problem = f"currency: {row['currency']!r} is no currency code"
        elif code == norm(base):
            problem = f"{code} is the base currency: its rate is always 1"
        elif day is None:
            problem = f"from: {row['from']!r} is no date (YYYY-MM-DD)"
        elif rate is None or rate <= 0:
            problem = f"rate: {row['rate']!r} is not a positive number (units of {base} per {code})"
        elif (code, day) in lines:
            problem = f"{code} from {day} is given twice (line {lines[code, day]})"
        if problem is not None:
            problems.append(RateProblem(number, problem))
            continue
        assert day is not None and rate is not None
        lines[code, day] = number
        rows.setdefault(code, []).append((day, rate))
    table = {code: tuple(sorted(found)) for code, found in rows.items()}
    return Rates(base, table, tuple(problems), path, lines)


def _day(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        return None


def _rate(text: str) -> Decimal | None:
    if "_" in text:  # Decimal reads 1_000; a rate is written plainly
        return None
    try:
        rate = Decimal(text)
    except InvalidOperation:
        return None
    return rate if rate.is_finite() else None


def read_rates(pipeline: Any) -> Rates:
    """The table of a pipeline (a `store.Pipeline`, or `asof`'s of a commit: its tree's file);
    an empty table when there is none. Not a table but unreadable: a ConfigError."""
    shown = str(pipeline.display(pipeline.root / RATES_FILE))
    text = beside_text(pipeline, RATES_FILE, MAX_RATES_BYTES, "rate table")
    return (
        Rates(pipeline.config.currency, path=shown)
        if text is None
        else load_rates(text, pipeline.config.currency, shown)
    )


def beside_text(pipeline: Any, name: str, max_bytes: int, what: str) -> str | None:
    """The text of a file beside pipeline.yaml (rates.csv, products.csv), of the worktree or
    of the pipeline's commit; None when there is none. Unreadable, too big or not UTF-8: a
    ConfigError naming it as `what`."""
    path = pipeline.root / name
    shown = str(pipeline.display(path))
    tree = getattr(pipeline, "tree", None)  # a commit's pipeline: the file is in its tree or not
    present = name in tree if tree is not None else (path.exists() or path.is_symlink())
    if not present:
        return None
    try:
        data = pipeline._read_bytes(path)  # the careful reader: no link out, FIFO or device
    except DealError as exc:
        raise ConfigError(exc.message.replace("deal file", what), shown) from None
    if len(data) > max_bytes:
        raise ConfigError(f"is larger than {max_bytes >> 20} MB; not read", shown)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not UTF-8 ({exc.reason})", shown) from None


@dataclass(frozen=True)
class Converter:
    """Amounts into `target` through `rates` (whose base may differ from `target`)."""

    rates: Rates
    target: str

    def factor(self, currency: str, day: dt.date) -> Decimal | None:
        """What one unit of `currency` is worth in the target on `day`; None: no rate."""
        if norm(currency) == norm(self.target):
            return Decimal(1)
        into_base = self.rates.rate(currency, day)
        per_target = self.rates.rate(self.target, day)
        if into_base is None or per_target is None:
            return None
        return into_base / per_target

    def convert(self, amount: float, currency: str, day: dt.date) -> float | None:
        """`amount` of `currency` on `day` in the target, to the cent; None: no rate."""
        factor = self.factor(currency, day)
        if factor is None:
            return None
        if factor == 1:
            return amount
        return float((Decimal(repr(amount)) * factor).quantize(_CENT, rounding=ROUND_HALF_UP))
