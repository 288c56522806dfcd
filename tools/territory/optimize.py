"""Territory assignment as a sparse mixed-integer program, solved with HiGHS.

Units (accounts, or whole ZIPs / metros / states) go to reps. The model only carries a few
candidate reps per unit (its owners, the nearest reps, reps with room), so it has units x
(k + 1) variables instead of units x reps; column generation (pricing.py) adds the pairs the
LP's duals say could lower it, until none is left, so the relaxation is the full problem's.

    minimise   sum_p cost_p x_p  (+ penalty x normalised band slack)
    subject to sum_{p of unit u} x_p = 1                       every unit has one rep
               lo_rk - s-_rk <= base_rk + sum_p load_uk x_p <= hi_rk + s+_rk   band per rep and metric
               base_count_r + sum_p count_u x_p <= max_count_r (optional)
               accounts gained + lost by rep r <= max_change (optional)
               sum_p cost_p x_p <= max_disruption (optional)
               s+_rk = 0 for a rep under the band, s-_rk = 0 for one over it (no rep crosses it)
               x_p in {0, 1}, s >= 0

`cost_p` is the disruption of giving unit u to rep r (the value of its accounts not already
owned by r, plus travel). Band slack is allowed but penalised far above any disruption, so a
plan with zero slack is inside the band. With a disruption cap the objective becomes the
normalised slack itself (least imbalance within the cap).

Solve: the LP relaxation first, grown by column generation in one HiGHS instance that re-solves
from its last basis; its value is the lower bound on every plan of the group (at worst, when
time cuts the search short, its Lagrangian bound). If even the full LP needs band slack (a
least-violation LP confirms it), no plan can meet the band. Groups small enough for one MIP
over every pair get every pair and one MIP, stopped within MIP_GAP of its dual bound. Larger
groups solve a MIP over the LP's support (each unit: the reps the LP uses it for, or its
owner), then repair the few reps it leaves outside the band with a wider, hard-band MIP, and
fall back to freeing units around them and finally to one MIP within the time limit.
Gap = (plan - lower bound) / plan. Locked units are not variables: their loads are the reps'
base loads.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

import highspy
import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from tools.territory.pricing import Duals, Pricing, negative_pairs

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
MINIMAX_LP_LIMIT = 100_000  # above this many variables, the tightest band is not searched
IPM_ABOVE = 150_000  # first LPs above this many pairs: interior point (21 s vs 34 s on 200k pairs)
MIP_GAP = 0.005  # stop a MIP once within 0.5% of its dual bound
TOL = 1e-6
CG_ROUNDS = 40  # column generation rounds at most
WIDEN_OFFERS = 300  # units offered to each rep left short of the band, cheapest per unit of load first
WIDEN_ROUNDS = 3  # repairs of the LP-support plan around reps left outside the band
CG_PER_UNIT = 3  # pairs added per unit and round, the most negative reduced costs first
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
    pricing: Pricing | None = None  # every pair's cost: the candidate graph may grow (column generation)
    start: np.ndarray | None = None  # [reps, metrics] loads before the plan: no rep may cross the band
    max_change: float | None = None  # accounts a rep may gain or lose (needs pricing's owned counts)

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
    full_bound: bool = False  # lower_bound holds for the full problem (every unit to any rep), not only the graph
    solved: Problem | None = None  # the problem with the candidates column generation added
    band_reachable: bool | None = None  # the LP relaxation meets the band (False: proven it cannot; None: unknown)


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
    x_scale: float = 0.0  # objective coefficient of a pair per unit of its cost
    penalty: float = 1.0  # objective coefficient of a unit of normalised band slack
    free_units: np.ndarray = field(default_factory=lambda: np.array([], int))  # the assignment rows' units
    band_rows: np.ndarray = field(default_factory=lambda: np.zeros((0, 0, 0), int))  # [sides, R, K] row index
    band_signs: tuple[float, ...] = ()  # the pair's load enters each side's row with this sign
    count_rows: np.ndarray | None = None  # [R]
    change_rows: np.ndarray | None = None  # [R]
    disruption_row: int = -1
    ub: np.ndarray | None = None  # column upper bounds (None: unbounded)


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


def _build(
    problem: Problem,
    free: np.ndarray,
    base_assignment: np.ndarray,
    band: float,
    *,
    balance: bool | None = None,
    scale: tuple[float, float] | None = None,
) -> _Model:
    """Model over the `free` units; the others keep `base_assignment` (locked or fixed).
    `balance` minimises the band's violation (disruption only breaks ties), as under a
    disruption cap; otherwise disruption is minimised with the violation penalised. `scale`
    (a pair's objective per unit of cost, the slack's) keeps an earlier model's objective, so
    columns built later fit it."""
    balance = problem.max_disruption is not None if balance is None else balance
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
    row_of_unit = np.full(len(free), -1)
    row_of_unit[free_units] = np.arange(len(free_units))
    rows.append(row_of_unit[pu])
    cols.append(np.arange(n_x))
    vals.append(np.ones(n_x))
    lo += [1.0] * len(free_units)
    hi += [1.0] * len(free_units)
    r0 = len(free_units)
    band_rows = np.zeros((2, R, K), dtype=int)
    # Band: base + load x - s+ <= hi ; base + load x + s- >= lo  (slack scaled by the target).
    for k in range(K):
        load_k = problem.loads[pu, k]
        for side_i, (side, sign) in enumerate((("hi", -1.0), ("lo", 1.0))):
            band_rows[side_i, :, k] = r0 + np.arange(R)
            rows.append(r0 + pr)
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
    count_rows = None
    if problem.max_count is not None and problem.counts is not None:
        base_count = np.bincount(base_assignment[fixed_units], weights=problem.counts[fixed_units], minlength=R)
        count_rows = r0 + np.arange(R)
        rows.append(r0 + pr)
        cols.append(np.arange(n_x))
        vals.append(problem.counts[pu])
        lo += [-np.inf] * R
        hi += list(problem.max_count - base_count)
        r0 += R
    change_rows = None
    if problem.max_change is not None:
        assert problem.pricing is not None and problem.counts is not None, "a change cap needs owned counts"
        own = problem.pricing.owned_count
        f_units = fixed_units
        f_reps = base_assignment[f_units]
        const = np.asarray(own.sum(axis=0)).ravel() + np.bincount(
            f_reps,
            weights=problem.counts[f_units] - 2 * np.asarray(own[f_units, f_reps]).ravel(),
            minlength=R,
        )
        change_rows = r0 + np.arange(R)
        rows.append(r0 + pr)
        cols.append(np.arange(n_x))
        vals.append(problem.counts[pu] - 2 * np.asarray(own[pu, pr]).ravel())
        lo += [-np.inf] * R
        hi += list(problem.max_change - const)
        r0 += R
    disruption_row = -1
    if problem.max_disruption is not None:
        disruption_row = r0
        rows.append(np.full(n_x, r0))
        cols.append(np.arange(n_x))
        vals.append(pc)
        lo.append(-np.inf)
        hi.append(problem.max_disruption)
        r0 += 1
    A = sparse.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(r0, n_x + n_s))
    ub = np.full(n_x + n_s, np.inf)
    if problem.start is not None:
        # Guard rail: a rep short of the band may not end past its top, nor one over it below its
        # bottom (trading one imbalance for the opposite one is not a fix).
        ub[n_x : n_x + R * K][(problem.start < lo_t).ravel()] = 0.0
        ub[n_x + R * K :][(problem.start > hi_t).ravel()] = 0.0
    if not balance:
        # Costs scaled to about 1 and a penalty per unit of normalised slack worth more than
        # moving every free unit: any reduction of band violation beats any disruption, and the
        # coefficients stay within a range HiGHS handles accurately.
        if scale is None:
            positive = pc[pc > 0]
            x_scale = 1.0 / (float(positive.mean()) if len(positive) else 1.0)
            per_unit_max = np.zeros(len(problem.candidates))
            np.maximum.at(per_unit_max, pu, pc * x_scale)
            penalty = max(float(per_unit_max.sum()), 1.0) * PENALTY_FACTOR
        else:
            x_scale, penalty = scale
        c = np.concatenate([pc * x_scale, np.full(n_s, penalty)])
        cost_scale = 1.0 / x_scale
    else:  # least imbalance; disruption only breaks ties
        x_scale, penalty = scale if scale is not None else (1e-6 / max(float(pc.sum()), 1.0), 1.0)
        c = np.concatenate([pc * x_scale, np.full(n_s, penalty)])
        cost_scale = float("nan")  # the objective is imbalance, not cost
    return _Model(
        c,
        A,
        np.asarray(lo, float),
        np.asarray(hi, float),
        n_x,
        pu,
        pr,
        pc,
        cost_scale,
        x_scale=x_scale,
        penalty=penalty,
        free_units=free_units,
        band_rows=band_rows,
        band_signs=(1.0, 1.0),
        count_rows=count_rows,
        change_rows=change_rows,
        disruption_row=disruption_row,
        ub=ub,
    )


class _WarmLP:
    """The LP relaxation in HiGHS, kept alive so columns added later re-solve from the last
    basis (a few simplex iterations) instead of from scratch."""

    def __init__(self, model: _Model) -> None:
        with _quiet_highs():
            self.highs = highspy.Highs()
        self.highs.setOptionValue("output_flag", False)
        self.highs.setOptionValue("presolve", "off")  # presolve would drop the basis between rounds
        if model.n_x > IPM_ABOVE:  # interior point (with crossover: a basis to warm-start from)
            self.highs.setOptionValue("solver", "ipm")
        A = model.A.tocsc()
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = A.shape[1], A.shape[0]
        lp.col_cost_ = model.c.astype(float)
        lp.col_lower_ = np.zeros(A.shape[1])
        lp.col_upper_ = _inf(np.full(A.shape[1], np.inf) if model.ub is None else model.ub)
        lp.row_lower_, lp.row_upper_ = _inf(model.lo), _inf(model.hi)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = A.indptr, A.indices, A.data
        with _quiet_highs():
            self.highs.passModel(lp)

    def solve(self, time_limit: float) -> tuple[np.ndarray, np.ndarray, float] | None:
        """(column values, row duals, objective), None unless solved to optimality in time."""
        self.highs.setOptionValue("time_limit", max(time_limit, 1.0))
        with _quiet_highs():
            self.highs.run()
        # Warm starts from here on: added columns leave the basis primal feasible, so the
        # primal simplex picks up where the last solve stopped.
        self.highs.setOptionValue("solver", "simplex")
        self.highs.setOptionValue("simplex_strategy", 4)
        if self.highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        solution = self.highs.getSolution()
        return (
            np.asarray(solution.col_value),
            np.asarray(solution.row_dual),
            float(self.highs.getInfo().objective_function_value),
        )

    def add(self, cost: np.ndarray, columns: sparse.csc_matrix, upper: np.ndarray) -> None:
        """Append columns (their objective, entries and upper bounds; lower bounds are 0)."""
        columns = columns.tocsc()
        self.highs.addCols(
            columns.shape[1],
            cost.astype(float),
            np.zeros(columns.shape[1]),
            _inf(upper),
            columns.nnz,
            columns.indptr[:-1].astype(np.int32),
            columns.indices.astype(np.int32),
            columns.data.astype(float),
        )


def _inf(values: np.ndarray) -> np.ndarray:
    """NumPy infinities as HiGHS's."""
    return np.clip(np.asarray(values, dtype=float), -highspy.kHighsInf, highspy.kHighsInf)


def _duals(model: _Model, d: np.ndarray) -> Duals:
    """Row duals by role (the model's band sides enter with their signs)."""
    band = sum(sign * d[model.band_rows[i]] for i, sign in enumerate(model.band_signs))
    return Duals(
        assign=d[np.arange(len(model.free_units))],
        band=np.asarray(band, float),
        count=None if model.count_rows is None else d[model.count_rows],
        change=None if model.change_rows is None else d[model.change_rows],
        disruption=float(d[model.disruption_row]) if model.disruption_row >= 0 else 0.0,
    )


def _mip(model: _Model, time_limit: float, *, hard: bool = False) -> tuple[np.ndarray | None, bool, float]:
    """(solution, finished, dual bound) of the model with integral assignment variables; `hard`
    fixes the band's slack at zero (a plan inside the band, or a proof there is none)."""
    n = model.A.shape[1]
    integrality = np.zeros(n)
    integrality[: model.n_x] = 1
    ub = np.full(n, np.inf) if model.ub is None else model.ub.copy()
    if hard:
        ub[model.n_x :] = 0.0
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
    """Best assignment within the band (or least imbalance within the disruption cap). With
    pricing, the candidate graph grows until its LP is the full problem's (or time runs out),
    and the lower bound holds for every plan of the group, not only those on the graph."""
    priced = problem.pricing is not None
    if priced:  # the candidate lists grow: work on copies
        problem = replace(problem, candidates=list(problem.candidates), costs=list(problem.costs))
    facts: dict[str, bool | None] = {}
    solution = _solve(problem, time_limit, facts)
    solution.band_reachable = facts.get("reachable")
    capped = problem.max_disruption is not None
    if solution.status == "infeasible" and priced and solution.band_reachable is None and not capped:
        solution.status = "time_limit"  # outside the band, but time ran out before any proof it must be
    solution.full_bound = priced
    solution.solved = problem
    return solution


def _solve(problem: Problem, time_limit: float, facts: dict[str, bool | None]) -> Solution:
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
    priced = problem.pricing is not None
    # A group small enough for one MIP over every pair gets every pair: its bound is then the
    # full problem's, exactly as the MIP proves it.
    complete = priced and int(free.sum()) * problem.reps <= FULL_MIP_LIMIT
    if complete:
        _complete(problem, free)
    # 1. LP relaxation (grown to the full problem's when priced): the lower bound, and a proof
    # of infeasibility when it needs slack.
    columns = _Columns(problem, lambda p, sc: _build(p, free, assignment, p.band, scale=sc))
    full, x, _, bound, converged = columns.run(remaining)
    if x is None:
        plan = np.where(locked, assignment, _first_candidates(problem))
        return _finish(
            problem, plan, "time_limit", np.nan, 0.0, 0, start, ["The LP relaxation did not finish in time."]
        )
    lower_bound = float(full.pair_cost @ x[: full.n_x])
    if priced and not converged and not capped:
        lower_bound = min(lower_bound, max(bound * full.cost_scale, 0.0))
        notes.append(
            "The time limit stopped the candidate search before the full problem's LP; "
            "the lower bound is its Lagrangian bound."
        )
    xs = x[: full.n_x]
    chosen = xs > 1 - TOL
    partial = assignment.copy()
    partial[full.pair_unit[chosen]] = full.pair_rep[chosen]
    fractional = free & (partial < 0)
    infeasible = _slack(full, x) > BAND_TOL and not capped
    facts["reachable"] = None if capped else not infeasible
    if infeasible:
        # No plan meets the band. The model is elastic, so what follows finds the plan closest
        # to it (least normalised violation, then least disruption).
        reachable = facts["reachable"] = _reachable(columns, free, assignment, remaining)
        if reachable is None:
            notes.append("The time limit came before a proof that the band is out of reach; showing the closest plan.")
        elif reachable:
            infeasible = False  # the least-violation LP meets the band: the MIPs below look for a plan in it
        else:
            notes.append(IMPOSSIBLE[priced])

    # 2a. Small groups: one MIP, stopped within MIP_GAP of its dual bound.
    if full.n_x <= FULL_MIP_LIMIT and (complete or not priced):  # grown graphs: the support MIP below
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
        if (
            np.isfinite(dual) and not capped and not infeasible and (complete or not priced)
        ):  # a graph MIP bounds its graph only
            lower_bound = max(lower_bound, min(dual * full.cost_scale, _disruption(problem, plan)))
        return _status(problem, plan, lower_bound, capped, finished or infeasible, int(fractional.sum()), start, notes)

    # 2b. Large groups: fix what the LP assigned integrally, solve the fractional units exactly,
    # widen the free set around reps left outside the band, and fall back to one MIP.
    notes.append(f"LP relaxation: {int(fractional.sum())} of {int(free.sum())} units fractional.")
    # Every unit limited to the reps the LP uses it for and its cheapest rep (its owner): a MIP
    # that presolve shrinks to the fractional units and their neighbours, which mostly closes
    # the gap to the bound at once.
    support = _support(problem, full, xs)
    sub = _build(support, free, assignment, problem.band)
    sx, finished, _ = _mip(sub, remaining() / 2)
    if sx is not None:
        plan = assignment.copy()
        _read(sub, sx, plan)
        for widened in range(WIDEN_ROUNDS + 1):
            if _plan_slack(problem, plan) <= BAND_TOL or capped or infeasible:
                notes.append("Solved on the LP's support (each unit: the reps the LP uses it for, or its owner).")
                return _status(problem, plan, lower_bound, capped, True, int(fractional.sum()), start, notes)
            if widened == WIDEN_ROUNDS:
                break
            # A few reps end just outside the band: their units may go to any of their candidates
            # and every unit that could go to them may, and the band is made hard.
            support = _widen(problem, support, plan, free)
            sub = _build(support, free, assignment, problem.band)
            hx, finished, _ = _mip(sub, remaining() / 2, hard=True)
            if hx is not None:
                plan = assignment.copy()
                _read(sub, hx, plan)
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


def _reachable(
    columns: _Columns, free: np.ndarray, assignment: np.ndarray, remaining: Callable[[], float]
) -> bool | None:
    """Whether the band can be met by the LP relaxation: False when proven impossible (for the
    full problem with pricing, else on the candidate graph), None when time ran out first."""
    if columns.problem.pricing is None:
        return False
    # The penalised LP prefers balance to any disruption, but only the least-violation LP over
    # every pair proves it: its optimum (or its Lagrangian bound) above zero means no plan can.
    # Same rows and columns, another objective: HiGHS goes on from the basis it has.
    columns.switch(lambda p, sc: _build(p, free, assignment, p.band, balance=True, scale=sc))
    _, x, value, bound, converged = columns.run(remaining, final=False)
    if x is None:
        return None
    if (value if converged else bound) > BAND_TOL:
        return False
    return True if converged and value <= BAND_TOL else None


IMPOSSIBLE = {
    True: "Even with every account free to go to any rep of the group, the LP relaxation cannot meet the band: "
    "no plan can; showing the plan closest to it.",
    False: "The LP relaxation cannot meet the band on the candidate graph; showing the plan closest to it.",
}


def _complete(problem: Problem, free: np.ndarray) -> None:
    """Every rep a candidate of every free unit (in place)."""
    assert problem.pricing is not None
    units = np.flatnonzero(free)
    every = np.arange(problem.reps)
    costs = problem.pricing.costs(units)
    for i, u in enumerate(units):
        problem.candidates[u] = every
        problem.costs[u] = costs[i]


def _support(problem: Problem, model: _Model, xs: np.ndarray) -> Problem:
    """The problem with each free unit's candidates cut to its LP support and its cheapest rep."""
    used = xs > TOL
    candidates, costs = list(problem.candidates), list(problem.costs)
    by_unit: dict[int, set[int]] = {}
    for u, r in zip(model.pair_unit[used], model.pair_rep[used], strict=True):
        by_unit.setdefault(int(u), set()).add(int(r))
    for u in model.free_units:
        cand, cost = problem.candidates[u], problem.costs[u]
        keep = np.isin(cand, list(by_unit.get(int(u), ()))) | (np.arange(len(cand)) == np.argmin(cost))
        candidates[u], costs[u] = cand[keep], cost[keep]
    return replace(problem, candidates=candidates, costs=costs)


def _widen(problem: Problem, support: Problem, plan: np.ndarray, free: np.ndarray) -> Problem:
    """`support` plus, for each rep outside the band, the pairs that can bring it back: a rep
    over the band may give any of its units to any of their candidates; one under it may take
    the WIDEN_OFFERS units that cost least per unit of load it lacks."""
    lo_t, hi_t = problem.bounds()
    loads = _rep_loads(problem, plan)
    over = np.asarray((loads > hi_t + BAND_TOL * problem.targets).any(axis=1), dtype=bool)
    under = np.flatnonzero((loads < lo_t - BAND_TOL * problem.targets).any(axis=1))
    candidates, costs = list(support.candidates), list(support.costs)
    free_units = np.flatnonzero(free)
    for u in free_units[over[plan[free_units]]]:
        candidates[u], costs[u] = problem.candidates[u], problem.costs[u]
    for r in under:
        offers = [
            (float(problem.costs[u][problem.candidates[u] == r][0]) / max(float(problem.loads[u].sum()), 1e-9), int(u))
            for u in free_units
            if plan[u] != r and (problem.candidates[u] == r).any()
        ]
        for _, u in sorted(offers)[:WIDEN_OFFERS]:
            if not (candidates[u] == r).any():
                hit = problem.candidates[u] == r
                candidates[u] = np.concatenate([candidates[u], problem.candidates[u][hit]])
                costs[u] = np.concatenate([costs[u], problem.costs[u][hit]])
    return replace(support, candidates=candidates, costs=costs)


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
    """Each unit's cheapest candidate, its owner where it has one: the plan when nothing solved
    in time is to leave the books as they are, not to reshuffle them."""
    return np.array([c[int(np.argmin(cost))] for c, cost in zip(problem.candidates, problem.costs, strict=True)])


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
    """A band no plan can beat (a proven lower bound): the minimax MIP's optimum (or its dual
    bound when the time runs out) for small groups, the LP relaxation's value for medium ones,
    None for the largest or when not even the relaxation solves. With pricing, over every plan
    of the group (column generation); without, over the candidate graph."""
    if sum(len(c) for c, f in zip(problem.candidates, problem.fixed, strict=True) if f < 0) > MINIMAX_LP_LIMIT:
        return None
    problem = replace(problem, candidates=list(problem.candidates), costs=list(problem.costs))
    free = problem.fixed < 0
    complete = problem.pricing is not None and int(free.sum()) * problem.reps <= FULL_MIP_LIMIT
    if complete:
        _complete(problem, free)
    model, lp_band = _minimax(problem, time_limit)
    if lp_band is None:
        return None
    if model.n_x <= FULL_MIP_LIMIT and (complete or problem.pricing is None):  # a graph MIP bounds its graph only
        x, finished, dual = _mip(model, time_limit)
        if np.isfinite(dual):
            return max(lp_band, dual)
        if x is not None and finished:
            return float(x[-1]) * (1 - MIP_GAP)  # stopped within MIP_GAP of the optimum
    return lp_band


def _minimax(problem: Problem, time_limit: float) -> tuple[_Model, float | None]:
    """Model minimising t with |load - target| <= t x target, and its LP optimum (None when the
    relaxation does not solve in time), over the candidate graph grown by column generation
    when the problem can price every pair (then the optimum is the full problem's)."""
    start = time.perf_counter()
    free = problem.fixed < 0
    assignment = np.where(free, 0, problem.fixed)
    model, x, value, bound, converged = _Columns(problem, lambda p, _: _minimax_model(p, free, assignment)).run(
        lambda: max(time_limit - (time.perf_counter() - start), 1.0)
    )
    if x is None:
        return model, None
    return model, float(value if converged or problem.pricing is None else max(bound, 0.0))


def _minimax_model(problem: Problem, free: np.ndarray, assignment: np.ndarray) -> _Model:
    R, K = problem.targets.shape
    pu, pr, _ = _pairs(problem, free)
    n_x = len(pu)
    base = np.zeros((R, K))
    np.add.at(base, assignment[~free], problem.loads[~free])
    rows, cols, vals, lo, hi = [], [], [], [], []
    free_units = np.flatnonzero(free)
    row_of = np.full(len(free), -1)
    row_of[free_units] = np.arange(len(free_units))
    rows.append(row_of[pu])
    cols.append(np.arange(n_x))
    vals.append(np.ones(n_x))
    lo += [1.0] * len(free_units)
    hi += [1.0] * len(free_units)
    r0 = len(free_units)
    t_col = n_x
    band_rows = np.zeros((2, R, K), dtype=int)
    for k in range(K):
        for side_i, sign in enumerate((1.0, -1.0)):  # load - T <= t T  and  T - load <= t T
            band_rows[side_i, :, k] = r0 + np.arange(R)
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
    return _Model(
        c,
        A,
        np.asarray(lo),
        np.asarray(hi),
        n_x,
        pu,
        pr,
        np.zeros(n_x),
        free_units=free_units,
        band_rows=band_rows,
        band_signs=(1.0, -1.0),
    )


Build = Callable[[Problem, tuple[float, float] | None], _Model]


class _Columns:
    """Column generation on `problem` (its candidate lists grow in place) in one HiGHS LP:
    the model's columns, then every pair added, each round re-solved from the last basis.
    `switch` changes the objective over the same columns (the least-violation proof after the
    least-disruption LP) without starting again."""

    def __init__(self, problem: Problem, build: Build) -> None:
        self.problem, self.build = problem, build
        self.model = build(problem, None)
        self.scale = (self.model.x_scale, self.model.penalty)
        self.warm = _WarmLP(self.model)
        self.pair_unit, self.pair_rep = [self.model.pair_unit], [self.model.pair_rep]
        self.pair_cost = [self.model.pair_cost]
        self.n_model = self.model.A.shape[1]  # HiGHS's columns: the model's, then the added pairs

    def switch(self, build: Build) -> None:
        """Another objective over the same rows and columns (its own scale)."""
        probe = build(self.problem, None)
        self.build, self.scale = build, (probe.x_scale, probe.penalty)
        n_x = self.model.n_x
        cost = np.concatenate(self.pair_cost) * probe.x_scale
        c = np.concatenate([cost[:n_x], probe.c[probe.n_x :], cost[n_x:]])
        self.warm.highs.changeColsCost(len(c), np.arange(len(c), dtype=np.int32), c.astype(float))

    def run(
        self, remaining: Callable[[], float], *, final: bool = True
    ) -> tuple[_Model, np.ndarray | None, float, float, bool]:
        """The model of the grown graph (rebuilt only when `final`), its LP solution and value,
        a lower bound on the full problem's LP value, and whether the graph converged (no pair
        left with a negative reduced cost: the LP is the full problem's). Without pricing, the
        LP of the graph as it is."""
        problem, model = self.problem, self.model
        solved = self.warm.solve(remaining())
        if solved is None:
            return model, None, np.inf, -np.inf, False
        values, d, value = solved
        if problem.pricing is None:
            return model, values, value, value, False
        R = problem.reps
        bound, converged = -np.inf, False
        row_of = np.full(len(problem.candidates), -1)
        row_of[model.free_units] = np.arange(len(model.free_units))
        for _ in range(CG_ROUNDS):
            units_so_far, reps_so_far = np.concatenate(self.pair_unit), np.concatenate(self.pair_rep)
            present = sparse.csr_matrix(
                (np.ones(len(units_so_far)), (row_of[units_so_far], reps_so_far)), shape=(len(model.free_units), R)
            )
            units, reps, costs, gain = negative_pairs(
                problem.pricing,
                model.free_units,
                problem.loads,
                problem.counts,
                _duals(model, d),
                self.scale[0],
                present,
                CG_PER_UNIT,
            )
            bound = max(bound, value + gain)
            if not len(units):
                converged = True
                break
            if remaining() <= 1.0:
                break
            values = self._add(units, reps, costs, values)
            solved = self.warm.solve(remaining())
            if solved is None:  # out of time: the last solution, the new pairs at zero
                break
            values, d, value = solved
        bound = value if converged else bound
        if not final:
            return model, values, value, bound, converged
        # The grown graph as one model (same objective), its solution read from HiGHS's columns.
        grown = self.build(problem, self.scale)
        keys = np.concatenate(self.pair_unit) * R + np.concatenate(self.pair_rep)
        pair_values = np.concatenate([values[: model.n_x], values[self.n_model :]])
        order = np.argsort(keys)
        at = order[np.searchsorted(keys[order], grown.pair_unit * R + grown.pair_rep)]
        x = np.concatenate([pair_values[at], values[model.n_x : self.n_model]])
        return grown, x, value, bound, converged

    def _add(self, units: np.ndarray, reps: np.ndarray, costs: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Give the pairs to the problem and to HiGHS; `values` padded with their zeros."""
        problem = self.problem
        order = np.argsort(units, kind="stable")
        units, reps, costs = units[order], reps[order], costs[order]
        # The new pairs' columns, in the same rows and objective: a model of just those pairs.
        only_new = replace(
            problem,
            candidates=[np.array([], int)] * len(problem.candidates),
            costs=[np.array([])] * len(problem.candidates),
        )
        starts = np.flatnonzero(np.r_[True, units[1:] != units[:-1]])
        for a, b in zip(starts, np.r_[starts[1:], len(units)], strict=True):
            u = int(units[a])
            only_new.candidates[u], only_new.costs[u] = reps[a:b], costs[a:b]
            problem.candidates[u] = np.concatenate([problem.candidates[u], reps[a:b]])
            problem.costs[u] = np.concatenate([problem.costs[u], costs[a:b]])
        block = self.build(only_new, self.scale)
        upper = np.full(block.n_x, np.inf) if block.ub is None else block.ub[: block.n_x]
        self.warm.add(block.c[: block.n_x], block.A[:, : block.n_x], upper)
        self.pair_unit.append(block.pair_unit)
        self.pair_rep.append(block.pair_rep)
        self.pair_cost.append(block.pair_cost)
        return np.concatenate([values, np.zeros(block.n_x)])
