"""A single territory group as real books look before a rebalance: one region and segment,
accounts clustered around metros (a few dense, most sparse), potential heavy-tailed
(log-normal), each account owned by the rep whose home is nearest, so books range from a
tenth to three times the average; 2% strategic accounts (locked). Nearest-rep candidate
graphs cannot balance it: value has to travel along chains of neighbouring territories."""

from __future__ import annotations

import numpy as np
import pandas as pd


def one_group(accounts: int = 5_000, reps: int = 40, seed: int = 7) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(reps, accounts) frames shaped like the territory loader's."""
    rng = np.random.default_rng(seed)
    metros = 25
    m_lat, m_lon = rng.uniform(30, 47, metros), rng.uniform(-120, -75, metros)
    weight = rng.lognormal(0, 1.0, metros)
    metro = rng.choice(metros, accounts, p=weight / weight.sum())
    lat = m_lat[metro] + rng.normal(0, 1.2, accounts)
    lon = m_lon[metro] + rng.normal(0, 1.5, accounts)
    potential = rng.lognormal(np.log(200_000), 1.0, accounts)
    homes = rng.choice(accounts, reps, replace=False)
    h_lat, h_lon = lat[homes] + rng.normal(0, 0.3, reps), lon[homes] + rng.normal(0, 0.3, reps)
    owner = ((lat[:, None] - h_lat[None]) ** 2 + (lon[:, None] - h_lon[None]) ** 2).argmin(axis=1)
    rep_ids = np.array([f"R{i:03d}" for i in range(reps)])
    rep_frame = pd.DataFrame(
        {
            "rep_id": rep_ids,
            "name": [f"Rep {i}" for i in range(reps)],
            "region": "NA",
            "segment": "Mid-Market",
            "hire_date": pd.Timestamp("2020-01-01"),
            "ramp_months": 5,
            "home_lat": h_lat,
            "home_lon": h_lon,
        }
    )
    customer = rng.random(accounts) < 0.3
    account_frame = pd.DataFrame(
        {
            "account_id": [f"A{i:05d}" for i in range(accounts)],
            "name": [f"Account {i}" for i in range(accounts)],
            "region": "NA",
            "segment": "Mid-Market",
            "owner_rep_id": rep_ids[owner],
            "is_strategic": rng.random(accounts) < 0.02,
            "arr": np.where(customer, potential * rng.uniform(0.1, 0.5, accounts), 0.0),
            "potential": potential,
            "zip": [f"{i % 900 + 100:05d}" for i in range(accounts)],
            "country": "US",
            "state": "CA",
            "msa": metro.astype(str),
            "lat": lat,
            "lon": lon,
            "pipeline": 0.0,
            "late_stage": 0.0,
            "late_deals": 0,
            "effort": 1.0,
        }
    )
    return rep_frame, account_frame
