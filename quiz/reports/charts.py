"""Chart geometry for server-rendered SVG (templates/reports/_charts.html draws it).

Why SVG drawn on the server: it needs no JavaScript and no inline style, so it lives under the strict
Content-Security-Policy as it is; it scales to any width (viewBox), prints sharply, and each chart
sits next to a table with the same numbers, which is what screen readers and spreadsheets use. Colours
and type come from classes in static/css/app.css, never from style attributes.
"""
from __future__ import annotations

from dataclasses import dataclass

WIDTH = 640
LABEL_ROW = 18   # a bar's label sits on its own line above the bar: long module names need the width
BAR = 16
GAP = 14


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None
    text: str          # the value as printed (e.g. "72%")
    y: float           # top of the label line
    width: float       # bar length in user units
    series: int = 0    # 0 or 1: which class (colour) the bar takes


@dataclass(frozen=True)
class BarChart:
    """Horizontal bars, one group per label, up to two series (e.g. first-try score and mastery)."""

    bars: tuple[Bar, ...]
    height: float
    plot_width: float
    series_names: tuple[str, ...]

    @property
    def width(self) -> int:
        return WIDTH


def bar_chart(groups: list[tuple[str, list[tuple[float | None, str]]]], series_names: tuple[str, ...],
              maximum: float = 1.0) -> BarChart:
    """`groups`: (label, [(value, printed value) per series]). Values run from 0 to `maximum`."""
    plot = WIDTH - 70  # room for the printed value after the longest bar
    bars = []
    y = 4.0
    for label, values in groups:
        for series, (value, text) in enumerate(values):
            length = 0.0 if value is None or maximum <= 0 else max(0.0, min(1.0, value / maximum)) * plot
            bars.append(Bar(label if series == 0 else "", value, text, y, length, series))
            y += (LABEL_ROW if series == 0 else 0) + BAR + 2
        y += GAP
    return BarChart(tuple(bars), y, plot, series_names)


@dataclass(frozen=True)
class Column:
    label: str          # shown under the column when there is room ("" otherwise)
    value: int
    x: float
    height: float
    overlay: float      # height of the part drawn in the second colour (e.g. completed)


@dataclass(frozen=True)
class ColumnChart:
    columns: tuple[Column, ...]
    column_width: float
    plot_height: float
    top: float
    maximum: int
    series_names: tuple[str, str]

    width: int = WIDTH

    @property
    def height(self) -> float:
        return self.top + self.plot_height + 24

    @property
    def baseline(self) -> float:
        return self.top + self.plot_height


def column_chart(points: list[tuple[str, int, int]], series_names: tuple[str, str]) -> ColumnChart:
    """`points`: (label, total, part of it). Columns of the total with the part drawn over them."""
    plot_height = 160.0
    count = max(1, len(points))
    slot = (WIDTH - 40) / count
    every = max(1, round(count / 12))  # at most about 12 labels, so they never overlap
    maximum = max([total for _, total, _ in points] + [1])
    columns = tuple(
        Column(label if i % every == 0 else "", total, 40 + i * slot + slot * 0.15,
               plot_height * total / maximum, plot_height * part / maximum)
        for i, (label, total, part) in enumerate(points)
    )
    return ColumnChart(columns, slot * 0.7, plot_height, 16.0, maximum, series_names)
