"""Server-rendered SVG charts: pure functions from numbers to SVG markup.

The UI ships no chart library and its CSP forbids inline styles, so every chart is plain SVG
whose look comes from CSS classes (`chart-bar`, `meter-fill`, ...) in static/css/app.css.
All text that reaches the markup is escaped here; the result is `Markup`, safe for Jinja.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date

from markupsafe import Markup, escape

Point = tuple[str, float]


def nice_axis(max_value: float, target_ticks: int = 4) -> tuple[float, float]:
    """(step, top) for a y axis from 0: step is 1, 2 or 5 times a power of ten, top >= max_value.

    An empty or all-zero series still gets an axis (step 1, top target_ticks), so the chart
    has gridlines instead of dividing by zero.
    """
    if not max_value or max_value <= 0 or not math.isfinite(max_value):
        return 1.0, float(target_ticks)
    raw = max_value / target_ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    for multiple in (1, 2, 5, 10):
        step = multiple * magnitude
        if step >= raw:
            break
    if step < 1 and max_value >= 1:
        step = 1.0
    top = step * math.ceil(max_value / step)
    return float(step), float(top)


def format_count(value: float) -> str:
    """Compact axis label: 950, 1.2k, 3.4M; integers without a trailing .0."""
    v = float(value)
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= limit:
            text = f"{v / limit:.1f}".rstrip("0").rstrip(".")
            return f"{text}{suffix}"
    if v.is_integer():
        return str(int(v))
    return f"{v:.2f}".rstrip("0").rstrip(".")


def label_every(count: int, max_labels: int = 8) -> int:
    """Show every n-th x label so at most max_labels fit (1 for short series)."""
    if count <= max_labels:
        return 1
    return math.ceil(count / max_labels)


def _short_day(label: str) -> str:
    # "2026-11-29" -> "Nov 29"; anything else is shown as given.
    try:
        d = date.fromisoformat(label)
    except ValueError:
        return label
    return f"{d:%b} {d.day}"


def series_chart(
    points: Sequence[Point],
    *,
    title: str,
    width: int = 640,
    height: int = 200,
    kind: str = "bar",
    unit: str = "scans",
) -> Markup:
    """A bar (or line) chart of `points` [(label, value)] as an accessible SVG.

    Labels that are ISO dates are shown as 'Nov 29'. Each bar carries a <title> so hovering
    (or a screen reader) gives the exact value.
    """
    if kind not in ("bar", "line"):
        raise ValueError(f"kind must be 'bar' or 'line', not {kind!r}")
    left, right, top_pad, bottom = 40, 8, 10, 24
    plot_w = width - left - right
    plot_h = height - top_pad - bottom
    values = [max(0.0, float(v)) for _, v in points]
    total = sum(values)
    step, top = nice_axis(max(values, default=0.0))

    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(title)}: {format_count(total)} {escape(unit)} in total" '
        f'class="chart-svg">',
        f"<title>{escape(title)}</title>",
    ]
    # horizontal gridlines with their value labels
    ticks = int(round(top / step))
    for i in range(ticks + 1):
        value = step * i
        y = top_pad + plot_h - (value / top) * plot_h
        out.append(
            f'<line class="chart-grid" x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}"/>'
        )
        out.append(
            f'<text class="chart-axis-label" x="{left - 6}" y="{y + 4:.1f}" '
            f'text-anchor="end">{format_count(value)}</text>'
        )

    if not points:
        out.append(
            f'<text class="chart-empty" x="{left + plot_w / 2:.1f}" y="{top_pad + plot_h / 2:.1f}" '
            f'text-anchor="middle">No data yet</text>'
        )
        out.append("</svg>")
        return Markup("".join(out))

    n = len(points)
    slot = plot_w / n
    every = label_every(n)
    baseline = top_pad + plot_h
    coords: list[tuple[float, float]] = []
    for i, ((label, _), value) in enumerate(zip(points, values, strict=True)):
        x_mid = left + slot * i + slot / 2
        bar_h = (value / top) * plot_h
        y = baseline - bar_h
        coords.append((x_mid, y))
        shown = _short_day(label)
        tip = f"{escape(shown)}: {format_count(value)} {escape(unit)}"
        if kind == "bar":
            bar_w = max(1.0, slot * 0.7)
            # a zero still gets a hairline so the day is visibly "there"
            h = max(bar_h, 0.0)
            out.append(
                f'<rect class="chart-bar" x="{x_mid - bar_w / 2:.1f}" y="{y:.1f}" '
                f'width="{bar_w:.1f}" height="{h:.1f}" rx="{min(3.0, bar_w / 3):.1f}">'
                f"<title>{tip}</title></rect>"
            )
        if i % every == 0 or (i == n - 1 and (n - 1) % every > every / 2):
            out.append(
                f'<text class="chart-axis-label" x="{x_mid:.1f}" y="{height - 6}" '
                f'text-anchor="middle">{escape(shown)}</text>'
            )
    if kind == "line":
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
        first_x, last_x = coords[0][0], coords[-1][0]
        out.append(
            f'<polygon class="chart-area" points="{first_x:.1f},{baseline:.1f} {path} '
            f'{last_x:.1f},{baseline:.1f}"/>'
        )
        out.append(f'<polyline class="chart-line" points="{path}"/>')
        for (x, y), (label, _), value in zip(coords, points, values, strict=True):
            tip = f"{escape(_short_day(label))}: {format_count(value)} {escape(unit)}"
            out.append(
                f'<circle class="chart-dot" cx="{x:.1f}" cy="{y:.1f}" r="3">'
                f"<title>{tip}</title></circle>"
            )
    out.append("</svg>")
    return Markup("".join(out))


def meter_state(used: float, limit: float) -> str:
    """'ok' below 75%, 'warn' from 75%, 'full' at 100% (the quota thresholds)."""
    if limit <= 0:
        return "full" if used > 0 else "ok"
    ratio = used / limit
    if ratio >= 1:
        return "full"
    if ratio >= 0.75:
        return "warn"
    return "ok"


def meter_svg(used: float, limit: float, *, marks: Sequence[float] = (0.75, 1.0)) -> Markup:
    """A usage bar with dashed marks at the given fractions of the limit (75% and 100%).

    Positions are percentages of the SVG's own width (no viewBox), so the bar stretches to
    its container while the labels keep their shape. The scale runs to max(limit, used), so
    an overrun (credits spent, limit lowered) shows past the 100% mark instead of clipping.
    """
    bar_y, bar_h = 14, 10
    scale = max(float(limit), float(used), 1.0)
    fill = 100 * min(float(used), scale) / scale
    pct = 0 if limit <= 0 else round(100 * used / limit)
    out = [
        '<svg xmlns="http://www.w3.org/2000/svg" width="100%" height="30" '
        f'role="img" aria-label="{format_count(used)} of {format_count(limit)} used ({pct}%)">',
        f'<rect class="meter-track" x="0" y="{bar_y}" width="100%" height="{bar_h}" rx="5"/>',
    ]
    if fill > 0:
        out.append(
            f'<rect class="meter-fill" x="0" y="{bar_y}" width="{max(fill, 1.5):.2f}%" '
            f'height="{bar_h}" rx="5"/>'
        )
    for mark in marks:
        if limit <= 0:
            break
        x = min(max(100 * (mark * limit) / scale, 0.25), 99.75)
        anchor = "end" if x > 95 else "middle"
        out.append(f'<line class="meter-mark" x1="{x:.2f}%" x2="{x:.2f}%" y1="10" y2="28"/>')
        out.append(
            f'<text class="meter-mark-label" x="{x:.2f}%" y="8" text-anchor="{anchor}">'
            f"{round(mark * 100)}%</text>"
        )
    out.append("</svg>")
    return Markup("".join(out))


def share_bar(value: float, total: float) -> Markup:
    """A thin bar showing value/total, for breakdown lists (countries, browsers...)."""
    fraction = 0.0 if total <= 0 else max(0.0, min(1.0, value / total))
    return Markup(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 6" preserveAspectRatio="none" '
        'aria-hidden="true">'
        '<rect class="share-track" x="0" y="0" width="100" height="6" rx="3"/>'
        f'<rect class="share-fill" x="0" y="0" width="{100 * fraction:.2f}" height="6" rx="3"/>'
        "</svg>"
    )


def responsive_chart(
    points: Sequence[Point], *, title: str, unit: str = "scans", compact_points: int = 14
) -> Markup:
    """Two renderings of one series: the full one for wide screens and the last
    `compact_points` on a narrower canvas for phones (CSS shows one), so axis text stays legible."""
    wide = series_chart(points, title=title, unit=unit)
    tail = list(points)[-compact_points:]
    compact = series_chart(
        tail, title=f"{title} (last {len(tail)})", unit=unit, width=360, height=190
    )
    return Markup(f'<div class="chart-wide">{wide}</div><div class="chart-compact">{compact}</div>')
