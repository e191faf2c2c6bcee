"""Server-side SVG charts for the dashboard: no JavaScript library, no CDN, nothing fetched by the browser.

Every chart is one `<svg role="img">` with a `<title>` and a `<desc>` (screen readers read them) and a `<title>`
on each bar or point (the browser shows it as a tooltip). All text goes through `escape`. Only presentation
attributes are used for colours and fonts, never `style=""`, so the console's Content-Security-Policy
(style-src 'self') holds. No data → a friendly "暂无数据" panel instead of an empty or broken axis.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape as _html_escape

from markupsafe import Markup

EMPTY_TEXT = "暂无数据"
FONT = "system-ui, -apple-system, 'PingFang SC', 'Noto Sans CJK SC', 'Microsoft YaHei', sans-serif"
PALETTE = ("#1f6feb", "#2da44e", "#d4a72c", "#cf222e", "#8250df", "#57606a")
AXIS = "#8c959f"
GRID = "#eaeef2"
TEXT = "#24292f"
MUTED = "#57606a"

_ids = itertools.count(1)


def escape(text: object) -> str:
    """XML-safe text for element content and attribute values."""
    return _html_escape(str(text), quote=True)


def _new_id(prefix: str) -> str:
    # Ids only need to be unique within one page; a process-wide counter is enough.
    return f"{prefix}{next(_ids)}"


def format_number(value: float) -> str:
    """1234 → "1,234"; 0.25 → "0.25" (ticks and tooltips)."""
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def nice_ticks(maximum: float, count: int = 5, *, integer: bool = False) -> list[float]:
    """Round tick values 0 … ≥ maximum, steps of 1, 2 or 5 × 10ⁿ (about `count` of them); whole steps for counts."""
    if maximum <= 0 or not math.isfinite(maximum):
        return [0.0, 1.0]
    raw = maximum / max(count - 1, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    if integer:
        step = max(step, 1)
    top = math.ceil(maximum / step - 1e-9) * step
    ticks, value = [], 0.0
    while value <= top + step / 2:
        ticks.append(round(value, 10))
        value += step
    return ticks


def _open_svg(width: int, height: int, title: str, desc: str, css_class: str) -> tuple[str, str]:
    title_id, desc_id = _new_id("chart-title-"), _new_id("chart-desc-")
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart {escape(css_class)}" role="img" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'aria-labelledby="{title_id} {desc_id}" font-family="{escape(FONT)}" font-size="12" fill="{TEXT}">'
        f'<title id="{title_id}">{escape(title)}</title><desc id="{desc_id}">{escape(desc)}</desc>'
    )
    return head, "</svg>"


def _empty(width: int, height: int, title: str, css_class: str) -> Markup:
    height = min(height, 140)  # a short panel: nothing to scale
    head, tail = _open_svg(width, height, title, EMPTY_TEXT, css_class + " chart-empty")
    body = (
        f'<rect x="0.5" y="0.5" width="{width - 1}" height="{height - 1}" rx="6" fill="#f6f8fa" stroke="{GRID}"/>'
        + _text(width / 2, height / 2 + 5, EMPTY_TEXT, "empty", size=14, fill=MUTED)
    )
    return Markup(head + body + tail)


def _text(x: float, y: float, text: str, css_class: str, *, anchor: str = "middle", size: int = 12,
          fill: str = TEXT, extra: str = "") -> str:
    """A text element; its class lets a stylesheet size it (page CSS beats presentation attributes)."""
    return (
        f'<text class="{css_class}" x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" '
        f'fill="{fill}"{extra}>{escape(text)}</text>'
    )


def _y_axis(ticks: Sequence[float], left: float, right: float, top: float, bottom: float, unit: str) -> str:
    """Horizontal grid lines with labelled ticks; returns SVG."""
    parts = []
    span = ticks[-1] or 1
    for tick in ticks:
        y = bottom - (bottom - top) * tick / span
        parts.append(f'<line class="grid" x1="{left:.1f}" y1="{y:.1f}" x2="{right:.1f}" y2="{y:.1f}" stroke="{GRID}"/>')
        parts.append(_text(left - 6, y + 4, format_number(tick) + unit, "tick", anchor="end", size=11, fill=MUTED))
    parts.append(f'<line class="axis" x1="{left:.1f}" y1="{bottom:.1f}" x2="{right:.1f}" y2="{bottom:.1f}" '
                 f'stroke="{AXIS}"/>')
    return "".join(parts)


def _label_step(count: int, room: float, label_width: float) -> int:
    """Show every n-th x label so they do not overlap."""
    return max(1, math.ceil(count * label_width / max(room, 1)))


@dataclass
class _Plot:
    """The frame shared by the charts with a value axis: plot area, y ticks, svg head/tail, parts so far."""

    left: float
    right: float
    top: float
    bottom: float
    ticks: list[float]
    head: str
    tail: str
    parts: list[str]

    def y(self, value: float) -> float:
        return self.bottom - (self.bottom - self.top) * value / self.ticks[-1]

    def finish(self, series: Sequence[tuple[str, Sequence[float]]], height: int) -> Markup:
        if len(series) > 1:
            self.parts.append(_legend([name for name, _ in series], self.left, height - 12))
        return Markup(self.head + "".join(self.parts) + self.tail)


def _plot(labels: Sequence[str], series: Sequence[tuple[str, Sequence[float]]], *, title: str, unit: str,
          width: int, height: int, css_class: str, right_pad: float) -> _Plot | Markup:
    """The frame, or the "暂无数据" panel when there is nothing to draw."""
    values = [v for _, vals in series for v in vals]
    if not labels or not values or max(values) <= 0:
        return _empty(width, height, title, css_class)
    left, right, top, bottom = 56.0, width - right_pad, 16.0, height - (48.0 if len(series) > 1 else 30.0)
    ticks = nice_ticks(max(values), integer=_whole(values))
    head, tail = _open_svg(width, height, title, _describe(labels, series, unit), css_class)
    return _Plot(left, right, top, bottom, ticks, head, tail, [_y_axis(ticks, left, right, top, bottom, unit)])


def bar_chart(
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    *,
    title: str,
    unit: str = "",
    width: int = 640,
    height: int = 260,
    css_class: str = "bar-chart",
) -> Markup:
    """Vertical bars: one group per label, one bar per series (e.g. [("会话数", [3, 5, …])])."""
    plot = _plot(labels, series, title=title, unit=unit, width=width, height=height, css_class=css_class,
                 right_pad=12.0)
    if isinstance(plot, Markup):
        return plot
    group = (plot.right - plot.left) / len(labels)
    bar = group * 0.8 / len(series)
    step = _label_step(len(labels), plot.right - plot.left, 44)
    for i, label in enumerate(labels):
        x0 = plot.left + group * i + group * 0.1
        for s, (name, vals) in enumerate(series):
            value = vals[i]
            y = plot.y(value)
            tip = f"{label} {name}：{format_number(value)}{unit}"
            plot.parts.append(
                f'<rect class="bar" x="{x0 + bar * s:.1f}" y="{y:.1f}" width="{max(bar - 1, 1):.1f}" '
                f'height="{plot.bottom - y:.1f}" fill="{PALETTE[s % len(PALETTE)]}"><title>{escape(tip)}</title></rect>'
            )
        if i % step == 0:
            plot.parts.append(_text(plot.left + group * (i + 0.5), plot.bottom + 16, label, "tick", size=11,
                                    fill=MUTED))
    return plot.finish(series, height)


def line_chart(
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    *,
    title: str,
    unit: str = "",
    width: int = 640,
    height: int = 260,
    css_class: str = "line-chart",
) -> Markup:
    """Lines over labelled x positions (days), one polyline per series, a dot with a tooltip per point."""
    plot = _plot(labels, series, title=title, unit=unit, width=width, height=height, css_class=css_class,
                 right_pad=16.0)
    if isinstance(plot, Markup):
        return plot
    dx = (plot.right - plot.left) / max(len(labels) - 1, 1)

    def x_of(i: int) -> float:
        return plot.left + dx * i if len(labels) > 1 else (plot.left + plot.right) / 2

    step = _label_step(len(labels), plot.right - plot.left, 44)
    for i, label in enumerate(labels):
        if i % step == 0:
            x, bottom = x_of(i), plot.bottom
            plot.parts.append(f'<line class="tick" x1="{x:.1f}" y1="{bottom:.1f}" x2="{x:.1f}" '
                              f'y2="{bottom + 4:.1f}" stroke="{AXIS}"/>')
            plot.parts.append(_text(x, bottom + 16, label, "tick", size=11, fill=MUTED))
    for s, (name, vals) in enumerate(series):
        colour = PALETTE[s % len(PALETTE)]
        points = [(x_of(i), plot.y(value), labels[i], value) for i, value in enumerate(vals)]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _, _ in points)
        plot.parts.append(f'<polyline class="line" points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for x, y, label, value in points:
            tip = f"{label} {name}：{format_number(value)}{unit}"
            plot.parts.append(f'<circle class="point" cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}">'
                              f"<title>{escape(tip)}</title></circle>")
    return plot.finish(series, height)


def horizontal_bars(
    items: Sequence[tuple[str, float]],
    *,
    title: str,
    unit: str = "",
    width: int = 640,
    row_height: int = 26,
    label_width: int = 180,
    css_class: str = "hbar-chart",
) -> Markup:
    """One labelled horizontal bar per item, longest scale first as given (top intents)."""
    height = max(row_height * len(items) + 40, 120)
    if not items or max(v for _, v in items) <= 0:
        return _empty(width, 120, title, css_class)
    left, right, top = float(label_width), width - 56.0, 8.0
    bottom = top + row_height * len(items)
    ticks = nice_ticks(max(v for _, v in items), integer=_whole([v for _, v in items]))
    desc = "；".join(f"{label}：{format_number(v)}{unit}" for label, v in items)
    head, tail = _open_svg(width, height, title, desc, css_class)
    parts = []
    for tick in ticks:
        x = left + (right - left) * tick / ticks[-1]
        parts.append(f'<line class="grid" x1="{x:.1f}" y1="{top:.1f}" x2="{x:.1f}" y2="{bottom:.1f}" stroke="{GRID}"/>')
        parts.append(_text(x, bottom + 16, format_number(tick) + unit, "tick", size=11, fill=MUTED))
    for i, (label, value) in enumerate(items):
        y = top + row_height * i
        w = (right - left) * value / ticks[-1]
        parts.append(_text(left - 8, y + row_height / 2 + 4, _shorten(label, label_width), "label", anchor="end"))
        parts.append(
            f'<rect class="bar" x="{left:.1f}" y="{y + 4:.1f}" width="{w:.1f}" height="{row_height - 8:.1f}" '
            f'fill="{PALETTE[0]}"><title>{escape(f"{label}：{format_number(value)}{unit}")}</title></rect>'
        )
        parts.append(_text(left + w + 4, y + row_height / 2 + 4, format_number(value) + unit, "value",
                           anchor="start",
                           size=11, fill=MUTED))
    parts.append(f'<line class="axis" x1="{left:.1f}" y1="{top:.1f}" x2="{left:.1f}" y2="{bottom:.1f}" '
                 f'stroke="{AXIS}"/>')
    return Markup(head + "".join(parts) + tail)


def stacked_bars(
    rows: Sequence[tuple[str, Sequence[float]]],
    parts_names: Sequence[str],
    *,
    title: str,
    width: int = 640,
    row_height: int = 30,
    label_width: int = 150,
    colours: Sequence[str] = ("#2da44e", "#d4a72c", "#cf222e"),
    css_class: str = "stacked-chart",
) -> Markup:
    """One horizontal 100 % bar per row split into parts (transactions: 成功 / 被拒 / 出错), counts in tooltips."""
    totals = [sum(vals) for _, vals in rows]
    if not rows or max(totals) <= 0:
        return _empty(width, 120, title, css_class)
    height = row_height * len(rows) + 44
    left, right, top = float(label_width), width - 70.0, 8.0
    desc = "；".join(
        f"{label}：" + "，".join(f"{n} {format_number(v)}" for n, v in zip(parts_names, vals, strict=True))
        for label, vals in rows
    )
    head, tail = _open_svg(width, height, title, desc, css_class)
    out = []
    for i, ((label, vals), total) in enumerate(zip(rows, totals, strict=True)):
        y = top + row_height * i
        out.append(_text(left - 8, y + row_height / 2 + 4, _shorten(label, label_width), "label", anchor="end"))
        x = left
        for k, (name, value) in enumerate(zip(parts_names, vals, strict=True)):
            if total <= 0 or value <= 0:
                continue
            w = (right - left) * value / total
            tip = f"{label} {name}：{format_number(value)}（{value / total:.1%}）"
            out.append(
                f'<rect class="bar part-{k}" x="{x:.1f}" y="{y + 5:.1f}" width="{w:.1f}" '
                f'height="{row_height - 10:.1f}" fill="{colours[k % len(colours)]}"><title>{escape(tip)}</title></rect>'
            )
            x += w
        out.append(_text(right + 6, y + row_height / 2 + 4, f"共 {format_number(total)}", "value", anchor="start",
                         size=11,
                         fill=MUTED))
    out.append(_legend(parts_names, left, height - 12, colours))
    return Markup(head + "".join(out) + tail)


def percent_tile(label: str, ratio: float | None, *, detail: str = "", colour: str = PALETTE[0],
                 width: int = 200, height: int = 96, css_class: str = "tile") -> Markup:
    """A small tile: the label, a big percentage and a thin progress bar (None → 暂无数据)."""
    known = ratio is not None
    shown = f"{ratio:.1%}" if known else EMPTY_TEXT
    head, tail = _open_svg(width, height, label, f"{label}：{shown}" + (f"（{detail}）" if detail else ""), css_class)
    parts = [
        f'<rect x="0.5" y="0.5" width="{width - 1}" height="{height - 1}" rx="8" fill="#ffffff" stroke="{GRID}"/>',
        _text(14, 24, label, "tile-label", anchor="start", size=13, fill=MUTED),
        _text(14, 58, shown, "tile-value" if known else "tile-value none", anchor="start", size=26 if known else 18,
              fill=TEXT if known else MUTED, extra=' font-weight="600"'),
        f'<rect x="14" y="72" width="{width - 28}" height="6" rx="3" fill="{GRID}"/>',
    ]
    if known:
        filled = (width - 28) * min(max(ratio, 0.0), 1.0)
        parts.append(f'<rect class="bar" x="14" y="72" width="{filled:.1f}" height="6" rx="3" fill="{colour}"/>')
    if detail:
        parts.append(_text(14, 91, detail, "tile-detail", anchor="start", size=10, fill=MUTED))
    return Markup(head + "".join(parts) + tail)


def _whole(values: Sequence[float]) -> bool:
    return all(float(v).is_integer() for v in values)


def _legend(names: Sequence[str], x: float, y: float, colours: Sequence[str] = PALETTE) -> str:
    parts = []
    for i, name in enumerate(names):
        parts.append(f'<rect x="{x:.1f}" y="{y - 9:.1f}" width="10" height="10" fill="{colours[i % len(colours)]}"/>')
        parts.append(_text(x + 14, y, name, "legend-label", anchor="start", size=11, fill=MUTED))
        x += 28 + 13 * len(name)
    return f'<g class="legend">{"".join(parts)}</g>'


def _describe(labels: Sequence[str], series: Sequence[tuple[str, Sequence[float]]], unit: str) -> str:
    """The data as a sentence for the <desc> (screen readers)."""
    return "；".join(
        f"{name}：" + "，".join(f"{label} {format_number(v)}{unit}" for label, v in zip(labels, vals, strict=True))
        for name, vals in series
    )


def _shorten(label: str, room: float, char_width: float = 13.0) -> str:
    """Cut a label that would not fit its column (the full text stays in the bar's tooltip)."""
    fits = max(int((room - 12) / char_width), 2)
    return label if len(label) <= fits else label[: fits - 1] + "…"
