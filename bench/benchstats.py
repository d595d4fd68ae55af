"""Percentiles and units shared by the benchmark scripts."""

from __future__ import annotations

import math
from typing import Any


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile of ``values`` (q in 0..100)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def ms(value: float | None) -> float | None:
    """Seconds as milliseconds, rounded to microseconds."""
    return None if value is None else round(value * 1000, 3)


def fmt(value: Any) -> str:
    """A figure for a Markdown table: thousands separated, fewer decimals as it grows."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.0f}" if value >= 1000 else (f"{value:.1f}" if value >= 100 else f"{value:.2f}")
    return str(value)
