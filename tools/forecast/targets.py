"""Targets for every series of a hierarchy and every forecast period.

Targets may be stored by year, quarter or month; a forecast period gets the pro-rated share of
every target row overlapping it (a month gets a third of its quarter). Region/segment series
use company targets at the finest level stored (region x segment, then region, segment, all);
rep series use the reps' quotas; product series have no target.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tools.forecast.hierarchy import Hierarchy
from warehouse.calendar import FiscalCalendar, Period
from warehouse.errors import InputError


def overlap_weights(calendar: FiscalCalendar, period_names: pd.Series, forecast: Period) -> np.ndarray:
    """Share of each named period that falls inside `forecast` (0 for names that are not periods)."""
    names = pd.Series(period_names).astype(str)
    share: dict[str, float] = {}
    for name in names.unique():
        try:
            p = calendar.parse(name)
        except InputError:
            share[name] = 0.0
            continue
        start, end = max(p.start, forecast.start), min(p.end, forecast.end)
        months = (end.year - start.year) * 12 + end.month - start.month if start < end else 0
        share[name] = months / p.months
    return names.map(share).to_numpy(dtype=float) if len(names) else np.zeros(0)


def node_targets(
    hierarchy: Hierarchy,
    filters: dict[str, list[str]],
    periods: list[Period],
    calendar: FiscalCalendar,
    targets: pd.DataFrame,
    quotas: pd.DataFrame,
) -> np.ndarray:
    """[nodes, periods] target amounts; NaN where no target applies."""
    out = np.full((len(hierarchy.nodes), len(periods)), np.nan)
    t_weights = [overlap_weights(calendar, targets["period"], p) for p in periods]
    q_weights = [overlap_weights(calendar, quotas["period"], p) for p in periods]
    specific = {
        "both": (targets["region"] != "All") & (targets["segment"] != "All"),
        "region": (targets["region"] != "All") & (targets["segment"] == "All"),
        "segment": (targets["region"] == "All") & (targets["segment"] != "All"),
        "none": (targets["region"] == "All") & (targets["segment"] == "All"),
    }
    for i, node in enumerate(hierarchy.nodes):
        constraints: dict[str, set[str]] = {d: set(v) for d, v in filters.items()}
        for dim, value in node.keys:
            constraints[dim] = constraints.get(dim, {value}) & {value}
        if "product" in constraints:
            continue
        if "rep" in constraints:
            mask = quotas["rep_id"].isin(constraints["rep"]).to_numpy()
            for k in range(len(periods)):
                out[i, k] = float((quotas["amount"].to_numpy() * q_weights[k] * mask).sum()) if mask.any() else np.nan
            continue
        for level in ("both", "region", "segment", "none"):
            rows = specific[level].to_numpy().copy()
            if level in ("segment", "none") and "region" in constraints:
                continue
            if level in ("region", "none") and "segment" in constraints:
                continue
            if "region" in constraints:
                rows &= targets["region"].isin(constraints["region"]).to_numpy()
            if "segment" in constraints:
                rows &= targets["segment"].isin(constraints["segment"]).to_numpy()
            found = [float((targets["amount"].to_numpy() * w * rows).sum()) for w in t_weights]
            covered = [bool((w * rows).any()) for w in t_weights]
            if any(covered):
                out[i] = [f if c else np.nan for f, c in zip(found, covered, strict=True)]
                break
    return out
