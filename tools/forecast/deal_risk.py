"""Deal risk with reasons: what each open deal's risk factors cost it, read off its win model.

A risk factor is a fact about the deal that the segment's typical deal does not have:

* `pushed`: its close date was pushed out at least once (typical: never, push_count 0);
* `slow_stage`: it has sat in its stage more than 1.5x (and at least 14 days more than) the
  segment's median days in that stage (typical: the median);
* `past_close`: its planned close date has passed (typical: the segment's median days to
  close for the stage among deals not yet due, at least 1 day);
* `amount_cut`: its amount is at least 10% below the highest amount it had on an earlier
  monthly snapshot, i.e. in `opportunity_history` (typical: that peak amount);
* `new_owner`: it is late stage (stage default probability >= 0.6) and its owner was hired
  after the deal was created, so it changed hands (typical: the segment's median rep tenure).
  The warehouse keeps no owner history (`opportunity_history` has no owner column), so this is
  the only reassignment the data shows: one to a rep who was already in seat is not seen;
* `new_rep`: otherwise, its owner has under 180 days' tenure, below the segment's median
  (typical: that median). Unknown tenure (no hire date) is no factor.

The norms ("the segment's typical deal") come from the monthly snapshots the win model trains
on (`norms`): medians per segment and stage, or per segment, else over all segments.

Each reason's point change is the model's own answer: 100 x (p - p_f), where p is the deal's
win probability and p_f the probability of the same deal with only that factor's feature set to
its typical value (`WinModel.predict` on both), so a factor that costs the deal win
probability reads negative ("pushed 4 times (-12 pts)"). Reasons are ranked by that cost, most
costly first. A factor the model does not penalise (a smaller amount can raise a deal's odds)
still shows, with its non-negative change, because it is a fact a manager should see.

Risk score: risk = amount x max(0, p_typical - p), in USD, where p_typical is the model's
probability of the deal with every one of its risk factors set to the typical value at once.
It is the expected bookings the deal's risk factors cost: a deal with no risk factor has risk 0,
and of two deals with the same factors a bigger one carries more risk. Where the cell's model is
not a trained classifier (win rates by stage, or the stage defaults) the probability depends on
the stage alone: the factors are still listed, without point changes, and risk is 0.

Pure: pandas and numpy in, dataclasses out; no warehouse access.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tools.core import format as fmt
from tools.forecast.win_model import WinModel

SLOW_FACTOR = 1.5  # days in stage above this multiple of the segment's median ...
SLOW_MIN_EXTRA_DAYS = 14  # ... and at least this many days above it
AMOUNT_CUT = 0.10  # amount this share or more below its peak
LATE_STAGE = 0.6  # stage default probability from which a stage counts as late
NEW_REP_DAYS = 180  # owner tenure below this (and below the segment's median) is a new rep
DEFAULT_DAYS_TO_CLOSE = 30.0  # typical days to close when history has none
ANY = "*"  # the key of a norm over all segments or stages

FACTORS = ("pushed", "slow_stage", "past_close", "amount_cut", "new_owner", "new_rep")
FEATURE = {  # the win-model input each factor moves to its typical value
    "pushed": "push_count",
    "slow_stage": "days_in_stage",
    "past_close": "days_to_close",
    "amount_cut": "amount",
    "new_owner": "rep_tenure",
    "new_rep": "rep_tenure",
}
NEEDED = ("segment", "stage", "amount", "push_count", "days_in_stage", "days_to_close", "deal_age", "rep_tenure")


@dataclass(frozen=True)
class Norms:
    """The segment's typical deal: medians from history, by (segment, stage) and by segment."""

    days_in_stage: dict[tuple[str, str], float] = field(default_factory=dict)
    days_to_close: dict[tuple[str, str], float] = field(default_factory=dict)
    rep_tenure: dict[str, float] = field(default_factory=dict)

    def stage_days(self, segment: str, stage: str) -> float | None:
        return _lookup(self.days_in_stage, segment, stage)

    def close_days(self, segment: str, stage: str) -> float:
        found = _lookup(self.days_to_close, segment, stage)
        return max(found if found is not None else DEFAULT_DAYS_TO_CLOSE, 1.0)

    def tenure(self, segment: str) -> float | None:
        return self.rep_tenure.get(segment, self.rep_tenure.get(ANY))


def _lookup(table: dict[tuple[str, str], float], segment: str, stage: str) -> float | None:
    for key in ((segment, stage), (ANY, stage), (segment, ANY), (ANY, ANY)):
        if key in table:
            return table[key]
    return None


@dataclass(frozen=True)
class Reason:
    code: str  # one of FACTORS
    text: str  # "pushed 3 times (-12 pts)"
    points: float | None  # 100 x (p - p with this factor typical); None: the model cannot say
    value: float  # the deal's figure (pushes, days in stage, days past close, amount, tenure)
    typical: float  # the segment's typical figure the model was asked about


@dataclass(frozen=True)
class DealRisk:
    opp_id: str
    amount: float
    p: float  # the model's win probability
    p_typical: float  # ... with every risk factor at its typical value
    risk: float  # USD: amount x max(0, p_typical - p)
    reasons: tuple[Reason, ...]

    def text(self) -> str:
        """The reasons as one line, most costly first ("" without any)."""
        return "; ".join(r.text for r in self.reasons)


def _medians(frame: pd.DataFrame, column: str) -> dict[tuple[str, str], float]:
    """Median of `column` by (segment, stage), by (ANY, stage), by (segment, ANY) and (ANY, ANY)."""
    out: dict[tuple[str, str], float] = {}
    if frame.empty:
        return out
    for (seg, stage), value in frame.groupby(["segment", "stage"])[column].median().items():
        out[(str(seg), str(stage))] = float(value)
    for stage, value in frame.groupby("stage")[column].median().items():
        out[(ANY, str(stage))] = float(value)
    for seg, value in frame.groupby("segment")[column].median().items():
        out[(str(seg), ANY)] = float(value)
    out[(ANY, ANY)] = float(frame[column].median())
    return out


def norms(history: pd.DataFrame) -> Norms:
    """The typical deal from deal snapshots (the win model's training rows: segment, stage,
    days_in_stage, days_to_close, rep_tenure): medians by segment and stage, by stage, by
    segment and overall; days to close over deals not yet due, tenure over known tenures."""
    if history.empty:
        return Norms()
    frame = history[["segment", "stage", "days_in_stage", "days_to_close", "rep_tenure"]].astype(
        {"segment": str, "stage": str, "days_in_stage": float, "days_to_close": float, "rep_tenure": float}
    )
    known = frame[frame["rep_tenure"] >= 0]
    tenure = {str(k): float(v) for k, v in known.groupby("segment")["rep_tenure"].median().items()}
    if len(known):
        tenure[ANY] = float(known["rep_tenure"].median())
    return Norms(
        days_in_stage=_medians(frame, "days_in_stage"),
        days_to_close=_medians(frame[frame["days_to_close"] >= 0], "days_to_close"),
        rep_tenure=tenure,
    )


def peak_amounts(deals: pd.DataFrame, history: pd.DataFrame) -> np.ndarray:
    """Per deal, the highest amount it had on an earlier snapshot (NaN where history has none)."""
    if history.empty or deals.empty:
        return np.full(len(deals), np.nan)
    peak = history.groupby("opp_id")["amount"].max()
    return deals["opp_id"].map(peak).to_numpy(dtype=float)


def _factors(row: dict[str, object], peak: float, late: bool, n: Norms) -> list[tuple[str, float, float]]:
    """(factor, the deal's figure, the typical figure) for each risk factor the deal has."""
    seg, stage = str(row["segment"]), str(row["stage"])
    out: list[tuple[str, float, float]] = []
    pushes = float(row["push_count"])  # type: ignore[arg-type]
    if pushes >= 1:
        out.append(("pushed", pushes, 0.0))
    in_stage, typical_days = float(row["days_in_stage"]), n.stage_days(seg, stage)  # type: ignore[arg-type]
    if (
        typical_days is not None
        and in_stage > SLOW_FACTOR * typical_days
        and in_stage - typical_days >= SLOW_MIN_EXTRA_DAYS
    ):
        out.append(("slow_stage", in_stage, typical_days))
    to_close = float(row["days_to_close"])  # type: ignore[arg-type]
    if to_close < 0:
        out.append(("past_close", to_close, n.close_days(seg, stage)))
    amount = float(row["amount"])  # type: ignore[arg-type]
    if np.isfinite(peak) and peak > 0 and amount <= (1 - AMOUNT_CUT) * peak:
        out.append(("amount_cut", amount, peak))
    tenure, typical_tenure = float(row["rep_tenure"]), n.tenure(seg)  # type: ignore[arg-type]
    if tenure >= 0 and typical_tenure is not None and tenure < typical_tenure:
        if late and tenure < float(row["deal_age"]):  # type: ignore[arg-type]
            out.append(("new_owner", tenure, typical_tenure))
        elif tenure < NEW_REP_DAYS:
            out.append(("new_rep", tenure, typical_tenure))
    return out


def _days(value: float) -> str:
    return f"{value:,.0f} day" + ("" if round(value) == 1 else "s")


def _describe(code: str, value: float, typical: float, stage: str) -> str:
    if code == "pushed":
        return "pushed once" if value == 1 else f"pushed {value:.0f} times"
    if code == "slow_stage":
        return f"{_days(value)} in {stage} vs {typical:,.0f} typical"
    if code == "past_close":
        return f"{_days(-value)} past its close date"
    if code == "amount_cut":
        return f"amount cut {1 - value / typical:.0%} ({fmt.money(typical)} to {fmt.money(value)})"
    if code == "new_owner":
        return f"late stage ({stage}) with a new owner: rep hired {_days(value)} ago, after the deal was created"
    return f"new rep: {_days(value)}' tenure vs {typical:,.0f} typical"


def _points_text(points: float) -> str:
    shown = f"{points:+.0f}" if abs(points) >= 0.95 else f"{points:+.1f}"
    return f"({shown} pts)"


def assess(deals: pd.DataFrame, model: WinModel, n: Norms, peak: np.ndarray | None = None) -> list[DealRisk]:
    """Risk and reasons of `deals` (win-model rows: `NEEDED` columns plus the model's other
    features, and `opp_id`) under one cell's `model`; `peak`: per deal, its highest past amount."""
    if deals.empty:
        return []
    missing = [c for c in ("opp_id", *NEEDED) if c not in deals.columns]
    if missing:
        raise ValueError(f"deal rows lack {', '.join(missing)}")
    rows = deals.reset_index(drop=True)
    rows = rows.astype({c: float for c in set(FEATURE.values())})
    peaks = np.full(len(rows), np.nan) if peak is None else np.asarray(peak, dtype=float)
    if len(peaks) != len(rows):
        raise ValueError(f"peak has {len(peaks)} values for {len(rows)} deals")
    late = rows["stage"].map(model.stage_defaults).fillna(0.0).to_numpy(dtype=float) >= LATE_STAGE
    factors = [_factors(r, peaks[i], bool(late[i]), n) for i, r in enumerate(rows.to_dict("records"))]
    # One predict call: each deal as it is, as the typical deal, then once per factor.
    variants = [rows]
    typical = rows.copy()
    single: list[tuple[int, str, float]] = []
    for i, found in enumerate(factors):
        for code, _, typ in found:
            typical.loc[i, FEATURE[code]] = typ
            single.append((i, code, typ))
    variants.append(typical)
    if single:
        one = rows.iloc[[i for i, _, _ in single]].reset_index(drop=True).copy()
        for k, (_, code, typ) in enumerate(single):
            one.loc[k, FEATURE[code]] = typ
        variants.append(one)
    p_all = model.predict(pd.concat(variants, ignore_index=True))
    p, p_typical = p_all[: len(rows)], p_all[len(rows) : 2 * len(rows)]
    p_single = p_all[2 * len(rows) :]
    graded = model.kind == "classifier"
    reasons: list[list[Reason]] = [[] for _ in range(len(rows))]
    k = 0
    for i, found in enumerate(factors):
        for code, value, typ in found:
            points = 100.0 * float(p[i] - p_single[k]) if graded else None
            text = _describe(code, value, typ, str(rows.at[i, "stage"]))
            reasons[i].append(
                Reason(code, text + (f" {_points_text(points)}" if points is not None else ""), points, value, typ)
            )
            k += 1
    out = []
    for i in range(len(rows)):
        ranked = sorted(reasons[i], key=lambda r: (r.points if r.points is not None else 0.0, FACTORS.index(r.code)))
        amount = float(rows.at[i, "amount"])
        lift = max(0.0, float(p_typical[i] - p[i])) if graded else 0.0
        out.append(
            DealRisk(
                opp_id=str(rows.at[i, "opp_id"]),
                amount=amount,
                p=float(p[i]),
                p_typical=float(p_typical[i]) if graded else float(p[i]),
                risk=amount * lift,
                reasons=tuple(ranked),
            )
        )
    return out


def ranked(risks: list[DealRisk]) -> list[DealRisk]:
    """Riskiest first (ties: the bigger deal first, then the deal id)."""
    return sorted(risks, key=lambda r: (-r.risk, -r.amount, r.opp_id))
