"""The shapes every metric returns, so pages, the API and exports render them alike."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Literal

Direction = Literal["up", "down", "flat", "none"]


@dataclass(frozen=True)
class Kpi:
    """One figure of the period, the same figure for the previous period of the same length, and
    which way it went. ``better`` says whether a rise is good news ("up": resolution rate), bad
    ("down": backlog) or neither; pages colour the direction with it. ``unit`` is "count",
    "percent" (0-100), "minutes", "score" or "money". ``value`` is None when it cannot be
    computed (a rate over zero tickets)."""

    key: str
    value: float | None
    previous: float | None
    unit: str = "count"
    better: Literal["up", "down", "none"] = "up"

    @property
    def direction(self) -> Direction:
        if self.value is None or self.previous is None:
            return "none"
        if self.value > self.previous:
            return "up"
        if self.value < self.previous:
            return "down"
        return "flat"


@dataclass(frozen=True)
class Point:
    """One bucket of a series: its first day (in the period's time zone) and its value."""

    day: date
    value: float


@dataclass(frozen=True)
class Series:
    """A named line or bar series over the period's buckets (days or weeks)."""

    key: str
    label: str
    points: list[Point]


@dataclass(frozen=True)
class Row:
    """One row of a breakdown. ``key`` identifies what the row counts (a group id, a status, a
    category id, "L2"…) so a page can link the row to the ticket list behind it; ``cells`` are the
    values in the table's column order."""

    key: str
    label: str
    cells: list[float | int | str | None]


@dataclass(frozen=True)
class Table:
    """A breakdown: column keys (and their labels) and rows, ready for a table, a bar chart or an
    export."""

    key: str
    columns: list[tuple[str, str]]
    rows: list[Row] = field(default_factory=list)
