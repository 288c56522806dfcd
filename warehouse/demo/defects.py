"""The data problems real CRMs have, planted on purpose so the data checks find something.

Each planter returns new frames and the ids it touched, so tests can check that every planted
problem is found. Natural problems (accounts still owned by AEs who left, deals sitting in a
stage for months) arise from the simulation itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

GHOST_REP_ID = "R-99999"  # a quota holder that exists nowhere


@dataclass
class Planted:
    """Ids of every planted problem, recorded in the warehouse meta for tests and docs."""

    zombie_opps: list[str] = field(default_factory=list)
    duplicate_accounts: list[tuple[str, str]] = field(default_factory=list)  # (original, copy)
    ownerless_accounts: list[str] = field(default_factory=list)
    unmapped_zip_accounts: list[str] = field(default_factory=list)
    amount_outlier_opps: list[str] = field(default_factory=list)
    reps_without_quota: list[str] = field(default_factory=list)
    quotas_without_rep: list[str] = field(default_factory=list)


def _count(total: int, share: float, minimum: int) -> int:
    return min(total, max(minimum, round(total * share)))


def plant_zombies(
    rng: np.random.Generator, opps: pd.DataFrame, history: pd.DataFrame, as_of: date
) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Lost deals that nobody closed out: still open, their close date long past."""
    age = (np.datetime64(as_of) - opps["created_date"].to_numpy().astype("datetime64[D]")).astype(np.int64)
    candidates = np.flatnonzero(opps["is_closed"].to_numpy() & ~opps["is_won"].to_numpy() & (age > 270) & (age < 730))
    chosen = rng.choice(candidates, _count(len(candidates), 0.02, 5), replace=False)
    ids = opps["opp_id"].to_numpy()[chosen]
    history = history[~(history["opp_id"].isin(ids) & (history["stage"] == "Closed Lost"))]
    last = history[history["opp_id"].isin(ids)].drop_duplicates("opp_id", keep="last").set_index("opp_id").reindex(ids)
    opps = opps.copy()
    rows = opps.index[chosen]
    opps.loc[rows, "is_closed"] = False
    opps.loc[rows, "stage"] = last["stage"].to_numpy()
    opps.loc[rows, "close_date"] = last["close_date"].to_numpy()
    opps.loc[rows, "forecast_category"] = last["forecast_category"].to_numpy()
    opps.loc[rows, "lost_reason"] = None
    return opps, history.reset_index(drop=True), sorted(ids.tolist())


def _variant(kind: int, name: str) -> str:
    if kind == 0:
        return name.upper()
    if kind == 1:
        return name.replace(" Inc", ", Inc.").replace(" Ltd", " Limited").replace(" Corp", " Corporation")
    if kind == 2:
        return name + "."
    return name.rsplit(" ", 1)[0]  # legal suffix dropped


def plant_duplicates(rng: np.random.Generator, accounts: pd.DataFrame) -> tuple[pd.DataFrame, list[tuple[str, str]]]:
    """Second records of existing accounts, typed in again with a slightly different name."""
    n = _count(len(accounts), 0.008, 5)
    chosen = rng.choice(len(accounts), n, replace=False)
    copies = accounts.iloc[chosen].copy()
    start = len(accounts)
    copies["account_id"] = [f"A-{start + i + 1:06d}" for i in range(n)]
    kinds = rng.integers(0, 4, n)
    copies["name"] = [_variant(int(k), s) for k, s in zip(kinds, copies["name"], strict=True)]
    copies["arr"] = 0.0
    copies["is_strategic"] = False
    pairs = list(zip(accounts["account_id"].to_numpy()[chosen], copies["account_id"], strict=True))
    return pd.concat([accounts, copies], ignore_index=True), pairs


def plant_ownerless(rng: np.random.Generator, accounts: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    eligible = np.flatnonzero(~accounts["is_strategic"].to_numpy())
    chosen = rng.choice(eligible, _count(len(eligible), 0.005, 3), replace=False)
    accounts = accounts.copy()
    accounts.loc[accounts.index[chosen], "owner_rep_id"] = None
    return accounts, sorted(accounts["account_id"].to_numpy()[chosen].tolist())


def plant_unmapped_zips(
    rng: np.random.Generator,
    accounts: pd.DataFrame,
    geos: pd.DataFrame,
    mapped: pd.DataFrame,
) -> tuple[pd.DataFrame, list[str], np.ndarray]:
    """Accounts moved to a US ZIP no territory covers; returns the geo rows it used."""
    us = np.flatnonzero((accounts["country"] == "US").to_numpy())
    chosen = rng.choice(us, _count(len(us), 0.004, 3), replace=False)
    covered = set(mapped.loc[mapped["country"] == "US", "zip"])
    free = np.flatnonzero((geos["country"] == "US").to_numpy() & ~geos["zip"].isin(covered).to_numpy())
    geo_rows = rng.choice(free, len(chosen), replace=False)
    accounts = accounts.copy()
    rows = accounts.index[chosen]
    accounts.loc[rows, "zip"] = geos["zip"].to_numpy()[geo_rows]
    accounts.loc[rows, "city"] = geos["city"].to_numpy()[geo_rows]
    accounts.loc[rows, "territory_id"] = None
    return accounts, sorted(accounts.loc[rows, "account_id"].tolist()), geo_rows


def plant_amount_outliers(
    rng: np.random.Generator, opps: pd.DataFrame, history: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Fat-finger amounts (two extra zeros), typed in from the start: on lost deals, and on
    one open deal, where it inflates the pipeline the way such typos do."""
    lost = np.flatnonzero(opps["is_closed"].to_numpy() & ~opps["is_won"].to_numpy())
    open_ = np.flatnonzero(~opps["is_closed"].to_numpy())
    chosen = rng.choice(lost, _count(len(lost), 0.0005, 3), replace=False)
    if len(open_):
        chosen = np.append(chosen, rng.choice(open_))
    ids = opps["opp_id"].to_numpy()[chosen]
    opps = opps.copy()
    opps.loc[opps.index[chosen], "amount"] = opps["amount"].to_numpy()[chosen] * 100
    history = history.copy()
    touched = history["opp_id"].isin(ids)
    history.loc[touched, "amount"] = history.loc[touched, "amount"] * 100
    return opps, history, sorted(ids.tolist())


def plant_quota_gaps(
    rng: np.random.Generator, quotas: pd.DataFrame, reps: pd.DataFrame, quarter: str
) -> tuple[pd.DataFrame, list[str], list[str]]:
    """Active AEs left without a quota this quarter; this quarter's quotas for reps who left."""
    in_quarter = quotas[quotas["period"] == quarter]
    active = reps[(reps["role"] == "AE") & reps["end_date"].isna()]
    with_quota = active["rep_id"][active["rep_id"].isin(in_quarter["rep_id"])].to_numpy()
    dropped = rng.choice(with_quota, min(3, len(with_quota)), replace=False)
    quotas = quotas[~((quotas["period"] == quarter) & quotas["rep_id"].isin(dropped))]

    gone = reps[(reps["role"] == "AE") & reps["end_date"].notna()]
    gone = gone["rep_id"][~gone["rep_id"].isin(in_quarter["rep_id"])].to_numpy()
    ghosts = [*rng.choice(gone, min(2, len(gone)), replace=False).tolist(), GHOST_REP_ID]
    extra = pd.DataFrame({"rep_id": ghosts, "period": quarter, "amount": float(in_quarter["amount"].median())})
    quotas = pd.concat([quotas, extra], ignore_index=True)
    return quotas, sorted(dropped.tolist()), sorted(ghosts)
