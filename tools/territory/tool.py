"""The territory tool: rebalance accounts (or whole ZIPs, metros, states) across reps.

Each region and segment (or region, with `allow_cross_segment`) is an independent problem:
units cannot cross it (groups.py builds it, solve.py solves the groups, on all cores when
large). report.py turns the plans into figures, blockers.py says why an impossible band is
impossible, recommend.py advises, save.py stores the plan as a draft scenario.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd

from tools.contract import DataWarning
from tools.core import format as fmt
from tools.core.context import PlanContext
from tools.core.selection import Selection, resolve_filters
from tools.territory import loader, report, save
from tools.territory.blockers import blockers
from tools.territory.groups import Group, Pending, build_problem, locks
from tools.territory.models import FILTER_DIMS, TerritoryInput, TerritoryResult
from tools.territory.recommend import recommendations
from tools.territory.solve import solve_all
from warehouse.connection import Warehouse
from warehouse.errors import InputError
from warehouse.fingerprint import fingerprint
from warehouse.identity import Scope

TABLES = ["accounts", "reps", "opportunities", "stages", "geos", "segments", "meta"]


def run_territory(
    warehouse: Warehouse,
    params: TerritoryInput,
    *,
    scope: Scope | None = None,
    user: str | None = None,
    map_path: str | None = None,
) -> TerritoryResult:
    if params.save_scenario and not warehouse.writable:
        raise RuntimeError("saving a scenario needs a writable warehouse handle")
    started = time.time()  # --time-limit bounds the whole run, reading included
    with warehouse.reader() as cur:
        ctx = PlanContext.read(cur)
        sel = Selection.of(scope or Scope.everything(), resolve_filters(cur, params.filters, allowed=FILTER_DIMS))
        reps = loader.active_reps(cur, sel, ctx.as_of, params.allow_cross_segment)
        seat_ids: list[str] = []
        if params.open_seats:
            open_seats = loader.open_seats(cur, sel, params.allow_cross_segment)
            seat_ids = open_seats["rep_id"].tolist()
            reps = pd.concat([reps, open_seats], ignore_index=True)
        accounts = loader.accounts(cur, sel, ctx.as_of)
        fp = fingerprint(cur, TABLES)
    if accounts.empty:
        raise InputError(f"No accounts in {sel.describe()} for these filters.", "Widen the filters.")
    if reps.empty:
        raise InputError(
            "No active AEs own territories in this selection.",
            "Widen the filters or hire AEs first (spm capacity gap).",
        )
    check_named(params, accounts, reps)
    locked, unknown = locks(accounts, params.lock)
    if unknown:
        raise InputError(
            f"Unknown lock(s): {', '.join(unknown[:5])}.",
            "Lock 'strategic', 'late-stage' or account ids present in this selection.",
        )
    warnings: list[DataWarning] = []
    seats = reps[reps["rep_id"].isin(set(seat_ids))] if params.open_seats else reps.iloc[:0]
    if len(seats):
        starts = ", ".join(
            f"{r.rep_id} ({r.region} {r.segment}, starts {pd.Timestamp(r.hire_date):%Y-%m-%d})"
            for r in seats.itertuples()
        )
        warnings.append(
            DataWarning(
                code="open_seats",
                count=len(seats),
                message=f"Books carved for {len(seats)} open seats: {starts}. A seat counts as a new hire "
                "(half a ramped rep's book); saved as a scenario, the quota tool gives each seat its carved book.",
            )
        )
    pending = _pending(reps, accounts, params, locked, ctx, warnings)
    groups = _solved(pending, params, warnings, started)
    if not groups:
        raise InputError("No region and segment in the selection has both accounts and active AEs.")
    f = report.figures(groups, params, accounts, locked)
    found = blockers(groups, params)
    if found:
        f.metrics["status_reason"] = [b.text() for b in found]
    late = f.moves[f.moves["late_stage_pipeline"] > 0] if len(f.moves) else f.moves
    if len(late):
        warnings.append(
            DataWarning(
                code="late_stage_moves",
                count=len(late),
                message=f"{len(late)} moved accounts carry late-stage deals ({fmt.money(float(late['late_stage_pipeline'].sum()))}): "
                "agree credit splits before moving them.",
            )
        )
    if params.pareto:
        from tools.territory.pareto import frontier

        left = max(params.time_limit - (time.time() - started), 1.0)
        f.tables["pareto"] = frontier(pending, groups, params.pareto, params.band, left)
    recs = recommendations(groups, params, f, found)
    if params.save_scenario:
        f.metrics["saved_scenario"] = save.save(warehouse, params, groups, f.moves, f.metrics, fp, sel.describe(), user)
    summary = report.summary(groups, params, accounts, f)
    if len(seats):
        m0 = params.balance_on[0]
        books = [
            f"{r['rep_id']} {r['accounts_after']} accounts ({fmt.money(r[f'{m0}_after'])} {m0}, "
            f"{fmt.share(r[f'{m0}_ratio_after'])} of target)"
            for r in f.tables["reps"]
            if r["rep_id"] in set(seats["rep_id"])
        ]
        summary += " Open seats' books: " + "; ".join(books) + "."
    result = TerritoryResult(
        summary=summary,
        metrics=f.metrics,
        tables=f.tables,
        recommendations=recs,
        assumptions=report.assumptions(params),
        warnings=warnings,
        data_fingerprint=fp,
    )
    if map_path:
        result.metrics["map"] = str(draw_map(groups, result, map_path, params))
    return result


def check_named(params: TerritoryInput, accounts: pd.DataFrame, reps: pd.DataFrame) -> None:
    """Every named account is in the selection and named for an active AE who may own it."""
    if not params.named:
        return
    account_group = accounts.set_index("account_id")[["region", "segment"]]
    rep_group = reps.set_index("rep_id")[["region", "segment"]]
    missing = [a for a in params.named if a not in account_group.index]
    if missing:
        raise InputError(
            f"Named account(s) not in this selection: {', '.join(missing[:5])}.",
            "Check the account ids, or widen the filters to include them.",
        )
    absent = sorted({r for r in params.named.values() if r not in rep_group.index})
    if absent:
        raise InputError(
            f"Named account(s) given to {', '.join(absent[:5])}, not an active AE in this selection.",
            "Name an active AE of the account's region and segment (spm data summary lists reps).",
        )
    fields = ["region"] if params.allow_cross_segment else ["region", "segment"]
    for account, rep in params.named.items():
        if list(account_group.loc[account, fields]) != list(rep_group.loc[rep, fields]):
            where = " ".join(str(v) for v in account_group.loc[account, fields])
            raise InputError(
                f"Named account {account} is in {where}, but {rep} covers "
                f"{' '.join(str(v) for v in rep_group.loc[rep, fields])}.",
                "Name a rep of the account's own region and segment (or allow cross-segment moves).",
            )


def _pending(
    reps: pd.DataFrame,
    accounts: pd.DataFrame,
    params: TerritoryInput,
    locked: np.ndarray,
    ctx: PlanContext,
    warnings: list[DataWarning],
) -> list[Pending]:
    group_cols = ["region"] if params.allow_cross_segment else ["region", "segment"]
    out = []
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
        problem, unit_of, notes, locked_units = build_problem(group_reps, acc, params, locked[positions], ctx.as_of)
        out.append(Pending(tuple(str(k) for k in key), label, group_reps, acc, unit_of, problem, notes, locked_units))
    return out


def _solved(pending: list[Pending], params: TerritoryInput, warnings: list[DataWarning], started: float) -> list[Group]:
    groups = []
    solved = solve_all([p.problem for p in pending], params.time_limit, started)
    for p, (solution, tight) in zip(pending, solved, strict=True):
        solved_band = params.band
        notes = list(p.notes)
        if solution.status in ("time_limit", "infeasible"):  # the band the plan does meet
            achieved = np.zeros_like(p.problem.targets)
            np.add.at(achieved, solution.assignment, p.problem.loads)
            solved_band = float(np.max(np.abs(achieved / np.maximum(p.problem.targets, 1e-9) - 1)))
        if solution.status == "time_limit":
            notes.append(
                f"The time limit cut the solve: the plan shown is the best found, every rep within +-{solved_band:.1%}; "
                "a longer --time-limit may meet the band."
            )
        elif solution.status == "infeasible":
            bound = "" if tight is None else f" (no plan can do better than +-{tight:.1%})"
            notes.append(
                f"A +-{params.band:.0%} band is impossible here{bound}; the plan shown comes closest to it, "
                f"every rep within +-{solved_band:.1%}."
            )
        groups.append(Group(**vars(p) | {"notes": notes}, solution=solution, solved_band=solved_band, tightest=tight))
        warnings += [DataWarning(code="territory", message=f"{p.label}: {n}") for n in notes]
    return groups


def draw_map(groups: list[Group], result: TerritoryResult, path: str, params: TerritoryInput) -> Path:
    from tools.territory.groups import metric_values
    from tools.territory.map import save_map

    points, reps = [], []
    for g in groups:
        new = g.solution.assignment[g.unit_of]
        rep_ids = g.reps["rep_id"].to_numpy()
        points.append(
            g.accounts[["account_id", "name", "lat", "lon", "region"]].assign(
                before=g.accounts["owner_rep_id"],
                after=rep_ids[new],
                value=metric_values(g.accounts, params.balance_on[0]),
            )
        )
        ratios = pd.DataFrame(report.rep_ratios(g, params).values())[["rep_id", "before", "after"]]
        reps.append(g.reps[["rep_id", "name", "home_lat", "home_lon", "region"]].merge(ratios, on="rep_id"))
    return save_map(
        pd.concat(points, ignore_index=True), pd.concat(reps, ignore_index=True), path, result.summary, params.band
    )
