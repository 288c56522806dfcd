"""The sales organisation over time: seats (territories), the AEs who held them, managers.

A seat is a quota-carrying territory. The company adds seats as it grows; each seat is held
by a sequence of AEs: an AE leaves after an exponential tenure (the attrition hazard), the
seat stays vacant for the time to fill, then a new AE starts and ramps. Seats vacant at the
as-of date, and seats planned for growth, are the open requisitions of the headcount plan.
Months are counted from the first simulated month (month 0), a burn-in year before the
history that the warehouse keeps, so pipeline is already in flight when history starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from warehouse.calendar import add_months
from warehouse.demo import config as cfg
from warehouse.demo.names import person_names

SEGMENT_CODE = {"Enterprise": "ENT", "Mid-Market": "MM", "SMB": "SMB"}
AES_PER_MANAGER = 8
SEAT_GROWTH_PER_YEAR = 0.12


@dataclass
class Org:
    seats: pd.DataFrame  # seat, territory_id, region, segment, created_month, manager_rep
    tenures: pd.DataFrame  # rep, seat, start_month, end_month (exclusive, -1 = still there)
    reps: pd.DataFrame  # reps table rows (home_zip/home_country filled in later)
    headcount_plan: pd.DataFrame
    occupant: np.ndarray  # [seat, month] -> rep row index, -1 vacant, -2 seat not created
    ramp: np.ndarray  # [seat, month] -> ramp factor of the occupant (0..1)
    skill: np.ndarray  # [rep row] -> win-rate skill (logit offset)
    months: int


def _random_day(rng: np.random.Generator, month_start: date) -> date:
    days = (add_months(month_start, 1) - month_start).days
    return month_start + timedelta(days=int(rng.integers(0, days)))


def _seat_counts(total: int) -> list[tuple[str, str, int]]:
    """Seats per (region, segment), largest-remainder rounding of the configured shares."""
    cells = [
        (region, segment, rs * ss)
        for region, rs in zip(cfg.REGIONS, cfg.REGION_SHARE, strict=True)
        for segment, ss in zip(cfg.SEGMENTS, cfg.SEAT_SEGMENT_SHARE, strict=True)
    ]
    raw = np.array([share * total for _, _, share in cells])
    counts = np.maximum(np.floor(raw).astype(int), 1)
    order = np.argsort(-(raw - np.floor(raw)), kind="stable")
    for i in order[: max(total - counts.sum(), 0)]:
        counts[i] += 1
    return [(r, s, int(c)) for (r, s, _), c in zip(cells, counts, strict=True)]


def build_org(rng: np.random.Generator, size: cfg.DemoSize, sim_start: date, as_of: date) -> Org:
    months = (as_of.year - sim_start.year) * 12 + as_of.month - sim_start.month + 1
    years = months / 12.0

    seat_rows = []
    for region, segment, count in _seat_counts(size.aes):
        initial = max(1, round(count / (1 + SEAT_GROWTH_PER_YEAR) ** years))
        for k in range(count):
            created = -1 if k < initial else int(rng.integers(1, months))
            seat_rows.append((region, segment, k + 1, created))
    seats = pd.DataFrame(seat_rows, columns=["region", "segment", "number", "created_month"])
    seats["territory_id"] = (
        "T-" + seats["region"] + "-" + seats["segment"].map(SEGMENT_CODE) + "-" + seats["number"].map("{:02d}".format)
    )
    n_seats = len(seats)

    # Managers: one per AES_PER_MANAGER seats of a region and segment, hired well before history.
    managers: list[tuple[str, str]] = []
    manager_of_seat = np.empty(n_seats, dtype=np.int64)
    for (region, segment), group in seats.groupby(["region", "segment"], sort=False):
        n_mgr = max(1, int(np.ceil(len(group) / AES_PER_MANAGER)))
        for j, seat_index in enumerate(group.index):
            manager_of_seat[seat_index] = len(managers) + j * n_mgr // len(group)
        for _ in range(n_mgr):
            managers.append((region, segment))
    seats["manager"] = manager_of_seat

    # AE tenures per seat.
    hazard_per_month = -np.log(1 - cfg.ANNUAL_ATTRITION) / 12.0
    tenure_rows: list[tuple[int, date, date | None]] = []  # seat, hire date, end date (None: still in seat)
    vacancies = []  # seat, departed rep tenure index, planned start date
    for seat in range(n_seats):
        created = seats.at[seat, "created_month"]
        if created < 0:
            tenure_before = rng.exponential(1 / hazard_per_month)
            hire = _random_day(rng, add_months(sim_start, -int(min(tenure_before, 96)) - 1))
        else:
            hire = _random_day(rng, add_months(sim_start, created))
        while True:
            # Memoryless tenure: an AE already in the seat when history starts is still there.
            stay = rng.exponential(1 / hazard_per_month)
            end = max(hire, sim_start) + timedelta(days=int(stay * 30.44))
            if end > as_of:
                tenure_rows.append((seat, hire, None))
                break
            tenure_rows.append((seat, hire, end))
            fill = int(rng.integers(cfg.TIME_TO_FILL_MONTHS[0], cfg.TIME_TO_FILL_MONTHS[1] + 1))
            hire = _random_day(rng, add_months(end, fill))
            if hire > as_of:
                vacancies.append((seat, len(tenure_rows) - 1, hire))
                break

    n_ae = len(tenure_rows)
    n_mgr = len(managers)
    names = person_names(rng, n_mgr + n_ae)
    rep_ids = [f"R-{i + 1:05d}" for i in range(n_mgr + n_ae)]

    def email(name: str, i: int) -> str:
        parts = [p.strip(".").lower() for p in name.split() if len(p.strip(".")) > 1]
        return f"{'.'.join(parts)}.{i + 1}@example-spm.com"

    rep_rows = []
    for m, (region, segment) in enumerate(managers):
        hire = _random_day(rng, add_months(sim_start, -int(rng.integers(24, 96))))
        ote = cfg.SEGMENT_OTE[segment] * 1.25 * cfg.REGION_OTE_FACTOR[region]
        rep_rows.append(
            {
                "rep_id": rep_ids[m],
                "name": names[m],
                "email": email(names[m], m),
                "role": "Manager",
                "region": region,
                "segment": segment,
                "territory_id": None,
                "manager_id": None,
                "hire_date": hire,
                "end_date": None,
                "ote": round(ote, -3),
                "ramp_months": None,
            }
        )
    ramp_months = np.empty(n_ae, dtype=np.int64)
    for t, (seat, hire, left) in enumerate(tenure_rows):
        i = n_mgr + t
        region, segment = seats.at[seat, "region"], seats.at[seat, "segment"]
        ramp_months[t] = cfg.SEGMENT_RAMP_MONTHS[segment] + int(rng.integers(-1, 2))
        ote = cfg.SEGMENT_OTE[segment] * cfg.REGION_OTE_FACTOR[region] * rng.uniform(0.92, 1.08)
        rep_rows.append(
            {
                "rep_id": rep_ids[i],
                "name": names[i],
                "email": email(names[i], i),
                "role": "AE",
                "region": region,
                "segment": segment,
                "territory_id": seats.at[seat, "territory_id"],
                "manager_id": rep_ids[int(seats.at[seat, "manager"])],
                "hire_date": hire,
                "end_date": left,
                "ote": round(ote, -3),
                "ramp_months": int(ramp_months[t]),
            }
        )
    reps = pd.DataFrame(rep_rows)
    seats["manager_rep"] = seats["manager"]  # manager row index in reps

    # Occupancy and ramp per seat and month.
    occupant = np.full((n_seats, months), -1, dtype=np.int64)
    ramp = np.zeros((n_seats, months))
    created = seats["created_month"].to_numpy()
    for seat in range(n_seats):
        if created[seat] > 0:
            occupant[seat, : created[seat]] = -2
    month_index = np.arange(months)
    for t, (seat, hire, left) in enumerate(tenure_rows):
        start_m = (hire.year - sim_start.year) * 12 + hire.month - sim_start.month
        end_m = months if left is None else ((left.year - sim_start.year) * 12 + left.month - sim_start.month)
        lo, hi = max(start_m, 0), min(end_m, months)
        if hi <= lo:
            continue
        occupant[seat, lo:hi] = n_mgr + t
        tenure_months = month_index[lo:hi] - start_m + 0.5
        ramp[seat, lo:hi] = np.clip(tenure_months / ramp_months[t], 0.05, 1.0)

    skill = rng.normal(0.0, 0.3, size=n_mgr + n_ae)
    skill[:n_mgr] = 0.0

    tenures = pd.DataFrame(
        [(n_mgr + t, seat, hire, end) for t, (seat, hire, end) in enumerate(tenure_rows)],
        columns=["rep", "seat", "hire_date", "end_date"],
    )

    # Headcount plan: backfills for vacant seats and growth seats planned for the next months.
    req_rows: list[tuple[str, str, str, str | None, date, str | None]] = []
    for seat, tenure_index, planned in vacancies:
        departed = rep_ids[n_mgr + tenure_index]
        region, segment = seats.at[seat, "region"], seats.at[seat, "segment"]
        req_rows.append(
            (
                "AE",
                region,
                segment,
                seats.at[seat, "territory_id"],
                planned,
                departed,
            )
        )
    n_growth = max(2, round(size.aes * 0.06))
    cells = _seat_counts(size.aes)
    weights = np.array([c for _, _, c in cells], dtype=float)
    for cell in rng.choice(len(cells), size=n_growth, p=weights / weights.sum()):
        region, segment, _ = cells[cell]
        planned = _random_day(rng, add_months(as_of, int(rng.integers(1, 7))))
        req_rows.append(("AE", region, segment, None, planned, None))
    headcount = pd.DataFrame(
        req_rows,
        columns=["role", "region", "segment", "territory_id", "planned_start", "backfill_for"],
    )
    headcount = headcount.sort_values(["planned_start", "region", "segment"], kind="stable")
    headcount.insert(0, "req_id", [f"REQ-{i + 1:04d}" for i in range(len(headcount))])
    headcount["status"] = "open"
    headcount["ote"] = [
        round(cfg.SEGMENT_OTE[s] * cfg.REGION_OTE_FACTOR[r], -3)
        for r, s in zip(headcount["region"], headcount["segment"], strict=True)
    ]
    return Org(
        seats=seats,
        tenures=tenures,
        reps=reps,
        headcount_plan=headcount.reset_index(drop=True),
        occupant=occupant,
        ramp=ramp,
        skill=skill,
        months=months,
    )
