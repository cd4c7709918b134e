"""Deals as plain JSON-ready data, with dates as ISO strings; stable key order."""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pipectl.deal import Deal

if TYPE_CHECKING:
    from pipectl.store import Pipeline


def plain(value: Any, depth: int = 0) -> Any:
    """Data fit for JSON: dates become ISO strings, other unknown types their text."""
    if depth > 50:
        return "…"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): plain(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v, depth + 1) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # `.nan`, `.inf` in a file: JSON has no NaN or Infinity
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def deal_json(deal: Deal, pipeline: Pipeline) -> dict[str, Any]:
    path = deal.path
    try:
        rel = path.resolve().relative_to(pipeline.root).as_posix()
    except ValueError:
        rel = path.as_posix()
    return {"id": deal.id, "stage": deal.stage, "path": rel, "fields": plain(deal.fields)}


def dumps(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False)


def amount(value: float | None) -> float | int | None:
    """12000.0 as 12000: whole amounts read as the user wrote them."""
    return int(value) if value is not None and float(value).is_integer() else value
