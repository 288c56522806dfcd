"""What a territory can book: capacity, run-rate, volatility and attrition, from history.

* Capacity: the average, over the months of the period, of ramp (linear to full productivity
  over the rep's ramp months, counted from the hire or planned start date) times being in
  seat. A rep hired three months into a year with a six-month ramp has capacity ~0.5.
* Expected bookings: a credibility blend of the territory's trailing-12-month run-rate (the
  accounts the rep owns now, whoever sold to them) and its potential times the segment's
  penetration (bookings / potential): w = deals / (deals + 10) on the run-rate. Grown by the
  trailing year-on-year growth, shaped by the period's share of a year (seasonality), times
  capacity.
* Volatility: the median coefficient of variation of quarterly bookings per AE within each
  segment, over the last eight quarters (shrunk towards the all-segment median for small
  segments); the market factor's is tools/core/estimators.market_cv. A period of k quarters
  has CV / sqrt(k).
* Attrition: AE departures per AE-month over the last two years.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from warehouse.calendar import FiscalCalendar, Period, add_months

CREDIBILITY_DEALS = 10
DEFAULT_CV = {"Enterprise": 0.9, "Mid-Market": 0.6, "SMB": 0.45}


def capacity(
    hire: pd.Series, end: pd.Series, ramp_months: pd.Series, period: Period, leave_after: date | None = None
) -> np.ndarray:
    """Average ramped, in-seat fraction of each rep over the months of `period`."""
    months = [add_months(period.start, k) for k in range(period.months)]
    mid = pd.to_datetime([m.replace(day=15) for m in months])
    hire_ts = pd.to_datetime(hire).fillna(pd.Timestamp("1900-01-01"))
    end_ts = pd.to_datetime(end)
    ramp = ramp_months.to_numpy(dtype=float)
    out = np.zeros(len(hire_ts))
    for m in mid:
        tenure = (m - hire_ts).dt.days.to_numpy() / 30.44
        in_seat = (tenure > 0) & (end_ts.isna() | (end_ts > m)).to_numpy()
        ramped = np.clip(tenure / np.maximum(ramp, 1e-9), 0, 1)
        out += np.where(in_seat, ramped, 0.0)
    return out / len(mid)


def territory_basis(
    people: pd.DataFrame, accounts: pd.DataFrame, bookings: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(trailing bookings, potential, deals) of each rep's or requisition's territory.

    Reps own the accounts they own; an open requisition takes the accounts carved for it (owned
    by its req id), else those of its territory that no active rep owns (the vacant seat's). A requisition without a territory gets the
    average of its region and segment peers.
    """
    acc = accounts.merge(bookings[["account_id", "amount", "deals"]], on="account_id", how="left").fillna(
        {"amount": 0.0, "deals": 0}
    )
    active = set(people.loc[people["kind"] == "rep", "rep_id"])
    by_owner = acc.groupby("owner_rep_id")[["amount", "potential", "deals"]].sum()
    vacant = acc[~acc["owner_rep_id"].isin(active)]
    by_territory = vacant.groupby("territory_id")[["amount", "potential", "deals"]].sum()
    hist, pot, deals = (np.zeros(len(people)) for _ in range(3))
    for i, row in enumerate(people.itertuples()):
        # A requisition that owns accounts (a book carved for the seat by a territory plan) has
        # that book; otherwise its vacant territory's.
        owns = row.kind == "rep" or row.rep_id in by_owner.index
        source = by_owner if owns else by_territory
        key = row.rep_id if owns else row.territory_id
        if key is not None and key in source.index:
            hist[i], pot[i], deals[i] = source.loc[key, ["amount", "potential", "deals"]]
    peers = people["kind"].eq("rep").to_numpy()
    for i, row in enumerate(people.itertuples()):
        if row.kind == "req" and pot[i] == 0:
            same = peers & (people["region"] == row.region).to_numpy() & (people["segment"] == row.segment).to_numpy()
            if same.any():
                hist[i], pot[i], deals[i] = hist[same].mean(), pot[same].mean(), deals[same].mean()
    return hist, pot, deals


def penetration(accounts: pd.DataFrame, bookings: pd.DataFrame) -> dict[str, float]:
    """Trailing-12-month bookings per dollar of potential, by segment."""
    pot = accounts.groupby("segment")["potential"].sum()
    booked = bookings.groupby("segment")["amount"].sum().reindex(pot.index).fillna(0.0)
    rate = (booked / pot.replace(0, np.nan)).fillna(0.0)
    overall = float(booked.sum() / pot.sum()) if pot.sum() > 0 else 0.0
    return {str(k): float(v) if v > 0 else overall for k, v in rate.items()} | {"*": overall}


def expected_annual(
    segments: pd.Series,
    history: np.ndarray,
    potential: np.ndarray,
    deals: np.ndarray,
    pen: dict[str, float],
    growth: float,
) -> np.ndarray:
    rate = segments.map(lambda s: pen.get(s, pen["*"])).to_numpy(dtype=float)
    w = deals / (deals + CREDIBILITY_DEALS)
    return (w * history + (1 - w) * rate * potential) * (1 + growth)


def seasonal_share(calendar: FiscalCalendar, period: Period, quarterly: pd.Series) -> float:
    """Share of a fiscal year's bookings that falls in `period` (quarterly: name -> amount)."""
    if period.grain == "year":
        return 1.0
    shares = []
    for name, amount in quarterly.items():
        q = calendar.parse(str(name))
        year = quarterly[[n for n in quarterly.index if calendar.parse(str(n)).fiscal_year == q.fiscal_year]]
        if len(year) == 4 and year.sum() > 0:
            shares.append((q.number, amount / year.sum()))
    if not shares:
        return period.months / 12
    by_q = pd.DataFrame(shares, columns=["q", "s"]).groupby("q")["s"].mean()
    numbers = [q.number for q in calendar.children(period, "quarter")]
    return float(by_q.reindex(numbers).fillna(0.25).sum())


def volatility(quarterly: pd.DataFrame, segments: pd.Series) -> np.ndarray:
    """Quarterly CV of bookings per AE, by segment (median over AEs with 4+ quarters)."""
    table = quarterly.pivot_table(
        index=["rep_id", "segment"], columns="quarter", values="amount", aggfunc="sum", fill_value=0.0
    )
    counts = (table > 0).sum(axis=1)
    table = table[counts >= 4]
    cv = (table.std(axis=1, ddof=1) / table.mean(axis=1)).replace([np.inf], np.nan).dropna()
    by_segment = cv.groupby(level="segment").agg(["median", "count"])
    overall = float(cv.median()) if len(cv) else 0.6
    out = []
    for seg in segments:
        if seg in by_segment.index:
            med, n = by_segment.loc[seg]
            k = n / (n + 5)  # shrink small segments towards the overall median
            out.append(k * med + (1 - k) * overall)
        else:
            out.append(DEFAULT_CV.get(seg, overall))
    return np.asarray(out, dtype=float)


def attrition_per_month(history: pd.DataFrame, as_of: date, years: float = 2.0) -> float:
    start = pd.Timestamp(as_of) - pd.Timedelta(days=int(365.25 * years))
    stop = pd.Timestamp(as_of)
    hire = history["hire_date"].fillna(pd.Timestamp("1900-01-01")).clip(lower=start)
    end = history["end_date"].fillna(stop).clip(upper=stop)
    exposure = ((end - hire).dt.days.clip(lower=0) / 30.44).sum()
    leavers = ((history["end_date"] > start) & (history["end_date"] <= stop)).sum()
    return float(leavers / exposure) if exposure > 0 else 0.0
