"""Quota Monte Carlo speed: 10,000 trials x 2,000 reps of the large demo warehouse (target:
under 3 s), next to a plain numpy reference of the same draws, and the whole tool."""

from __future__ import annotations

import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np

from bench.report import table, write_section

TRIALS, REPS = 10_000, 2_000


def _reference(expected: np.ndarray, sigma: np.ndarray, s_m: float, hazard: float, months: float, seed: int) -> float:
    """The same draws with nothing else: market factor, own lognormal, attrition."""
    start = time.perf_counter()
    rng = np.random.default_rng(seed)
    for chunk in range(0, TRIALS, 1_000):
        market = np.exp(s_m * rng.standard_normal(1_000) - s_m**2 / 2)
        own = np.exp(sigma * rng.standard_normal((1_000, len(expected))) - sigma**2 / 2)
        leave = rng.exponential(1 / hazard, size=(1_000, len(expected)))
        _ = expected * own * market[:, None] * np.minimum(leave / months, 1.0)
        del chunk
    return time.perf_counter() - start


def run() -> None:
    from tools.quota import plan, setup
    from tools.quota.load import load
    from tools.quota.models import QuotaInput
    from tools.quota.simulate import run as simulate
    from tools.quota.tool import run_quota
    from warehouse.create import create_warehouse
    from warehouse.identity import Scope

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        wh = create_warehouse(Path(tmp) / "large.duckdb", demo="large", seed=7, as_of=date(2026, 11, 29))
        params = QuotaInput(trials=TRIALS)
        data = load(wh, params, Scope.everything())
        people = data.people.iloc[:REPS].reset_index(drop=True)
        built, _, _ = setup.build(data, people, data.accounts)
        quotas = plan.quotas(data, params, built, people, plan.target(data, params), params.over_assign)
        quotas = quotas * REPS / len(data.people)
        start = time.perf_counter()
        simulate(built.sim, {"plan": quotas}, {"plan": setup.payout_fn(built)}, trials=TRIALS, seed=0)
        ours = time.perf_counter() - start
        sim = built.sim
        ref = _reference(sim.expected, sim.sigma, sim.sigma_market, sim.attrition_per_month, sim.months, 0)
        rows.append(
            [
                f"simulate {TRIALS:,} x {REPS:,} (draws, attainment, share, payout)",
                f"{ours:.2f} s",
                f"{ref:.2f} s",
                f"{ours / ref:.1f}x",
            ]
        )
        start = time.perf_counter()
        result = run_quota(wh, params)
        whole = time.perf_counter() - start
        people_count = f"{result.metrics['reps']:,} reps + {result.metrics['open_requisitions']} reqs"
        rows.append([f"whole quota tool on the large demo ({people_count}), incl. solver", f"{whole:.2f} s", "-", "-"])
    md = "## Quota simulation speed\n\nTarget: 10,000 trials x 2,000 reps in under 3 s. "
    md += "Reference = the same random draws in plain numpy with no bookkeeping.\n\n"
    md += table(["work", "time", "numpy reference", "overhead"], rows)
    write_section("quota_speed", md)


if __name__ == "__main__":
    run()
