"""Reading company targets, which may be set at different levels.

A target row is for a period and a region and segment, either of which may be `All`. When
several levels exist for the same periods, the finest complete level is the plan of record:
region x segment, then region, then segment, then company.
"""

from __future__ import annotations

from typing import Any

LEVELS = (
    ("region <> 'All' AND segment <> 'All'", "region x segment"),
    ("region <> 'All' AND segment = 'All'", "region"),
    ("region = 'All' AND segment <> 'All'", "segment"),
    ("region = 'All' AND segment = 'All'", "company"),
)


def total_target(cur: Any, periods: list[str]) -> float | None:
    """Company total target over `periods` (summed), from the finest level that has rows."""
    if not periods:
        return None
    marks = ", ".join("?" for _ in periods)
    for condition, _ in LEVELS:
        row = cur.execute(
            f"SELECT count(*), sum(amount) FROM targets WHERE period IN ({marks}) AND {condition}",
            periods,
        ).fetchone()
        if row and row[0]:
            return float(row[1])
    return None
