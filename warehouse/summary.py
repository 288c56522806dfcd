"""A short tour of a warehouse: what it holds, for `spm data summary` and the demo."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from warehouse.calendar import FiscalCalendar
from warehouse.connection import ReadCursor
from warehouse.migrate import current_version
from warehouse.targets import total_target

COUNTED_TABLES = (
    "regions",
    "segments",
    "products",
    "territories",
    "reps",
    "accounts",
    "opportunities",
    "opportunity_history",
    "bookings",
    "quotas",
    "targets",
    "comp_plans",
    "headcount_plan",
    "users",
)


@dataclass
class Summary:
    as_of: date
    fiscal_year_start_month: int
    fiscal_year: str
    quarter: str
    schema_version: int
    source: str
    counts: dict[str, int]
    reps: dict[str, int]
    bookings_by_year: list[dict[str, Any]] = field(default_factory=list)
    current_year_by_region: list[dict[str, Any]] = field(default_factory=list)
    pipeline_by_stage: list[dict[str, Any]] = field(default_factory=list)
    open_requisitions: int = 0


def summarize(cur: ReadCursor, as_of: date, calendar: FiscalCalendar) -> Summary:
    meta = dict(cur.execute("SELECT key, value FROM meta").fetchall())
    year = calendar.period_of(as_of, "year")
    quarter = calendar.period_of(as_of, "quarter")
    counts = {t: int(cur.scalar(f"SELECT count(*) FROM {t}")) for t in COUNTED_TABLES}
    reps = dict(
        zip(
            ("active_aes", "managers", "departed"),
            cur.execute(
                """
                SELECT count(*) FILTER (WHERE role = 'AE' AND coalesce(end_date > ?, true)),
                       count(*) FILTER (WHERE role = 'Manager' AND coalesce(end_date > ?, true)),
                       count(*) FILTER (WHERE end_date IS NOT NULL AND end_date <= ?)
                FROM reps
                """,
                [as_of, as_of, as_of],
            ).fetchone()
            or (0, 0, 0),
            strict=True,
        )
    )
    by_year = []
    for offset in range(3, -1, -1):
        fy = calendar.shift(year, -offset)
        end = min(fy.end, date.fromordinal(as_of.toordinal() + 1))
        amount, deals = cur.execute(
            "SELECT coalesce(sum(amount), 0), count(*) FROM bookings WHERE date >= ? AND date < ?",
            [fy.start, end],
        ).fetchone() or (0, 0)
        target = total_target(cur, [calendar.quarter(fy.fiscal_year, q).name for q in (1, 2, 3, 4)])
        by_year.append(
            {
                "fiscal_year": fy.name,
                "to_date": fy.end > as_of,
                "bookings": float(amount),
                "deals": int(deals),
                "target": None if target is None else float(target),
            }
        )
    region_rows = cur.execute(
        """
        WITH b AS (SELECT coalesce(region, '(none)') AS region, sum(amount) AS bookings
                   FROM bookings WHERE date >= ? AND date <= ? GROUP BY 1),
             t AS (SELECT region, sum(amount) AS target FROM targets
                   WHERE period LIKE ? AND region <> 'All'
                     AND (segment <> 'All') = (SELECT count(*) > 0 FROM targets
                          WHERE period LIKE ? AND region <> 'All' AND segment <> 'All')
                   GROUP BY 1)
        SELECT coalesce(b.region, t.region) AS region, coalesce(b.bookings, 0), t.target
        FROM b FULL OUTER JOIN t ON b.region = t.region ORDER BY 1
        """,
        [year.start, as_of, f"{year.name}-Q%", f"{year.name}-Q%"],
    ).fetchall()
    by_region = [
        {"region": r, "bookings": float(b), "target": None if t is None else float(t)} for r, b, t in region_rows
    ]
    stage_rows = cur.execute(
        """
        SELECT o.stage, count(*), sum(o.amount)
        FROM opportunities o LEFT JOIN stages s ON s.name = o.stage
        WHERE NOT o.is_closed AND o.close_date >= ?
        GROUP BY o.stage, s.sort_order ORDER BY s.sort_order NULLS LAST, o.stage
        """,
        [as_of],
    ).fetchall()
    pipeline = [{"stage": s, "deals": int(n), "amount": float(a)} for s, n, a in stage_rows]
    reqs = int(cur.scalar("SELECT count(*) FROM headcount_plan WHERE status = 'open'") or 0)
    return Summary(
        as_of=as_of,
        fiscal_year_start_month=calendar.start_month,
        fiscal_year=year.name,
        quarter=quarter.name,
        schema_version=current_version(cur),
        source=(
            f"demo company ({meta['demo_size']}, seed {meta['demo_seed']})" if "demo_size" in meta else "imported data"
        ),
        counts=counts,
        reps=reps,
        bookings_by_year=by_year,
        current_year_by_region=by_region,
        pipeline_by_stage=pipeline,
        open_requisitions=reqs,
    )
