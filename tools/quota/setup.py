"""What a quota set is simulated against: each rep's capacity, expected bookings, volatility,
attrition and comp plan (tools/quota/estimate.py has the estimators).

Expected bookings are the forecast's: the territory model (run-rate and potential per rep) says
how the selection's bookings split across reps, and every rep's expectation is scaled so the
selection's total is the forecast's outlook for the period (tools/forecast/outlook.py). The
result reports both totals, so a reader sees how far the territory model alone would be off.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from tools.core.estimators import DEFAULT_RAMP_MONTHS, lognormal_sigma, market_cv
from tools.quota import estimate
from tools.quota.load import Data
from tools.quota.payout import CompPlan, payout_multiple
from tools.quota.simulate import SimulationInput

DEFAULT_PLAN = CompPlan(variable_share=0.5, threshold=0.5, name="default (50% variable, no accelerators)")
GIVEN_PLAN = "given plan"


@dataclass
class Setup:
    """Everything a quota set is simulated against, one entry per rep or requisition."""

    sim: SimulationInput
    expected_full: np.ndarray  # expected bookings over the whole period
    history: np.ndarray  # trailing territory bookings
    potential: np.ndarray
    capacity: np.ndarray
    booked: np.ndarray
    target_variable: np.ndarray
    plans: list[CompPlan]
    plan_of: np.ndarray
    scale: float = 1.0  # applied to the territory model's expectations (1 when not calibrated)
    trial_scale: np.ndarray | None = None  # per trial: fits the simulated totals to the outlook

    def trial(self, trials: int) -> np.ndarray | None:
        """The per-trial scale for the first `trials` trials (the same draws, whatever the count)."""
        return None if self.trial_scale is None else self.trial_scale[:trials]

    def scaled(self, factor: float) -> Setup:
        """The same setup with every rep's expected bookings times `factor`."""
        return replace(
            self,
            sim=replace(self.sim, expected=self.sim.expected * factor),
            expected_full=self.expected_full * factor,
            scale=self.scale * factor,
        )

    def without(self, leaving: np.ndarray) -> Setup:
        """The same setup where the `leaving` reps are gone for the whole period."""
        return replace(
            self,
            sim=replace(self.sim, expected=np.where(leaving, 0.0, self.sim.expected)),
            expected_full=np.where(leaving, 0.0, self.expected_full),
            capacity=np.where(leaving, 0.0, self.capacity),
        )

    @property
    def expected_total(self) -> float:
        """Booked so far plus the expected rest of the period."""
        return float(self.booked.sum() + self.sim.expected.sum())


def comp_plans(data: Data, segments: pd.Series, given: CompPlan | None) -> tuple[list[CompPlan], np.ndarray, list[str]]:
    """Comp plan per rep: the given one, or the AE plan of the period's fiscal year and segment."""
    if given is not None:
        return [given], np.zeros(len(segments), dtype=int), []
    notes: list[str] = []
    plans, fy = data.plans, data.period.fiscal_year
    chosen: list[CompPlan] = []
    index = np.zeros(len(segments), dtype=int)
    cache: dict[str, int] = {}
    for i, seg in enumerate(segments):
        if seg not in cache:
            rows = plans[(plans["role"] == "AE") & (plans["segment"] == seg)]
            if rows.empty:
                rows = plans[plans["role"] == "AE"]
            same_year = rows[rows["fiscal_year"] == fy]
            latest = same_year if not same_year.empty else rows.sort_values("fiscal_year")
            if latest.empty:
                notes.append(f"No AE comp plan for {seg}: using {DEFAULT_PLAN.name}.")
                plan = DEFAULT_PLAN
            else:
                row = latest.iloc[-1].to_dict()
                if row.get("fiscal_year") != fy:
                    notes.append(f"No FY{fy} plan for {seg}: using {row['plan_id']}.")
                plan = CompPlan.from_row(row)
            cache[seg] = len(chosen)
            chosen.append(plan)
        index[i] = cache[seg]
    return chosen, index, notes


def build(
    data: Data, people: pd.DataFrame, accounts: pd.DataFrame, plan: CompPlan | None = None
) -> tuple[Setup, dict[str, Any], list[str]]:
    """The setup of `people` owning `accounts` (the territory model's expectations, uncalibrated)."""
    period, cal = data.period, data.calendar
    ramp = (
        people["ramp_months"]
        .astype("Float64")
        .fillna(people["segment"].map(DEFAULT_RAMP_MONTHS))
        .fillna(5)
        .astype(float)
    )
    cap = estimate.capacity(people["hire_date"], people["end_date"], ramp, period)
    hist, pot, deals = estimate.territory_basis(people, accounts, data.account_bookings)
    pen = estimate.penetration(accounts, data.account_bookings)
    growth = float(np.clip(data.recent_total / data.prior_total - 1, -0.3, 0.6)) if data.prior_total > 0 else 0.0
    annual = estimate.expected_annual(people["segment"], hist, pot, deals, pen, growth)
    share = estimate.seasonal_share(cal, period, data.company_quarterly)
    expected_full = annual * share * cap
    quarters = max(period.months / 3, 1 / 3)
    remaining = 1.0
    booked = np.zeros(len(people))
    if period.start < data.as_of:
        remaining = (period.end - data.as_of).days / (period.end - period.start).days
        by_rep = data.booked.set_index("rep_id")["amount"] if len(data.booked) else {}
        booked = people["rep_id"].map(by_rep).fillna(0.0).to_numpy(dtype=float)
    cv = estimate.volatility(data.quarterly, people["segment"]) / np.sqrt(max(quarters * remaining, 1 / 3))
    market = market_cv(data.company_quarterly.to_numpy()) / np.sqrt(max(quarters * remaining, 1 / 3))
    hazard = estimate.attrition_per_month(data.ae_history, data.as_of)
    ote = people["ote"].astype(float)
    ote = ote.fillna(ote.groupby(people["segment"]).transform("median")).fillna(ote.median()).fillna(150_000.0)
    plans, plan_of, notes = comp_plans(data, people["segment"], plan)
    tv = ote.to_numpy() * np.array([plans[k].variable_share for k in plan_of]) * period.months / 12
    sim = SimulationInput(
        expected=expected_full * remaining,
        sigma=lognormal_sigma(cv),
        sigma_market=float(lognormal_sigma(market)),
        attrition_per_month=hazard,
        months=period.months * remaining,
        booked=booked,
    )
    # Mean over pairs i != j of s_m^2 / sqrt(v_i v_j), v = s_m^2 + s_i^2, without the n x n matrix.
    s_m2 = float(sim.sigma_market) ** 2
    inv = 1 / np.sqrt(s_m2 + sim.sigma**2 + 1e-18)
    n = len(inv)
    mean_corr = s_m2 * (inv.sum() ** 2 - (inv**2).sum()) / (n * (n - 1)) if n > 1 else 0.0
    info = {
        "growth_assumed": round(growth, 4),
        "seasonal_share_of_year": round(share, 4),
        "market_cv": round(float(market), 4),
        "mean_rep_cv": round(float(np.mean(cv)), 4),
        "mean_pairwise_correlation": round(float(mean_corr), 4),
        "attrition_per_year": round(1 - (1 - hazard) ** 12, 4),
        "penetration": {k: round(v, 5) for k, v in pen.items()},
    }
    return Setup(sim, expected_full, hist, pot, cap, booked, tv, plans, plan_of), info, notes


def calibration(setup: Setup, outlook_mean: float | None) -> float:
    """Factor on the territory model's expectations that makes the total the outlook's (1 without one)."""
    rest = float(setup.sim.expected.sum())
    if outlook_mean is None or rest <= 0:
        return 1.0
    return max(outlook_mean - float(setup.booked.sum()), 0.0) / rest


def payout_fn(setup: Setup) -> Callable[[np.ndarray], np.ndarray]:
    """Payout per trial and rep for an attainment matrix, each rep on its comp plan."""

    def fn(attainment: np.ndarray) -> np.ndarray:
        out = np.zeros_like(attainment)
        for k, plan in enumerate(setup.plans):
            cols = setup.plan_of == k
            out[:, cols] = payout_multiple(attainment[:, cols], plan) * setup.target_variable[cols]
        return out

    return fn
