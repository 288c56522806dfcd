"""Targets, quotas, comp plans and the demo's users.

Targets per region x segment and fiscal quarter follow how finance sets them: last fiscal
year's bookings grown by `TARGET_GROWTH`, spread over the quarters by last year's seasonal
shape. Quotas split each target, over-assigned, equally among the AEs active in the quarter
(pro-rated for partial quarters and ramp), which ignores territory potential: the unfairness
the quota tool is there to find.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd

from warehouse.calendar import FiscalCalendar, Period
from warehouse.demo import config as cfg
from warehouse.demo.org import Org


def _quarter_actuals(bookings: pd.DataFrame, calendar: FiscalCalendar, quarters: list[Period]) -> pd.DataFrame:
    dates = pd.to_datetime(bookings["date"])
    starts = np.array([np.datetime64(q.start) for q in quarters])
    idx = np.searchsorted(starts, dates.to_numpy().astype("datetime64[D]"), side="right") - 1
    frame = bookings.assign(q=idx)
    frame = frame[(frame["q"] >= 0) & (frame["q"] < len(quarters))]
    return frame.groupby(["q", "region", "segment"])["amount"].sum()


def build_targets(
    rng: np.random.Generator,
    bookings: pd.DataFrame,
    calendar: FiscalCalendar,
    first_fy: int,
    current_fy: int,
) -> pd.DataFrame:
    quarters = [calendar.quarter(fy, q) for fy in range(first_fy, current_fy + 2) for q in (1, 2, 3, 4)]
    actual = _quarter_actuals(bookings, calendar, quarters)
    # Finance seasonalises every cell with the company's average quarterly shape.
    company = actual.groupby(level=0).sum().reindex(range(len(quarters)), fill_value=0.0)
    complete = company.to_numpy().reshape(-1, 4)[: current_fy - first_fy]
    shape = (complete / complete.sum(axis=1, keepdims=True)).mean(axis=0)
    rows: list[dict[str, object]] = []
    for region in cfg.REGIONS:
        for segment in cfg.SEGMENTS:
            by_q = np.array([actual.get((i, region, segment), 0.0) for i in range(len(quarters))], float)
            years = by_q.reshape(-1, 4)
            for y, fy in enumerate(range(first_fy, current_fy + 2)):
                if y == 0:  # no earlier year on record: the plan was near what happened
                    plan = years[0].sum() * rng.uniform(0.95, 1.15) * shape
                elif fy <= current_fy:
                    plan = years[y - 1].sum() * (1 + cfg.TARGET_GROWTH) * shape
                else:  # next fiscal year: grow this year's plan
                    plan = np.array([r["amount"] for r in rows[-4:]]) * (1 + cfg.TARGET_GROWTH)
                for q in range(4):
                    rows.append(
                        {
                            "period": calendar.quarter(fy, q + 1).name,
                            "region": region,
                            "segment": segment,
                            "amount": float(np.round(plan[q], -4)),
                        }
                    )
    return pd.DataFrame(rows)


def build_quotas(org: Org, targets: pd.DataFrame, calendar: FiscalCalendar, as_of: date) -> pd.DataFrame:
    """Quarterly quotas for every AE active in a quarter, up to the end of the current year."""
    current_fy = calendar.fiscal_year_of(as_of)
    aes = org.reps[org.reps["role"] == "AE"]
    rows = []
    for period_name, group in targets.groupby("period", sort=False):
        quarter = calendar.parse(period_name)
        if quarter.fiscal_year > current_fy:
            continue
        q_days = (quarter.end - quarter.start).days
        for (region, segment), cell in group.groupby(["region", "segment"]):
            members = aes[(aes["region"] == region) & (aes["segment"] == segment)]
            hire = pd.to_datetime(members["hire_date"]).dt.date
            end = pd.to_datetime(members["end_date"]).dt.date
            weights = []
            for h, e, ramp_months in zip(hire, end, members["ramp_months"], strict=True):
                active_from = max(h, quarter.start)
                active_to = quarter.end if pd.isna(e) else min(e, quarter.end)
                active_days = (active_to - active_from).days
                if active_days < 30:
                    weights.append(0.0)
                    continue
                midpoint = active_from + timedelta(days=active_days // 2)
                tenure_months = (midpoint - h).days / 30.44
                ramp = min(1.0, max(tenure_months / ramp_months, 0.1))
                weights.append(active_days / q_days * ramp)
            w = np.array(weights)
            if w.sum() == 0:
                continue
            pool = float(cell["amount"].sum()) * (1 + cfg.OVER_ASSIGNMENT)
            for rep_id, share in zip(members["rep_id"], w / w.sum(), strict=True):
                if share > 0:
                    rows.append({"rep_id": rep_id, "period": period_name, "amount": round(pool * share, -3)})
    return pd.DataFrame(rows, columns=["rep_id", "period", "amount"])


def build_comp_plans(current_fy: int) -> pd.DataFrame:
    accelerators = json.dumps([{"from": 1.0, "multiplier": 1.6}, {"from": 1.5, "multiplier": 2.0}])
    rows = []
    for fy in (current_fy - 1, current_fy):
        for segment in cfg.SEGMENTS:
            code = {"Enterprise": "ENT", "Mid-Market": "MM", "SMB": "SMB"}[segment]
            rows.append(
                {
                    "plan_id": f"CP-FY{fy}-{code}",
                    "name": f"FY{fy} {segment} AE plan",
                    "role": "AE",
                    "segment": segment,
                    "fiscal_year": fy,
                    "variable_share": cfg.SEGMENT_VARIABLE_SHARE[segment],
                    "threshold": 0.5,
                    "decelerator": 1.0,
                    "accelerators": accelerators,
                    "cap": 3.0,
                }
            )
        rows.append(
            {
                "plan_id": f"CP-FY{fy}-MGR",
                "name": f"FY{fy} sales manager plan",
                "role": "Manager",
                "segment": None,
                "fiscal_year": fy,
                "variable_share": 0.4,
                "threshold": 0.5,
                "decelerator": 1.0,
                "accelerators": json.dumps([{"from": 1.0, "multiplier": 1.5}]),
                "cap": 2.5,
            }
        )
    return pd.DataFrame(rows)


def build_users(org: Org, now: datetime) -> pd.DataFrame:
    """Demo users covering every role and scope kind."""
    reps = org.reps
    active_aes = reps[(reps["role"] == "AE") & reps["end_date"].isna() & (reps["region"] == "NA")]
    manager = reps[(reps["role"] == "Manager") & (reps["region"] == "NA")].iloc[0]
    rep = active_aes[active_aes["manager_id"] == manager["rep_id"]].iloc[0]
    rows = [
        ("admin", "Admin", "admin@example-spm.com", "U0SPMADMIN", "admin", "all", None),
        (
            "cro",
            "Chief Revenue Officer",
            "cro@example-spm.com",
            "U0SPMCRO01",
            "leader",
            "all",
            None,
        ),
        (
            "emea-lead",
            "EMEA Sales Leader",
            "emea.lead@example-spm.com",
            "U0SPMEMEA1",
            "leader",
            "region",
            "EMEA",
        ),
        (
            "apac-lead",
            "APAC Sales Leader",
            "apac.lead@example-spm.com",
            "U0SPMAPAC1",
            "leader",
            "region",
            "APAC",
        ),
        (
            "smb-lead",
            "SMB Sales Leader",
            "smb.lead@example-spm.com",
            "U0SPMSMB01",
            "leader",
            "segment",
            "SMB",
        ),
        (
            "revops",
            "RevOps Analyst",
            "revops@example-spm.com",
            "U0SPMREVOP",
            "analyst",
            "all",
            None,
        ),
        (
            "manager",
            manager["name"],
            manager["email"],
            "U0SPMMGR01",
            "manager",
            "team",
            manager["rep_id"],
        ),
        ("rep", rep["name"], rep["email"], "U0SPMREP01", "rep", "own", rep["rep_id"]),
    ]
    frame = pd.DataFrame(rows, columns=["user_id", "name", "email", "slack_id", "role", "scope_kind", "scope_value"])
    frame["created_at"] = now
    return frame
