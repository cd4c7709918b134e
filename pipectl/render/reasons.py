"""Why a figure of the dashboard is a dash, or a zero about nothing: one short sentence per
figure or panel, from the `Report` alone.

A manager reading "0" or "–" must not have to guess whether the pipeline is empty, the deals
lack a field, or git cannot tell; the page shows these sentences where the figure stands.
Never computes a figure, never prints.
"""

from __future__ import annotations

from pipectl.report import Report


def _window(fig: Report) -> str:
    return " in the window" if fig.since or fig.until else ""


def open_valued(fig: Report) -> int:
    """Open deals that have a value."""
    return sum(s.count - s.no_value_count for s in fig.stages if s.closed is None)


def open_value(fig: Report) -> str | None:
    """Why the open value is zero, when it is about nothing: no open deals, or none with a
    value."""
    if fig.open_count == 0:
        return "no open deals"
    if open_valued(fig) == 0:
        return "no open deal has a value"
    return None


def headline(fig: Report) -> dict[str, str]:
    """Why each headline figure (by its `report --json` key) is a dash or an empty zero."""
    out, window = fig.outcomes, _window(fig)
    reasons: dict[str, str] = {}
    value = open_value(fig)
    if value is not None:
        reasons["open_value"] = reasons["weighted_value"] = value
    if out.won_count == 0:
        reasons["won_value"] = f"no deal won{window}"
    elif out.won_value == 0:
        reasons["won_value"] = "no won deal has a value"
    if out.win_rate is None:
        reasons["win_rate"] = f"no deal won or lost{window}"
    if out.avg_cycle_days is None:
        cycle = f"no deal won{window}" if out.won_count == 0 else "no won deal has both dates"
        reasons["avg_cycle_days"] = reasons["median_cycle_days"] = cycle
    if fig.velocity.per_day is None:
        if out.win_rate is None or out.avg_won_value is None:
            reasons["velocity"] = reasons.get("won_value") or "no won deal has a value"
        else:
            reasons["velocity"] = reasons.get("avg_cycle_days") or "no sales cycle to divide by"
    return reasons


def stages(fig: Report) -> str | None:
    """Why the open value by stage is zeros, or leaves deals out."""
    reason = open_value(fig)
    missing = fig.open_count - open_valued(fig)
    if reason is None and missing:
        reason = f"{missing} of {fig.open_count} open deals have no value: they add nothing"
    return reason


def forecast(fig: Report) -> list[str]:
    """Why the forecast is empty, zeros, or all in "no date"."""
    if fig.open_count == 0:
        return ["no open deals"]
    reasons = []
    if open_value(fig) is not None:
        reasons.append("no open deal has a value: every bar is zero")
    undated = sum(r.count for r in fig.forecast if r.month is None)
    if undated == fig.open_count:
        reasons.append("no open deal has an expected close date (expected_close)")
    elif undated:
        reasons.append(f"{undated} of {fig.open_count} open deals have no expected close date")
    return reasons


def conversion(fig: Report) -> list[str]:
    """Why a conversion step has no rate."""
    return [
        f"{c.from_stage} → {c.to_stage}: {c.why_unknown}" for c in fig.conversion if c.why_unknown
    ]


def time_in_stage(fig: Report) -> list[str]:
    """Why days in stage are dashes or unknown, per stage and for the whole panel."""
    reasons = [f"{t.stage}: {t.why_unknown}" for t in fig.time_in_stage if t.why_unknown]
    if not any(t.count for t in fig.time_in_stage):
        if not fig.history:
            reasons.insert(0, "no git history: finished stays come from moves in git")
        else:
            reasons.insert(0, f"no deal left an open stage{_window(fig)}: no finished stay yet")
    if fig.open_count == 0:
        reasons.append("no open deals: no deal is in a stage now")
    return reasons


def aging(fig: Report) -> str | None:
    """Why open deals are missing from the aging buckets, or why there are none."""
    if fig.aging.why_unknown:
        return f"in no bucket, days in stage unknown: {fig.aging.why_unknown}"
    if fig.open_count == 0:
        return "no open deals"
    return None
