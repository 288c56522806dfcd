"""Making forecasts of a hierarchy add up (regions to the total).

Methods: `bottom_up`; the MinTrace family, `y~ = S (S' W^-1 S)^-1 S' W^-1 y^`, with W = I for
`ols`, W = diag(S 1) (each node weighted by how many bottom series it sums) for `wls_struct`,
and a shrunk covariance of in-sample errors for `mint_shrink` (needs fitted values; computed by
hierarchicalforecast). `ols` and `wls_struct` are the same closed forms hierarchicalforecast
uses, computed here directly (a test holds them equal) so the common path needs no extra
import; `none` keeps the base forecasts. After reconciliation, negative bottom forecasts
are set to zero and every parent re-summed, so results stay coherent and non-negative. Each
series' 80% interval moves with its point forecast (its width is kept).
"""

from __future__ import annotations

import warnings as pywarnings
from typing import Literal

import numpy as np
import pandas as pd

from tools.forecast.hierarchy import Hierarchy

Reconciler = Literal["none", "bottom_up", "ols", "wls_struct", "mint_shrink"]
RECONCILERS: tuple[str, ...] = ("none", "bottom_up", "ols", "wls_struct", "mint_shrink")


def _method(name: str):  # type: ignore[no-untyped-def]
    from hierarchicalforecast.methods import BottomUp, MinTrace

    if name == "bottom_up":
        return BottomUp()
    return MinTrace(method=name, nonnegative=False)


def reconcile(
    hierarchy: Hierarchy,
    mean: np.ndarray,
    method: str,
    *,
    actual: np.ndarray | None = None,
    fitted: np.ndarray | None = None,
) -> np.ndarray:
    """Coherent forecasts [nodes, horizon] from base forecasts `mean` (rows = hierarchy.nodes).

    `actual` and `fitted` ([nodes, T]) are needed by `mint_shrink` only.
    """
    if method not in RECONCILERS:
        raise ValueError(f"unknown reconciler {method!r}")
    if method == "none" or len(hierarchy.nodes) == 1:
        return mean.copy()
    bottom_rows = hierarchy.bottom
    if method == "bottom_up":
        out = hierarchy.aggregate(mean[bottom_rows])
    elif method in ("ols", "wls_struct"):
        S = hierarchy.S
        w_inv = np.ones(len(S)) if method == "ols" else 1.0 / S.sum(axis=1)
        gram = S.T @ (w_inv[:, None] * S)
        out = S @ np.linalg.solve(gram, S.T @ (w_inv[:, None] * mean))
    else:
        from hierarchicalforecast.core import HierarchicalReconciliation

        ids = hierarchy.ids
        horizon = mean.shape[1]
        y_hat = pd.DataFrame(
            {
                "unique_id": np.repeat(ids, horizon),
                "ds": np.tile(np.arange(horizon), len(ids)),
                "model": mean.reshape(-1),
            }
        )
        y_df = None
        if method == "mint_shrink":
            if actual is None or fitted is None:
                raise ValueError("mint_shrink needs actual and fitted values")
            t = actual.shape[1]
            y_df = pd.DataFrame(
                {
                    "unique_id": np.repeat(ids, t),
                    "ds": np.tile(np.arange(-t, 0), len(ids)),
                    "y": actual.reshape(-1),
                    "model": fitted.reshape(-1),
                }
            )
        with pywarnings.catch_warnings():
            pywarnings.simplefilter("ignore")
            result = HierarchicalReconciliation(reconcilers=[_method(method)]).reconcile(
                Y_hat_df=y_hat, S_df=hierarchy.s_frame(), tags=hierarchy.tags(), Y_df=y_df
            )
        column = next(c for c in result.columns if c.startswith("model/"))
        result = result.set_index(["unique_id", "ds"])[column]
        out = np.vstack([result.loc[sid].sort_index().to_numpy() for sid in ids])
    bottom = np.maximum(out[bottom_rows], 0.0)
    return hierarchy.aggregate(bottom)


def shift_intervals(
    base_mean: np.ndarray, new_mean: np.ndarray, lo: np.ndarray, hi: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Move each interval with its point forecast, keeping the width; never below zero."""
    delta = new_mean - base_mean
    return np.maximum(lo + delta, 0.0), np.maximum(hi + delta, new_mean)
