"""Territory assignment as a sparse mixed-integer program, solved with HiGHS (scipy).

Units (accounts, or whole ZIPs / metros / states) go to reps. Each unit may only go to a few
candidate reps (its current owners and the k nearest eligible reps), so the model has
units x (k + 1) variables instead of units x reps.

    minimise   sum_p cost_p x_p  (+ penalty x normalised band slack)
    subject to sum_{p of unit u} x_p = 1                       every unit has one rep
               lo_rk - s-_rk <= base_rk + sum_p load_uk x_p <= hi_rk + s+_rk   band per rep and metric
               base_count_r + sum_p count_u x_p <= max_count_r (optional)
               sum_p cost_p x_p <= max_disruption (optional)
               x_p in {0, 1}, s >= 0

`cost_p` is the disruption of giving unit u to rep r (the value of its accounts not already
owned by r, plus travel). Band slack is allowed but penalised far above any disruption, so a
plan with zero slack is inside the band; positive slack after the LP relaxation proves the band
cannot be met on the candidate graph. With a disruption cap the objective becomes the
normalised slack itself (least imbalance within the cap).

Solve: the LP relaxation first (its value is the lower bound; if it needs band slack, no plan
can meet the band). Up to FULL_MIP_LIMIT assignment variables the whole MIP is then solved by
HiGHS to within MIP_GAP of its dual bound (which tightens the lower bound). Larger groups fix
every unit the LP assigns integrally and solve the few fractional units exactly as a MIP with
the rest fixed; if that leaves slack, the units of the reps involved are freed and re-solved,
and finally the whole problem is solved as one MIP within the time limit.
Gap = (plan - lower bound) / plan.
Locked units are not variables: their loads are the reps' base loads.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

_SOLVER_LOCK = threading.Lock()


@contextmanager
def _quiet_highs() -> Iterator[None]:
    """HiGHS writes some debugging lines straight to file descriptor 1, whatever its options;
    silence them so they never mix with a command's stdout (its JSON). Solves are serialised
    meanwhile; Python code keeps writing to sys.stdout's buffer, flushed after."""
    with _SOLVER_LOCK:
        sys.stdout.flush()
        saved = os.dup(1)
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, 1)
            yield
        finally:
            os.dup2(saved, 1)
            os.close(saved)
            os.close(devnull)


PENALTY_FACTOR = 2.0
FULL_MIP_LIMIT = 20_000  # assignment variables: up to this, one MIP; above, LP + repair
IPM_ABOVE = 50_000  # interior point (with crossover) beats simplex on the large relaxations
MINIMAX_LP_LIMIT = 100_000  # above this many variables, the tightest band is not searched
MIP_GAP = 0.005  # stop a MIP once within 0.5% of its dual bound
TOL = 1e-6
BAND_TOL = 1e-4  # band violations below 0.01% of a target are solver noise, not infeasibility


@dataclass
class Problem:
    loads: np.ndarray  # [units, metrics]
    targets: np.ndarray  # [reps, metrics]
    band: float
    candidates: list[np.ndarray]  # per unit: candidate rep indices
    costs: list[np.ndarray]  # per unit: disruption cost of each candidate
    fixed: np.ndarray  # [units] rep index for locked units, -1 otherwise
    counts: np.ndarray | None = None  # [units] accounts per unit (for max_count)
    max_count: np.ndarray | None = None  # [reps]
    max_disruption: float | None = None

    @property
    def reps(self) -> int:
        return self.targets.shape[0]

    def bounds(self, band: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        b = self.band if band is None else band
        return self.targets * (1 - b), self.targets * (1 + b)


@dataclass
class Solution:
    assignment: np.ndarray  # [units] rep index
    status: str  # optimal | feasible | infeasible | time_limit
    objective: float  # disruption of the plan
    lower_bound: float
    gap: float | None
    slack: float  # normalised band violation left in the plan (0 = inside the band)
    fractional_units: int
    seconds: float
    notes: list[str] = field(default_factory=list)


@dataclass
class _Model:
    c: np.ndarray
    A: sparse.csr_matrix
    lo: np.ndarray
    hi: np.ndarray
    n_x: int
    pair_unit: np.ndarray
    pair_rep: np.ndarray
    pair_cost: np.ndarray
    cost_scale: float = 1.0  # objective units per unit of pair cost (the MIP's dual bound is in those)


def _pairs(problem: Problem, free: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    units, reps, costs = [], [], []
    for u in np.flatnonzero(free):
        cand, cost = problem.candidates[u], problem.costs[u]
        units.append(np.full(len(cand), u))
        reps.append(cand)
        costs.append(cost)
    if not units:
        return np.array([], int), np.array([], int), np.array([])
    return np.concatenate(units), np.concatenate(reps), np.concatenate(costs).astype(float)


def _build(problem: Problem, free: np.ndarray, base_assignment: np.ndarray, band: float) -> _Model:
    """Model over the `free` units; the others keep `base_assignment` (locked or fixed)."""
    R, K = problem.targets.shape
    pu, pr, pc = _pairs(problem, free)
    n_x = len(pu)
    n_s = 2 * R * K
    lo_t, hi_t = problem.bounds(band)
    base = np.zeros((R, K))
    fixed_units = np.flatnonzero(~free)
    np.add.at(base, base_assignment[fixed_units], problem.loads[fixed_units])
    norm = np.maximum(problem.targets, 1e-9)

    rows, cols, vals = [], [], []
    lo, hi = [], []
    # One rep per free unit.
    free_units = np.flatnonzero(free)
    row_of_unit = {u: i for i, u in enumerate(free_units)}
    rows.append(np.array([row_of_unit[u] for u in pu], dtype=int))
    cols.append(np.arange(n_x))
    vals.append(np.ones(n_x))
    lo += [1.0] * len(free_units)
    hi += [1.0] * len(free_units)
    r0 = len(free_units)
    # Band: base + load x - s+ <= hi ; base + load x + s- >= lo  (slack scaled by the target).
    for k in range(K):
        load_k = problem.loads[pu, k]
        for side, sign in (("hi", -1.0), ("lo", 1.0)):
            r_idx = r0 + pr
            rows.append(r_idx)
            cols.append(np.arange(n_x))
            vals.append(load_k)
            slack_cols = n_x + (0 if side == "hi" else R * K) + np.arange(R) * K + k
            rows.append(r0 + np.arange(R))
            cols.append(slack_cols)
            vals.append(sign * norm[:, k])
            if side == "hi":
                lo += [-np.inf] * R
                hi += list(hi_t[:, k] - base[:, k])
            else:
                lo += list(lo_t[:, k] - base[:, k])
                hi += [np.inf] * R
            r0 += R
    if problem.max_count is not None and problem.counts is not None:
        base_count = np.bincount(base_assignment[fixed_units], weights=problem.counts[fixed_units], minlength=R)
        rows.append(r0 + pr)
        cols.append(np.arange(n_x))
        vals.append(problem.counts[pu])
        lo += [-np.inf] * R
        hi += list(problem.max_count - base_count)
        r0 += R
    if problem.max_disruption is not None:
        rows.append(np.full(n_x, r0))
        cols.append(np.arange(n_x))
        vals.append(pc)
        lo.append(-np.inf)
        hi.append(problem.max_disruption)
        r0 += 1
    A = sparse.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(r0, n_x + n_s))
    if problem.max_disruption is None:
        # Costs scaled to about 1 and a penalty per unit of normalised slack worth more than
        # moving every free unit: any reduction of band violation beats any disruption, and the
        # coefficients stay within a range HiGHS handles accurately.
        positive = pc[pc > 0]
        unit_cost = float(positive.mean()) if len(positive) else 1.0
        c_x = pc / unit_cost
        per_unit_max = np.zeros(len(problem.candidates))
        np.maximum.at(per_unit_max, pu, c_x)
        penalty = max(float(per_unit_max.sum()), 1.0) * PENALTY_FACTOR
        c = np.concatenate([c_x, np.full(n_s, penalty)])
        cost_scale = unit_cost
    else:  # least imbalance within the cap; disruption only breaks ties
        tie = 1e-6 / max(float(pc.sum()), 1.0)
        c = np.concatenate([pc * tie, np.ones(n_s)])
        cost_scale = float("nan")  # the objective is imbalance, not cost
    return _Model(c, A, np.asarray(lo, float), np.asarray(hi, float), n_x, pu, pr, pc, cost_scale)


def _lp(model: _Model, time_limit: float) -> tuple[np.ndarray | None, float]:
    A = model.A
    eq = np.isclose(model.lo, model.hi)
    ub_rows = ~eq
    A_ub = sparse.vstack([A[ub_rows & np.isfinite(model.hi)], -A[ub_rows & np.isfinite(model.lo)]]).tocsr()
    b_ub = np.concatenate([model.hi[ub_rows & np.isfinite(model.hi)], -model.lo[ub_rows & np.isfinite(model.lo)]])
    with _quiet_highs():
        res = linprog(
            model.c,
            A_ub=A_ub,
            b_ub=b_ub,
            A_eq=A[eq],
            b_eq=model.hi[eq],
            bounds=(0, None),
            method="highs-ipm" if model.n_x > IPM_ABOVE else "highs",
            options={"time_limit": max(time_limit, 1.0), "presolve": True},
        )
    if res.x is None:
        return None, np.inf
    x = res.x.copy()
    x[: model.n_x] = np.minimum(x[: model.n_x], 1.0)
    return x, float(res.fun)


def _mip(model: _Model, time_limit: float, *, hard: bool = False) -> tuple[np.ndarray | None, bool, float]:
    """(solution, finished, dual bound) of the model with integral assignment variables; `hard`
    fixes the band's slack at zero (a plan inside the band, or a proof there is none)."""
    n = model.A.shape[1]
    integrality = np.zeros(n)
    integrality[: model.n_x] = 1
    ub = np.full(n, 0.0 if hard else np.inf)
    ub[: model.n_x] = 1
    with _quiet_highs():
        res = milp(
            model.c,
            integrality=integrality,
            bounds=Bounds(np.zeros(n), ub),
            constraints=[LinearConstraint(model.A, model.lo, model.hi)],
            options={"time_limit": max(time_limit, 1.0), "mip_rel_gap": MIP_GAP, "presolve": True},
        )
    bound = float(getattr(res, "mip_dual_bound", np.nan) or np.nan)
    if res.x is None:
        return None, res.status == 2, bound  # finished: proven infeasible (status 2), not out of time
    return res.x, res.status == 0, bound


def _slack(model: _Model, x: np.ndarray) -> float:
    return float(x[model.n_x :].sum())


def _read(model: _Model, x: np.ndarray, assignment: np.ndarray) -> None:
    chosen = x[: model.n_x] > 0.5
    assignment[model.pair_unit[chosen]] = model.pair_rep[chosen]


def solve(problem: Problem, *, time_limit: float = 60.0) -> Solution:
    """Best assignment within the band (or least imbalance within the disruption cap)."""
    start = time.perf_counter()
    notes: list[str] = []
    locked = problem.fixed >= 0
    assignment = np.where(locked, problem.fixed, -1)
    free = ~locked
    if not free.any():
        return _finish(problem, assignment, "optimal", 0.0, 0.0, 0, start, notes)

    def remaining() -> float:
        return max(time_limit - (time.perf_counter() - start), 1.0)

    capped = problem.max_disruption is not None
    full = _build(problem, free, assignment, problem.band)
    # 1. LP relaxation: the lower bound, and a proof of infeasibility when it needs slack.
    x, _ = _lp(full, remaining())
    if x is None:
        plan = np.where(locked, assignment, _first_candidates(problem))
        return _finish(
            problem, plan, "time_limit", np.nan, 0.0, 0, start, ["The LP relaxation did not finish in time."]
        )
    lower_bound = float(full.pair_cost @ x[: full.n_x])
    xs = x[: full.n_x]
    chosen = xs > 1 - TOL
    partial = assignment.copy()
    partial[full.pair_unit[chosen]] = full.pair_rep[chosen]
    fractional = free & (partial < 0)
    infeasible = _slack(full, x) > BAND_TOL and not capped
    if infeasible:
        # No plan meets the band. The model is elastic, so what follows finds the plan closest
        # to it (least normalised violation, then least disruption).
        notes.append("The LP relaxation cannot meet the band: no plan can; showing the plan closest to it.")

    # 2a. Small groups: one MIP, stopped within MIP_GAP of its dual bound.
    if full.n_x <= FULL_MIP_LIMIT:
        mx, finished, dual = _mip(full, remaining())
        if mx is None:
            plan = _round(full, xs, partial, problem)
            if finished:  # the band is elastic, so only the account caps or locks can rule every plan out
                notes.append("No plan of whole accounts meets the account caps with these locks.")
            status = "infeasible" if finished else "time_limit"
            return _finish(problem, plan, status, np.nan, lower_bound, int(fractional.sum()), start, notes)
        plan = assignment.copy()
        _read(full, mx, plan)
        if _plan_slack(problem, plan) > BAND_TOL and not capped and not infeasible:
            # The relaxation meets the band but the elastic MIP stopped within MIP_GAP of its bound
            # with some violation left (a small slack is cheap next to the gap on the disruption).
            # Only the band itself says whether whole accounts can meet it.
            hx, finished, dual = _mip(full, remaining(), hard=True)
            if hx is not None:
                plan = assignment.copy()
                _read(full, hx, plan)
            elif finished:
                notes.append("No plan of whole accounts meets the band (proven by the solver).")
                return _status(problem, plan, lower_bound, capped, True, int(fractional.sum()), start, notes)
            else:
                notes.append("The solver found no plan inside the band in time; showing the closest one.")
                return _status(problem, plan, lower_bound, capped, False, int(fractional.sum()), start, notes)
        if np.isfinite(dual) and not capped and not infeasible:
            lower_bound = max(lower_bound, min(dual * full.cost_scale, _disruption(problem, plan)))
        return _status(problem, plan, lower_bound, capped, finished or infeasible, int(fractional.sum()), start, notes)

    # 2b. Large groups: fix what the LP assigned integrally, solve the fractional units exactly,
    # widen the free set around reps left outside the band, and fall back to one MIP.
    notes.append(f"LP relaxation: {int(fractional.sum())} of {int(free.sum())} units fractional.")
    plan = partial.copy()
    to_free = fractional.copy()
    finished = True
    for attempt in range(4):
        if not to_free.any():
            break
        sub = _build(problem, to_free, np.where(to_free, 0, partial), problem.band)
        sx, finished, _ = _mip(sub, remaining() / 2)
        if sx is not None:
            plan = np.where(to_free, -1, partial)
            _read(sub, sx, plan)
            if _slack(sub, sx) <= BAND_TOL or capped or infeasible:
                break
        lo_t, hi_t = problem.bounds()
        loads = _rep_loads(problem, np.where(plan >= 0, plan, partial))
        bad = np.flatnonzero(((loads > hi_t + 1e-6) | (loads < lo_t - 1e-6)).any(axis=1))
        reach = np.zeros(problem.reps, dtype=bool)
        reach[bad] = True
        for u in np.flatnonzero(free):
            if reach[problem.candidates[u]].any():
                to_free[u] = True
        notes.append(
            f"Round {attempt + 1}: freed {int(to_free.sum())} units around {len(bad)} reps still outside the band."
        )
    if (plan < 0).any() or (
        _plan_slack(problem, np.where(plan >= 0, plan, 0)) > BAND_TOL and not capped and not infeasible
    ):
        fx, finished, _ = _mip(full, remaining())
        if fx is not None:
            plan = assignment.copy()
            _read(full, fx, plan)
            notes.append("Solved as one MIP" + ("" if finished else " (time limit reached)"))
        plan = np.where(plan >= 0, plan, _round(full, xs, partial, problem))
    return _status(problem, plan, lower_bound, capped, finished or infeasible, int(fractional.sum()), start, notes)


def _round(model: _Model, xs: np.ndarray, partial: np.ndarray, problem: Problem) -> np.ndarray:
    """Each unit to its largest LP share (a plan even when the solver did not finish)."""
    plan = partial.copy()
    order = np.argsort(-xs, kind="stable")
    for p in order:
        u = model.pair_unit[p]
        if plan[u] < 0:
            plan[u] = model.pair_rep[p]
    return np.where(plan >= 0, plan, _first_candidates(problem))


def _status(
    problem: Problem,
    plan: np.ndarray,
    lower_bound: float,
    capped: bool,
    finished: bool,
    fractional: int,
    start: float,
    notes: list[str],
) -> Solution:
    objective = _disruption(problem, plan)
    violation = _plan_slack(problem, plan)
    if capped:
        status = "optimal" if violation <= BAND_TOL else "feasible"
    elif violation > BAND_TOL:
        status = "infeasible" if finished else "time_limit"
    else:
        status = "optimal" if objective <= lower_bound * (1 + 1e-4) + 1e-6 else "feasible"
    return _finish(problem, plan, status, objective, lower_bound, fractional, start, notes)


def _first_candidates(problem: Problem) -> np.ndarray:
    return np.array([c[0] for c in problem.candidates])


def _rep_loads(problem: Problem, assignment: np.ndarray) -> np.ndarray:
    loads = np.zeros_like(problem.targets)
    ok = assignment >= 0
    np.add.at(loads, assignment[ok], problem.loads[ok])
    return loads


def _plan_slack(problem: Problem, assignment: np.ndarray) -> float:
    lo_t, hi_t = problem.bounds()
    loads = _rep_loads(problem, assignment)
    norm = np.maximum(problem.targets, 1e-9)
    return float((np.maximum(loads - hi_t, 0) / norm).sum() + (np.maximum(lo_t - loads, 0) / norm).sum())


def _disruption(problem: Problem, assignment: np.ndarray) -> float:
    total = 0.0
    for u, r in enumerate(assignment):
        hit = problem.costs[u][problem.candidates[u] == r]
        total += float(hit[0]) if len(hit) else 0.0
    return total


def _finish(
    problem: Problem,
    assignment: np.ndarray,
    status: str,
    objective: float,
    bound: float,
    fractional: int,
    start: float,
    notes: list[str],
) -> Solution:
    objective = _disruption(problem, assignment) if not np.isfinite(objective) else objective
    gap = None
    if status in ("optimal", "feasible") and problem.max_disruption is None:
        gap = 0.0 if objective <= 1e-9 else max(0.0, (objective - bound) / objective)
    return Solution(
        assignment,
        status,
        objective,
        bound,
        gap,
        _plan_slack(problem, assignment),
        fractional,
        time.perf_counter() - start,
        notes,
    )


def tightest_band(problem: Problem, time_limit: float = 30.0) -> float | None:
    """A band no plan on the candidate graph can beat (a proven lower bound): the minimax MIP's
    optimum (or its dual bound when the time runs out) for small groups, the LP relaxation's
    value for medium ones, None for the largest or when not even the relaxation solves."""
    if sum(len(c) for c, f in zip(problem.candidates, problem.fixed, strict=True) if f < 0) > MINIMAX_LP_LIMIT:
        return None
    model, lp_band = _minimax(problem, time_limit)
    if lp_band is None:
        return None
    if model.n_x <= FULL_MIP_LIMIT:
        x, finished, dual = _mip(model, time_limit)
        if np.isfinite(dual):
            return max(lp_band, dual)
        if x is not None and finished:
            return float(x[-1]) * (1 - MIP_GAP)  # stopped within MIP_GAP of the optimum
    return lp_band


def _minimax(problem: Problem, time_limit: float) -> tuple[_Model, float | None]:
    """Model minimising t with |load - target| <= t x target, and its LP optimum (None when the
    relaxation does not solve in time)."""
    R, K = problem.targets.shape
    free = problem.fixed < 0
    assignment = np.where(free, 0, problem.fixed)
    pu, pr, _ = _pairs(problem, free)
    n_x = len(pu)
    base = np.zeros((R, K))
    np.add.at(base, assignment[~free], problem.loads[~free])
    rows, cols, vals, lo, hi = [], [], [], [], []
    free_units = np.flatnonzero(free)
    row_of = {u: i for i, u in enumerate(free_units)}
    rows.append(np.array([row_of[u] for u in pu], dtype=int))
    cols.append(np.arange(n_x))
    vals.append(np.ones(n_x))
    lo += [1.0] * len(free_units)
    hi += [1.0] * len(free_units)
    r0 = len(free_units)
    t_col = n_x
    for k in range(K):
        for sign in (1.0, -1.0):  # load - T <= t T  and  T - load <= t T
            rows.append(r0 + pr)
            cols.append(np.arange(n_x))
            vals.append(sign * problem.loads[pu, k])
            rows.append(r0 + np.arange(R))
            cols.append(np.full(R, t_col))
            vals.append(-problem.targets[:, k])
            lo += [-np.inf] * R
            hi += list(sign * (problem.targets[:, k] - base[:, k]))
            r0 += R
    A = sparse.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(r0, n_x + 1))
    c = np.zeros(n_x + 1)
    c[-1] = 1.0
    model = _Model(c, A, np.asarray(lo), np.asarray(hi), n_x, pu, pr, np.zeros(n_x))
    x, obj = _lp(model, time_limit)
    return model, float(obj) if x is not None else None
