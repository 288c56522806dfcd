"""Solved groups as the rebalance's figures: per-rep loads before and after, the moves with their
reasons, per-group status, band statistics, disruption, the optimality gap and the summary."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from tools.core import format as fmt
from tools.territory.carving import family_roots
from tools.territory.groups import ROOM_CANDIDATES, Group, metric_values, unit_keys
from tools.territory.models import TerritoryInput
from tools.territory.optimize import BAND_TOL
from tools.territory.pricing import haversine

STATUS_ORDER = ("optimal", "feasible", "time_limit", "infeasible")


@dataclass
class Figures:
    metrics: dict[str, Any]
    tables: dict[str, list[dict[str, Any]]]
    moves: pd.DataFrame


def outside_band(ratio: np.ndarray, band: float) -> np.ndarray:
    """Reps whose load over target is outside the band, at the solver's tolerance (a rep at
    110.001% of a +-10% band is in it: the optimiser cannot tell the difference)."""
    return np.abs(np.asarray(ratio, dtype=float) - 1) > band + BAND_TOL


def band_stats(loads: np.ndarray, targets: np.ndarray, band: float) -> dict[str, float | int]:
    ratio = loads / np.maximum(targets, 1e-9)
    return {
        "cv": round(float(np.std(ratio) / max(np.mean(ratio), 1e-9)), 4),
        "min_ratio": round(float(ratio.min()), 4),
        "max_ratio": round(float(ratio.max()), 4),
        "reps_outside_band": int(outside_band(ratio, band).sum()),
    }


def _owners(g: Group) -> tuple[np.ndarray, np.ndarray]:
    """(current owner, new owner) index of each account of the group (-1: no active AE)."""
    index = {r: i for i, r in enumerate(g.reps["rep_id"])}
    owner = g.accounts["owner_rep_id"].map(index).fillna(-1).astype(int).to_numpy()
    return owner, g.solution.assignment[g.unit_of]


def _loads(g: Group, metrics: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    owner, new = _owners(g)
    values = np.column_stack([metric_values(g.accounts, m) for m in metrics])
    before = np.zeros((len(g.reps), len(metrics)))
    after = np.zeros_like(before)
    np.add.at(before, owner[owner >= 0], values[owner >= 0])
    np.add.at(after, new, values)
    return before, after


def rep_ratios(g: Group, params: TerritoryInput) -> dict[str, dict[str, Any]]:
    """Per rep: name, group and the first metric's load over target before and after."""
    m0 = params.balance_on[0]
    before, after = _loads(g, [m0])
    t = g.problem.targets[:, 0]
    return {
        r.rep_id: {
            "rep_id": r.rep_id,
            "name": r.name,
            "region": r.region,
            "segment": r.segment,
            "before": before[i, 0] / max(t[i], 1e-9),
            "after": after[i, 0] / max(t[i], 1e-9),
        }
        for i, r in enumerate(g.reps.itertuples())
    }


def _rep_rows(g: Group, metrics: Sequence[str]) -> list[dict[str, Any]]:
    before, after = _loads(g, metrics)
    owner, new = _owners(g)
    targets = g.problem.targets
    rows = []
    for i, rep in enumerate(g.reps.itertuples()):
        row: dict[str, Any] = {"rep_id": rep.rep_id, "name": rep.name, "region": rep.region, "segment": rep.segment}
        for k, m in enumerate(metrics):
            row[f"{m}_target"] = round(float(targets[i, k]), 2)
            row[f"{m}_before"] = round(float(before[i, k]), 2)
            row[f"{m}_after"] = round(float(after[i, k]), 2)
            row[f"{m}_ratio_before"] = round(float(before[i, k] / max(targets[i, k], 1e-9)), 4)
            row[f"{m}_ratio_after"] = round(float(after[i, k] / max(targets[i, k], 1e-9)), 4)
        row["accounts_before"] = int((owner == i).sum())
        row["accounts_after"] = int((new == i).sum())
        rows.append(row)
    return rows


def _move_rows(g: Group, params: TerritoryInput) -> list[dict[str, Any]]:
    m0 = params.balance_on[0]
    rep_ids = g.reps["rep_id"].tolist()
    owner, new = _owners(g)
    before, after = _loads(g, [m0])
    t = np.maximum(g.problem.targets[:, 0], 1e-9)
    ratio_b, ratio_a = before[:, 0] / t, after[:, 0] / t
    home_lat, home_lon = g.reps["home_lat"].to_numpy(dtype=float), g.reps["home_lon"].to_numpy(dtype=float)
    units = unit_keys(g.accounts, params.unit)
    roots = family_roots(g.accounts) if params.keep_families else g.accounts["account_id"]
    family_size = roots.map(roots.value_counts()).to_numpy()
    rows = []
    for a in np.flatnonzero(new != owner):
        acc = g.accounts.iloc[a]
        src, dst = owner[a], int(new[a])
        if params.named.get(acc["account_id"]) == rep_ids[dst]:
            reason = f"named account of {rep_ids[dst]}"
        elif src < 0:
            reason = (
                f"owner {acc['owner_rep_id'] or 'none'} is not an active AE here; {rep_ids[dst]} is at "
                f"{ratio_b[dst]:.0%} -> {ratio_a[dst]:.0%} of target {m0}"
            )
        else:
            reason = (
                f"balances {m0}: {rep_ids[src]} {ratio_b[src]:.0%} -> {ratio_a[src]:.0%}, "
                f"{rep_ids[dst]} {ratio_b[dst]:.0%} -> {ratio_a[dst]:.0%} of target"
            )
        if family_size[a] > 1:
            reason += f"; moves with its family ({family_size[a]} accounts under {roots.iloc[a]})"
        distance = haversine(acc["lat"], acc["lon"], home_lat[dst], home_lon[dst])
        if np.isfinite(distance):
            reason += f"; {float(distance):,.0f} km from {rep_ids[dst]}'s home"
        if acc["pipeline"] > 0:
            late = f", {fmt.money(float(acc['late_stage']))} late-stage" if acc["late_stage"] > 0 else ""
            reason += f"; carries {fmt.money(float(acc['pipeline']))} open pipeline{late}"
        rows.append(
            {
                "account_id": acc["account_id"],
                "name": acc["name"],
                "region": acc["region"],
                "segment": acc["segment"],
                "unit": str(units.iloc[a]),
                "from_rep_id": acc["owner_rep_id"],
                "to_rep_id": rep_ids[dst],
                "value": round(float(acc["arr"] if acc["arr"] > 0 else acc["potential"]), 2),
                "arr": round(float(acc["arr"]), 2),
                "potential": round(float(acc["potential"]), 2),
                "pipeline": round(float(acc["pipeline"]), 2),
                "late_stage_pipeline": round(float(acc["late_stage"]), 2),
                "distance_km": None if not np.isfinite(distance) else round(float(distance), 1),
                "reason": reason,
            }
        )
    return rows


def _group_row(g: Group, moves: int) -> dict[str, Any]:
    return {
        "group": " ".join(str(k) for k in g.key),
        "reps": len(g.reps),
        "accounts": len(g.accounts),
        "units": len(g.problem.candidates),
        "status": g.solution.status,
        "band_met": g.solved_band,
        "tightest_band": None if g.tightest is None else round(g.tightest, 4),
        # Whether any plan of the group (fractional even) meets the band: "yes", "no" (proven),
        # "unknown" (time ran out, or a disruption cap asks another question).
        "band_reachable": {True: "yes", False: "no", None: "unknown"}[g.solution.band_reachable],
        "bound_covers": "every plan" if g.solution.full_bound else "candidate graph",
        "disruption": round(g.solution.objective, 2),
        "lower_bound": round(g.solution.lower_bound, 2),
        "optimality_gap": None if g.solution.gap is None else round(g.solution.gap, 4),
        "seconds": round(g.solution.seconds, 2),
        "moves": moves,
    }


def figures(groups: list[Group], params: TerritoryInput, accounts: pd.DataFrame, locked: np.ndarray) -> Figures:
    metrics_names = list(params.balance_on)
    rep_rows, move_rows, group_rows = [], [], []
    loads: dict[str, list[list[np.ndarray]]] = {m: [[], [], []] for m in metrics_names}  # before, after, targets
    for g in groups:
        before, after = _loads(g, metrics_names)
        for k, m in enumerate(metrics_names):
            loads[m][0].append(before[:, k])
            loads[m][1].append(after[:, k])
            loads[m][2].append(g.problem.targets[:, k])
        rep_rows += _rep_rows(g, metrics_names)
        moved = _move_rows(g, params)
        move_rows += moved
        group_rows.append(_group_row(g, len(moved)))
    moves = pd.DataFrame(move_rows)
    value_all = float(np.where(accounts["arr"] > 0, accounts["arr"], accounts["potential"]).sum())
    status = max((g.solution.status for g in groups), key=STATUS_ORDER.index)
    objective = sum(g.solution.objective for g in groups)
    bound = sum(g.solution.lower_bound for g in groups)
    moved_value = float(moves["value"].sum()) if len(moves) else 0.0
    arr_all = float(accounts["arr"].sum())
    metrics: dict[str, Any] = {
        "status": status,
        "band": params.band,
        "unit": params.unit,
        "balance_on": metrics_names,
        "before": {m: band_stats(np.concatenate(v[0]), np.concatenate(v[2]), params.band) for m, v in loads.items()},
        "after": {m: band_stats(np.concatenate(v[1]), np.concatenate(v[2]), params.band) for m, v in loads.items()},
        "disruption": {
            "value": round(moved_value, 2),
            "value_share": round(moved_value / value_all, 4) if value_all else 0.0,
            "accounts": len(moves),
            "arr_share": round(float(moves["arr"].sum()) / arr_all, 4) if len(moves) and arr_all else 0.0,
        },
        "objective": round(objective, 2),
        "lower_bound": round(bound, 2),
        "optimality_gap": None
        if status not in ("optimal", "feasible") or objective <= 0
        else round(max(0.0, (objective - bound) / objective), 4),
        "locked_accounts": int(locked.sum()),
        "groups": len(groups),
    }
    return Figures(metrics, {"moves": move_rows, "reps": rep_rows, "groups": group_rows}, moves)


def summary(groups: list[Group], params: TerritoryInput, accounts: pd.DataFrame, f: Figures) -> str:
    m = f.metrics
    first = params.balance_on[0]
    b, a = m["before"][first], m["after"][first]
    moves = len(f.moves)
    return (
        f"Rebalancing {len(accounts):,} accounts across {sum(len(g.reps) for g in groups)} reps ({len(groups)} groups) "
        f"on {', '.join(params.balance_on)}: {moves:,} move{'s' if moves != 1 else ''} "
        f"({fmt.share(m['disruption']['value_share'])} of value); reps outside +-{params.band:.0%} "
        f"{b['reps_outside_band']} -> {a['reps_outside_band']}, CV {b['cv']:.2f} -> {a['cv']:.2f}; status {m['status']}"
        + (f", optimality gap {m['optimality_gap']:.1%}" if m["optimality_gap"] is not None else "")
        + "."
    )


def assumptions(params: TerritoryInput) -> list[str]:
    return [
        "Targets are each group's totals split by rep capacity (ramping reps count 0.5 + 0.5 x ramp progress).",
        "Disruption = value of accounts changing owner (ARR for customers, potential for prospects)"
        + (f" + {params.count_weight:g} x the average account value per move" if params.count_weight else "")
        + (f" + {params.travel_weight:g} per km from the rep's home" if params.travel_weight else "")
        + ".",
        f"Each {params.unit} starts with its {params.k_nearest} nearest reps and the {ROOM_CANDIDATES} nearest with "
        "room as candidates; any other rep of the group is added when the LP's prices say it could lower the plan "
        "(column generation), so once the solve finishes its lower bound and an 'impossible' verdict hold for every "
        "plan of the group, not only for nearby reps.",
        "Precedence: a named account goes to the rep it is named for, a locked account stays with its owner"
        + (", and a parent/child account family moves as one piece." if params.keep_families else "."),
    ]
