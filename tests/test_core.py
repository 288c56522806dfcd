"""The shared core: period words, selections, the one formatter, coverage, the what-if shape."""

from __future__ import annotations

from datetime import date

import pytest

from agent.grounding import check
from tools.core import coverage as cov
from tools.core import format as fmt
from tools.core.periods import find_periods, parse_period, require
from tools.core.selection import Selection, predicate, resolve_filters, scope_filters
from tools.core.whatif import Figure, comparison, comparison_lines
from warehouse.calendar import FiscalCalendar
from warehouse.connection import Warehouse
from warehouse.errors import InputError, PermissionDeniedError
from warehouse.identity import Scope

FEB = FiscalCalendar(2)
TODAY = date(2026, 11, 29)  # inside FY2027-Q4 (Nov 2026 - Jan 2027)


@pytest.mark.parametrize(
    ("text", "name", "start", "end"),
    [
        ("FY2028", "FY2028", date(2027, 2, 1), date(2028, 2, 1)),
        ("fy28", "FY2028", date(2027, 2, 1), date(2028, 2, 1)),
        ("Q2 FY27", "FY2027-Q2", date(2026, 5, 1), date(2026, 8, 1)),
        ("H2 FY28", "FY2028-H2", date(2027, 8, 1), date(2028, 2, 1)),
        ("2026-09", "2026-09", date(2026, 9, 1), date(2026, 10, 1)),
        ("Sep 2026", "2026-09", date(2026, 9, 1), date(2026, 10, 1)),
        ("Q3", "FY2027-Q3", date(2026, 8, 1), date(2026, 11, 1)),
        ("this quarter", "FY2027-Q4", date(2026, 11, 1), date(2027, 2, 1)),
        ("next quarter", "FY2028-Q1", date(2027, 2, 1), date(2027, 5, 1)),
        ("last quarter", "FY2027-Q3", date(2026, 8, 1), date(2026, 11, 1)),
        ("next year", "FY2028", date(2027, 2, 1), date(2028, 2, 1)),
        ("last fiscal year", "FY2026", date(2025, 2, 1), date(2026, 2, 1)),
        ("the back half", "FY2027-H2", date(2026, 8, 1), date(2027, 2, 1)),
        ("front half of next year", "FY2028-H1", date(2027, 2, 1), date(2027, 8, 1)),
        ("YTD", "FY2027 to date", date(2026, 2, 1), date(2026, 11, 30)),
        ("QTD", "FY2027-Q4 to date", date(2026, 11, 1), date(2026, 11, 30)),
        ("trailing 12 months", "trailing 12 months to 2026-11-29", date(2025, 11, 30), date(2026, 11, 30)),
        ("last 6 months", "trailing 6 months to 2026-11-29", date(2026, 5, 30), date(2026, 11, 30)),
        ("TTM", "trailing 12 months to 2026-11-29", date(2025, 11, 30), date(2026, 11, 30)),
    ],
)
def test_period_words_name_one_period(text: str, name: str, start: date, end: date) -> None:
    p = parse_period(text, FEB, TODAY)
    assert (p.name, p.start, p.end) == (name, start, end)
    # A span passes on by its name and reads back the same (the planner hands names to the tools).
    again = parse_period(p.name, FEB, TODAY)
    assert (again.name, again.start, again.end) == (p.name, p.start, p.end)


def test_unknown_period_words_name_the_forms() -> None:
    with pytest.raises(InputError) as info:
        parse_period("the olden days", FEB, TODAY)
    assert "FY2027-Q2" in (info.value.hint or "") and "YTD" in (info.value.hint or "")
    ytd = parse_period("YTD", FEB, TODAY)
    with pytest.raises(InputError, match="date range"):
        require(ytd, ("year", "half", "quarter"), "a quota")
    with pytest.raises(InputError, match="date range"):
        FEB.shift(ytd, 1)


def test_periods_in_a_sentence_come_in_order() -> None:
    found = find_periods("Compare YTD with last year, then the back half and the next 4 quarters", FEB, TODAY)
    assert [p.name for p in found.periods] == ["FY2027 to date", "FY2026", "FY2027-H2"]
    assert found.quarters_ahead == 4
    assert find_periods("what about Q3?", FEB, TODAY).bare == {"FY2027-Q3"}


@pytest.mark.parametrize(
    ("scope", "filters"),
    [
        (Scope("region", "EMEA"), {"region": ["EMEA"]}),
        (Scope("segment", "SMB"), {"segment": ["SMB"]}),
        (Scope("team", "R-00001"), {"manager": ["R-00001"]}),
        (Scope("own", "R-00014"), {"rep": ["R-00014"]}),
    ],
)
@pytest.mark.parametrize("subject", ["bookings", "opportunities", "accounts", "reps", "quotas", "targets", "headcount"])
def test_a_scope_is_the_filter_it_amounts_to(scope: Scope, filters: dict[str, list[str]], subject: str) -> None:
    assert scope_filters(scope) == filters
    scoped = Selection.of(scope).where(subject, "t", "a")  # type: ignore[arg-type]
    filtered = Selection.of(Scope.everything(), filters).where(subject, "t", "a")  # type: ignore[arg-type]
    assert scoped == filtered


def test_scoped_rows_equal_filtered_rows_in_sql(demo: Warehouse) -> None:
    """The same rows, not only the same text: counted on the demo for every subject that has rows."""
    tables = {"bookings": "bookings", "accounts": "accounts", "reps": "reps", "quotas": "quotas"}
    with demo.reader() as cur:
        for subject, table in tables.items():
            for scope, filters in (
                (Scope("region", "APAC"), {"region": ["APAC"]}),
                (Scope("team", "R-00001"), {"manager": ["R-00001"]}),
            ):
                counts = []
                for sel in (Selection.of(scope), Selection.of(Scope.everything(), filters)):
                    sql, params = sel.where(subject, "t")  # type: ignore[arg-type]
                    counts.append(cur.scalar(f"SELECT count(*) FROM {table} t WHERE {sql}", params))
                assert counts[0] == counts[1] > 0, (subject, scope)


def test_filters_resolve_names_and_refuse_outside_the_scope(demo: Warehouse) -> None:
    with demo.reader() as cur:
        name = cur.scalar("SELECT name FROM reps WHERE rep_id = 'R-00014'")
        assert resolve_filters(cur, {"rep": [name.upper()], "region": ["emea"]}, ("rep", "region")) == {
            "rep": ["R-00014"],
            "region": ["EMEA"],
        }
        with pytest.raises(InputError, match="Did you mean EMEA"):
            resolve_filters(cur, {"region": ["EMAE"]}, ("region",))
        with pytest.raises(InputError, match="Cannot filter by 'product' here"):
            resolve_filters(cur, {"product": ["Analytics"]}, ("region",))
    with pytest.raises(PermissionDeniedError, match="region EMEA"):
        Selection.of(Scope("region", "EMEA"), {"region": ["APAC"]})
    assert predicate({"product": ["Analytics"]}, "headcount", "h")[0] == "TRUE AND FALSE"  # no AE belongs to a product


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (8_685_061, "USD", "$8.69M"),
        (12_830_000, "USD", "$12.8M"),
        (850_400, "USD", "$850K"),
        (999_999, "USD", "$1.00M"),
        (1_234_000_000, "USD", "$1.23B"),
        (920, "USD", "$920"),
        (-1_200_000, "USD", "-$1.20M"),
        (0.55, "share", "55%"),
        (0.0984, "share", "9.8%"),
        (9.49, "x", "9.49x"),
        (12.5, "x", "12.5x"),
        (41.4, "days", "41 days"),
        (1234, "count", "1,234"),
        (5, "points", "+5.0 pts"),
        (0.2961, "index", "0.30"),
    ],
)
def test_one_formatter_reads_back_through_the_grounding_check(value: float, unit: str, text: str) -> None:
    assert fmt.value(value, unit) == text
    assert check(f"The figure is {text}.", [value]).ok  # every form the formatter writes is grounded


def test_changes_of_shares_are_points() -> None:
    assert fmt.change(-0.07, "share") == "-7.0 pts"
    assert check("Attainment moves -7.0 pts.", [-0.07]).ok  # the change of a share reads back as points
    assert not check("Attainment moves -9.0 pts.", [-0.07]).ok
    assert fmt.change(250_000, "USD") == "+$250K"
    assert fmt.change(0, "count") == "±0"
    assert fmt.change(-0.013, "index") == "-0.01"
    assert fmt.quantiles({"p10": 4.4e6, "p50": 8.69e6, "p90": 12.8e6}) == "P50 $8.69M (P10 $4.40M, P90 $12.8M)"


def test_coverage_closed_form() -> None:
    c = cov.coverage(pipeline=6e6, target=5e6, booked=2e6, win_rate=0.25)
    assert c.remaining == 3e6 and c.coverage == pytest.approx(2.0)
    assert c.required == pytest.approx(4.0) and c.to_build == pytest.approx(4.0 * 3e6 - 6e6)
    covered = cov.coverage(pipeline=20e6, target=5e6, booked=2e6, win_rate=0.25)
    assert covered.to_build == 0.0
    assert cov.coverage(pipeline=1e6, target=None, booked=0, win_rate=None).to_build is None
    assert cov.value_win_rate(1, 4, cov.MIN_CLOSED - 1) is None  # too few deals to say
    assert cov.required_coverage(None) == cov.DEFAULT_REQUIRED


def test_the_what_if_shape() -> None:
    rows = comparison(
        {"total_quota": 10.0, "share": {"p50": 0.5}},
        {"total_quota": 11.0, "share": {"p50": 0.45}},
        (Figure("total_quota", "total quota", "USD"), Figure("share.p50", "P50 share at quota", "share")),
        group={"region": "EMEA"},
    )
    assert rows == [
        {"region": "EMEA", "metric": "total quota", "unit": "USD", "baseline": 10.0, "what_if": 11.0, "change": 1.0},
        {
            "region": "EMEA",
            "metric": "P50 share at quota",
            "unit": "share",
            "baseline": 0.5,
            "what_if": 0.45,
            "change": -0.05,
        },
    ]
    assert comparison_lines(rows)[1] == "P50 share at quota EMEA: 50% -> 45% (-5.0 pts)"


def test_lru_keeps_the_most_recently_used_and_remembers_none() -> None:
    from tools.core.lru import Lru

    cache: Lru[int | None] = Lru(2)
    made: list[str] = []

    def make(key: str, value: int | None) -> int | None:
        made.append(key)
        return value

    assert cache.get_or_make("a", lambda: make("a", 1)) == 1
    assert cache.get_or_make("b", lambda: make("b", None)) is None
    assert cache.get_or_make("b", lambda: make("b", 2)) is None  # a remembered None is not recomputed
    assert cache.get("a") == 1  # "a" becomes the most recent, so "b" is the one evicted
    cache.put("c", 3)
    assert cache.get("b") is None and cache.get("a") == 1 and cache.get("c") == 3 and len(cache) == 2
    assert made == ["a", "b"]
    cache.clear()
    assert len(cache) == 0
