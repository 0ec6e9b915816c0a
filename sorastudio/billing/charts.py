"""Charts drawn on the server as inline SVG: no script, no vendored library, readable by a screen reader.

One kind is enough for the dashboard: stacked bars, one bar per category (a day, a member), one colour per
series, with a legend, labelled axes and the quota caps as lines. Every bar and segment carries its numbers in
data attributes, so tests (and curious people) can read what was drawn.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# Distinguishable in both themes, and by people with the common colour-vision deficiencies (Okabe-Ito).
PALETTE = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#999999")
CAP_COLOUR = "#d62728"

HEIGHT = 200  # the plotting area, in SVG units
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 16, 44
SLOT_MIN, SLOT_MAX = 10, 56  # the width given to one category
# The chart is drawn at its card's width, scaled as a whole: with few bars its slots widen to this width at
# least, so that its text is not blown up in a wide card; its bars stay no wider than BAR_MAX.
MIN_WIDTH = 720
BAR_MAX = 40
LEGEND_ROW = 18
MAX_LABELS = 16  # category labels under the axis; with more categories, every n-th
FEW = 8  # up to this many bars are widened to fit their labels
LABEL_SIZE = 11  # the category labels' font size
LABEL_GAP = 6  # the least room between two category labels


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[int]  # one per category


@dataclass(frozen=True)
class Category:
    key: str  # for data attributes: "2026-11-03", a member's name
    label: str  # under the axis


def nice_ceiling(value: float) -> int:
    """The smallest 1, 2 or 5 times a power of ten at or above `value`: the top of the axis."""
    if value <= 1:
        return 1
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return int(step * power)
    return int(10 * power)  # pragma: no cover - the loop always returns


def stacked_bars(
    *,
    chart_id: str,
    title: str,
    description: str,
    categories: Sequence[Category],
    series: Sequence[Series],
    x_label: str,
    y_label: str,
    cap: int | None = None,
    cap_label: str = "",
    caps: Sequence[int | None] | None = None,
) -> SafeString:
    """An SVG of stacked bars. `cap` draws one line across the chart (a limit every bar is held to);
    `caps` one short line over each bar that has its own limit."""
    for one in series:
        if len(one.values) != len(categories):
            raise ValueError(f"series {one.name!r} has {len(one.values)} values for {len(categories)} bars")
    totals = [sum(one.values[i] for one in series) for i in range(len(categories))]
    limits = [c for c in [cap, *(caps or [])] if c is not None]
    top = nice_ceiling(max([*totals, *limits, 0]))
    slot = _slot(categories)
    width = LEFT + slot * max(1, len(categories)) + RIGHT
    legend_top = TOP + HEIGHT + BOTTOM
    entries = [(PALETTE[n % len(PALETTE)], one.name) for n, one in enumerate(series)]
    if cap is not None or any(c is not None for c in caps or []):
        entries.append((CAP_COLOUR, cap_label))
    legend_rows = _legend_rows(entries, width)
    total_height = legend_top + LEGEND_ROW * len(legend_rows) + 4

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{escape(chart_id)}" role="img" '
        f'viewBox="0 0 {width} {total_height}" width="100%" '
        f'aria-labelledby="{escape(chart_id)}-title" aria-describedby="{escape(chart_id)}-desc" '
        f'data-top="{top}">',
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
        f'<desc id="{escape(chart_id)}-desc">{escape(description)}</desc>',
        _value_axis(top, width, y_label),
        _bars(categories, series, totals, caps, cap_label, slot=slot, top=top),
        f'<text class="axis-label" x="{LEFT + (width - LEFT - RIGHT) / 2}" y="{TOP + HEIGHT + 34}" '
        f'text-anchor="middle" font-size="12" fill="currentColor" aria-hidden="true">'
        f"{escape(x_label)}</text>",
    ]
    if cap is not None:
        out.append(_cap_line(cap, cap_label, width=width, top=top))
    out.append(_legend(legend_rows, legend_top))
    out.append("</svg>")
    return mark_safe("".join(out))  # noqa: S308 - every piece of text above is escaped


def _cap_line(cap: int, cap_label: str, *, width: int, top: int) -> str:
    """The limit every bar is held to: a dashed line across the chart, labelled at its right end."""
    at = _y(cap, top)
    return (
        f'<g class="cap" data-cap="{cap}"><line x1="{LEFT}" x2="{width - RIGHT}" y1="{at:.1f}" '
        f'y2="{at:.1f}" stroke="{CAP_COLOUR}" stroke-width="2" stroke-dasharray="6 3"/>'
        f'<text x="{width - RIGHT}" y="{at - 4:.1f}" text-anchor="end" font-size="11" '
        f'fill="{CAP_COLOUR}">{escape(cap_label)} {cap}</text></g>'
    )


def _slot(categories: Sequence[Category]) -> int:
    """The width given to each category."""
    slot = max(SLOT_MIN, min(SLOT_MAX, 640 // max(1, len(categories))))
    if 0 < len(categories) <= FEW:  # few bars: room for their whole labels
        slot = max(slot, min(160, 7 * max(len(c.label) for c in categories) + 12))
    return max(slot, math.ceil((MIN_WIDTH - LEFT - RIGHT) / max(1, len(categories))))


def _y(value: float, top: int) -> float:
    """Where `value` sits on the value axis, which runs from 0 at the bottom to `top`."""
    return TOP + HEIGHT - HEIGHT * value / top


def _value_axis(top: int, width: int, y_label: str) -> str:
    """The value axis: four steps, with faint grid lines."""
    out = ['<g class="axis y-axis" aria-hidden="true">']
    for step in range(5):
        value = top * step / 4
        at = _y(value, top)
        shown = f"{value:g}" if value != int(value) else str(int(value))
        out.append(
            f'<line x1="{LEFT}" x2="{width - RIGHT}" y1="{at:.1f}" y2="{at:.1f}" stroke="currentColor" '
            f'stroke-opacity="{0.5 if step == 0 else 0.12}"/>'
            f'<text x="{LEFT - 6}" y="{at + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="currentColor">{shown}</text>'
        )
    out.append(
        f'<text class="axis-label" transform="translate(14 {TOP + HEIGHT / 2}) rotate(-90)" '
        f'text-anchor="middle" font-size="12" fill="currentColor">{escape(y_label)}</text></g>'
    )
    return "".join(out)


def _bars(
    categories: Sequence[Category],
    series: Sequence[Series],
    totals: Sequence[int],
    caps: Sequence[int | None] | None,
    cap_label: str,
    *,
    slot: int,
    top: int,
) -> str:
    """The bars: one group per category, one rectangle per non-zero segment, and the category's own cap."""
    out = []
    every = label_step(categories, slot)
    bar_width = min(BAR_MAX, max(4, slot * 0.7))
    for i, category in enumerate(categories):
        x = LEFT + slot * i + (slot - bar_width) / 2
        out.append(f'<g class="bar" data-category="{escape(category.key)}" data-total="{totals[i]}">')
        base = 0
        for number, one in enumerate(series):
            value = one.values[i]
            if value <= 0:
                continue
            out.append(
                f'<rect x="{x:.1f}" y="{_y(base + value, top):.1f}" width="{bar_width:.1f}" '
                f'height="{HEIGHT * value / top:.1f}" fill="{PALETTE[number % len(PALETTE)]}" '
                f'data-series="{escape(one.name)}" data-value="{value}">'
                f"<title>{escape(category.label)}, {escape(one.name)}: {value}</title></rect>"
            )
            base += value
        limit = caps[i] if caps is not None else None
        if limit is not None:
            out.append(
                f'<line class="cap" x1="{x - 3:.1f}" x2="{x + bar_width + 3:.1f}" y1="{_y(limit, top):.1f}" '
                f'y2="{_y(limit, top):.1f}" stroke="{CAP_COLOUR}" stroke-width="2" stroke-dasharray="4 2" '
                f'data-cap="{limit}"><title>{escape(category.label)}: {escape(cap_label)} {limit}</title>'
                "</line>"
            )
        out.append("</g>")
        if i % every == 0:
            out.append(
                f'<text class="category-label" x="{x + bar_width / 2:.1f}" y="{TOP + HEIGHT + 14}" '
                f'text-anchor="middle" font-size="{LABEL_SIZE}" fill="currentColor" aria-hidden="true">'
                f"{escape(category.label)}</text>"
            )
    return "".join(out)


def label_step(categories: Sequence[Category], slot: int) -> int:
    """Every how many categories a label is written under the axis: no more than MAX_LABELS, and never two
    closer than their own width, so that they cannot overlap however wide the chart is drawn (the SVG scales
    as a whole, its text with it)."""
    if not categories:
        return 1
    widest = max(text_width(c.label, LABEL_SIZE) for c in categories) + LABEL_GAP
    return max(math.ceil(len(categories) / MAX_LABELS), math.ceil(widest / slot))


def text_width(text: str, size: float) -> float:
    """A generous guess at the width of `text` in SVG units: Latin letters about 0.62 of the font size, the
    wide scripts (Chinese, Japanese, Korean) a whole one."""
    return sum(size if ord(c) >= 0x2E80 else size * 0.62 for c in text)


def _legend_rows(entries: Sequence[tuple[str, str]], width: int) -> list[list[tuple[str, str]]]:
    """The legend's (colour, name) entries laid out in rows that fit the chart (about 7 units a character)."""
    rows: list[list[tuple[str, str]]] = [[]]
    used = LEFT
    for entry in entries:
        needed = _entry_width(entry[1])
        if rows[-1] and used + needed > width:
            rows.append([])
            used = LEFT
        rows[-1].append(entry)
        used += needed
    return rows if rows[0] else []


def _entry_width(name: str) -> int:
    return 22 + 7 * len(name) + 12


def _legend(rows: list[list[tuple[str, str]]], top: int) -> str:
    out = ['<g class="legend">']
    for r, row in enumerate(rows):
        x = LEFT
        at = top + r * LEGEND_ROW
        for colour, name in row:
            if colour == CAP_COLOUR:  # the limit is a dashed line, not a bar
                swatch = (
                    f'<line x1="{x}" x2="{x + 12}" y1="{at + 6}" y2="{at + 6}" stroke="{colour}" '
                    f'stroke-width="2" stroke-dasharray="4 2"/>'
                )
            else:
                swatch = f'<rect x="{x}" y="{at}" width="12" height="12" fill="{colour}"/>'
            out.append(
                f'{swatch}<text x="{x + 16}" y="{at + 10}" font-size="12" fill="currentColor">'
                f"{escape(name)}</text>"
            )
            x += _entry_width(name)
    out.append("</g>")
    return "".join(out)
