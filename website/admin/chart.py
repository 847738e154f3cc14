"""Server-rendered SVG bar charts: geometry in Python, markup in a Jinja macro (escaped).

No script and no ``style`` attribute (the strict CSP holds): colours are SVG presentation
attributes (``fill``), which ``admin.css`` overrides per series for dark mode.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date

WIDTH = 720
HEIGHT = 300
LEFT, RIGHT, TOP, BOTTOM = 52, 12, 16, 56


@dataclass(frozen=True)
class Series:
    key: str
    label: str
    colour: str
    values: list[int]


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    key: str
    colour: str
    title: str


@dataclass(frozen=True)
class Tick:
    value: int
    y: float


@dataclass(frozen=True)
class Label:
    x: float
    text: str


@dataclass
class Chart:
    title: str
    y_label: str
    x_label: str
    days: list[date]
    series: list[Series]
    width: int = WIDTH
    height: int = HEIGHT
    bars: list[Bar] = field(default_factory=list)
    ticks: list[Tick] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)
    total: int = 0

    @property
    def plot_left(self) -> int:
        return LEFT

    @property
    def plot_right(self) -> int:
        return self.width - RIGHT

    @property
    def plot_top(self) -> int:
        return TOP

    @property
    def plot_bottom(self) -> int:
        return self.height - BOTTOM


def nice_step(value: float) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50, ... that is at least ``value``."""
    power = 1
    while True:
        for step in (1, 2, 5):
            if step * power >= value:
                return step * power
        power *= 10


def axis(largest: int, target_ticks: int = 4) -> tuple[int, int]:
    """Whole-number y axis for values up to ``largest``: (step between ticks, top)."""
    step = nice_step(max(largest, 1) / target_ticks)
    return step, step * max(1, math.ceil(largest / step))


def stacked_bars(title: str, y_label: str, x_label: str, days: list[date],
                 series: list[Series]) -> Chart:
    """One bar per day, the series stacked bottom to top in the order given."""
    chart = Chart(title, y_label, x_label, days, series)
    totals = [sum(s.values[i] for s in series) for i in range(len(days))]
    chart.total = sum(totals)
    step, top = axis(max(totals, default=0))
    plot_w = chart.plot_right - chart.plot_left
    plot_h = chart.plot_bottom - chart.plot_top
    slot = plot_w / max(len(days), 1)
    bar_w = max(slot * 0.78, 1.0)
    for i, day in enumerate(days):
        x = chart.plot_left + i * slot + (slot - bar_w) / 2
        base = float(chart.plot_bottom)
        for s in series:
            value = s.values[i]
            if not value:
                continue
            h = plot_h * value / top
            base -= h
            chart.bars.append(Bar(round(x, 2), round(base, 2), round(bar_w, 2), round(h, 2),
                                  s.key, s.colour, f"{day.isoformat()}: {s.label} {value}"))
    for value in range(0, top + 1, step):
        chart.ticks.append(Tick(value, round(chart.plot_bottom - plot_h * value / top, 2)))
    every = max(1, math.ceil(len(days) / 8))
    for i in range(0, len(days), every):
        chart.labels.append(Label(round(chart.plot_left + (i + 0.5) * slot, 2),
                                  days[i].strftime("%d.%m.")))
    return chart
