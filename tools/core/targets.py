"""Targets for any slice and period: every tool's target figure comes from here.

Targets may be stored by year, quarter or month; a forecast period gets the pro-rated share of
every target row overlapping it (a month gets a third of its quarter). Region/segment series
use company targets at the finest level stored (region x segment, then region, segment, all);
rep series use the reps' quotas; product series have no target. Targets are read with the
caller's scope only (`load_targets`); the request's filters pick the rows in `node_targets`,
so a scoped caller and an admin filtered to the same slice get the same target.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from tools.core.hierarchy import Hierarchy, build_hierarchy
from tools.core.selection import Selection
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
        if "rep" in constraints or "manager" in constraints:
            # Company targets are not split by rep or team: those slices are measured against
            # their quotas (the loaded quotas are already limited to the selection's team).
            mask = (
                quotas["rep_id"].isin(constraints["rep"]).to_numpy()
                if "rep" in constraints
                else np.ones(len(quotas), dtype=bool)
            )
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


def load_targets(cur: Any, selection: Selection) -> pd.DataFrame:
    """Target rows (period, region, segment, amount) the caller's scope may see."""
    sql, params = Selection(selection.scope).where("targets", "t")
    return cur.query_df(
        f"SELECT period, region, segment, amount FROM targets t WHERE {sql} ORDER BY period, region, segment", params
    )


def load_quotas(cur: Any, selection: Selection, periods: list[str] | None = None) -> pd.DataFrame:
    """Quota rows (rep_id, period, amount, region, segment of the rep) of the selection."""
    sql, params = selection.where("quotas", "q")
    named = ""
    if periods is not None:
        if not periods:
            return pd.DataFrame(columns=["rep_id", "period", "amount", "region", "segment"])
        named = f" AND q.period IN ({', '.join('?' for _ in periods)})"
        params = [*params, *periods]
    return cur.query_df(
        f"""SELECT q.rep_id, q.period, q.amount, r.region, r.segment FROM quotas q LEFT JOIN reps r USING (rep_id)
            WHERE {sql}{named} ORDER BY q.rep_id, q.period""",
        params,
    )


def slice_target(
    calendar: FiscalCalendar, period: Period, constraints: dict[str, list[str]], targets: pd.DataFrame
) -> float | None:
    """The target of one slice (region/segment constraints) for one period, or None when none is set."""
    value = node_targets(build_hierarchy([], [()]), constraints, [period], calendar, targets, _NO_QUOTAS)[0, 0]
    return None if np.isnan(value) else float(value)


_NO_QUOTAS = pd.DataFrame(columns=["rep_id", "period", "amount"])
