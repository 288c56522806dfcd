"""What the warehouse's history says about a sales team: productivity, ramp, attrition, hiring.

All estimators are pure functions of data frames the loader returns.

* Seasonality: a fiscal-month index (mean 1) from the scope's monthly bookings, fitted as a
  log-linear trend plus month effects, so growth does not pass for seasonality.
* Productivity of a ramped rep (`RAMPED_AFTER` months in seat or more) per region x segment:
  each rep's mean deseasonalised monthly bookings over the trailing twelve months (months fully
  in seat, at least three), then a 10%-trimmed mean over reps so one whale deal or one idle rep
  does not set the plan; shrunk towards the segment's level with weight n / (n + 3).
* Ramp by segment: bookings of reps hired within the history, by month of tenure, divided by
  what a ramped rep of the same segment booked in the same calendar month (so growth and
  seasonality cancel), pooled over hires and made non-decreasing with isotonic regression. The
  ramp ends at the first month the fitted share reaches 95%. Needs `MIN_HIRES` hires.
* Attrition: AE departures per AE-month over two years by segment, shrunk towards the
  all-segment rate with a prior worth `ATTRITION_PRIOR_MONTHS` rep-months.
* Time to fill: median months from an AE's departure to the next AE hire in the same territory.
* Hiring velocity: the most AEs a region x segment started in one month over two years.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from scipy.optimize import isotonic_regression
from scipy.stats import trim_mean

from warehouse.calendar import FiscalCalendar, add_months

RAMPED_AFTER = 12  # months in seat after which a rep counts as ramped for productivity
MIN_RAMPED_MONTHS = 3
TRIM = 0.10
SHRINK_REPS = 3.0
MIN_HIRES = 10
RAMP_DONE = 0.95
MAX_TENURE = 24
ATTRITION_PRIOR_MONTHS = 120.0
MIN_TTF_OBSERVATIONS = 5
DEFAULT_TIME_TO_FILL = 3


def month_starts(first: date, stop: date) -> list[date]:
    """First days of the months from `first`'s month up to (not including) `stop`'s month."""
    out, m = [], date(first.year, first.month, 1)
    end = date(stop.year, stop.month, 1)
    while m < end:
        out.append(m)
        m = add_months(m, 1)
    return out


def seasonal_index(totals: pd.Series, calendar: FiscalCalendar) -> tuple[np.ndarray, int]:
    """(index by fiscal month 1..12 at positions 0..11 with mean 1, months used).

    `totals` maps month starts to the scope's bookings. Flat with under 24 usable months.
    """
    y = totals[totals > 0]
    if len(y) < 24:
        return np.ones(12), len(y)
    months = pd.to_datetime(pd.Series(y.index))
    t = ((months.dt.year - months.dt.year.min()) * 12 + months.dt.month).to_numpy(dtype=float)
    fiscal = np.array([calendar.fiscal_month_number(d.date()) for d in months]) - 1
    x = np.column_stack([t - t.mean(), np.eye(12)[fiscal]])
    coef, *_ = np.linalg.lstsq(x, np.log(y.to_numpy(dtype=float)), rcond=None)
    effects = np.exp(coef[1:] - coef[1:].mean())
    seen = np.bincount(fiscal, minlength=12) > 0
    effects[~seen] = 1.0
    return effects / effects.mean(), len(y)


def panel(
    aes: pd.DataFrame, rep_months: pd.DataFrame, months: list[date], calendar: FiscalCalendar, season: np.ndarray
) -> pd.DataFrame:
    """One row per AE and calendar month fully in seat (the hire month counts as tenure 0).

    Columns: rep_id, region, segment, month, tenure, amount, deseasonalised.
    """
    cols = ["rep_id", "region", "segment", "hire_date", "month", "tenure", "amount", "deseasonalised"]
    if aes.empty or not months:
        return pd.DataFrame(columns=cols)
    starts = pd.to_datetime(pd.Series(months))
    ends = pd.to_datetime(pd.Series([add_months(m, 1) for m in months]))
    hire = pd.to_datetime(aes["hire_date"]).fillna(pd.Timestamp("1900-01-01")).to_numpy()
    leave = pd.to_datetime(aes["end_date"]).fillna(pd.Timestamp("2262-01-01")).to_numpy()
    in_seat = (hire[:, None] < ends.to_numpy()[None, :]) & (leave[:, None] >= ends.to_numpy()[None, :])
    r, c = np.nonzero(in_seat)
    hire_ts = pd.DatetimeIndex(hire[r])
    month_ts = pd.DatetimeIndex(starts.to_numpy()[c])
    frame = pd.DataFrame(
        {
            "rep_id": aes["rep_id"].to_numpy()[r],
            "region": aes["region"].to_numpy()[r],
            "segment": aes["segment"].to_numpy()[r],
            "hire_date": hire_ts,
            "month": month_ts,
            "tenure": (month_ts.year - hire_ts.year) * 12 + month_ts.month - hire_ts.month,
        }
    )
    booked = rep_months.assign(month=pd.to_datetime(rep_months["month"])).groupby(["rep_id", "month"])["amount"].sum()
    frame = frame.join(booked, on=["rep_id", "month"]).fillna({"amount": 0.0})
    fiscal = (month_ts.month.to_numpy() - calendar.start_month) % 12
    frame["deseasonalised"] = frame["amount"].to_numpy() / season[fiscal] if len(frame) else []
    return frame[cols]


@dataclass(frozen=True)
class GroupProductivity:
    per_month: float  # deseasonalised bookings of one ramped rep per month
    reps: int  # ramped reps the estimate rests on
    standard_error: float  # of per_month
    monthly_cv: float  # typical month-to-month variation of one rep's bookings
    source: str


def productivity(frame: pd.DataFrame, recent_from: date) -> dict[tuple[str, str], GroupProductivity]:
    """Ramped productivity per (region, segment) from the panel's months since `recent_from`."""
    ramped = frame[(frame["tenure"] >= RAMPED_AFTER) & (frame["month"] >= pd.Timestamp(recent_from))]
    # A segment whose reps booked nothing at all has no rep-level bookings (a bookings-only
    # import), not a productivity of zero.
    sold = ramped.groupby("segment")["amount"].transform("sum") > 0
    ramped = ramped[sold]
    per_rep = ramped.groupby(["region", "segment", "rep_id"])["deseasonalised"].agg(["mean", "std", "count"])
    per_rep = per_rep[per_rep["count"] >= MIN_RAMPED_MONTHS]
    out: dict[tuple[str, str], GroupProductivity] = {}
    if per_rep.empty:
        return out
    segment_level, segment_sd, segment_n = {}, {}, {}
    for seg, rows in per_rep.groupby(level="segment"):
        means = rows["mean"].to_numpy()
        segment_level[seg] = float(trim_mean(means, TRIM))
        segment_sd[seg] = float(np.std(means, ddof=1)) if len(means) > 1 else segment_level[seg]
        segment_n[seg] = len(means)
    for (region, segment), rows in per_rep.groupby(level=["region", "segment"]):
        means = rows["mean"].to_numpy()
        n = len(means)
        cell = float(trim_mean(means, TRIM))
        w = n / (n + SHRINK_REPS)
        level = w * cell + (1 - w) * segment_level[segment]
        # Standard error of the shrunk mean, with the segment's between-rep spread (a group of
        # one or two reps has no spread of its own worth the name).
        sd = segment_sd[segment]
        se = float(np.sqrt((w * sd) ** 2 / n + ((1 - w) * sd) ** 2 / segment_n[segment]))
        cv = (rows["std"] / rows["mean"]).replace([np.inf, -np.inf], np.nan).dropna()
        out[(str(region), str(segment))] = GroupProductivity(
            per_month=level,
            reps=n,
            standard_error=se,
            monthly_cv=float(cv.median()) if len(cv) else 1.0,
            source=f"history: {n} ramped reps (trimmed mean, shrunk to the segment)",
        )
    return out


@dataclass(frozen=True)
class RampEstimate:
    curve: np.ndarray | None  # None when the history cannot support one
    hires: int
    shares: list[float]  # pooled raw share by tenure month (before smoothing)
    note: str


def ramp_from_history(frame: pd.DataFrame, segment: str, first_month: date) -> RampEstimate:
    """Ramp curve of `segment` from reps hired since `first_month` (see the module docstring)."""
    seg = frame[frame["segment"] == segment]
    ramped = seg[seg["tenure"] >= RAMPED_AFTER]
    benchmark = ramped.groupby("month")["amount"].mean()
    region_level = ramped.groupby("region")["deseasonalised"].mean()
    overall = float(ramped["deseasonalised"].mean()) if len(ramped) else 0.0
    hires = seg[(seg["hire_date"] >= pd.Timestamp(first_month)) & (seg["tenure"] < MAX_TENURE)]
    hires = hires[hires["month"].isin(benchmark.index)]
    n_hires = int(hires["rep_id"].nunique())
    if n_hires < MIN_HIRES or overall <= 0:
        return RampEstimate(None, n_hires, [], f"{n_hires} {segment} hires in the history (need {MIN_HIRES})")
    factor = hires["region"].map(region_level / overall).fillna(1.0).to_numpy()
    expected = hires["month"].map(benchmark).to_numpy() * factor
    pooled = (
        pd.DataFrame({"tenure": hires["tenure"].to_numpy(), "amount": hires["amount"].to_numpy(), "expected": expected})
        .groupby("tenure")
        .agg(amount=("amount", "sum"), expected=("expected", "sum"), n=("amount", "size"))
    )
    pooled = pooled[(pooled["n"] >= 3) & (pooled["expected"] > 0)]
    if pooled.empty or pooled.index.min() > 0:
        return RampEstimate(None, n_hires, [], f"too few {segment} hires observed in their first month")
    share = (pooled["amount"] / pooled["expected"]).to_numpy()
    fit = isotonic_regression(share, weights=pooled["n"].to_numpy(dtype=float), increasing=True).x
    tenure = np.arange(int(pooled.index.max()) + 1, dtype=float)
    smooth = np.clip(np.interp(tenure, pooled.index.to_numpy(dtype=float), fit), 0.0, 1.0)
    done = np.flatnonzero(smooth >= RAMP_DONE)
    raw = [round(float(v), 3) for v in share]
    if not len(done):
        return RampEstimate(
            None,
            n_hires,
            raw,
            f"{segment} hires do not reach {RAMP_DONE:.0%} of ramped productivity within the history",
        )
    curve = np.append(smooth[: done[0]], 1.0)
    return RampEstimate(curve, n_hires, raw, f"history: {n_hires} {segment} hires, isotonic fit")


@dataclass(frozen=True)
class Attrition:
    monthly: float  # probability of leaving in a month
    leavers: int
    exposure_months: float

    @property
    def annual(self) -> float:
        return 1 - (1 - self.monthly) ** 12


def attrition(aes: pd.DataFrame, as_of: date, years: float = 2.0) -> tuple[dict[str, Attrition], Attrition]:
    """Monthly departure probability per segment (shrunk) and overall, over the last `years`."""
    stop = pd.Timestamp(as_of)
    start = stop - pd.Timedelta(days=int(365.25 * years))
    hire = pd.to_datetime(aes["hire_date"]).fillna(pd.Timestamp("1900-01-01")).clip(lower=start)
    ended = pd.to_datetime(aes["end_date"])
    end = ended.fillna(stop).clip(upper=stop)
    frame = pd.DataFrame(
        {
            "segment": aes["segment"],
            "exposure": (end - hire).dt.days.clip(lower=0) / 30.44,
            "left": (ended > start) & (ended <= stop),
        }
    )
    by_segment = frame.groupby("segment")[["exposure", "left"]].sum()
    exposure, leavers = float(frame["exposure"].sum()), int(frame["left"].sum())
    rate = leavers / exposure if exposure > 0 else 0.0
    overall = Attrition(float(1 - np.exp(-rate)), leavers, exposure)
    out = {}
    for seg, row in by_segment.iterrows():
        shrunk = (row["left"] + ATTRITION_PRIOR_MONTHS * rate) / (row["exposure"] + ATTRITION_PRIOR_MONTHS)
        out[str(seg)] = Attrition(float(1 - np.exp(-shrunk)), int(row["left"]), float(row["exposure"]))
    return out, overall


def time_to_fill(aes: pd.DataFrame, as_of: date, years: float = 3.0) -> tuple[float | None, int]:
    """(median months from a departure to the next AE hire in the same territory, observations)."""
    since = pd.Timestamp(as_of) - pd.Timedelta(days=int(365.25 * years))
    rows = aes.dropna(subset=["territory_id"])
    hires = (
        rows[["territory_id", "hire_date"]]
        .assign(next_hire=lambda f: pd.to_datetime(f["hire_date"]))
        .dropna(subset=["next_hire"])
        .sort_values("next_hire")[["territory_id", "next_hire"]]
    )
    left = rows.assign(end_date=pd.to_datetime(rows["end_date"]))
    left = left[left["end_date"] >= since].sort_values("end_date")[["territory_id", "end_date"]]
    if left.empty or hires.empty:
        return None, 0
    matched = pd.merge_asof(
        left, hires, left_on="end_date", right_on="next_hire", by="territory_id", direction="forward"
    ).dropna(subset=["next_hire"])
    gaps = ((matched["next_hire"] - matched["end_date"]).dt.days / 30.44).to_numpy()
    if len(gaps) < MIN_TTF_OBSERVATIONS:
        return None, len(gaps)
    return float(np.median(gaps)), len(gaps)


def hiring_velocity(aes: pd.DataFrame, as_of: date, months: int = 24) -> dict[tuple[str, str], int]:
    """Most AEs each (region, segment) started in a single month over the last `months`."""
    hire = pd.to_datetime(aes["hire_date"])
    since = pd.Timestamp(add_months(date(as_of.year, as_of.month, 1), -months))
    recent = aes[(hire >= since) & (hire <= pd.Timestamp(as_of))]
    if recent.empty:
        return {}
    month = pd.to_datetime(recent["hire_date"]).dt.to_period("M")
    peak = recent.assign(month=month).groupby(["region", "segment", "month"]).size().groupby(level=[0, 1]).max()
    return {(str(r), str(s)): int(v) for (r, s), v in peak.items()}
