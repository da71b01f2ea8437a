"""Charts as plain SVG, drawn from the report's numbers: no library, no script, nothing fetched.

Each mark carries its exact value (`data-usd`) and a tooltip (`<title>`), so a page can be
checked against the JSON report and read without hovering."""

from __future__ import annotations

import math
from datetime import date, timedelta
from decimal import Decimal

from costctl.money import number
from costctl.report.html_page import esc, usd_text

MAX_POINTS = 400  # marks with their value and tooltip, per series
Series = tuple[str, str, list[Decimal]]  # (name, css class, one value per label)


def _nice(top: float) -> float:
    """A round upper bound for an axis: 1, 2, 2.5 or 5 times a power of ten."""
    if top <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(top))
    return next(step * power for step in (1, 2, 2.5, 5, 10) if step * power >= top * (1 - 1e-12))


def _money_tick(value: float) -> str:
    if abs(value) >= 1e6:
        return f"${value / 1e6:g}M"
    if abs(value) >= 1e3:
        return f"${value / 1e3:g}k"
    return usd_text(Decimal(repr(value)))


def _short(label: str, size: int = 30) -> str:
    return label if len(label) <= size else label[: size - 1] + "…"


def line_chart(days: list[date], series: list[Series], caption: str, width: int = 1180, height: int = 280) -> str:
    """One line per series over the days (placed by date: a day without rows is $0), the first
    series also shaded below; a mark with its amount on each day of the data."""
    left, right, top, bottom = 72, 16, 12, 40
    inner_w, inner_h = width - left - right, height - top - bottom
    values_all = [v for _, _, values in series for v in values]
    peak = _nice(float(max(values_all, default=Decimal(0))))
    low = min(float(min(values_all, default=Decimal(0))), 0.0)
    floor = -_nice(-low) if low < 0 else 0.0
    span = max((days[-1] - days[0]).days, 1) if days else 1

    def x(day: date) -> float:
        return left + (inner_w / 2 if len(days) == 1 else inner_w * (day - days[0]).days / span)

    def y(v: float) -> float:
        return top + inner_h - inner_h * (v - floor) / (peak - floor)

    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{esc(caption)}">']
    for k in range(5):
        tick = floor + (peak - floor) * k / 4
        ty = y(tick)
        parts.append(f'<line class="grid" x1="{left}" x2="{width - right}" y1="{ty:.1f}" y2="{ty:.1f}"/>'
                     f'<text x="{left - 6}" y="{ty + 4:.1f}" text-anchor="end">{esc(_money_tick(tick))}</text>')
    ticks = 10
    shown = [d for i, d in enumerate(days) if i % max(1, len(days) // ticks) == 0]
    if days and days[-1] not in shown:  # the last day, in place of a neighbour it would overlap
        if len(shown) > 1 and (days[-1] - shown[-1]).days < span / ticks / 2:
            shown.pop()
        shown.append(days[-1])
    for i, day in enumerate(shown):
        anchor = "start" if i == 0 and len(days) > 1 else "end" if day == days[-1] and len(days) > 1 else "middle"
        parts.append(f'<text x="{x(day):.1f}" y="{height - bottom + 18}" text-anchor="{anchor}">{day.isoformat()}</text>')
    for n, (name, css, values) in enumerate(series):
        by_day = dict(zip(days, values, strict=True))
        line = [days[0] + timedelta(days=i) for i in range(span + 1)] if len(days) > 1 else days
        points = [(x(d), y(float(by_day.get(d, 0)))) for d in line]
        path = " ".join(f"{'M' if i == 0 else 'L'}{px:.1f},{py:.1f}" for i, (px, py) in enumerate(points))
        if n == 0 and points:
            base = y(0.0)
            parts.append(f'<path class="area {css}" d="{path} L{points[-1][0]:.1f},{base:.1f} '
                         f'L{points[0][0]:.1f},{base:.1f} Z"/>')
        parts.append(f'<path class="line {css}" d="{path}"/>')
        if len(days) > MAX_POINTS:  # a long window: the line alone (the page stays small)
            continue
        for day, v in zip(days, values, strict=True):
            exact, label = number(v), day.isoformat()
            parts.append(f'<circle class="{css}" cx="{x(day):.1f}" cy="{y(float(v)):.1f}" r="3" data-series="{esc(name)}" '
                         f'data-label="{label}" data-usd="{esc(exact)}"><title>{label} {esc(name)}: '
                         f'{esc(usd_text(v))} (${esc(exact)})</title></circle>')
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(labels: list[str], series: list[Series], caption: str, width: int = 1180) -> str:
    """Horizontal bars: one row per label, one bar per series in it, each with its amount."""
    label_w, value_w, bar_h, gap = 230, 120, 12, 10
    row_h = bar_h * len(series) + gap
    height = row_h * len(labels) + 8
    inner = width - label_w - value_w
    peak = max((v for _, _, values in series for v in values), default=Decimal(0))
    scale = float(peak) if peak > 0 else 1.0
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{esc(caption)}">']
    for i, label in enumerate(labels):
        y0 = 4 + i * row_h
        parts.append(f'<text x="{label_w - 8}" y="{y0 + row_h / 2:.1f}" text-anchor="end">'
                     f'<title>{esc(label)}</title>{esc(_short(label))}</text>')
        for k, (name, css, values) in enumerate(series):
            v = values[i]
            w = max(inner * max(float(v), 0.0) / scale, 0.5 if v else 0.0)
            by = y0 + k * bar_h
            exact = number(v)
            parts.append(f'<rect class="{css}" x="{label_w}" y="{by}" width="{w:.1f}" height="{bar_h - 2}" '
                         f'data-series="{esc(name)}" data-label="{esc(label)}" data-usd="{esc(exact)}">'
                         f'<title>{esc(label)} {esc(name)}: {esc(usd_text(v))} (${esc(exact)})</title></rect>'
                         f'<text x="{label_w + w + 4:.1f}" y="{by + bar_h - 3}">{esc(usd_text(v))}</text>')
    parts.append("</svg>")
    return "".join(parts)
