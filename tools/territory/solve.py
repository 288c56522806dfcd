"""Solving the independent groups of a rebalance, on all cores when the work is large enough."""

from __future__ import annotations

import os

from tools.territory.optimize import Problem, Solution, solve, tightest_band

PARALLEL_ABOVE_UNITS = 20_000  # solve groups in worker processes above this many units in all
TIGHTEST_SECONDS = 10.0


def solve_one(problem: Problem, time_limit: float) -> tuple[Solution, float | None]:
    """The plan, and for an impossible band the tightest band any plan can meet."""
    solution = solve(problem, time_limit=time_limit)
    tight = (
        tightest_band(problem, time_limit=min(time_limit, TIGHTEST_SECONDS))
        if solution.status == "infeasible"
        else None
    )
    return solution, tight


def solve_all(problems: list[Problem], time_limit: float) -> list[tuple[Solution, float | None]]:
    size = sum(len(p.candidates) for p in problems)
    workers = min(os.cpu_count() or 1, len(problems))
    if workers < 2 or size < PARALLEL_ABOVE_UNITS:
        return [solve_one(p, time_limit) for p in problems]
    from concurrent.futures import ProcessPoolExecutor

    order = sorted(range(len(problems)), key=lambda i: -len(problems[i].candidates))  # biggest first
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = {i: pool.submit(solve_one, problems[i], time_limit) for i in order}
        return [futures[i].result() for i in range(len(problems))]
