"""One region x segment (or region) group of a territory rebalance, as an assignment problem.

Every active AE of the group gets a target per balance metric: the group's total times the
rep's capacity share (a ramping rep counts 0.5 + 0.5 x its ramp progress, so new reps start with
smaller books). Disruption is the value of the accounts that change owner (ARR for customers,
potential for prospects), plus an optional count and travel term. A unit (account, ZIP, metro,
state) may go to its owners, its nearest reps and the nearest reps with room; units of reps
short of the band on every metric stay where they are (giving them away could only widen the
gap). Accounts owned by someone who is not an active AE of the group must move.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from scipy import sparse

from tools.territory.carving import family_keys, has_families, pins
from tools.territory.models import TerritoryInput
from tools.territory.optimize import Problem, Solution
from tools.territory.pricing import Pricing
from warehouse.errors import InputError

ROOM_CANDIDATES = 3  # besides the nearest reps, a moving unit may go to the nearest reps with room
MIN_CAPACITY = 0.5


@dataclass
class Pending:
    """A group ready to solve."""

    key: tuple[str, ...]
    label: str
    reps: pd.DataFrame
    accounts: pd.DataFrame
    unit_of: np.ndarray  # [accounts] unit index
    problem: Problem
    notes: list[str]
    locked_units: np.ndarray  # units fixed by a lock (others may be fixed because they need not move)


@dataclass
class Group(Pending):
    """A solved group."""

    solution: Solution
    solved_band: float  # the band the plan meets (the one asked for, or the closest met)
    tightest: float | None  # proven tightest band, when the asked one is impossible


def metric_values(accounts: pd.DataFrame, metric: str) -> np.ndarray:
    column = {"potential": "potential", "arr": "arr", "workload": "effort", "pipeline": "pipeline"}[metric]
    return accounts[column].to_numpy(dtype=float)


def unit_keys(accounts: pd.DataFrame, unit: str) -> pd.Series:
    if unit == "account":
        return accounts["account_id"]
    if unit == "zip":
        return accounts["country"].fillna("?") + ":" + accounts["zip"].fillna("?")
    if unit == "msa":
        return accounts["msa"].fillna("?")
    return accounts["country"].fillna("?") + ":" + accounts["state"].fillna("?")


def locks(accounts: pd.DataFrame, lock: list[str]) -> tuple[np.ndarray, list[str]]:
    locked = np.zeros(len(accounts), dtype=bool)
    unknown = []
    ids = set(accounts["account_id"])
    for item in lock:
        if item == "strategic":
            locked |= accounts["is_strategic"].fillna(False).to_numpy(dtype=bool)
        elif item == "late-stage":
            locked |= (accounts["late_deals"] > 0).to_numpy()
        elif item in ids:
            locked |= (accounts["account_id"] == item).to_numpy()
        else:
            unknown.append(item)
    return locked, unknown


def build_problem(
    reps: pd.DataFrame,
    accounts: pd.DataFrame,
    params: TerritoryInput,
    locked: np.ndarray,
    today: date,
) -> tuple[Problem, np.ndarray, list[str], np.ndarray]:
    """The group's assignment problem, each account's unit, notes, and the units a lock fixes."""
    notes: list[str] = []
    rep_ids = reps["rep_id"].tolist()
    index = {r: i for i, r in enumerate(rep_ids)}
    R = len(rep_ids)
    pinned = pins(accounts, locked, params.named, index)
    keys = unit_keys(accounts, params.unit)
    if params.unit == "account" and params.keep_families and has_families(accounts):
        keys, family_notes = family_keys(accounts, pinned, rep_ids)
        notes += family_notes
    codes, uniques = pd.factorize(keys, sort=True)
    U = len(uniques)
    metrics = params.balance_on
    values = np.column_stack([metric_values(accounts, m) for m in metrics])
    loads = np.zeros((U, len(metrics)))
    np.add.at(loads, codes, values)
    counts = np.bincount(codes, minlength=U).astype(float)

    hire = pd.to_datetime(reps["hire_date"])
    tenure = ((pd.Timestamp(today) - hire).dt.days / 30.44).fillna(120).to_numpy()
    ramp = reps["ramp_months"].astype("Float64").fillna(5).astype(float).to_numpy()
    capacity = MIN_CAPACITY + (1 - MIN_CAPACITY) * np.clip(tenure / np.maximum(ramp, 1), 0, 1)
    totals = loads.sum(axis=0)
    targets = totals[None, :] * (capacity / capacity.sum())[:, None]

    value = np.where(accounts["arr"].to_numpy() > 0, accounts["arr"].to_numpy(), accounts["potential"].to_numpy())
    mean_value = float(value.mean()) if len(value) else 0.0
    per_move = value + params.count_weight * mean_value
    owner = accounts["owner_rep_id"].map(index).fillna(-1).astype(int).to_numpy()
    lat = accounts["lat"].to_numpy(dtype=float)
    lon = accounts["lon"].to_numpy(dtype=float)
    u_lat = pd.Series(lat).groupby(codes).mean().reindex(range(U)).to_numpy()
    u_lon = pd.Series(lon).groupby(codes).mean().reindex(range(U)).to_numpy()
    home_lat = reps["home_lat"].to_numpy(dtype=float)
    home_lon = reps["home_lon"].to_numpy(dtype=float)
    nowhere = []
    for i in range(R):  # no home on record: the middle of the rep's accounts
        if not np.isfinite(home_lat[i]):
            mine = (owner == i) & np.isfinite(lat)
            if mine.any():
                home_lat[i], home_lon[i] = lat[mine].mean(), lon[mine].mean()
            else:
                nowhere.append(i)
    if nowhere:
        notes.append(f"{len(nowhere)} reps have no home location and no accounts: any movable account may go to them.")
    mine = owner >= 0
    pricing = Pricing(
        unit_value=np.bincount(codes, weights=per_move, minlength=U),
        owned=sparse.csr_matrix((per_move[mine], (codes[mine], owner[mine])), shape=(U, R)),  # duplicates sum
        lat=u_lat,
        lon=u_lon,
        home_lat=home_lat,
        home_lon=home_lon,
        travel=params.travel_weight * counts,
        owned_count=sparse.csr_matrix((np.ones(int(mine.sum())), (codes[mine], owner[mine])), shape=(U, R)),
    )
    every_unit = np.arange(U)
    dist = pricing.km(every_unit)  # [U, R]
    unit_costs = pricing.costs(every_unit)  # [U, R] disruption of giving each unit to each rep
    current = np.zeros((R, len(metrics)))
    np.add.at(current, owner[mine], values[mine])
    ratio_now = current / np.maximum(targets, 1e-9)
    room = np.flatnonzero((ratio_now < 1).all(axis=1))  # reps that can take more of everything

    candidates, costs = [], []
    fixed = np.full(U, -1)
    locked_units = np.zeros(U, dtype=bool)
    locked_owner = pd.Series(pinned).groupby(codes).agg(lambda s: sorted(set(s) - {-1}))
    locked_orphans = int((locked & (pinned < 0)).sum())
    if locked_orphans:
        notes.append(
            f"{locked_orphans} locked accounts are owned by no active AE of the group, so they cannot stay; they are reassigned."
        )
    unit_owners = pd.Series(owner).groupby(codes).agg(lambda s: sorted(set(s) - {-1}))
    orphaned = pd.Series(owner < 0).groupby(codes).any().reindex(range(U), fill_value=False).to_numpy()
    has_location = np.isfinite(dist).any(axis=1)
    k = min(params.k_nearest, R)
    # A unit may move unless its owner is short of the band on every metric (giving accounts
    # away could only widen that rep's gap); in-band reps' units may move so balance can travel
    # along chains of neighbouring territories.
    short = (ratio_now < 1 - params.band).all(axis=1)
    movable = np.array(
        [
            orphaned[u] or len(unit_owners.get(u, [])) != 1 or not bool(short[unit_owners.get(u, [])].all())
            for u in range(U)
        ],
        dtype=bool,
    )
    # Reverse neighbours: every rep short of the band is offered the movable units nearest to it,
    # enough to fill twice its deficit, so no rep is cut off from the units it needs.
    offered: dict[int, list[int]] = {}
    movable_idx = np.flatnonzero(movable & has_location)
    unit_size = max(float(loads[:, 0].mean()), 1e-9)
    for r in np.flatnonzero((ratio_now < 1 - params.band).any(axis=1)):
        if not len(movable_idx) or not np.isfinite(dist[movable_idx, r]).any():
            continue
        deficit = float(max((1 - ratio_now[r, 0]) * targets[r, 0], 0.0))
        n_offer = int(min(len(movable_idx), min(500, np.ceil(2 * deficit / unit_size) + 10)))
        near = movable_idx[np.argpartition(dist[movable_idx, r], n_offer - 1)[:n_offer]]
        for u in near:
            offered.setdefault(int(u), []).append(int(r))
    for u in range(U):
        owners = unit_owners.get(u, [])
        # Only units of over-loaded reps, of nobody, or shared by several reps need to move;
        # the rest keep their owner (moving them could only add disruption).
        if not movable[u]:
            cand = np.array(owners, dtype=int)
        else:
            row = np.where(np.isfinite(dist[u]), dist[u], np.inf) if has_location[u] else ratio_now[:, 0]
            nearest = np.argpartition(row, k - 1)[:k] if k < R else np.arange(R)
            extra = room[np.argsort(row[room], kind="stable")[:ROOM_CANDIDATES]] if len(room) else np.array([], int)
            cand = np.array(
                sorted(
                    set(owners) | set(nearest.tolist()) | set(extra.tolist()) | set(offered.get(u, [])) | set(nowhere)
                ),
                dtype=int,
            )
        locks = locked_owner.get(u, [])
        if len(locks) > 1:
            names = ", ".join(rep_ids[r] for r in locks)
            raise InputError(
                f"{params.unit} {uniques[u]} holds accounts locked or named to {len(locks)} reps ({names}); "
                f"a whole-{params.unit} plan cannot keep every one.",
                "Use --unit account, or unlock (or un-name) some of those accounts.",
            )
        if len(locks) == 1:
            fixed[u] = locks[0]
            locked_units[u] = True
            cand = np.union1d(cand, locks).astype(int)  # a named account's rep may be none of its candidates
        candidates.append(cand)
        costs.append(unit_costs[u, cand])
    problem = Problem(
        loads=loads,
        targets=targets,
        band=params.band,
        candidates=candidates,
        costs=costs,
        fixed=fixed,
        counts=counts,
        max_count=np.full(R, float(params.max_accounts)) if params.max_accounts else None,
        max_disruption=None,
        pricing=pricing,
        start=current,
        max_change=None if params.max_change_per_rep is None else float(params.max_change_per_rep),
    )
    if params.max_disruption is not None:
        total_value = float(value.sum())
        problem.max_disruption = (
            params.max_disruption * total_value if params.max_disruption <= 1 else float(params.max_disruption)
        )
    return problem, codes, notes, locked_units
