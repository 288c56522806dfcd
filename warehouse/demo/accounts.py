"""Accounts: firmographics, potential, geography, territories that start out unbalanced.

Potential (the annual spend available to us) grows with headcount (elasticity 0.75) and
varies by industry; it is the "true" opportunity of the account and drives opportunity
volume and deal sizes in `pipeline.py`. Territories are cut from a geographic ordering of the
accounts of a region and segment into pieces of random size (Dirichlet shares), so some reps
are overloaded and some starved, the way hand-drawn territories are. A postal code never
splits between two territories of the same segment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from warehouse.demo import config as cfg
from warehouse.demo.geography import sample_locations
from warehouse.demo.names import company_names
from warehouse.demo.org import Org

TERRITORY_SIZE_CONCENTRATION = 6.0  # Dirichlet alpha: lower = more unbalanced territories
POTENTIAL_PER_EMPLOYEE = 1_250.0  # USD, at elasticity 0.75
BASE_CUSTOMER_P = {"Enterprise": 0.45, "Mid-Market": 0.28, "SMB": 0.15}


@dataclass
class Accounts:
    frame: pd.DataFrame  # accounts table columns plus helper columns seat, geo
    territory_geos: pd.DataFrame
    base_arr: np.ndarray  # ARR already in place when history starts


def _spatial_order(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Serpentine order over 4-degree longitude bands: neighbours in order are near in space."""
    band = np.floor((lon + 180.0) / 4.0).astype(np.int64)
    key_lat = np.where(band % 2 == 0, lat, -lat)
    return np.lexsort((key_lat, band))


def build_accounts(
    rng: np.random.Generator,
    size: cfg.DemoSize,
    org: Org,
    geos: pd.DataFrame,
    history_start: date,
    as_of: date,
) -> Accounts:
    n = size.accounts
    regions = rng.choice(np.array(cfg.REGIONS, dtype=object), size=n, p=cfg.REGION_SHARE)
    segments = rng.choice(np.array(cfg.SEGMENTS, dtype=object), size=n, p=cfg.ACCOUNT_SEGMENT_SHARE)
    geo = sample_locations(rng, regions, geos)

    employees = np.empty(n)
    for segment, (lo, hi) in cfg.SEGMENT_EMPLOYEES.items():
        mask = segments == segment
        u = rng.beta(1.0, 2.2, int(mask.sum()))  # skewed to the small end, as firm sizes are
        employees[mask] = np.exp(np.log(lo) + u * (np.log(hi) - np.log(lo)))
    employees = np.round(employees).astype(np.int64)

    industry_idx = rng.choice(len(cfg.INDUSTRIES), size=n, p=cfg.INDUSTRY_SHARE)
    revenue = (
        employees * np.asarray(cfg.INDUSTRY_REVENUE_PER_EMPLOYEE)[industry_idx] * 1_000 * rng.lognormal(0.0, 0.4, n)
    )
    potential = (
        POTENTIAL_PER_EMPLOYEE
        * employees**0.75
        * np.asarray(cfg.INDUSTRY_POTENTIAL)[industry_idx]
        * rng.lognormal(0.0, 0.35, n)
    )

    frame = pd.DataFrame(
        {
            "account_id": [f"A-{i + 1:06d}" for i in range(n)],
            "name": company_names(rng, regions),
            "industry": np.asarray(cfg.INDUSTRIES, dtype=object)[industry_idx],
            "employees": employees,
            "annual_revenue": np.round(revenue, -3),
            "city": geos["city"].to_numpy()[geo],
            "zip": geos["zip"].to_numpy()[geo],
            "country": geos["country"].to_numpy()[geo],
            "region": regions,
            "segment": segments,
            "potential": np.round(potential, -2),
            "geo": geo,
        }
    )

    # Territories: cut each region x segment into its seats along a spatial order.
    seat = np.full(n, -1, dtype=np.int64)
    lat, lon = geos["lat"].to_numpy()[geo], geos["lon"].to_numpy()[geo]
    for (region, segment), group in org.seats.groupby(["region", "segment"], sort=False):
        members = np.flatnonzero((regions == region) & (segments == segment))
        if len(members) == 0:
            continue
        ordered = members[_spatial_order(lat[members], lon[members])]
        shares = rng.dirichlet(np.full(len(group), TERRITORY_SIZE_CONCENTRATION))
        bounds = np.round(np.cumsum(shares) * len(ordered)).astype(np.int64)
        seat_order = rng.permutation(group.index.to_numpy())
        seat[ordered] = seat_order[np.searchsorted(bounds, np.arange(len(ordered)), side="right")]
    frame["seat"] = seat
    # Keep each postal code in one territory per segment: the one holding most of its accounts.
    mode_seat = (
        frame.groupby(["country", "zip", "segment", "seat"])
        .size()
        .reset_index(name="n")
        .sort_values(["country", "zip", "segment", "n", "seat"], ascending=[1, 1, 1, 0, 1])
        .drop_duplicates(["country", "zip", "segment"])
        .drop(columns="n")
    )
    frame = frame.drop(columns="seat").merge(mode_seat, on=["country", "zip", "segment"], how="left")
    seats = org.seats
    frame["territory_id"] = seats["territory_id"].to_numpy()[frame["seat"].to_numpy()]
    territory_geos = frame[["territory_id", "country", "zip", "segment"]].drop_duplicates(["country", "zip", "segment"])

    # Owners at the as-of date: the seat's AE; for vacant seats the departed AE mostly stays
    # as owner (a classic CRM problem), the rest sits with the manager.
    occupant_now = org.occupant[frame["seat"].to_numpy(), -1]
    last_holder = org.tenures.groupby("seat")["rep"].max()
    departed = last_holder.reindex(frame["seat"]).to_numpy()
    manager = seats["manager_rep"].to_numpy()[frame["seat"].to_numpy()]
    vacant_owner = np.where(rng.random(n) < 0.7, departed, manager)
    owner_row = np.where(occupant_now >= 0, occupant_now, vacant_owner)
    frame["owner_rep_id"] = org.reps["rep_id"].to_numpy()[owner_row]

    rank_in_region = frame.groupby("region")["potential"].rank(ascending=False, pct=True)
    frame["is_strategic"] = ((frame["segment"] == "Enterprise") & (rank_in_region < 0.02)) | (
        (frame["segment"] == "Mid-Market") & (rank_in_region < 0.004)
    )
    span = (as_of - history_start).days + 5 * 365
    created_offset = rng.integers(30, span, n)
    frame["created_date"] = [as_of - timedelta(days=int(d)) for d in created_offset]

    base_p = frame["segment"].map(BASE_CUSTOMER_P).to_numpy()
    base_arr = np.where(rng.random(n) < base_p, frame["potential"].to_numpy() * rng.uniform(0.1, 0.45, n), 0.0)
    return Accounts(frame=frame, territory_geos=territory_geos, base_arr=base_arr)
