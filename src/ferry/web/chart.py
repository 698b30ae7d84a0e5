"""The connection page's chart as inline SVG drawn on the server: records (bars), duration (line) per sync."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH, HEIGHT = 720, 220
LEFT, RIGHT, TOP, BOTTOM = 56, 56, 16, 28


@dataclass(frozen=True, slots=True)
class Point:
    label: str
    records: int
    seconds: float
    status: str


def sync_chart(points: list[Point]) -> Markup:
    """An SVG of records and duration per sync, oldest first; an empty Markup without points."""
    if not points:
        return Markup("")
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    top_records = _nice(max(p.records for p in points))
    top_seconds = _nice(max(p.seconds for p in points))
    step = plot_w / len(points)
    bars, dots, line = [], [], []
    for i, point in enumerate(points):
        x = LEFT + i * step
        bar_h = plot_h * point.records / top_records
        bar_w = min(step * 0.7, 36.0)
        tip = escape(f"{point.label}: {point.records:,} records, {point.seconds:.1f} s, {point.status}")
        bars.append(
            f'<rect class="bar bar-{escape(point.status)}" x="{x + (step - bar_w) / 2:.1f}" '
            f'y="{TOP + plot_h - bar_h:.1f}" width="{bar_w:.1f}" height="{bar_h:.1f}">'
            f"<title>{tip}</title></rect>"
        )
        cx, cy = x + step / 2, TOP + plot_h - plot_h * point.seconds / top_seconds
        line.append(f"{cx:.1f},{cy:.1f}")
        dots.append(f'<circle class="dot" cx="{cx:.1f}" cy="{cy:.1f}" r="3"><title>{tip}</title></circle>')
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="chart-title" preserveAspectRatio="xMidYMid meet">',
        f'<title id="chart-title">Records (bars) and duration (line) of the last {len(points)} syncs</title>',
        *_axes(plot_w, plot_h, top_records, top_seconds),
        *bars,
        f'<polyline class="line" points="{" ".join(line)}"/>' if len(line) > 1 else "",
        *dots,
        "</svg>",
    ]
    return Markup("".join(parts))


def _axes(plot_w: float, plot_h: float, top_records: float, top_seconds: float) -> list[str]:
    base, right = TOP + plot_h, LEFT + plot_w
    out = [
        f'<line class="axis" x1="{LEFT}" y1="{base}" x2="{right}" y2="{base}"/>',
        f'<line class="axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{base}"/>',
        f'<line class="axis" x1="{right}" y1="{TOP}" x2="{right}" y2="{base}"/>',
    ]
    for fraction in (0.5, 1.0):
        y = base - plot_h * fraction
        out.append(f'<line class="grid" x1="{LEFT}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}"/>')
        out.append(
            f'<text class="tick" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{_short(top_records * fraction)}</text>"
        )
        out.append(
            f'<text class="tick" x="{right + 6}" y="{y + 4:.1f}">{_short(top_seconds * fraction)} s</text>'
        )
    out.append(f'<text class="legend" x="{LEFT}" y="{HEIGHT - 8}">▮ records</text>')
    out.append(
        f'<text class="legend legend-line" x="{right}" y="{HEIGHT - 8}" text-anchor="end">— duration</text>'
    )
    return out


def _nice(value: float) -> float:
    """A round axis maximum at or above `value` (1, 2 or 5 times a power of ten)."""
    if value <= 0:
        return 1.0
    power = 1.0
    while power * 10 <= value:
        power *= 10
    while power > value:
        power /= 10
    for factor in (1, 2, 5, 10):
        if factor * power >= value:
            return factor * power
    return value


def _short(value: float) -> str:
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if value >= limit:
            return f"{value / limit:g}{suffix}"
    return f"{value:g}"
