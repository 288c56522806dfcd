"""The variance explanation tool (explain_variance): an exact LMDI decomposition of the bookings gap
into deals closed, win rate and deal size, like-for-like windows for a period in progress, the
plan pro-rated to date, the context beside it, and the caller's scope applied as in the metrics tool.

On the small demo (as of 2026-11-29, fiscal year from February: FY2027-Q4 is in progress) and on
tiny hand-built warehouses where only one driver moves.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any

import pytest
from pydantic import ValidationError

from tools.explain.decompose import Deals, decompose, lmdi, log_mean
from tools.explain.models import ExplainInput
from tools.explain.report import PLAN_ROW, UNMATCHED_ROW
from tools.explain.tool import run_explain
from tools.explain.windows import compare
from tools.metrics.models import MetricsInput
from tools.metrics.tool import run_metrics
from warehouse.calendar import FiscalCalendar
from warehouse.connection import Warehouse
from warehouse.errors import InputError, NotFoundError, PermissionDeniedError
from warehouse.identity import Scope

FEB = FiscalCalendar(2)
AS_OF = date(2026, 11, 29)  # the demo's as-of: day 29 of FY2027-Q4 (92 days)
DRIVERS = ("deals closed", "win rate", "deal size")


def _explain(wh: Warehouse, scope: Scope | None = None, **args: Any) -> Any:
    return run_explain(wh, ExplainInput(**args), scope=scope)


def _rows(result: Any) -> dict[str, dict[str, Any]]:
    return {r["driver"]: r for r in result.tables["drivers"]}


def _decomposed(result: Any) -> list[dict[str, Any]]:
    return [r for r in result.tables["drivers"] if r["contribution"] is not None]


# --- the decomposition ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        {"filters": {"region": ["EMEA"]}, "period": "FY2027-Q3"},
        {"filters": {"segment": ["SMB"]}, "period": "FY2027"},
        {"filters": {"product": ["Analytics"]}, "period": "2026-10", "against": "last_period"},
        {"filters": {"region": ["APAC"]}, "against": "plan"},
        {"filters": {"manager": ["R-00001"]}, "period": "FY2027-Q3", "against": "plan"},
        {},
    ],
    ids=["emea-q3", "smb-year-to-date", "product-month-vs-last-month", "apac-plan-to-date", "team-plan", "total"],
)
def test_contributions_add_up_to_the_gap_exactly(demo: Warehouse, args: dict[str, Any]) -> None:
    result = _explain(demo, **args)
    m = result.metrics
    assert m["gap"] == pytest.approx(m["actual"] - m["reference"], abs=1e-9)
    assert sum(r["contribution"] for r in _decomposed(result)) == pytest.approx(m["gap"], abs=1e-6)
    if m["reference"]:
        assert m["gap_pct"] == pytest.approx(m["gap"] / m["reference"] * 100)
    # Closed form: each driver contributes L(B1, B0) * ln(x1 / x0), B the won amounts of the two windows.
    rows = _rows(result)
    b0 = math.prod(rows[d]["reference"] for d in DRIVERS)
    b1 = math.prod(rows[d]["actual"] for d in DRIVERS)
    for d in DRIVERS:
        expected = log_mean(b1, b0) * math.log(rows[d]["actual"] / rows[d]["reference"])
        assert rows[d]["contribution"] == pytest.approx(expected, abs=1e-6)
        assert rows[d]["share_of_gap"] == pytest.approx(rows[d]["contribution"] / m["gap"])
    shown = [abs(r["contribution"]) for r in _decomposed(result)]
    assert shown == sorted(shown, reverse=True)  # biggest first, then the context rows
    kinds = [r["contribution"] is None for r in result.tables["drivers"]]
    assert kinds == sorted(kinds)


def test_the_headline_is_the_metrics_tools_bookings(demo: Warehouse) -> None:
    """One number per quantity: the bookings explained are the ones the metrics tool quotes."""
    result = _explain(demo, filters={"region": ["EMEA"]}, period="last quarter")
    for period, figure in (("FY2027-Q3", "actual"), ("FY2026-Q3", "reference")):
        booked = run_metrics(demo, MetricsInput(metric="bookings", period=period, filters={"region": ["EMEA"]}))
        assert result.metrics[figure] == pytest.approx(booked.metrics["total"], abs=0.01)
    win_rate = run_metrics(demo, MetricsInput(metric="win_rate", period="FY2027-Q3", filters={"region": ["EMEA"]}))
    assert _rows(result)["win rate"]["actual"] == pytest.approx(win_rate.metrics["total"], abs=1e-6)
    assert UNMATCHED_ROW not in _rows(result)  # every demo booking has its won deal


def test_the_summary_names_slice_period_and_biggest_driver_first(demo: Warehouse) -> None:
    result = _explain(demo, filters={"region": ["EMEA"]}, period="last quarter")
    m, top = result.metrics, result.tables["drivers"][0]
    assert result.summary.startswith("EMEA FY2027-Q3 bookings are $")
    assert ("ahead of last year's" if m["gap"] > 0 else "behind last year's") in result.summary
    assert m["biggest_driver"] == top["driver"] and f"the biggest driver is {top['driver']}" in result.summary
    assert (m["slice"], m["period"], m["against"], m["reference_period"]) == (
        "EMEA",
        "FY2027-Q3",
        "last_year",
        "FY2026-Q3",
    )
    assert {"actual", "reference", "gap", "gap_pct"} <= set(m)
    rec = result.recommendations[0]
    assert "EMEA" in rec.action and rec.impact.before == pytest.approx(m["actual"])
    assert rec.group == {"region": "EMEA"}
    context = {r["driver"] for r in result.tables["drivers"] if r["contribution"] is None}
    assert context == {"pipeline created", "median sales cycle", "slipped deals", "slipped amount", "active AEs",
                       "bookings per AE"}  # fmt: skip


def test_a_period_in_progress_is_compared_like_for_like(demo: Warehouse) -> None:
    result = _explain(demo, filters={"region": ["EMEA"]})  # default: the current quarter, FY2027-Q4
    m = result.metrics
    assert (m["period"], m["in_progress"], m["elapsed_days"], m["period_days"]) == ("FY2027-Q4", True, 29, 92)
    assert (m["window_start"], m["window_end"]) == ("2026-11-01", "2026-11-29")
    assert (m["reference_start"], m["reference_end"]) == ("2025-11-01", "2025-11-29")
    with demo.reader() as cur:
        last_year = cur.scalar(
            "SELECT sum(amount) FROM bookings WHERE region = 'EMEA' AND date >= '2025-11-01' AND date < '2025-11-30'"
        )
        whole = cur.scalar(
            "SELECT sum(amount) FROM bookings WHERE region = 'EMEA' AND date >= '2025-11-01' AND date < '2026-02-01'"
        )
    assert m["reference"] == pytest.approx(last_year) and last_year < whole  # not the whole of FY2026-Q4
    assert result.summary.startswith("EMEA FY2027-Q4 bookings to date are")
    assert "over the same 29 days" in result.summary
    assert any("like for like with the first 29 days of FY2026-Q4" in a for a in result.assumptions)


def test_against_plan_the_target_is_pro_rated_and_reported_whole(demo: Warehouse) -> None:
    result = _explain(demo, filters={"region": ["EMEA"]}, against="plan")
    m = result.metrics
    with demo.reader() as cur:
        target = cur.scalar("SELECT sum(amount) FROM targets WHERE period = 'FY2027-Q4' AND region = 'EMEA'")
    assert m["target_full"] == pytest.approx(target)
    assert m["reference"] == m["target_to_date"] == pytest.approx(target * 29 / 92)
    plan = _rows(result)[PLAN_ROW]  # the plan's ask above last year's same days: a row of its own
    assert plan["reference"] == pytest.approx(m["last_year"]) and plan["actual"] == pytest.approx(m["reference"])
    assert plan["contribution"] == pytest.approx(m["last_year"] - m["reference"])
    assert sum(r["contribution"] for r in _decomposed(result)) == pytest.approx(m["gap"], abs=1e-6)
    assert "vs last year, the biggest driver is" in result.summary
    assert any("pro-rated by the elapsed share" in a and "No plan of the drivers" in a for a in result.assumptions)


# --- scope and filters ----------------------------------------------------------------------


def _content(result: Any) -> dict[str, Any]:
    data = result.model_dump(mode="json")
    data["metrics"].pop("filters")
    return data


@pytest.mark.parametrize(
    ("scope", "filters"),
    [
        (Scope("region", "EMEA"), {"region": ["EMEA"]}),
        (Scope("segment", "SMB"), {"segment": ["SMB"]}),
        (Scope("team", "R-00001"), {"manager": ["R-00001"]}),
        (Scope("own", "R-00014"), {"rep": ["R-00014"]}),
    ],
    ids=["region", "segment", "team", "own"],
)
@pytest.mark.parametrize("against", ["last_year", "plan"])
def test_a_scoped_caller_gets_what_the_filter_gets(
    demo: Warehouse, scope: Scope, filters: dict[str, list[str]], against: str
) -> None:
    args = {"period": "FY2027-Q3", "against": against}
    scoped = _explain(demo, scope, **args)
    filtered = _explain(demo, filters=filters, **args)
    assert _content(scoped) == _content(filtered)
    everyone = _explain(demo, **args)
    assert scoped.metrics["actual"] < everyone.metrics["actual"]


def test_a_scoped_caller_cannot_look_outside(demo: Warehouse) -> None:
    with pytest.raises(PermissionDeniedError, match="region EMEA"):
        _explain(demo, Scope("region", "EMEA"), filters={"region": ["APAC"]})
    narrower = _explain(demo, Scope("region", "EMEA"), filters={"segment": ["SMB"]}, period="FY2027-Q3")
    assert narrower.metrics["slice"] == "EMEA SMB"


# --- one driver at a time, by hand ----------------------------------------------------------


def _company(wh: Warehouse, windows: dict[str, tuple[int, int, float]]) -> None:
    """One EMEA AE and account; per close date: (deals closed, of which won, amount of each deal)."""
    with wh.writer() as cur:
        cur.execute("INSERT INTO regions VALUES ('EMEA', 0)")
        cur.execute(
            "INSERT INTO reps (rep_id, name, role, region, hire_date) VALUES ('R1', 'Ana', 'AE', 'EMEA', '2020-01-01')"
        )
        cur.execute("INSERT INTO accounts (account_id, name, region, owner_rep_id) VALUES ('A1', 'Acme', 'EMEA', 'R1')")
        n = 0
        for close, (closed, won, amount) in windows.items():
            for i in range(closed):
                n += 1
                cur.execute(
                    """INSERT INTO opportunities (opp_id, account_id, owner_rep_id, created_date, close_date, stage,
                           amount, is_closed, is_won) VALUES (?, 'A1', 'R1', CAST(? AS DATE) - 30, ?, ?, ?, true, ?)""",
                    [f"O{n}", close, close, "Closed Won" if i < won else "Closed Lost", amount, i < won],
                )
                if i < won:
                    cur.execute(
                        "INSERT INTO bookings (booking_id, date, amount, region, rep_id, opp_id) VALUES (?, ?, ?, 'EMEA', 'R1', ?)",
                        [f"B{n}", close, amount, f"O{n}"],
                    )


def test_only_the_win_rate_moved_so_it_carries_the_gap(empty: Warehouse) -> None:
    _company(empty, {"2025-09-15": (20, 4, 10_000.0), "2026-09-15": (20, 10, 10_000.0)})
    result = _explain(empty, filters={"region": ["EMEA"]}, period="FY2027-Q3", as_of=AS_OF)
    rows, m = _rows(result), result.metrics
    assert (m["actual"], m["reference"], m["gap"]) == (100_000.0, 40_000.0, 60_000.0)
    assert rows["win rate"]["contribution"] == pytest.approx(60_000.0, abs=1e-6)
    assert rows["win rate"]["share_of_gap"] == pytest.approx(1.0)
    assert rows["deals closed"]["contribution"] == rows["deal size"]["contribution"] == 0.0
    assert result.tables["drivers"][0]["driver"] == "win rate"
    assert result.summary == (
        "EMEA FY2027-Q3 bookings are $100K, 150% ahead of last year's (FY2026-Q3) $40.0K: the biggest driver is win rate "
        "(50% vs 20%, +$60.0K)."
    )
    assert "no_opportunity_history" in {w.code for w in result.warnings}  # no slipped-deal rows then
    assert "slipped deals" not in rows and rows["active AEs"]["actual"] == 1


def test_only_the_deal_size_moved_so_it_carries_the_gap(empty: Warehouse) -> None:
    _company(empty, {"2025-09-15": (40, 10, 12_000.0), "2026-09-15": (40, 10, 9_000.0)})
    result = _explain(empty, filters={"region": ["EMEA"]}, period="FY2027-Q3", as_of=AS_OF)
    rows = _rows(result)
    assert result.metrics["gap"] == -30_000.0
    assert rows["deal size"]["contribution"] == pytest.approx(-30_000.0, abs=1e-6)
    assert rows["deals closed"]["contribution"] == rows["win rate"]["contribution"] == 0.0
    assert "25% behind last year's (FY2026-Q3) $120K: the biggest driver is deal size ($9.00K vs $12.0K, -$30.0K)." in (
        result.summary
    )
    rec = result.recommendations[0]
    assert "deal" in rec.action and rec.impact.after == pytest.approx(120_000.0)  # at last year's deal size


def test_bookings_without_their_deals_are_a_row_of_their_own(empty: Warehouse) -> None:
    _company(empty, {"2025-09-15": (10, 5, 1_000.0), "2026-09-15": (10, 5, 1_000.0)})
    with empty.writer() as cur:
        cur.execute("INSERT INTO bookings (booking_id, date, amount, region) VALUES ('X1', '2026-09-20', 700, 'EMEA')")
    result = _explain(empty, filters={"region": ["EMEA"]}, period="FY2027-Q3", as_of=AS_OF)
    rows = _rows(result)
    assert result.metrics["gap"] == 700.0 and rows[UNMATCHED_ROW]["contribution"] == pytest.approx(700.0)
    assert sum(r["contribution"] for r in _decomposed(result)) == pytest.approx(700.0, abs=1e-6)
    assert "bookings_without_deals" in {w.code for w in result.warnings}


def test_a_window_with_no_wins_gives_the_gap_to_the_first_driver_that_vanished() -> None:
    won_nothing = Deals(closed=8, won=0, won_amount=0.0)
    d = decompose(won_nothing, Deals(closed=10, won=2, won_amount=5_000.0))
    assert d.contributions == (0.0, 5_000.0, 0.0) and d.gap == 5_000.0  # win rate went from 0 to 20%
    assert lmdi((0.0, None, None), (4.0, 0.5, 100.0)) == (200.0, 0.0, 0.0)  # nothing closed last time
    assert lmdi((3.0, 2.0), (3.0, 2.0)) == (0.0, 0.0)
    assert log_mean(2.0, 2.0) == 2.0 and log_mean(math.e, 1.0) == pytest.approx(math.e - 1)


# --- periods and errors ---------------------------------------------------------------------


def test_windows_of_each_reference() -> None:
    q3 = FEB.quarter(2027, 3)
    last_period = compare(FEB, q3, AS_OF, "last_period")
    assert (last_period.baseline_period.name, last_period.in_progress) == ("FY2027-Q2", False)
    march = compare(FEB, FEB.month(2026, 3), date(2026, 3, 31), "last_period")  # 31 days of March, 28 of February
    assert (march.actual.days, march.baseline.days, march.in_progress) == (31, 28, False)
    ytd = compare(FEB, FEB.year(2027), AS_OF, "last_year")
    assert (ytd.baseline.start, ytd.baseline.days, ytd.actual.days) == (date(2025, 2, 1), 302, 302)


def test_bad_periods_get_errors_naming_valid_ones(demo: Warehouse) -> None:
    with pytest.raises(InputError) as info:
        _explain(demo, period="the olden days")
    assert "FY2027-Q3" in (info.value.hint or "") and "FY2027-Q4" in (info.value.hint or "")
    with pytest.raises(InputError, match="has not started"):
        _explain(demo, period="next quarter")
    with pytest.raises(InputError, match="date range"):
        _explain(demo, period="trailing 12 months")
    ytd = _explain(demo, period="YTD")  # a period to date is that period in progress
    assert (ytd.metrics["period"], ytd.metrics["in_progress"]) == ("FY2027", True)
    with pytest.raises(InputError, match="No target"):
        _explain(demo, filters={"product": ["Analytics"]}, against="plan")
    with pytest.raises(InputError, match="Unknown region"):
        _explain(demo, filters={"region": ["Atlantis"]})


def test_the_input_model_names_the_references() -> None:
    assert ExplainInput(against="last year").against == "last_year"  # type: ignore[arg-type]
    assert ExplainInput(against="target").against == "plan"  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="last_year, plan, last_period"):
        ExplainInput(against="the moon")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="territory"):
        ExplainInput(filters={"territory": ["T1"]})
    with pytest.raises(ValidationError):
        ExplainInput(period="FY2027-Q3", horizon=2)  # type: ignore[call-arg]


def test_nothing_to_explain_is_a_clear_error(empty: Warehouse) -> None:
    with pytest.raises(NotFoundError) as info:
        _explain(empty, period="FY2027-Q3", as_of=AS_OF)
    assert info.value.hint
