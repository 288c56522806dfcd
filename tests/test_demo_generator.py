"""The demo company: deterministic for a seed, internally consistent, and plausible."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from tests.conftest import AS_OF, SEED
from warehouse.connection import Warehouse
from warehouse.demo.builder import TABLE_COLUMNS, generate


def _digest(frame: pd.DataFrame) -> int:
    return int(pd.util.hash_pandas_object(frame.astype(str), index=False).sum())


def test_same_seed_same_company_other_seed_other_company() -> None:
    a = generate("small", SEED, AS_OF)
    b = generate("small", SEED, AS_OF)
    c = generate("small", SEED + 1, AS_OF)
    for table in TABLE_COLUMNS:
        if table == "users":  # demo users are fixed by design
            continue
        assert _digest(a.tables[table]) == _digest(b.tables[table]), table
    assert _digest(a.tables["opportunities"]) != _digest(c.tables["opportunities"])
    assert a.planted == b.planted


def test_sizes_and_shape(demo: Warehouse) -> None:
    with demo.reader() as cur:
        counts = {
            t: cur.scalar(f"SELECT count(*) FROM {t}") for t in ("accounts", "territories", "regions", "segments")
        }
        active_aes = cur.scalar("SELECT count(*) FROM reps WHERE role = 'AE' AND end_date IS NULL")
        open_reqs = cur.scalar("SELECT count(*) FROM headcount_plan WHERE status = 'open'")
        regions = {r[0] for r in cur.execute("SELECT name FROM regions").fetchall()}
    assert 1_400 <= counts["accounts"] <= 1_600
    assert counts["territories"] == 40
    assert 30 <= active_aes <= 40  # 40 seats, some vacant
    assert open_reqs >= 2
    assert regions == {"NA", "EMEA", "APAC", "LATAM"}
    assert demo.calendar().start_month == 2


def test_history_rows_reproduce_each_opportunity(demo: Warehouse) -> None:
    """The last history row of every deal is its current state; rows are in date order."""
    with demo.reader() as cur:
        mismatches = cur.scalar(
            """
            WITH last AS (
                SELECT opp_id, arg_max(stage, seq) AS stage, arg_max(close_date, seq) AS close_date,
                       arg_max(amount, seq) AS amount, arg_max(changed_date, seq) AS changed
                FROM opportunity_history GROUP BY opp_id)
            SELECT count(*) FROM opportunities o JOIN last l USING (opp_id)
            WHERE o.stage <> l.stage OR o.close_date <> l.close_date OR o.amount <> l.amount
            """
        )
        out_of_order = cur.scalar(
            """
            SELECT count(*) FROM (
                SELECT changed_date < lag(changed_date) OVER (PARTITION BY opp_id ORDER BY seq) AS bad
                FROM opportunity_history) WHERE bad
            """
        )
        without_history = cur.scalar(
            "SELECT count(*) FROM opportunities WHERE opp_id NOT IN (SELECT opp_id FROM opportunity_history)"
        )
        bad_dates = cur.scalar("SELECT count(*) FROM opportunities WHERE close_date < created_date")
        closed_after = cur.scalar("SELECT count(*) FROM opportunities WHERE is_closed AND close_date > ?", [AS_OF])
        won_not_closed = cur.scalar("SELECT count(*) FROM opportunities WHERE is_won AND NOT is_closed")
    assert (mismatches, out_of_order, without_history, bad_dates, closed_after, won_not_closed) == (
        0,
        0,
        0,
        0,
        0,
        0,
    )


def test_bookings_are_the_won_deals(demo: Warehouse) -> None:
    with demo.reader() as cur:
        won = cur.execute("SELECT count(*), sum(amount) FROM opportunities WHERE is_won").fetchone()
        booked = cur.execute("SELECT count(*), sum(amount) FROM bookings").fetchone()
        mismatched = cur.scalar(
            """SELECT count(*) FROM bookings b JOIN opportunities o USING (opp_id)
               JOIN accounts a ON a.account_id = o.account_id
               WHERE b.date <> o.close_date OR b.region <> a.region OR b.rep_id <> o.owner_rep_id"""
        )
    assert won == booked
    assert mismatched == 0


@pytest.mark.parametrize(
    ("segment", "low", "high"),
    [("Enterprise", 0.15, 0.30), ("Mid-Market", 0.18, 0.34), ("SMB", 0.22, 0.40)],
)
def test_win_rates_by_segment_are_plausible(demo: Warehouse, segment: str, low: float, high: float) -> None:
    with demo.reader() as cur:
        rate = cur.scalar(
            """SELECT avg(is_won::INT) FROM opportunities o JOIN accounts a USING (account_id)
               WHERE o.is_closed AND a.segment = ?""",
            [segment],
        )
    assert low <= rate <= high


def test_win_rate_depends_on_tenure_and_deal_age(demo: Warehouse) -> None:
    """Deals of ramping reps and long-running deals win less: the signal a model should find."""
    with demo.reader() as cur:
        frame = cur.query_df(
            """SELECT o.is_won, date_diff('day', o.created_date, o.close_date) AS age,
                      date_diff('day', r.hire_date, o.created_date) AS tenure, a.segment
               FROM opportunities o JOIN reps r ON r.rep_id = o.owner_rep_id
               JOIN accounts a USING (account_id)
               WHERE o.is_closed AND r.role = 'AE'"""
        )
    new_rep = frame[frame["tenure"] < 90]["is_won"].mean()
    tenured = frame[frame["tenure"] > 365]["is_won"].mean()
    assert new_rep < tenured
    for _, seg in frame.groupby("segment"):
        long = seg["age"] > seg["age"].quantile(0.8)
        assert seg[long]["is_won"].mean() < seg[~long]["is_won"].mean()


def test_deal_sizes_follow_segments(demo: Warehouse) -> None:
    with demo.reader() as cur:
        med = dict(
            cur.execute(
                """SELECT a.segment, median(o.amount) FROM opportunities o JOIN accounts a USING (account_id)
                   GROUP BY 1"""
            ).fetchall()
        )
    assert med["Enterprise"] > 2 * med["Mid-Market"] > 4 * med["SMB"]


def test_seasonality_quarter_end_and_fourth_quarter(demo: Warehouse) -> None:
    cal = demo.calendar()
    with demo.reader() as cur:
        # Complete fiscal years only: FY2024 to FY2026.
        b = cur.query_df("SELECT date, amount FROM bookings WHERE date >= '2023-02-01' AND date < '2026-02-01'")
    days = pd.to_datetime(b["date"]).dt.date
    fiscal_month = np.array([cal.fiscal_month_number(d) for d in days])
    by_month = pd.Series(b["amount"].to_numpy()).groupby(fiscal_month).sum()
    last_of_quarter = by_month[[3, 6, 9, 12]].sum()
    first_of_quarter = by_month[[1, 4, 7, 10]].sum()
    assert last_of_quarter > 1.5 * first_of_quarter
    quarter = (fiscal_month - 1) // 3 + 1
    by_quarter = pd.Series(b["amount"].to_numpy()).groupby(quarter).sum()
    assert by_quarter[4] > 1.15 * by_quarter[[1, 2, 3]].mean()


def test_attrition_is_between_15_and_30_percent_a_year(demo: Warehouse) -> None:
    with demo.reader() as cur:
        reps = cur.query_df("SELECT hire_date, end_date FROM reps WHERE role = 'AE'")
    hire = pd.to_datetime(reps["hire_date"])
    end = pd.to_datetime(reps["end_date"])
    rates = []
    for years_back in range(3):
        stop = pd.Timestamp(AS_OF - timedelta(days=365 * years_back))
        start = stop - pd.Timedelta(days=365)
        headcount = ((hire <= start) & (end.isna() | (end > start))).sum()
        leavers = ((end > start) & (end <= stop)).sum()
        rates.append(leavers / headcount)
    assert 0.15 <= np.mean(rates) <= 0.30


def test_territories_start_unbalanced(demo: Warehouse) -> None:
    with demo.reader() as cur:
        potential = cur.query_df(
            "SELECT territory_id, sum(potential) AS p FROM accounts WHERE territory_id IS NOT NULL GROUP BY 1"
        )["p"]
    assert potential.std() / potential.mean() > 0.25


def test_every_location_is_geocoded_and_zips_do_not_split(demo: Warehouse) -> None:
    with demo.reader() as cur:
        ungeocoded = cur.scalar(
            """SELECT count(*) FROM accounts a LEFT JOIN geos g ON g.country = a.country AND g.zip = a.zip
               WHERE g.lat IS NULL"""
        )
        split = cur.scalar(
            """SELECT count(*) FROM (SELECT country, zip, segment FROM accounts WHERE territory_id IS NOT NULL
               GROUP BY ALL HAVING count(DISTINCT territory_id) > 1)"""
        )
        us_metro = cur.scalar("SELECT avg((msa_code IS NOT NULL)::INT) FROM geos WHERE country = 'US'")
    assert ungeocoded == 0
    assert split == 0
    assert us_metro > 0.5


def test_quotas_follow_targets_with_over_assignment(demo: Warehouse) -> None:
    with demo.reader() as cur:
        target = cur.scalar("SELECT sum(amount) FROM targets WHERE period = 'FY2027-Q2'")
        quota = cur.scalar("SELECT sum(amount) FROM quotas WHERE period = 'FY2027-Q2'")
    assert 1.08 < quota / target < 1.16


def test_as_of_controls_what_is_closed() -> None:
    early = generate("small", SEED, date(2026, 6, 30))
    opps = early.tables["opportunities"]
    assert (pd.to_datetime(opps.loc[opps["is_closed"], "close_date"]).dt.date <= date(2026, 6, 30)).all()
    assert early.meta["as_of"] == "2026-06-30"
