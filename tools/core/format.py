"""How figures read: money, shares, percents, multiples, counts, quantiles and changes.

One formatter for tool summaries, recommendations, the offline planner's answers and every
view (terminal, Slack, batch), so a figure reads the same everywhere. Every form it writes is
one the grounding check reads back at the precision written (a test holds them together):
money to three significant digits ($8.69M, $12.8M, $850K, $920), shares and percents to whole
points from 10% up and one decimal below (55%, 9.8%), multiples to two decimals (2.63x).

Units: `USD`; `share` (a fraction, 0.55 = 55%); `%` (a number already in percent, 55 = 55%);
`points` (percentage points); `x` (a multiple); `index` (a 0-1 statistic such as a Gini
coefficient or a coefficient of variation, two decimals); `count`; `days`; `months`; `text`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Literal, get_args

Unit = Literal["USD", "share", "%", "points", "x", "index", "count", "days", "months", "text"]
UNITS: frozenset[str] = frozenset(get_args(Unit))
MISSING = "-"


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _three_digits(value: float) -> str:
    """`value` (>= 0) with three significant digits, no exponent."""
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def money(value: float | None) -> str:
    """$8.69M, $12.8M, $850K, $1.23B, $920; negative amounts as -$1.20M."""
    if _missing(value):
        return MISSING
    assert value is not None
    sign = "-" if value < 0 else ""
    v = abs(float(value))
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if v >= size * 0.9995:
            return f"{sign}${_three_digits(v / size)}{suffix}"
    return f"{sign}${v:,.0f}"


def percent(value: float | None) -> str:
    """A number already in percent: 55 -> 55%, 9.84 -> 9.8%."""
    if _missing(value):
        return MISSING
    assert value is not None
    return f"{value:.0f}%" if abs(value) >= 9.95 else f"{value:.1f}%"


def share(value: float | None) -> str:
    """A fraction as a percent: 0.55 -> 55%, 0.0984 -> 9.8%."""
    return MISSING if _missing(value) else percent(float(value) * 100)  # type: ignore[arg-type]


def multiple(value: float | None) -> str:
    if _missing(value):
        return MISSING
    assert value is not None
    return f"{value:.1f}x" if abs(value) >= 9.995 else f"{value:.2f}x"


def count(value: float | None) -> str:
    if _missing(value):
        return MISSING
    assert value is not None
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def value(v: Any, unit: str) -> str:
    """Any figure in its unit; text and unknown units as they are."""
    if _missing(v):
        return MISSING
    if isinstance(v, bool) or not isinstance(v, int | float):
        return str(v)
    if unit == "USD":
        return money(v)
    if unit == "share":
        return share(v)
    if unit == "%":
        return percent(v)
    if unit == "points":
        return f"{v:+.1f} pts"
    if unit == "x":
        return multiple(v)
    if unit == "index":
        return f"{v:.2f}"
    if unit == "days":
        return f"{v:,.0f} days"
    if unit == "months":
        return f"{count(v)} months"
    if unit == "count":
        return count(v)
    return f"{v:,.2f}" if isinstance(v, float) and not float(v).is_integer() else f"{v:,}"


def change(v: float | None, unit: str) -> str:
    """A difference: +$1.20M, -7 pts (a change of a share is in points), +0.40x, +3."""
    if _missing(v):
        return MISSING
    assert v is not None
    sign = "+" if v > 0 else "-" if v < 0 else "±"
    magnitude = abs(float(v))
    if unit == "share":
        return f"{sign}{_points(magnitude * 100)} pts"
    if unit in ("%", "points"):
        return f"{sign}{_points(magnitude)} pts"
    return sign + value(magnitude, unit)


def _points(v: float) -> str:
    return f"{v:.0f}" if v >= 9.95 else f"{v:.1f}"


def quantiles(q: Mapping[str, float | None], unit: str = "USD") -> str:
    """'P50 $8.69M (P10 $4.40M, P90 $12.8M)'."""
    return f"P50 {value(q.get('p50'), unit)} (P10 {value(q.get('p10'), unit)}, P90 {value(q.get('p90'), unit)})"


def impact(metric: str, before: float | None, after: float | None, unit: str) -> str:
    """'NA Enterprise capacity at P50: $8.63M -> $12.2M' (an `Impact` as people read it)."""
    return f"{metric}: {value(before, unit)} -> {value(after, unit)}"


# Columns that mean the same in every tool's tables; a tool's spec adds its own.
COMMON_UNITS: dict[str, Unit] = {
    **dict.fromkeys(
        (
            "p10", "p50", "p90", "mean", "target", "gap", "pipeline", "booked_to_date", "bookings", "amount",
            "quota", "potential", "arr", "value", "payout", "remaining_target", "to_build", "weighted",
        ),
        "USD",
    ),
    **dict.fromkeys(("coverage", "required_coverage"), "x"),
    **dict.fromkeys(("win_rate", "p_win", "share", "wape", "bias", "coverage_80"), "share"),
    **dict.fromkeys(("deals", "reps", "accounts", "moves", "hires", "count"), "count"),
    **dict.fromkeys(("gini", "cv", "cv_before", "cv_after"), "index"),
    **dict.fromkeys(
        ("period", "region", "segment", "product", "rep", "rep_id", "name", "manager", "level", "series", "model",
         "stage", "kind", "metric", "status", "group"),
        "text",
    ),
}  # fmt: skip
