"""Fairness of a quota plan: do quotas follow what territories can deliver?

* Gini of quota-to-potential ratios: 0 when every rep carries the same quota per dollar of
  territory potential, towards 1 when a few reps carry far more than their territory holds.
* Hit-probability spread: mean probability of reaching quota of the top decile of reps minus
  that of the bottom decile (by probability).
* Over capacity: reps whose quota is above what their territory books even in a good (90th
  percentile) outcome.
"""

from __future__ import annotations

import numpy as np


def gini(values: np.ndarray) -> float:
    """Gini coefficient of non-negative values (0 = all equal)."""
    v = np.sort(np.asarray(values, dtype=float))
    v = v[np.isfinite(v)]
    if len(v) == 0 or v.sum() <= 0:
        return 0.0
    n = len(v)
    return float((2 * np.arange(1, n + 1) - n - 1).dot(v) / (n * v.sum()))


def decile_spread(p_hit: np.ndarray) -> float:
    p = np.sort(np.asarray(p_hit, dtype=float))
    p = p[np.isfinite(p)]
    if len(p) == 0:
        return 0.0
    k = max(1, len(p) // 10)
    return float(p[-k:].mean() - p[:k].mean())


def fairness(
    quotas: np.ndarray, potential: np.ndarray, p_hit: np.ndarray, p90_bookings: np.ndarray
) -> dict[str, object]:
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(potential > 0, quotas / potential, np.nan)
    over = np.flatnonzero(quotas > p90_bookings)
    return {
        "gini_quota_to_potential": round(gini(ratio[np.isfinite(ratio)]), 4),
        "hit_probability_spread": round(decile_spread(p_hit), 4),
        "reps_over_capacity": len(over),
        "over_capacity_index": over.tolist(),
    }
