"""A quota set for the period: the stored quotas, or the target allocated by a method.

The target is the request's, else the targets table's for the selection and period (the figure
every tool quotes for it: tools/core/targets.py); a team or a rep has no company target and
needs one given.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tools.core.targets import overlap_weights, slice_target
from tools.quota.allocate import AllocationInput, allocate
from tools.quota.load import Data
from tools.quota.models import QuotaInput
from tools.quota.setup import Setup
from warehouse.errors import InputError


def period_quotas(data: Data, quotas: pd.DataFrame | None = None) -> pd.Series:
    """Stored quota per rep for the period (the quotas overlapping it, pro-rated)."""
    q = data.quotas if quotas is None else quotas
    if q.empty:
        return pd.Series(dtype=float)
    weights = overlap_weights(data.calendar, q["period"], data.period)
    return (pd.to_numeric(q["amount"], errors="coerce").fillna(0.0) * weights).groupby(q["rep_id"]).sum()


def target(data: Data, params: QuotaInput) -> float | None:
    if params.target is not None:
        return float(params.target)
    if data.team:
        return None
    return slice_target(data.calendar, data.period, data.selection.constraints, data.targets)


def quotas(
    data: Data, params: QuotaInput, setup: Setup, people: pd.DataFrame, goal: float | None, over: float
) -> np.ndarray:
    """Quota per person: stored (method `current`), else `goal` x (1 + `over`) allocated by the method."""
    if params.method == "current":
        return people["rep_id"].map(period_quotas(data)).fillna(0.0).to_numpy(dtype=float)
    if goal is None:
        raise InputError(
            f"No target found for {data.period.name} and {data.selection.describe()}.",
            "Give one with --target AMOUNT (team selections always need one).",
        )
    keep = setup.capacity > 0
    ids = people["rep_id"].tolist()
    total = goal * (1 + over)
    credited = setup.booked if params.reallocate and setup.booked.sum() > 0 else np.zeros(len(people))
    out = np.zeros(len(people))
    out[keep] = allocate(
        AllocationInput(
            [ids[i] for i in np.flatnonzero(keep)], setup.history[keep], setup.potential[keep], setup.capacity[keep]
        ),
        total=max(total - credited.sum(), 0.0),
        method=params.method,
        weights=params.weights,
        floor=params.floor,
        cap=params.cap,
        unit=params.unit,
    )
    return out + credited
