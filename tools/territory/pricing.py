"""Pricing every (unit, rep) pair of a territory group, for column generation.

The assignment model only carries a few candidate reps per unit. Linear-programming duality
says which missing pairs could improve it: a pair whose reduced cost (its objective coefficient
minus the row duals times its column) is negative. Adding those and re-solving until none is
left gives the LP of the *full* problem (every unit may go to every rep of the group) without
ever building it; at any round, the restricted LP's value plus each unit's most negative
reduced cost is a valid lower bound on the full LP (each unit's pairs sum to one).

Costs are computed on the fly in chunks, never as a dense units x reps matrix: the value of a
unit's accounts minus the part the rep already owns, plus travel from the rep's home.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

EARTH_KM = 6371.0
CHUNK = 2_000_000  # pairs priced at a time (a few tens of MB)


def haversine(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    """Great-circle km between points given in degrees (NaN where a point is unknown)."""
    lat1, lon1, lat2, lon2 = (np.radians(np.asarray(v, dtype=float)) for v in (lat1, lon1, lat2, lon2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_KM * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


@dataclass
class Pricing:
    """Disruption cost of any unit x rep pair of one group."""

    unit_value: np.ndarray  # [U] value of the unit's accounts (what moving all of them costs)
    owned: sparse.csr_matrix  # [U, R] value of the unit's accounts the rep already owns
    lat: np.ndarray  # [U] degrees, NaN when unknown
    lon: np.ndarray
    home_lat: np.ndarray  # [R] degrees, NaN when unknown
    home_lon: np.ndarray
    travel: np.ndarray  # [U] USD per km (travel weight x accounts in the unit)
    owned_count: sparse.csr_matrix  # [U, R] accounts of the unit the rep already owns

    @property
    def reps(self) -> int:
        return len(self.home_lat)

    def costs(self, units: np.ndarray) -> np.ndarray:
        """[len(units), R] disruption of giving each unit to each rep."""
        cost = np.repeat(self.unit_value[units, None], self.reps, axis=1) - self.owned[units].toarray()
        if self.travel[units].any():
            cost += self.travel[units, None] * np.nan_to_num(self.km(units), nan=0.0)
        return cost

    def km(self, units: np.ndarray) -> np.ndarray:
        """[len(units), R] km from each unit to each rep's home."""
        return haversine(self.lat[units, None], self.lon[units, None], self.home_lat[None, :], self.home_lon[None, :])


@dataclass
class Duals:
    """Row duals of the assignment LP, by the row's role."""

    assign: np.ndarray  # [F] one per free unit (its assignment row)
    band: np.ndarray  # [R, K] the upper and lower band rows' duals, summed (a pair enters both)
    count: np.ndarray | None  # [R] account cap rows
    change: np.ndarray | None  # [R] accounts-changed cap rows (a pair enters with count - 2 x owned)
    disruption: float  # the disruption cap row (0 when there is none)


def negative_pairs(
    pricing: Pricing,
    free_units: np.ndarray,
    loads: np.ndarray,
    counts: np.ndarray | None,
    duals: Duals,
    x_scale: float,
    present: sparse.csr_matrix,
    per_unit: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Pairs not in the model with a negative reduced cost (at most `per_unit` per unit, the most
    negative first): their units, reps and costs, and the sum over units of each unit's most
    negative reduced cost (<= 0; what the full LP can still gain at most). `counts`: accounts
    per unit, for the account-cap and change-cap rows."""
    R = pricing.reps
    step = max(1, CHUNK // max(R, 1))
    units_out, reps_out, costs_out = [], [], []
    gain = 0.0
    for s in range(0, len(free_units), step):
        rows = np.arange(s, min(s + step, len(free_units)))
        units = free_units[rows]
        cost = pricing.costs(units)
        rc = x_scale * cost - duals.assign[rows, None] - loads[units] @ duals.band.T - cost * duals.disruption
        if duals.count is not None and counts is not None:
            rc -= counts[units, None] * duals.count[None, :]
        if duals.change is not None and counts is not None:
            change = counts[units, None] - 2 * pricing.owned_count[units].toarray()
            rc -= change * duals.change[None, :]
        rc[present[rows].toarray() > 0] = np.inf  # already in the model
        tol = 1e-9 * max(1.0, float(np.abs(duals.assign[rows]).max(initial=0.0)))
        best = rc.min(axis=1)
        gain += float(np.minimum(best, 0.0).sum())
        take = min(per_unit, R)
        order = np.argpartition(rc, take - 1, axis=1)[:, :take] if take < R else np.tile(np.arange(R), (len(rows), 1))
        picked = np.take_along_axis(rc, order, axis=1)
        keep = picked < -tol
        if not keep.any():
            continue
        r_idx, slot = np.nonzero(keep)
        reps = order[r_idx, slot]
        units_out.append(units[r_idx])
        reps_out.append(reps)
        costs_out.append(cost[r_idx, reps])
    if not units_out:
        return np.array([], int), np.array([], int), np.array([]), gain
    return np.concatenate(units_out), np.concatenate(reps_out), np.concatenate(costs_out), gain
