"""Planning assumptions per region x segment: estimated from history unless the request gives them.

Order of precedence for each: the request (`--productivity`, `--ramp-months`, ...), then the
warehouse's history (tools/capacity/history.py), then the HR fields (`reps.ramp_months`), then a
documented default. Every value carries its source, so a planner can see which numbers are
measured and which are assumed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from tools.capacity import history, ramp
from tools.capacity.models import CapacityInput
from tools.contract import DataWarning
from tools.core.estimators import DEFAULT_RAMP_MONTHS, market_cv
from warehouse.calendar import FiscalCalendar, add_months
from warehouse.errors import InputError

DEFAULT_OTE = 150_000.0
DEFAULT_MONTHLY_CV = 1.0
RAMP_SPEED_SPREAD = 0.25  # a trial's ramp runs between 25% slower and 25% faster than expected
HISTORY_MONTHS = 36


@dataclass(frozen=True)
class GroupAssumptions:
    region: str
    segment: str
    productivity: float  # deseasonalised bookings of one ramped rep per month
    productivity_source: str
    productivity_se: float
    monthly_cv: float
    attrition: float  # monthly probability of leaving
    attrition_source: str
    ote: float
    ote_source: str
    velocity: int  # most new AEs per month
    win_rate: float | None


@dataclass
class Assumptions:
    groups: list[GroupAssumptions]
    ramp: dict[str, np.ndarray]  # segment -> curve
    ramp_source: dict[str, str]
    time_to_fill: int
    time_to_fill_source: str
    season: np.ndarray  # [12] by fiscal month, mean 1
    season_source: str
    market_cv: float  # CV of a quarter's bookings around trend and seasonality (shared by all groups)
    warnings: list[DataWarning] = field(default_factory=list)

    def curve(self, segment: str) -> np.ndarray:
        return self.ramp[segment]


@dataclass(frozen=True)
class History:
    """What the loader read, for the estimators."""

    as_of: date
    calendar: FiscalCalendar
    aes: pd.DataFrame
    rep_months: pd.DataFrame
    scope_months: pd.DataFrame  # month, region, segment, amount
    win_rates: pd.DataFrame


def _season(hist: History) -> tuple[np.ndarray, str]:
    this_month = date(hist.as_of.year, hist.as_of.month, 1)
    months = hist.scope_months[pd.to_datetime(hist.scope_months["month"]) < pd.Timestamp(this_month)]
    totals = months.groupby("month")["amount"].sum()
    totals.index = pd.to_datetime(totals.index)
    season, used = history.seasonal_index(totals, hist.calendar)
    if used < 24:
        return season, f"flat: only {used} months of bookings (seasonality needs 24)"
    return season, f"history: {used} months of bookings, log-linear trend removed"


def _market_cv(hist: History) -> float:
    totals = hist.scope_months.groupby("month")["amount"].sum()
    if totals.empty:
        return 0.0
    months = pd.to_datetime(pd.Series(totals.index))
    current = hist.calendar.period_of(hist.as_of, "quarter")
    quarters = [hist.calendar.shift(current, -k) for k in range(12, 0, -1)]
    values = np.array(
        [
            float(totals[((months >= pd.Timestamp(q.start)) & (months < pd.Timestamp(q.end))).to_numpy()].sum())
            for q in quarters
        ]
    )
    return float(market_cv(values))


def _ramps(
    params: CapacityInput, hist: History, frame: pd.DataFrame, segments: list[str], first: date
) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    curves, sources = {}, {}
    for seg in segments:
        if params.ramp_curve is not None:
            curves[seg], sources[seg] = ramp.validate(params.ramp_curve), "given (--ramp-curve)"
            continue
        if params.ramp_months is not None:
            curves[seg] = ramp.linear(params.ramp_months)
            sources[seg] = f"given: linear over {params.ramp_months} months"
            continue
        estimate = history.ramp_from_history(frame, seg, first)
        if estimate.curve is not None:
            curves[seg], sources[seg] = estimate.curve, estimate.note
            continue
        hr = hist.aes.loc[hist.aes["segment"] == seg, "ramp_months"].dropna()
        if len(hr):
            months = round(float(hr.median()))
            curves[seg] = ramp.linear(months)
            sources[seg] = f"reps.ramp_months: linear over {months} months ({estimate.note})"
        else:
            months = DEFAULT_RAMP_MONTHS.get(seg, 5)
            curves[seg] = ramp.linear(months)
            sources[seg] = f"default: linear over {months} months ({estimate.note})"
    return curves, sources


def _ote_lookup(aes: pd.DataFrame) -> dict[tuple[str, str] | str, float]:
    """Median OTE by (region, segment), by segment and overall ('*')."""
    ote = aes.dropna(subset=["ote"])
    out: dict[tuple[str, str] | str, float] = {}
    out.update({(str(r), str(s)): float(v) for (r, s), v in ote.groupby(["region", "segment"])["ote"].median().items()})
    out.update({str(s): float(v) for s, v in ote.groupby("segment")["ote"].median().items()})
    if len(ote):
        out["*"] = float(ote["ote"].median())
    return out


def _ote(lookup: dict[tuple[str, str] | str, float], region: str, segment: str) -> tuple[float, str]:
    for key, where in (
        ((region, segment), "median of the group's AEs"),
        (segment, "median of the segment's AEs"),
        ("*", "median of all AEs"),
    ):
        if key in lookup:
            return lookup[key], where
    return DEFAULT_OTE, f"default ${DEFAULT_OTE:,.0f} (no OTE in reps)"


def estimate(
    params: CapacityInput, hist: History, groups: list[tuple[str, str]], headcount: dict[tuple[str, str], int]
) -> Assumptions:
    """Every assumption for `groups`, with its source."""
    warnings: list[DataWarning] = []
    this_month = date(hist.as_of.year, hist.as_of.month, 1)
    first = add_months(this_month, -HISTORY_MONTHS)
    season, season_source = _season(hist)
    frame = history.panel(hist.aes, hist.rep_months, history.month_starts(first, this_month), hist.calendar, season)
    measured = history.productivity(frame, add_months(this_month, -12))
    segments = sorted({s for _, s in groups})
    curves, ramp_sources = _ramps(params, hist, frame, segments, first)

    by_segment: dict[str, list[history.GroupProductivity]] = {}
    for (_, seg), value in measured.items():
        by_segment.setdefault(seg, []).append(value)
    att_by_segment, att_all = history.attrition(hist.aes, hist.as_of)
    velocity = history.hiring_velocity(hist.aes, hist.as_of)
    otes = _ote_lookup(hist.aes)
    recent = hist.scope_months[pd.to_datetime(hist.scope_months["month"]) >= pd.Timestamp(add_months(this_month, -12))]
    recent = recent[pd.to_datetime(recent["month"]) < pd.Timestamp(this_month)]
    out: list[GroupAssumptions] = []
    for region, seg in groups:
        key = (region, seg)
        if params.productivity is not None:
            base = measured.get(key)
            prod = history.GroupProductivity(
                params.productivity, 0, 0.0, base.monthly_cv if base else DEFAULT_MONTHLY_CV, "given (--productivity)"
            )
        elif key in measured:
            prod = measured[key]
        elif seg in by_segment:
            peers = by_segment[seg]
            level = float(np.mean([p.per_month for p in peers]))
            prod = history.GroupProductivity(
                level,
                0,
                float(np.sqrt(np.mean([p.standard_error**2 for p in peers]))),
                float(np.median([p.monthly_cv for p in peers])),
                f"segment level: no ramped {seg} rep in {region} with {history.MIN_RAMPED_MONTHS}+ months of history",
            )
        else:
            booked = float(recent.loc[(recent["region"] == region) & (recent["segment"] == seg), "amount"].sum())
            heads = headcount.get(key, 0)
            if booked <= 0 or heads == 0:
                raise InputError(
                    f"No history to estimate what a ramped {seg} AE in {region} books.",
                    "Give it with --productivity AMOUNT (bookings per ramped AE per month).",
                )
            prod = history.GroupProductivity(
                booked / 12 / heads,
                0,
                booked / 12 / heads / 2,
                DEFAULT_MONTHLY_CV,
                "top-down: the group's trailing-12-month bookings per AE in seat (no rep-level bookings)",
            )
            warnings.append(DataWarning(code="productivity_top_down", message=f"{region} {seg}: {prod.source}."))
        if params.attrition is not None:
            monthly = 1 - (1 - params.attrition) ** (1 / 12)
            att_source = "given (--attrition)"
        else:
            a = att_by_segment.get(seg, att_all)
            monthly = a.monthly
            att_source = (
                f"history: {a.leavers} {seg} departures over {a.exposure_months:,.0f} AE-months (2 years), "
                "voluntary and involuntary together"
            )
        ote, ote_source = _ote(otes, region, seg)
        wr = hist.win_rates[(hist.win_rates["region"] == region) & (hist.win_rates["segment"] == seg)]
        win_rate = float(wr["won"].sum() / wr["closed"].sum()) if len(wr) and wr["closed"].sum() > 0 else None
        out.append(
            GroupAssumptions(
                region=region,
                segment=seg,
                productivity=prod.per_month,
                productivity_source=prod.source,
                productivity_se=prod.standard_error,
                monthly_cv=prod.monthly_cv,
                attrition=float(monthly),
                attrition_source=att_source,
                ote=ote,
                ote_source=ote_source,
                velocity=params.max_hires_per_month or max(1, velocity.get(key, 1)),
                win_rate=win_rate,
            )
        )
    if params.time_to_fill_months is not None:
        ttf, ttf_source = params.time_to_fill_months, "given (--time-to-fill-months)"
    else:
        measured_ttf, n = history.time_to_fill(hist.aes, hist.as_of)
        if measured_ttf is None:
            ttf = history.DEFAULT_TIME_TO_FILL
            ttf_source = f"default {ttf} months ({n} refills observed; need {history.MIN_TTF_OBSERVATIONS})"
        else:
            ttf = round(measured_ttf)
            ttf_source = f"history: median {measured_ttf:.1f} months from departure to the next hire ({n} refills)"
    return Assumptions(
        groups=out,
        ramp=curves,
        ramp_source=ramp_sources,
        time_to_fill=ttf,
        time_to_fill_source=ttf_source,
        season=season,
        season_source=season_source,
        market_cv=_market_cv(hist),
        warnings=warnings,
    )


def spread(curve: np.ndarray) -> np.ndarray:
    return ramp.speed_spread(curve, RAMP_SPEED_SPREAD)
