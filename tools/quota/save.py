"""A quota set as a draft scenario: one quota row per rep and fiscal quarter of the period.

A year's or half's quota is split across its quarters like the period's targets (evenly without
targets), rounded so the quarters add up to the rep's quota exactly. Open requisitions have no
rep id yet and are left out (their quotas are set when they are hired).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from tools.core.scenario import save_draft
from tools.quota.allocate import round_exact
from tools.quota.load import Data
from tools.quota.models import QuotaInput
from warehouse.connection import Warehouse
from warehouse.scenarios import Change

SAVED_METRICS = ("target", "total_quota", "share_reps_at_quota", "cost_of_sales")


def changes(data: Data, params: QuotaInput, people: pd.DataFrame, quotas: np.ndarray) -> list[Change]:
    period = data.period
    quarters = data.calendar.children(period, "quarter") if period.grain != "quarter" else [period]
    names = [q.name for q in quarters]
    weights = (
        data.targets[data.targets["period"].isin(names)].groupby("period")["amount"].sum().reindex(names).fillna(0.0)
    )
    shape = (weights / weights.sum()).to_numpy() if weights.sum() > 0 else np.full(len(names), 1 / len(names))
    stored = data.quotas.set_index(["rep_id", "period"])["amount"].to_dict() if len(data.quotas) else {}
    out = []
    for i, p in enumerate(people.itertuples()):
        if p.kind != "rep" or quotas[i] <= 0:
            continue
        split = round_exact(quotas[i] * shape, names, params.unit, float(quotas[i]))
        for name, amount in zip(names, split, strict=True):
            old = stored.get((p.rep_id, name))
            key = (("rep_id", str(p.rep_id)), ("period", name))
            out.append(Change("quotas", key, "amount", None if old is None else str(old), str(float(amount))))
    return out


def save(
    warehouse: Warehouse,
    data: Data,
    params: QuotaInput,
    people: pd.DataFrame,
    quotas: np.ndarray,
    metrics: dict[str, Any],
    inputs: list[str],
    user: str | None,
) -> dict[str, Any]:
    """Store the quota set as asked (the what-if, when there is one) as a draft scenario."""
    what = f"{params.method} allocation of {data.period.name} for {data.selection.describe()}"
    if params.method != "current" and metrics.get("target") is not None:
        what += f", {metrics['over_assign']:.0%} over-assigned"
    if inputs:
        what += "; what-if: " + ", ".join(inputs)
    return save_draft(
        warehouse,
        name=params.save_scenario or "",
        kind="quota",
        changes=changes(data, params, people, quotas),
        user=user,
        params=params.model_dump(mode="json"),
        summary=what,
        metrics={k: metrics[k] for k in SAVED_METRICS},
        base_fingerprint=data.fingerprint,
    )
