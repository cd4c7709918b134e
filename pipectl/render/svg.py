"""Charts as inline SVG for the HTML dashboard: horizontal, stacked and grouped bars, a line.

Returns markup strings with every label escaped; never computes a figure, never prints.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from pipectl.render.text import money

PALETTE = ("#2f6fb0", "#7aa6d6", "#e08a2e", "#3a9a5b", "#c0392b", "#8e6bb8", "#5b6770")
AGING_COLORS = ("#3a9a5b", "#9cc46b", "#e0b12e", "#c0392b")
W = 480  # SVG user units; charts scale to the width of their card
BAR_LEFT, BAR_RIGHT = 150, 175  # a horizontal bar chart's room for labels and end texts


def e(value: Any) -> str:
    """Escape anything for HTML text or a quoted attribute."""
    return escape("" if value is None else str(value), quote=True)


def attr(value: Any) -> str:
    """A figure for a data-* attribute, exactly as `report --json` prints it."""
    return e(json.dumps(value))


def short(text: str, limit: int = 20) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def empty(text: str = "nothing to show yet") -> str:
    return f'<p class="empty">{e(text)}</p>'


def why(text: str) -> str:
    """Why a figure on the page is missing or zero, said where the figure is."""
    return f'<p class="empty why" data-why="{e(text)}">{e(text)}</p>'


def hbars(
    rows: Sequence[tuple[str, float, str, Mapping[str, Any]]],
    chart: str,
    color: str = PALETTE[0],
    full: float | None = None,
) -> str:
    """Horizontal bars: (label, length, text at the bar's end, data attributes) per row.

    A bar `full` long fills the width (a rate: 100); without it the longest bar does."""
    if not rows:
        return empty()
    top = full or max((r[1] for r in rows), default=0) or 1
    # room after the longest bar for the longest figure, at a phone's larger font: no clipping
    longest = max((len(r[2]) for r in rows), default=0)
    left, right, step = BAR_LEFT, min(max(BAR_RIGHT, longest * _CHAR + 8), W // 2), 28
    height = step * len(rows) + 8
    out = [
        f'<svg viewBox="0 0 {W} {height}" role="img" aria-label="{e(chart)}" '
        f'data-chart="{e(chart)}" preserveAspectRatio="xMinYMin meet">'
    ]
    for i, (label, length, text, data) in enumerate(rows):
        y = 4 + i * step
        width = max(0.0, (W - left - right) * min(length, top) / top)
        attrs = "".join(f' data-{k}="{attr(v)}"' for k, v in data.items())
        out.append(
            f'<g class="bar"{attrs}><title>{e(label)}: {e(text)}</title>'
            f'<text x="{left - 8}" y="{y + 17}" text-anchor="end">{e(short(label))}</text>'
            f'<rect x="{left}" y="{y + 3}" width="{width:.1f}" height="{step - 8}" rx="3" '
            f'fill="{color}"/>'
            f"{_end_text(left, width, y + 17, text)}</g>"
        )
    out.append("</svg>")
    return "".join(out)


def vbars(
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float], str]],
    chart: str,
    data: Sequence[Mapping[str, Any]],
    line: tuple[str, Sequence[float | None], str] | None = None,
    notes: Sequence[str] | None = None,
) -> str:
    """Grouped vertical bars per label (e.g. month), `notes` written above each group when
    there is room; an optional line on a 0-100% scale with its 50% mark."""
    if not labels:
        return empty()
    height, bottom, top_pad, left, right = 240, 34, 24, 64, 8
    plot_h = height - bottom - top_pad
    top = max((v for _, values, _ in series for v in values), default=0) or 1
    group = (W - left - right) / len(labels)
    bar = max(2.0, min(36.0, group * 0.8 / max(1, len(series))))
    out = [
        f'<svg viewBox="0 0 {W} {height}" role="img" aria-label="{e(chart)}" '
        f'data-chart="{e(chart)}" preserveAspectRatio="xMinYMin meet">',
        f'<line x1="{left}" x2="{W - right}" y1="{height - bottom}" y2="{height - bottom}" '
        f'stroke="#d9dee3"/>',
        *_y_axis(left, W - right, height - bottom, plot_h, top),
    ]
    every = -(-len(labels) // 8)  # at most 8 labels: a month's name needs the room
    for i, label in enumerate(labels):
        x0 = left + i * group + (group - bar * len(series)) / 2
        attrs = "".join(f' data-{k}="{attr(v)}"' for k, v in data[i].items())
        out.append(f'<g class="bar"{attrs}>')
        tips = ", ".join(f"{name} {money(values[i])}" for name, values, _ in series)
        out.append(f"<title>{e(label)}: {e(tips)}</title>")
        for j, (_, values, color) in enumerate(series):
            h = plot_h * values[i] / top
            out.append(
                f'<rect x="{x0 + j * bar:.1f}" y="{height - bottom - h:.1f}" width="{bar:.1f}" '
                f'height="{h:.1f}" fill="{color}"/>'
            )
        if notes is not None and len(labels) <= 8:
            tallest = max(plot_h * values[i] / top for _, values, _ in series)
            out.append(
                f'<text x="{left + i * group + group / 2:.1f}" '
                f'y="{height - bottom - tallest - 6:.1f}" text-anchor="middle" '
                f'class="muted">{e(notes[i])}</text>'
            )
        if i % every == 0:
            out.append(
                f'<text x="{left + i * group + group / 2:.1f}" y="{height - bottom + 18}" '
                f'text-anchor="middle" class="muted">{e(label)}</text>'
            )
        out.append("</g>")
    if line is not None:
        _, rates, color = line
        points = [
            f"{left + i * group + group / 2:.1f},{top_pad + plot_h * (1 - v):.1f}"
            for i, v in enumerate(rates)
            if v is not None
        ]
        if points:
            mid = top_pad + plot_h / 2
            out.append(
                f'<line x1="{left}" x2="{W - right}" y1="{mid:.1f}" y2="{mid:.1f}" '
                f'stroke="{color}" stroke-dasharray="4 4" stroke-opacity=".5"/>'
                f'<text x="{W - right}" y="{mid - 4:.1f}" text-anchor="end" class="muted">'
                f"50%</text>"
            )
            out.append(
                f'<polyline points="{" ".join(points)}" fill="none" stroke="{color}" '
                f'stroke-width="2.5" class="line"/>'
            )
            out.extend(
                f'<circle cx="{p.split(",")[0]}" cy="{p.split(",")[1]}" r="3.5" fill="{color}"/>'
                for p in points
            )
    out.append("</svg>")
    return "".join(out)


_CHAR = 9.5  # user units a character of a figure takes at the phone's larger font (17px)


def _end_text(left: float, width: float, y: float, text: str) -> str:
    """A bar's figure after its end, or inside it when the room after would clip it (a
    phone's narrow card scales the chart down and its text up)."""
    room = W - (left + width + 6)
    if room >= len(text) * _CHAR or width < len(text) * _CHAR:
        return f'<text x="{left + width + 6:.1f}" y="{y}" class="muted">{e(text)}</text>'
    return (
        f'<text x="{left + width - 6:.1f}" y="{y}" text-anchor="end" fill="#fff" '
        f'class="inside">{e(text)}</text>'
    )


def _short(amount: float) -> str:
    """An axis figure in a few characters: 552k, 1.2M (the bars' own labels are exact)."""
    for size, unit in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(amount) >= size:
            return f"{amount / size:.1f}".removesuffix(".0") + unit
    return f"{amount:,.0f}"


def _y_axis(left: float, right: float, base_y: float, plot_h: float, top: float) -> list[str]:
    """A y-axis: its line, and 0, half and the top value at their heights, with guides."""
    out = [f'<line x1="{left}" x2="{left}" y1="{base_y - plot_h}" y2="{base_y}" stroke="#d9dee3"/>']
    for frac in (0.0, 0.5, 1.0):
        y = base_y - plot_h * frac
        out.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" class="muted">'
            f"{e(_short(top * frac))}</text>"
        )
        if frac:
            out.append(
                f'<line x1="{left}" x2="{right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eef1f4"/>'
            )
    return out


def legend(items: Sequence[tuple[str, str]]) -> str:
    spans = "".join(
        f'<span><svg class="sw" viewBox="0 0 10 10"><rect width="10" height="10" rx="2" '
        f'fill="{e(c)}"/></svg>{e(name)}</span>'
        for name, c in items
    )
    return f'<div class="legend">{spans}</div>'


def stacked(rows: Sequence[tuple[str, Sequence[int]]], names: Sequence[str], chart: str) -> str:
    """Horizontal stacked bars (aging: open deals per stage by days in stage)."""
    if not rows:
        return empty()
    top = max((sum(c) for _, c in rows), default=0) or 1
    left, right, step = 150, 40, 28
    height = step * len(rows) + 8
    out = [
        f'<svg viewBox="0 0 {W} {height}" role="img" aria-label="{e(chart)}" '
        f'data-chart="{e(chart)}" preserveAspectRatio="xMinYMin meet">'
    ]
    for i, (label, counts) in enumerate(rows):
        y = 4 + i * step
        x = float(left)
        tip = ", ".join(f"{n} days: {c:,}" for n, c in zip(names, counts, strict=True))
        out.append(f'<g class="bar" data-stage="{attr(label)}" data-counts="{attr(list(counts))}">')
        out.append(f"<title>{e(label)}: {e(tip)}</title>")
        out.append(f'<text x="{left - 8}" y="{y + 17}" text-anchor="end">{e(short(label))}</text>')
        for j, c in enumerate(counts):
            w = (W - left - right) * c / top
            if w > 0:
                out.append(
                    f'<rect x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height="{step - 8}" '
                    f'fill="{AGING_COLORS[j % len(AGING_COLORS)]}"/>'
                )
            x += w
        out.append(f'<text x="{x + 6:.1f}" y="{y + 17}" class="muted">{sum(counts):,}</text></g>')
    out.append("</svg>")
    return "".join(out)


def vstacked(
    labels: Sequence[str],
    parts: Sequence[tuple[str, Sequence[float], str]],
    chart: str,
    totals: Sequence[str],
) -> str:
    """Vertical stacked bars per label (a quarter, a month), the parts bottom up, each bar's
    `totals` text above it, a y-axis with its top value; every rect carries its part's name
    and exact amount (`data-part`, `data-value`) for a reader to check."""
    if not labels:
        return empty()
    height, bottom, top_pad, left = 240, 34, 24, 72
    plot_h = height - bottom - top_pad
    top = max((sum(v[i] for _, v, _ in parts) for i in range(len(labels))), default=0) or 1
    group = (W - left - 8) / len(labels)
    bar = max(4.0, min(48.0, group * 0.6))
    base_y = height - bottom
    out = [
        f'<svg viewBox="0 0 {W} {height}" role="img" aria-label="{e(chart)}" '
        f'data-chart="{e(chart)}" preserveAspectRatio="xMinYMin meet">',
        f'<line x1="{left}" x2="{W - 8}" y1="{base_y}" y2="{base_y}" stroke="#d9dee3"/>',
        *_y_axis(left, W - 8, base_y, plot_h, top),
    ]
    every = -(-len(labels) // 8)
    for i, label in enumerate(labels):
        x = left + i * group + (group - bar) / 2
        tips = ", ".join(f"{name} {money(values[i])}" for name, values, _ in parts)
        out.append(
            f'<g class="bar" data-label="{attr(label)}"><title>{e(label)}: {e(tips)}</title>'
        )
        y = float(base_y)
        for name, values, color in parts:
            h = plot_h * values[i] / top
            y -= h
            out.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                f'fill="{color}" data-part="{attr(name)}" data-value="{attr(values[i])}"/>'
            )
        if len(labels) <= 8:
            out.append(
                f'<text x="{x + bar / 2:.1f}" y="{y - 6:.1f}" text-anchor="middle" '
                f'class="muted">{e(totals[i])}</text>'
            )
        if i % every == 0:
            out.append(
                f'<text x="{x + bar / 2:.1f}" y="{base_y + 18}" text-anchor="middle" '
                f'class="muted">{e(label)}</text>'
            )
        out.append("</g>")
    out.append("</svg>")
    return "".join(out)


def line(
    labels: Sequence[str],
    values: Sequence[float],
    chart: str,
    data: Sequence[Mapping[str, Any]],
    color: str = PALETTE[0],
) -> str:
    """A line over labels (weeks, months) with a y-axis (0, half, top) and each point's
    figures in data attributes; labels thinned to eight at most."""
    if not labels:
        return empty()
    height, bottom, top_pad, left, right = 220, 34, 16, 72, 16
    plot_h = height - bottom - top_pad
    top = max(values, default=0) or 1
    step = (W - left - right) / max(1, len(labels) - 1) if len(labels) > 1 else 0
    base_y = height - bottom
    out = [
        f'<svg viewBox="0 0 {W} {height}" role="img" aria-label="{e(chart)}" '
        f'data-chart="{e(chart)}" preserveAspectRatio="xMinYMin meet">',
        f'<line x1="{left}" x2="{W - right}" y1="{base_y}" y2="{base_y}" stroke="#d9dee3"/>',
        *_y_axis(left, W - right, base_y, plot_h, top),
    ]
    points = [
        (
            left + (i * step if len(labels) > 1 else (W - left - right) / 2),
            base_y - plot_h * v / top,
        )
        for i, v in enumerate(values)
    ]
    out.append(
        f'<polyline points="{" ".join(f"{x:.1f},{y:.1f}" for x, y in points)}" fill="none" '
        f'stroke="{color}" stroke-width="2.5"/>'
    )
    every = -(-len(labels) // 7)
    for i, ((x, y), label) in enumerate(zip(points, labels, strict=True)):
        attrs = "".join(f' data-{k}="{attr(v)}"' for k, v in data[i].items())
        out.append(
            f'<g class="point"{attrs}><title>{e(label)}: {e(money(values[i]))}</title>'
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{color}"/></g>'
        )
        if i % every == 0:
            out.append(
                f'<text x="{x:.1f}" y="{base_y + 18}" text-anchor="middle" class="muted">'
                f"{e(label)}</text>"
            )
    out.append("</svg>")
    return "".join(out)


def steps(rows: Sequence[tuple[str, float, float, str]], chart: str) -> str:
    """A waterfall: per row (label, from, to, text) a bar from one running total to the
    next, on one scale from 0 to the largest total; rising green, falling red, ends blue."""
    if not rows:
        return empty()
    top = max((max(a, b) for _l, a, b, _t in rows), default=0) or 1
    longest = max((len(t) for _l, _a, _b, t in rows), default=0)
    left, right, step = 150, min(max(90, longest * _CHAR + 8), W // 2), 28
    height = step * len(rows) + 8
    out = [
        f'<svg viewBox="0 0 {W} {height}" role="img" aria-label="{e(chart)}" '
        f'data-chart="{e(chart)}" preserveAspectRatio="xMinYMin meet">'
    ]
    span = W - left - right
    for i, (label, a, b, text) in enumerate(rows):
        y = 4 + i * step
        lo, hi = sorted((a, b))
        end = i in (0, len(rows) - 1)
        color = PALETTE[0] if end else AGING_COLORS[0] if b >= a else AGING_COLORS[3]
        x, w = left + span * max(lo, 0) / top, max(1.0, span * (hi - max(lo, 0)) / top)
        out.append(
            f'<g class="step" data-label="{attr(label)}" data-from="{attr(a)}" '
            f'data-to="{attr(b)}"><title>{e(label)}: {e(text)}</title>'
            f'<text x="{left - 8}" y="{y + 17}" text-anchor="end">{e(short(label))}</text>'
            f'<rect x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height="{step - 8}" rx="2" '
            f'fill="{color}"/><text x="{x + w + 6:.1f}" y="{y + 17}" class="muted">{e(text)}'
            "</text></g>"
        )
    out.append("</svg>")
    return "".join(out)
