"""Commission payout of a comp plan, as a function of attainment, vectorised over reps x trials.

With TV the target variable pay (OTE x variable share) and a the attainment:
  a < threshold                  -> 0 (the gate: nothing is paid below it)
  otherwise                      -> TV x (decelerator x min(a, 1)
                                         + sum over accelerator tiers of multiplier x the part of a
                                           inside the tier)
and never more than cap x TV. A tier runs from its `from` to the next tier's `from`. With a
decelerator of 1 and no gate, a rep at 100% earns exactly TV; a decelerator below 1 pays less
per point below plan; accelerators pay more per point above it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

from warehouse.errors import InputError


@dataclass(frozen=True)
class CompPlan:
    variable_share: float
    threshold: float = 0.0
    decelerator: float = 1.0
    accelerators: tuple[tuple[float, float], ...] = field(default_factory=tuple)  # (from, multiplier)
    cap: float | None = None
    name: str = "plan"

    def __post_init__(self) -> None:
        if not 0 <= self.variable_share <= 1:
            raise InputError(f"Plan {self.name}: variable share must be 0-1, got {self.variable_share}.")
        if self.threshold < 0 or self.decelerator < 0:
            raise InputError(f"Plan {self.name}: threshold and decelerator must not be negative.")
        starts = [f for f, _ in self.accelerators]
        if starts != sorted(starts) or any(m < 0 for _, m in self.accelerators):
            raise InputError(f"Plan {self.name}: accelerator tiers must be sorted by 'from' with multipliers >= 0.")
        if self.cap is not None and self.cap < 0:
            raise InputError(f"Plan {self.name}: the cap must not be negative.")

    @classmethod
    def from_row(cls, row: dict) -> CompPlan:
        tiers = json.loads(row.get("accelerators") or "[]")
        return cls(
            variable_share=float(row["variable_share"]),
            threshold=float(row.get("threshold") or 0.0),
            decelerator=float(row["decelerator"]) if row.get("decelerator") is not None else 1.0,
            accelerators=tuple((float(t["from"]), float(t["multiplier"])) for t in tiers),
            cap=None if row.get("cap") is None else float(row["cap"]),
            name=str(row.get("name") or row.get("plan_id") or "plan"),
        )


def payout_multiple(attainment: np.ndarray, plan: CompPlan) -> np.ndarray:
    """Payout as a multiple of target variable pay, for each attainment value."""
    a = np.maximum(np.asarray(attainment, dtype=float), 0.0)
    pay = plan.decelerator * np.minimum(a, 1.0)
    tiers = list(plan.accelerators)
    for k, (start, multiplier) in enumerate(tiers):
        end = tiers[k + 1][0] if k + 1 < len(tiers) else np.inf
        pay = pay + multiplier * np.clip(a - start, 0.0, end - start)
    pay = np.where(a < plan.threshold, 0.0, pay)
    if plan.cap is not None:
        pay = np.minimum(pay, plan.cap)
    return pay


def payout(attainment: np.ndarray, target_variable: np.ndarray, plan: CompPlan) -> np.ndarray:
    """Payout in money: attainment [..., reps] times each rep's target variable pay."""
    return payout_multiple(attainment, plan) * target_variable
