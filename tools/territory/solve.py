"""Solving the independent groups of a rebalance within one time limit for the whole run, on
all cores when the work is large enough.

Groups start smallest first: the many quick groups finish early and what they leave unused
goes to the few large ones after them (biggest first starved the small ones when time ran
short). One after another, each group gets a share of the time left in proportion to its size
(units times reps, what the LPs grow with), never less than an equal share; in worker
processes each group may run until the run's deadline. Nothing runs past the deadline.
"""

from __future__ import annotations

import os
import time

from tools.territory.optimize import Problem, Solution, solve, tightest_band

PARALLEL_ABOVE_UNITS = 20_000  # solve groups in worker processes above this many units in all
TIGHTEST_SECONDS = 10.0
MIN_SECONDS = 1.0  # a group always gets at least this (HiGHS needs a moment to return anything)


def solve_one(problem: Problem, budget: float, deadline: float) -> tuple[Solution, float | None]:
    """The plan within `budget` seconds (and before the wall-clock `deadline`), and for an
    impossible band the tightest band any plan can meet, if time is left to prove one."""
    start = time.time()
    solution = solve(problem, time_limit=max(min(budget, deadline - start), MIN_SECONDS))
    left = deadline - time.time()
    tight = (
        tightest_band(problem, time_limit=min(left, TIGHTEST_SECONDS))
        if solution.status == "infeasible" and left >= MIN_SECONDS
        else None
    )
    return solution, tight


def _size(problem: Problem) -> float:
    return float(len(problem.candidates) * max(problem.reps, 1))


def solve_all(
    problems: list[Problem], time_limit: float, started: float | None = None
) -> list[tuple[Solution, float | None]]:
    """Every group's plan, the whole run (from `started`, wall-clock seconds) within `time_limit`."""
    started = time.time() if started is None else started
    deadline = started + time_limit
    units = sum(len(p.candidates) for p in problems)
    workers = min(os.cpu_count() or 1, len(problems))
    order = sorted(range(len(problems)), key=lambda i: _size(problems[i]))  # smallest first
    if workers < 2 or units < PARALLEL_ABOVE_UNITS:
        results: dict[int, tuple[Solution, float | None]] = {}
        left_size = sum(_size(p) for p in problems)
        for n_left, i in zip(range(len(order), 0, -1), order, strict=True):
            share = (deadline - time.time()) * max(_size(problems[i]) / max(left_size, 1.0), 1 / n_left)
            results[i] = solve_one(problems[i], share, deadline)
            left_size -= _size(problems[i])
        return [results[i] for i in range(len(problems))]
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = {i: pool.submit(solve_one, problems[i], time_limit, deadline) for i in order}
        return [futures[i].result() for i in range(len(problems))]
