"""Charts as inline SVG, drawn on the server: no script, nothing fetched, and they scale to
a phone's width (a viewBox, width 100% in office.css). Each has a <title> and an
aria-label, and its numbers are in a table beside it, so nothing depends on seeing it."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

# About a phone's width in CSS pixels, so that text drawn at 13 units reads as ~12 px on a
# phone; a desk's wider column scales the whole chart up (office.css caps its width).
WIDTH = 360
ROW = 24  # height of one horizontal bar's row
LABEL_WIDTH = 118


def _number(value: float) -> str:
    return f"{value:.0f}" if value == int(value) else f"{value:.1f}"


def column_chart(title: str, values: Sequence[tuple[str, float]], *, height: int = 170) -> Markup:
    """Vertical bars, one per label in order (visits per day). With many bars only some
    labels are written, so they never overlap on a phone."""
    top, bottom, left = 18, 26, 34
    plot_height = height - top - bottom
    plot_width = WIDTH - left - 8
    biggest = max([value for _, value in values] + [1])
    step = plot_width / max(len(values), 1)
    label_every = max(1, round(len(values) / 7))
    parts = [
        f'<svg class="chart report-chart" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>',
        f'<line class="axis" x1="{left}" y1="{top + plot_height}" x2="{WIDTH - 8}" '
        f'y2="{top + plot_height}"/>',
        f'<text x="{left - 4}" y="{top + 4}" text-anchor="end">{_number(biggest)}</text>',
        f'<text x="{left - 4}" y="{top + plot_height}" text-anchor="end">0</text>',
    ]
    for index, (label, value) in enumerate(values):
        bar_height = plot_height * value / biggest
        x = left + index * step
        parts.append(
            f'<rect class="bar" x="{x + step * 0.15:.1f}" y="{top + plot_height - bar_height:.1f}" '
            f'width="{step * 0.7:.1f}" height="{bar_height:.1f}">'
            f"<title>{escape(label)}: {_number(value)}</title></rect>"
        )
        if index % label_every == 0:
            parts.append(
                f'<text x="{x + step / 2:.1f}" y="{height - 8}" text-anchor="middle">'
                f"{escape(label)}</text>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def bar_chart(
    title: str,
    values: Sequence[tuple[str, float]],
    *,
    target: float | None = None,
    target_label: str = "",
    unit: str = "",
) -> Markup:
    """Horizontal bars with their labels and values (counts by purpose, response times
    by host); `target` draws a dashed line across, such as the 1-minute standard."""
    top = 22 if target is not None else 6
    height = top + ROW * max(len(values), 1) + 6
    plot_left, plot_right = LABEL_WIDTH, WIDTH - 52
    scale_max = max([value for _, value in values] + [target or 0, 1])
    span = plot_right - plot_left
    parts = [
        f'<svg class="chart report-chart" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
    ]
    for index, (label, exact) in enumerate(values):
        value = round(exact) if unit else exact  # whole seconds: the label must fit
        y = top + index * ROW
        width = span * value / scale_max
        shown = label if len(label) <= 16 else label[:15] + "…"
        parts.append(
            f'<text x="{plot_left - 6}" y="{y + 17}" text-anchor="end">{escape(shown)}</text>'
            f'<rect class="bar" x="{plot_left}" y="{y + 5}" width="{width:.1f}" height="15">'
            f"<title>{escape(label)}: {_number(value)}{escape(unit)}</title></rect>"
            f'<text class="value" x="{plot_left + width + 4:.1f}" y="{y + 17}">'
            f"{_number(value)}{escape(unit)}</text>"
        )
    if target is not None:
        x = plot_left + span * target / scale_max
        parts.append(
            f'<line class="target" x1="{x:.1f}" y1="14" x2="{x:.1f}" y2="{height - 4}"/>'
            f'<text class="target" x="{x:.1f}" y="11" text-anchor="middle">'
            f"{escape(target_label)}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))
