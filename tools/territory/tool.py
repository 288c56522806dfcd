"""The territory tool: rebalance accounts (or whole ZIPs, metros, states) across reps.

Each region and segment (or region, with `allow_cross_segment`) is an independent problem:
units cannot cross it. Every active AE gets a target per balance metric: the group's total
times the rep's capacity share (a ramping rep counts 0.5 + 0.5 x its ramp progress, so new
reps start with smaller books). Disruption is the value of the accounts that change owner
(ARR for customers, potential for prospects), plus an optional count and travel term.
Accounts owned by someone who is not an active AE of the group (departed, a manager, nobody)
must move and are reported as such.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tools.contract import DataWarning, Impact, Recommendation
from tools.filters import resolve_filters
from tools.scope import Scope
from tools.territory import loader
from tools.territory.models import TerritoryInput, TerritoryResult
from tools.territory.optimize import Problem, Solution, solve, tightest_band
from warehouse.connection import Warehouse
from warehouse.errors import InputError
from warehouse.fingerprint import fingerprint
from warehouse.scenarios import Change, save_scenario

STATUS_ORDER = ("optimal", "feasible", "time_limit", "infeasible")
PARALLEL_ABOVE_UNITS = 20_000  # solve groups in worker processes above this many units in all
ROOM_CANDIDATES = 3  # besides the nearest reps, a moving unit may go to the nearest reps with room
EARTH_KM = 6371.0
MIN_CAPACITY = 0.5


@dataclass
class Group:
    key: tuple[str, ...]
    reps: pd.DataFrame
    accounts: pd.DataFrame
    unit_of: np.ndarray  # [accounts] unit index
    problem: Problem
    solution: Solution
    solved_band: float
    tightest: float | None
    notes: list[str]
    locked_units: np.ndarray  # units fixed by a lock (others may be fixed because they need not move)


def _haversine(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    lat1, lon1, lat2, lon2 = (np.radians(np.asarray(v, dtype=float)) for v in (lat1, lon1, lat2, lon2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_KM * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


def _metric_values(accounts: pd.DataFrame, metric: str) -> np.ndarray:
    column = {"potential": "potential", "arr": "arr", "workload": "effort", "pipeline": "pipeline"}[metric]
    return accounts[column].to_numpy(dtype=float)


def _unit_keys(accounts: pd.DataFrame, unit: str) -> pd.Series:
    if unit == "account":
        return accounts["account_id"]
    if unit == "zip":
        return accounts["country"].fillna("?") + ":" + accounts["zip"].fillna("?")
    if unit == "msa":
        return accounts["msa"].fillna("?")
    return accounts["country"].fillna("?") + ":" + accounts["state"].fillna("?")


def _locks(accounts: pd.DataFrame, lock: list[str]) -> tuple[np.ndarray, list[str]]:
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


def _build_group(
    key: tuple[str, ...],
    reps: pd.DataFrame,
    accounts: pd.DataFrame,
    params: TerritoryInput,
    locked: np.ndarray,
    today: date,
) -> tuple[Problem, np.ndarray, list[str]]:
    notes: list[str] = []
    rep_ids = reps["rep_id"].tolist()
    index = {r: i for i, r in enumerate(rep_ids)}
    R = len(rep_ids)
    keys = _unit_keys(accounts, params.unit)
    codes, uniques = pd.factorize(keys, sort=True)
    U = len(uniques)
    metrics = params.balance_on
    values = np.column_stack([_metric_values(accounts, m) for m in metrics])
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
    dist = _haversine(u_lat[:, None], u_lon[:, None], home_lat[None, :], home_lon[None, :])  # [U, R]

    moved_value = np.zeros((U, R))  # value of the unit's accounts not owned by r
    np.add.at(moved_value, codes, per_move[:, None] * (owner[:, None] != np.arange(R)[None, :]))
    current = np.zeros((R, len(metrics)))
    mine = owner >= 0
    np.add.at(current, owner[mine], values[mine])
    ratio_now = current / np.maximum(targets, 1e-9)
    room = np.flatnonzero((ratio_now < 1).all(axis=1))  # reps that can take more of everything

    candidates, costs = [], []
    fixed = np.full(U, -1)
    locked_units = np.zeros(U, dtype=bool)
    locked_owner = (
        pd.Series(np.where(locked & (owner >= 0), owner, -1)).groupby(codes).agg(lambda s: sorted(set(s) - {-1}))
    )
    locked_orphans = int((locked & (owner < 0)).sum())
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
        candidates.append(cand)
        travel = params.travel_weight * np.nan_to_num(dist[u, cand], nan=0.0) * counts[u]
        costs.append(moved_value[u, cand] + travel)
        if len(cand) == 1 and not locked_owner.get(u, []):
            fixed[u] = cand[0]
        locks = locked_owner.get(u, [])
        if len(locks) > 1:
            names = ", ".join(rep_ids[r] for r in locks)
            raise InputError(
                f"{params.unit} {uniques[u]} holds locked accounts of {len(locks)} reps ({names}); "
                f"a whole-{params.unit} plan cannot keep every lock.",
                "Use --unit account, or unlock some of those accounts.",
            )
        if len(locks) == 1:
            fixed[u] = locks[0]
            locked_units[u] = True
    problem = Problem(
        loads=loads,
        targets=targets,
        band=params.band,
        candidates=candidates,
        costs=costs,
        fixed=fixed,
        counts=counts if params.max_accounts else None,
        max_count=np.full(R, float(params.max_accounts)) if params.max_accounts else None,
        max_disruption=None,
    )
    if params.max_disruption is not None:
        total_value = float(value.sum())
        problem.max_disruption = (
            params.max_disruption * total_value if params.max_disruption <= 1 else float(params.max_disruption)
        )
    return problem, codes, notes, locked_units


def run_territory(
    warehouse: Warehouse,
    params: TerritoryInput,
    *,
    scope: Scope | None = None,
    user: str | None = None,
    map_path: str | None = None,
) -> TerritoryResult:
    scope = scope or Scope.everything()
    if params.save_scenario and not warehouse.writable:
        raise RuntimeError("saving a scenario needs a writable warehouse handle")
    with warehouse.reader() as cur:
        meta = dict(cur.execute("SELECT key, value FROM meta").fetchall())
        today = date.fromisoformat(meta["as_of"]) if "as_of" in meta else date.today()
        filters = resolve_filters(cur, params.filters, allowed=("region", "segment"))
        scope.check_filters(filters)
        reps = loader.active_reps(cur, scope, filters, today, params.allow_cross_segment)
        accounts = loader.accounts(cur, scope, filters, today)
        fp = fingerprint(cur, ["accounts", "reps", "opportunities", "stages", "geos", "segments"])
    if accounts.empty:
        raise InputError(f"No accounts in {scope.describe()} for these filters.", "Widen the filters.")
    if reps.empty:
        raise InputError(
            "No active AEs own territories in this selection.",
            "Widen the filters or hire AEs first (spm capacity gap).",
        )
    locked, unknown = _locks(accounts, params.lock)
    if unknown:
        raise InputError(
            f"Unknown lock(s): {', '.join(unknown[:5])}.",
            "Lock 'strategic', 'late-stage' or account ids present in this selection.",
        )
    warnings: list[DataWarning] = []
    group_cols = ["region"] if params.allow_cross_segment else ["region", "segment"]
    pending = []
    for key, acc in accounts.groupby(group_cols, sort=True, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        mask = np.ones(len(reps), dtype=bool)
        for col, value in zip(group_cols, key, strict=True):
            mask &= (reps[col] == value).to_numpy()
        group_reps = reps[mask].reset_index(drop=True)
        positions = acc.index.to_numpy()  # accounts has a RangeIndex: labels are positions
        acc = acc.reset_index(drop=True)
        label = " ".join(str(k) for k in key)
        if group_reps.empty:
            warnings.append(
                DataWarning(
                    code="no_reps",
                    count=len(acc),
                    message=f"{label}: {len(acc)} accounts but no active AE; left as they are.",
                )
            )
            continue
        problem, unit_of, notes, locked_units = _build_group(key, group_reps, acc, params, locked[positions], today)
        pending.append((key, label, group_reps, acc, unit_of, problem, notes, locked_units))
    groups: list[Group] = []
    outcomes = _solve_all([p[5] for p in pending], params.time_limit)
    for (key, label, group_reps, acc, unit_of, problem, notes, locked_units), (solution, tight) in zip(
        pending, outcomes, strict=True
    ):
        solved_band = params.band
        if solution.status == "infeasible":
            achieved = np.zeros_like(problem.targets)
            np.add.at(achieved, solution.assignment, problem.loads)
            solved_band = float(np.max(np.abs(achieved / np.maximum(problem.targets, 1e-9) - 1)))
            bound = "" if tight is None else f" (no plan can do better than +-{tight:.1%})"
            notes.append(
                f"A +-{params.band:.0%} band is impossible here{bound}; the plan shown comes closest to it, "
                f"every rep within +-{solved_band:.1%}."
            )
        groups.append(Group(key, group_reps, acc, unit_of, problem, solution, solved_band, tight, notes, locked_units))
        warnings += [DataWarning(code="territory", message=f"{label}: {n}") for n in notes]
    if not groups:
        raise InputError("No region and segment in the selection has both accounts and active AEs.")
    result = _assemble(groups, params, accounts, locked, fp, warnings, warehouse, user, today)
    if map_path:
        result.metrics["map"] = str(draw_map(groups, result, map_path))
    return result


def _solve_one(problem: Problem, time_limit: float) -> tuple[Solution, float | None]:
    solution = solve(problem, time_limit=time_limit)
    tight = tightest_band(problem, time_limit=min(time_limit, 10)) if solution.status == "infeasible" else None
    return solution, tight


def _solve_all(problems: list[Problem], time_limit: float) -> list[tuple[Solution, float | None]]:
    """Solve the independent groups, on all cores when the work is large enough to pay for it."""
    size = sum(len(p.candidates) for p in problems)
    workers = min(os.cpu_count() or 1, len(problems))
    if workers < 2 or size < PARALLEL_ABOVE_UNITS:
        return [_solve_one(p, time_limit) for p in problems]
    from concurrent.futures import ProcessPoolExecutor

    order = sorted(range(len(problems)), key=lambda i: -len(problems[i].candidates))  # biggest first
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = {i: pool.submit(_solve_one, problems[i], time_limit) for i in order}
        return [futures[i].result() for i in range(len(problems))]


def draw_map(groups: list[Group], result: TerritoryResult, path: str) -> Path:
    from tools.territory.map import save_map

    points = []
    for g in groups:
        new = g.solution.assignment[g.unit_of]
        rep_ids = g.reps["rep_id"].to_numpy()
        points.append(
            g.accounts[["account_id", "name", "lat", "lon"]].assign(
                before=g.accounts["owner_rep_id"], after=rep_ids[new]
            )
        )
    reps = pd.concat([g.reps[["rep_id", "name", "home_lat", "home_lon"]] for g in groups], ignore_index=True)
    return save_map(pd.concat(points, ignore_index=True), reps, path, result.summary)


def _band_stats(loads: np.ndarray, targets: np.ndarray, band: float) -> dict[str, float | int]:
    ratio = loads / np.maximum(targets, 1e-9)
    return {
        "cv": round(float(np.std(ratio) / max(np.mean(ratio), 1e-9)), 4),
        "min_ratio": round(float(ratio.min()), 4),
        "max_ratio": round(float(ratio.max()), 4),
        "reps_outside_band": int(((ratio < 1 - band - 1e-9) | (ratio > 1 + band + 1e-9)).sum()),
    }


def _assemble(
    groups: list[Group],
    params: TerritoryInput,
    accounts: pd.DataFrame,
    locked: np.ndarray,
    fp: str,
    warnings: list[DataWarning],
    warehouse: Warehouse,
    user: str | None,
    today: date,
) -> TerritoryResult:
    metrics_names = params.balance_on
    rep_rows, move_rows, group_rows = [], [], []
    all_before = {m: ([], []) for m in metrics_names}
    all_after = {m: ([], []) for m in metrics_names}
    objective = bound = 0.0
    for g in groups:
        rep_ids = g.reps["rep_id"].tolist()
        index = {r: i for i, r in enumerate(rep_ids)}
        owner = g.accounts["owner_rep_id"].map(index).fillna(-1).astype(int).to_numpy()
        new = g.solution.assignment[g.unit_of]
        values = np.column_stack([_metric_values(g.accounts, m) for m in metrics_names])
        before = np.zeros((len(rep_ids), len(metrics_names)))
        after = np.zeros_like(before)
        np.add.at(before, owner[owner >= 0], values[owner >= 0])
        np.add.at(after, new, values)
        targets = g.problem.targets
        for k, m in enumerate(metrics_names):
            all_before[m][0].append(before[:, k])
            all_before[m][1].append(targets[:, k])
            all_after[m][0].append(after[:, k])
            all_after[m][1].append(targets[:, k])
        for i, rep in enumerate(g.reps.itertuples()):
            row = {"rep_id": rep.rep_id, "name": rep.name, "region": rep.region, "segment": rep.segment}
            for k, m in enumerate(metrics_names):
                row[f"{m}_target"] = round(float(targets[i, k]), 2)
                row[f"{m}_before"] = round(float(before[i, k]), 2)
                row[f"{m}_after"] = round(float(after[i, k]), 2)
                row[f"{m}_ratio_before"] = round(float(before[i, k] / max(targets[i, k], 1e-9)), 4)
                row[f"{m}_ratio_after"] = round(float(after[i, k] / max(targets[i, k], 1e-9)), 4)
            row["accounts_before"] = int((owner == i).sum())
            row["accounts_after"] = int((new == i).sum())
            rep_rows.append(row)
        first = 0
        ratio_b = before[:, first] / np.maximum(targets[:, first], 1e-9)
        ratio_a = after[:, first] / np.maximum(targets[:, first], 1e-9)
        moved = np.flatnonzero(new != owner)
        home_lat, home_lon = g.reps["home_lat"].to_numpy(dtype=float), g.reps["home_lon"].to_numpy(dtype=float)
        for a in moved:
            acc = g.accounts.iloc[a]
            src = owner[a]
            dst = int(new[a])
            value = float(acc["arr"] if acc["arr"] > 0 else acc["potential"])
            if src < 0:
                reason = (
                    f"owner {acc['owner_rep_id'] or 'none'} is not an active AE here; {rep_ids[dst]} is at "
                    f"{ratio_b[dst]:.0%} -> {ratio_a[dst]:.0%} of target {metrics_names[first]}"
                )
            else:
                reason = (
                    f"balances {metrics_names[first]}: {rep_ids[src]} {ratio_b[src]:.0%} -> {ratio_a[src]:.0%}, "
                    f"{rep_ids[dst]} {ratio_b[dst]:.0%} -> {ratio_a[dst]:.0%} of target"
                )
            distance = _haversine(acc["lat"], acc["lon"], home_lat[dst], home_lon[dst])
            move_rows.append(
                {
                    "account_id": acc["account_id"],
                    "name": acc["name"],
                    "region": acc["region"],
                    "segment": acc["segment"],
                    "unit": str(_unit_keys(g.accounts.iloc[[a]], params.unit).iloc[0]),
                    "from_rep_id": acc["owner_rep_id"],
                    "to_rep_id": rep_ids[dst],
                    "value": round(value, 2),
                    "arr": round(float(acc["arr"]), 2),
                    "potential": round(float(acc["potential"]), 2),
                    "pipeline": round(float(acc["pipeline"]), 2),
                    "late_stage_pipeline": round(float(acc["late_stage"]), 2),
                    "distance_km": None if not np.isfinite(distance) else round(float(distance), 1),
                    "reason": reason,
                }
            )
        objective += g.solution.objective
        bound += g.solution.lower_bound
        group_rows.append(
            {
                "group": " ".join(str(k) for k in g.key),
                "reps": len(rep_ids),
                "accounts": len(g.accounts),
                "units": len(g.problem.candidates),
                "status": g.solution.status,
                "band_met": g.solved_band,
                "tightest_band": None if g.tightest is None else round(g.tightest, 4),
                "disruption": round(g.solution.objective, 2),
                "lower_bound": round(g.solution.lower_bound, 2),
                "optimality_gap": None if g.solution.gap is None else round(g.solution.gap, 4),
                "seconds": round(g.solution.seconds, 2),
                "moves": len(moved),
            }
        )
    value_all = np.where(accounts["arr"] > 0, accounts["arr"], accounts["potential"]).sum()
    moves = pd.DataFrame(move_rows)
    statuses = [g.solution.status for g in groups]
    status = max(statuses, key=STATUS_ORDER.index)
    metrics: dict[str, Any] = {
        "status": status,
        "band": params.band,
        "unit": params.unit,
        "balance_on": metrics_names,
        "before": {
            m: _band_stats(np.concatenate(all_before[m][0]), np.concatenate(all_before[m][1]), params.band)
            for m in metrics_names
        },
        "after": {
            m: _band_stats(np.concatenate(all_after[m][0]), np.concatenate(all_after[m][1]), params.band)
            for m in metrics_names
        },
        "disruption": {
            "value": round(float(moves["value"].sum()) if len(moves) else 0.0, 2),
            "value_share": round(float(moves["value"].sum() / value_all) if len(moves) and value_all else 0.0, 4),
            "accounts": len(moves),
            "arr_share": round(
                float(moves["arr"].sum() / accounts["arr"].sum()) if len(moves) and accounts["arr"].sum() else 0.0, 4
            ),
        },
        "objective": round(objective, 2),
        "lower_bound": round(bound, 2),
        "optimality_gap": None
        if status not in ("optimal", "feasible") or objective <= 0
        else round(max(0.0, (objective - bound) / objective), 4),
        "locked_accounts": int(locked.sum()),
        "groups": len(groups),
    }
    if status == "infeasible":
        metrics["status_reason"] = _infeasibility_reasons(groups, params)
    late = moves[moves["late_stage_pipeline"] > 0] if len(moves) else moves
    if len(late):
        warnings.append(
            DataWarning(
                code="late_stage_moves",
                count=len(late),
                message=f"{len(late)} moved accounts carry late-stage deals (${late['late_stage_pipeline'].sum():,.0f}): "
                "agree credit splits before moving them.",
            )
        )
    tables = {"moves": move_rows, "reps": rep_rows, "groups": group_rows}
    recs = _recommendations(groups, params, moves, metrics)
    if params.save_scenario:
        metrics["saved_scenario"] = _save(warehouse, params, groups, moves, metrics, fp, user)
    b, a = metrics["before"][metrics_names[0]], metrics["after"][metrics_names[0]]
    summary = (
        f"Rebalancing {len(accounts):,} accounts across {sum(len(g.reps) for g in groups)} reps ({len(groups)} groups) on "
        f"{', '.join(metrics_names)}: {len(moves):,} moves ({metrics['disruption']['value_share']:.1%} of value); "
        f"reps outside +-{params.band:.0%} "
        f"{b['reps_outside_band']} -> {a['reps_outside_band']}, CV {b['cv']:.2f} -> {a['cv']:.2f}; status {status}"
        + (f", optimality gap {metrics['optimality_gap']:.1%}" if metrics["optimality_gap"] is not None else "")
        + "."
    )
    assumptions = [
        "Targets are each group's totals split by rep capacity (ramping reps count 0.5 + 0.5 x ramp progress).",
        "Disruption = value of accounts changing owner (ARR for customers, potential for prospects)"
        + (f" + {params.count_weight:g} x the average account value per move" if params.count_weight else "")
        + (f" + {params.travel_weight:g} per km from the rep's home" if params.travel_weight else "")
        + ".",
        f"A {params.unit} of a rep above the band (or of no active rep) may go to one of its {params.k_nearest} nearest "
        f"reps or the {ROOM_CANDIDATES} nearest reps with room; the others keep their owner. The lower bound holds on "
        "that candidate set.",
    ]
    return TerritoryResult(
        summary=summary,
        metrics=metrics,
        tables=tables,
        recommendations=recs,
        assumptions=assumptions,
        warnings=warnings,
        data_fingerprint=fp,
    )


def _infeasibility_reasons(groups: list[Group], params: TerritoryInput) -> list[str]:
    reasons = []
    for g in groups:
        if g.solution.status != "infeasible":
            continue
        label = " ".join(str(k) for k in g.key)
        bound = "" if g.tightest is None else f"; no plan can do better than +-{g.tightest:.1%}"
        reasons.append(
            f"{label}: +-{params.band:.0%} cannot be met; the closest plan keeps every rep within +-{g.solved_band:.1%}{bound}."
        )
        p = g.problem
        _, hi = p.bounds()
        for k, m in enumerate(params.balance_on):
            big = np.flatnonzero(p.loads[:, k] > 2 * params.band * p.targets[:, k].mean())
            for u in big[np.argsort(-p.loads[big, k])][:3]:
                reasons.append(
                    f"{label}: one {params.unit} holds {p.loads[u, k] / p.targets[:, k].mean():.0%} "
                    f"of an average rep's {m}, wider than the band."
                )
            base = np.zeros(p.reps)
            fixed = g.locked_units
            np.add.at(base, p.fixed[fixed], p.loads[fixed, k])
            for r in np.flatnonzero(base > hi[:, k]):
                reasons.append(
                    f"{label}: locked accounts alone give {g.reps['rep_id'].iloc[r]} {base[r] / p.targets[r, k]:.0%} of its {m} target."
                )
        if p.max_count is not None and p.counts is not None and p.counts.sum() > p.max_count.sum():
            reasons.append(
                f"{label}: {int(p.counts.sum())} accounts but only room for {int(p.max_count.sum())} at --max-accounts."
            )
    return reasons


def _money(v: float) -> str:
    return f"${v / 1e6:,.1f}M" if abs(v) >= 1e6 else f"${v / 1e3:,.0f}K"


def _recommendations(
    groups: list[Group], params: TerritoryInput, moves: pd.DataFrame, metrics: dict[str, Any]
) -> list[Recommendation]:
    recs: list[Recommendation] = []
    m0 = params.balance_on[0]
    b, a = metrics["before"][m0], metrics["after"][m0]
    if len(moves):
        recs.append(
            Recommendation(
                action=f"Apply the plan: {len(moves):,} account moves, {metrics['disruption']['value_share']:.1%} of value "
                f"({metrics['disruption']['arr_share']:.1%} of ARR).",
                rationale=f"Reps outside +-{params.band:.0%} of their {m0} target go from {b['reps_outside_band']} "
                f"to {a['reps_outside_band']}; the spread (CV) from {b['cv']:.2f} to {a['cv']:.2f}; the plan is within "
                f"{metrics['optimality_gap'] or 0:.1%} of the least disruption possible.",
                impact=Impact(
                    metric=f"reps outside the {m0} band",
                    before=float(b["reps_outside_band"]),
                    after=float(a["reps_outside_band"]),
                    unit="count",
                ),
                confidence=0.8 if metrics["status"] in ("optimal", "feasible") else 0.5,
            )
        )
        rows = {r["rep_id"]: r for g in groups for r in _rows_of(g, params)}
        pairs = (
            moves[moves["from_rep_id"].isin(rows)]
            .groupby(["from_rep_id", "to_rep_id"])
            .agg(
                n=("account_id", "size"),
                value=("value", "sum"),
                potential=("potential", "sum"),
                arr=("arr", "sum"),
                late=("late_stage_pipeline", "sum"),
            )
            .reset_index()
            .sort_values("value", ascending=False)
        )
        for p in pairs.head(5).itertuples():
            src, dst = rows[p.from_rep_id], rows[p.to_rep_id]
            recs.append(
                Recommendation(
                    action=f"Move {p.n} accounts from {src['name']} ({p.from_rep_id}) to {dst['name']} ({p.to_rep_id}): "
                    f"{_money(p.potential)} potential, {_money(p.arr)} ARR.",
                    rationale=f"{p.from_rep_id} goes from {src[f'{m0}_ratio_before']:.0%} to "
                    f"{src[f'{m0}_ratio_after']:.0%} of target {m0}, "
                    f"{p.to_rep_id} from {dst[f'{m0}_ratio_before']:.0%} to {dst[f'{m0}_ratio_after']:.0%}"
                    + (
                        f"; {_money(p.late)} of late-stage pipeline moves with them: agree credit splits"
                        if p.late > 0
                        else ""
                    )
                    + ".",
                    impact=Impact(
                        metric=f"{p.from_rep_id} {m0} vs target",
                        before=src[f"{m0}_ratio_before"] * 100,
                        after=src[f"{m0}_ratio_after"] * 100,
                        unit="%",
                    ),
                    confidence=0.75,
                    group={"region": src["region"], "segment": src["segment"]},
                )
            )
    for reason in metrics.get("status_reason", []):
        if "holds" in reason or "locked" in reason or "room for" in reason:
            recs.append(
                Recommendation(
                    action=reason.split(": ", 1)[1][0].upper() + reason.split(": ", 1)[1][1:],
                    rationale=f"This blocks a +-{params.band:.0%} band in {reason.split(':')[0]}; "
                    "the tightest achievable band is reported in metrics.",
                    impact=Impact(metric="band", before=params.band * 100, after=None, unit="%"),
                    confidence=0.9,
                )
            )
    for g in groups:
        p = g.problem
        if p.max_count is not None and p.counts is not None and p.counts.sum() > p.max_count.sum():
            need = int(np.ceil((p.counts.sum() - p.max_count.sum()) / max(p.max_count[0], 1)))
            recs.append(
                Recommendation(
                    action=f"Hire {need} more AE(s) in {' '.join(str(k) for k in g.key)}: the accounts exceed what current reps may own.",
                    rationale=f"{int(p.counts.sum())} accounts against {int(p.max_count.sum())} slots at "
                    f"--max-accounts {params.max_accounts}; see spm capacity gap.",
                    impact=Impact(metric="AEs", before=float(p.reps), after=float(p.reps + need), unit="count"),
                    confidence=0.7,
                )
            )
    return recs


def _rows_of(g: Group, params: TerritoryInput) -> list[dict[str, Any]]:
    rep_ids = g.reps["rep_id"].tolist()
    index = {r: i for i, r in enumerate(rep_ids)}
    owner = g.accounts["owner_rep_id"].map(index).fillna(-1).astype(int).to_numpy()
    new = g.solution.assignment[g.unit_of]
    m0 = params.balance_on[0]
    values = _metric_values(g.accounts, m0)
    before = np.bincount(owner[owner >= 0], weights=values[owner >= 0], minlength=len(rep_ids))
    after = np.bincount(new, weights=values, minlength=len(rep_ids))
    t = g.problem.targets[:, 0]
    return [
        {
            "rep_id": r.rep_id,
            "name": r.name,
            "region": r.region,
            "segment": r.segment,
            f"{m0}_ratio_before": before[i] / max(t[i], 1e-9),
            f"{m0}_ratio_after": after[i] / max(t[i], 1e-9),
        }
        for i, r in enumerate(g.reps.itertuples())
    ]


def _save(
    warehouse: Warehouse,
    params: TerritoryInput,
    groups: list[Group],
    moves: pd.DataFrame,
    metrics: dict[str, Any],
    fp: str,
    user: str | None,
) -> dict[str, Any]:
    territory_of = {r.rep_id: r.territory_id for g in groups for r in g.reps.itertuples()}
    current_territory = {a.account_id: a.territory_id for g in groups for a in g.accounts.itertuples()}
    changes: list[Change] = []
    for m in moves.itertuples():
        changes.append(Change("accounts", (("account_id", m.account_id),), "owner_rep_id", m.from_rep_id, m.to_rep_id))
        new_territory = territory_of.get(m.to_rep_id)
        if new_territory and new_territory != current_territory.get(m.account_id):
            changes.append(
                Change(
                    "accounts",
                    (("account_id", m.account_id),),
                    "territory_id",
                    current_territory.get(m.account_id),
                    new_territory,
                )
            )
    with warehouse.writer() as cur:
        saved = save_scenario(
            cur,
            name=params.save_scenario or "",
            kind="territory",
            changes=changes,
            created_by=user,
            params=params.model_dump(mode="json"),
            summary=f"{len(moves)} account moves",
            metrics={k: metrics[k] for k in ("status", "disruption", "optimality_gap", "before", "after")},
            base_fingerprint=fp,
        )
    return {"scenario_id": saved.scenario_id, "name": saved.name, "changes": saved.changes}
