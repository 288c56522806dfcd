"""The rebalance against the full problem (every account free to go to any rep of its group),
not only the k-nearest candidate graph: column generation reaches the full LP, the plan lands
in band when the full problem allows it, and the guard rails hold."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import numpy as np
import pytest
from scipy import sparse
from scipy.optimize import linprog

from bench.territory_instance import one_group
from tools.territory.groups import build_problem, locks
from tools.territory.models import TerritoryInput
from tools.territory.optimize import BAND_TOL, Problem, _rep_loads, solve

TODAY = date(2026, 11, 29)


def _problem(accounts: int, reps: int, seed: int = 3, **params: object) -> Problem:
    rep_frame, account_frame = one_group(accounts, reps, seed=seed)
    p = TerritoryInput(**params)  # type: ignore[arg-type]
    locked, _ = locks(account_frame, ["strategic"])
    problem, _, _, _ = build_problem(rep_frame, account_frame, p, locked, TODAY)
    return problem


def _full_lp(problem: Problem) -> float:
    """The LP relaxation of the complete assignment problem, built here independently: min
    disruption, every unit to one rep, every rep inside the band; locked units stay."""
    assert problem.pricing is not None
    U, R = len(problem.candidates), problem.reps
    free = np.flatnonzero(problem.fixed < 0)
    cost = problem.pricing.costs(free).ravel()
    F = len(free)
    col_unit = np.repeat(np.arange(F), R)
    col_rep = np.tile(np.arange(R), F)
    assign = sparse.csr_matrix((np.ones(F * R), (col_unit, np.arange(F * R))), shape=(F, F * R))
    load = sparse.csr_matrix((problem.loads[free[col_unit], 0], (col_rep, np.arange(F * R))), shape=(R, F * R))
    base = np.zeros(R)
    locked = np.flatnonzero(problem.fixed >= 0)
    np.add.at(base, problem.fixed[locked], problem.loads[locked, 0])
    lo, hi = problem.bounds()
    res = linprog(
        cost,
        A_ub=sparse.vstack([load, -load]),
        b_ub=np.concatenate([hi[:, 0] - base, -(lo[:, 0] - base)]),
        A_eq=assign,
        b_eq=np.ones(F),
        bounds=(0, 1),
        method="highs",
    )
    assert res.status == 0 and U >= F
    return float(res.fun)


@pytest.fixture(scope="module")
def chains() -> Problem:
    """Books from 0.1x to 3x the average, one candidate rep per account besides its owner."""
    return _problem(3_000, 12, k_nearest=1)


def test_the_bound_is_the_full_problems_lp_and_the_plan_is_in_band(chains: Problem) -> None:
    solution = solve(chains, time_limit=60)
    assert solution.full_bound
    assert solution.lower_bound == pytest.approx(_full_lp(chains), rel=1e-5)
    assert solution.status in ("optimal", "feasible") and solution.slack <= BAND_TOL
    assert solution.objective <= solution.lower_bound * 1.01  # within 1% of the full LP bound
    lo, hi = chains.bounds()
    loads = _rep_loads(chains, solution.assignment)
    assert ((loads >= lo * (1 - 1e-4)) & (loads <= hi * (1 + 1e-4))).all()


def test_a_bound_on_the_candidate_graph_is_no_bound_on_the_full_problem(chains: Problem) -> None:
    """Why the graph has to grow: the k-nearest graph's own optimum moves more value than a plan
    the full problem has, so its 'lower bound' would be false."""
    full = solve(chains, time_limit=60)
    graph_only = solve(replace(chains, pricing=None, start=None), time_limit=60)
    assert not graph_only.full_bound
    assert graph_only.lower_bound > full.objective * 1.01


def _lumpy(seed: int) -> Problem:
    """A group where no plan meets the band: a few huge accounts."""
    rep_frame, account_frame = one_group(40, 5, seed=seed)
    account_frame.loc[account_frame.index[:3], "potential"] *= 25
    locked, _ = locks(account_frame, [])
    problem, _, _, _ = build_problem(rep_frame, account_frame, TerritoryInput(lock=[]), locked, TODAY)
    return problem


def _crossings(problem: Problem, assignment: np.ndarray) -> int:
    assert problem.start is not None
    lo, hi = problem.bounds()
    after = _rep_loads(problem, assignment)
    tol = 1e-6 * problem.targets
    return int(((problem.start < lo) & (after > hi + tol)).sum() + ((problem.start > hi) & (after < lo - tol)).sum())


def test_no_rep_jumps_past_the_other_side_of_the_band() -> None:
    unguarded = 0
    for seed in range(8):
        problem = _lumpy(seed)
        guarded = solve(problem, time_limit=20)
        assert _crossings(problem, guarded.assignment) == 0
        unguarded += _crossings(problem, solve(replace(problem, start=None), time_limit=20).assignment)
    assert unguarded > 0  # without the guard, least total violation does trade one side for the other


def _changes_per_rep(problem: Problem, assignment: np.ndarray) -> np.ndarray:
    assert problem.pricing is not None and problem.counts is not None
    own = problem.pricing.owned_count.toarray()  # [U, R]
    gained = np.zeros(problem.reps)
    np.add.at(gained, assignment, problem.counts - own[np.arange(len(assignment)), assignment])
    kept = own[np.arange(len(assignment)), assignment]
    lost = own.sum(axis=0) - np.bincount(assignment, weights=kept, minlength=problem.reps)
    return gained + lost


def test_changes_per_rep_are_capped() -> None:
    free_hand = _problem(400, 6, seed=5, band=0.1)
    uncapped = solve(free_hand, time_limit=30)
    assert _changes_per_rep(free_hand, uncapped.assignment).max() > 12  # the cap below binds
    capped_problem = _problem(400, 6, seed=5, band=0.1, max_change_per_rep=12)
    capped = solve(capped_problem, time_limit=30)
    assert _changes_per_rep(capped_problem, capped.assignment).max() <= 12 + 1e-9
    assert capped.objective >= uncapped.objective - 1e-6  # a cap can only cost disruption


def test_the_time_limit_bounds_the_run_and_still_gives_a_plan() -> None:
    """5,000 accounts x 40 reps take about 5 s; with 1.5 s the run stops in time with a plan
    that gives every unit one of its candidates, and says how far it got."""
    import time

    from tools.territory.solve import solve_all

    problem = _problem(5_000, 40, seed=7)
    start = time.perf_counter()
    [(solution, _)] = solve_all([problem], 1.5)
    assert time.perf_counter() - start < 1.5 + 2.5  # HiGHS returns within a second of its limit
    assert solution.status in ("time_limit", "feasible", "optimal")
    solved = solution.solved or problem
    assert all(r in solved.candidates[u] for u, r in enumerate(solution.assignment))
    if solution.status == "feasible":
        assert solution.gap is not None
