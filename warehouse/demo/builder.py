"""Assembles the demo company from its parts and writes it into a warehouse connection.

Deterministic for a (size, seed, as-of) triple: every part draws from its own child of one
`SeedSequence`, so a change in one part's draws does not shift the others.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import date, datetime

import duckdb
import numpy as np
import pandas as pd

from warehouse.calendar import FiscalCalendar, add_months
from warehouse.demo import config as cfg
from warehouse.demo import defects
from warehouse.demo.accounts import build_accounts
from warehouse.demo.calls import build_calls
from warehouse.demo.geography import GEO_COLUMNS, all_geos
from warehouse.demo.org import build_org
from warehouse.demo.pipeline import build_pipeline
from warehouse.demo.plans import build_comp_plans, build_quotas, build_targets, build_users

GENERATOR_VERSION = "demo-1"

# Insertion order and the columns written for each table.
TABLE_COLUMNS: dict[str, list[str]] = {
    "regions": ["name", "sort_order"],
    "segments": ["name", "sort_order", "effort_weight"],
    "products": ["name", "family", "sort_order"],
    "stages": ["name", "sort_order", "default_probability", "is_closed", "is_won"],
    "geos": [*GEO_COLUMNS, "region"],
    "territories": ["territory_id", "name", "region", "segment", "rep_id"],
    "territory_geos": ["territory_id", "country", "zip", "segment"],
    "reps": [
        "rep_id",
        "name",
        "email",
        "role",
        "region",
        "segment",
        "territory_id",
        "manager_id",
        "home_zip",
        "home_country",
        "hire_date",
        "end_date",
        "ote",
        "ramp_months",
    ],
    "accounts": [
        "account_id",
        "name",
        "industry",
        "employees",
        "annual_revenue",
        "city",
        "zip",
        "country",
        "region",
        "segment",
        "territory_id",
        "owner_rep_id",
        "arr",
        "potential",
        "is_strategic",
        "created_date",
    ],
    "opportunities": [
        "opp_id",
        "name",
        "account_id",
        "owner_rep_id",
        "product",
        "type",
        "created_date",
        "close_date",
        "stage",
        "amount",
        "is_closed",
        "is_won",
        "forecast_category",
        "lost_reason",
        "push_count",
        "stage_changed_date",
    ],
    "opportunity_history": [
        "opp_id",
        "seq",
        "changed_date",
        "stage",
        "amount",
        "close_date",
        "forecast_category",
    ],
    "bookings": [
        "booking_id",
        "date",
        "amount",
        "region",
        "segment",
        "product",
        "rep_id",
        "account_id",
        "opp_id",
    ],
    "quotas": ["rep_id", "period", "amount"],
    "targets": ["period", "region", "segment", "amount"],
    "comp_plans": [
        "plan_id",
        "name",
        "role",
        "segment",
        "fiscal_year",
        "variable_share",
        "threshold",
        "decelerator",
        "accelerators",
        "cap",
    ],
    "headcount_plan": [
        "req_id",
        "role",
        "region",
        "segment",
        "territory_id",
        "planned_start",
        "status",
        "ote",
        "backfill_for",
    ],
    "forecast_calls": [
        "call_id",
        "caller_rep_id",
        "book",
        "period",
        "category",
        "amount",
        "comment",
        "version",
        "submitted_by",
        "submitted_at",
        "run_id",
    ],
    "users": [
        "user_id",
        "name",
        "email",
        "slack_id",
        "role",
        "scope_kind",
        "scope_value",
        "created_at",
    ],
}


@dataclass
class DemoData:
    tables: dict[str, pd.DataFrame]
    meta: dict[str, str]
    planted: defects.Planted


def generate(size: cfg.Size | cfg.DemoSize, seed: int, as_of: date) -> DemoData:
    """The demo company of a named size, or of a custom `DemoSize` (benchmarks)."""
    if isinstance(size, cfg.DemoSize):
        spec, size = size, f"custom-{size.accounts}x{size.aes}"  # type: ignore[assignment]
    elif size in cfg.SIZES:
        spec = cfg.SIZES[size]
    else:
        raise ValueError(f"Unknown demo size {size!r}.")
    calendar = FiscalCalendar(cfg.FISCAL_YEAR_START_MONTH)
    current_fy = calendar.fiscal_year_of(as_of)
    history_start = calendar.year_start(current_fy - cfg.HISTORY_YEARS)
    sim_start = add_months(history_start, -12)  # burn-in: pipeline in flight at history start
    # Children of one seed sequence are fixed by their index: a stream added last changes no other.
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(7)]
    rng_org, rng_acc, rng_pipe, rng_plan, rng_defect, rng_home, rng_calls = streams

    geos = all_geos()
    org = build_org(rng_org, spec, sim_start, as_of)
    accounts = build_accounts(rng_acc, spec, org, geos, history_start, as_of)
    pipe = build_pipeline(rng_pipe, spec, org, accounts, calendar, sim_start, history_start, as_of)

    acc = accounts.frame
    won_by_account = pipe.bookings.groupby("account_id")["amount"].sum()
    arr = accounts.base_arr + won_by_account.reindex(acc["account_id"]).fillna(0.0).to_numpy()
    acc["arr"] = np.round(np.minimum(arr, acc["potential"].to_numpy() * 1.2), -2)

    # Reps live near their territory: the location of one of its accounts.
    seat_geo = acc.groupby("seat")["geo"].agg(lambda g: g.iloc[int(rng_home.integers(len(g)))])
    for seat in org.seats.itertuples():  # a seat whose territory got no accounts: somewhere in its region
        if seat.Index not in seat_geo.index:
            pool = acc.loc[acc["region"] == seat.region, "geo"]
            if len(pool):
                seat_geo.loc[seat.Index] = pool.iloc[int(rng_home.integers(len(pool)))]
    reps = org.reps.copy()
    home_geo = np.full(len(reps), -1, dtype=np.int64)
    for rep, seat in zip(org.tenures["rep"], org.tenures["seat"], strict=True):
        home_geo[rep] = seat_geo.get(seat, -1)
    for seat in org.seats.itertuples():
        if home_geo[seat.manager_rep] < 0:
            home_geo[seat.manager_rep] = seat_geo.get(seat.Index, -1)
    has_home = home_geo >= 0
    reps["home_zip"] = np.where(has_home, geos["zip"].to_numpy()[np.maximum(home_geo, 0)], None)
    reps["home_country"] = np.where(has_home, geos["country"].to_numpy()[np.maximum(home_geo, 0)], None)

    planted = defects.Planted()
    opps, history = pipe.opportunities, pipe.history
    opps, history, planted.zombie_opps = defects.plant_zombies(rng_defect, opps, history, as_of)
    opps, history, planted.amount_outlier_opps = defects.plant_amount_outliers(rng_defect, opps, history)
    acc, planted.duplicate_accounts = defects.plant_duplicates(rng_defect, acc)
    acc, planted.ownerless_accounts = defects.plant_ownerless(rng_defect, acc)
    acc, planted.unmapped_zip_accounts, extra_geo = defects.plant_unmapped_zips(
        rng_defect, acc, geos, accounts.territory_geos
    )

    targets = build_targets(rng_plan, pipe.bookings, calendar, current_fy - cfg.HISTORY_YEARS, current_fy)
    quotas = build_quotas(org, targets, calendar, as_of)
    quarter = calendar.period_of(as_of, "quarter").name
    quotas, planted.reps_without_quota, planted.quotas_without_rep = defects.plant_quota_gaps(
        rng_defect, quotas, reps, quarter
    )

    used_geo = np.unique(np.concatenate([acc["geo"].to_numpy(), extra_geo, home_geo[has_home]]))
    geo_table = geos.iloc[used_geo][[*GEO_COLUMNS, "region"]]

    seats = org.seats
    main_city = acc.groupby("territory_id")["city"].agg(lambda c: c.value_counts().index[0])
    occupant_now = org.occupant[:, -1]
    territories = pd.DataFrame(
        {
            "territory_id": seats["territory_id"],
            "name": [
                f"{r} {s} {k:02d} - {main_city.get(t, 'unassigned')}"
                for r, s, k, t in zip(
                    seats["region"],
                    seats["segment"],
                    seats["number"],
                    seats["territory_id"],
                    strict=True,
                )
            ],
            "region": seats["region"],
            "segment": seats["segment"],
            "rep_id": np.where(occupant_now >= 0, reps["rep_id"].to_numpy()[np.maximum(occupant_now, 0)], None),
        }
    )

    tables = {
        "regions": pd.DataFrame({"name": cfg.REGIONS, "sort_order": range(len(cfg.REGIONS))}),
        "segments": pd.DataFrame(
            {
                "name": cfg.SEGMENTS,
                "sort_order": range(len(cfg.SEGMENTS)),
                "effort_weight": [cfg.SEGMENT_EFFORT[s] for s in cfg.SEGMENTS],
            }
        ),
        "products": pd.DataFrame(
            {
                "name": cfg.PRODUCTS,
                "family": [cfg.PRODUCT_FAMILY[p] for p in cfg.PRODUCTS],
                "sort_order": range(len(cfg.PRODUCTS)),
            }
        ),
        "stages": pd.DataFrame(
            [(name, i + 1, p, False, False) for i, (name, p) in enumerate(cfg.OPEN_STAGES)]
            + [(cfg.WON_STAGE, 6, 1.0, True, True), (cfg.LOST_STAGE, 7, 0.0, True, False)],
            columns=TABLE_COLUMNS["stages"],
        ),
        "geos": geo_table,
        "territories": territories,
        "territory_geos": accounts.territory_geos,
        "reps": reps,
        "accounts": acc,
        "opportunities": opps,
        "opportunity_history": history,
        "bookings": pipe.bookings,
        "quotas": quotas,
        "targets": targets,
        "comp_plans": build_comp_plans(current_fy),
        "headcount_plan": org.headcount_plan,
        "users": build_users(org, datetime.combine(as_of, datetime.min.time())),
        "forecast_calls": build_calls(rng_calls, reps, pipe.bookings, calendar, as_of),
    }
    meta = {
        "fiscal_year_start_month": str(cfg.FISCAL_YEAR_START_MONTH),
        "as_of": as_of.isoformat(),
        "demo_size": str(size),
        "demo_seed": str(seed),
        "generator": GENERATOR_VERSION,
        "demo_planted": json.dumps(asdict(planted)),
    }
    return DemoData(tables=tables, meta=meta, planted=planted)


def write_tables(connection: duckdb.DuckDBPyConnection, tables: dict[str, pd.DataFrame]) -> None:
    """Insert the frames into their tables (inside the caller's transaction)."""
    for table, columns in TABLE_COLUMNS.items():
        frame = tables.get(table)
        if frame is None or frame.empty:
            continue
        connection.register("_demo_source", frame[columns])
        try:
            cols = ", ".join(columns)
            connection.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM _demo_source")
        finally:
            connection.unregister("_demo_source")


def write_meta(connection: duckdb.DuckDBPyConnection, meta: dict[str, str]) -> None:
    connection.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", list(meta.items()))
