"""Carving rules that decide what may move, and with what, before the optimiser balances.

Precedence, highest first: a named account goes to the rep it is named for (even off a lock);
a locked account stays with its owner; accounts of one parent/child family move as one piece
(wherever a member is pinned, the family follows). A family whose members are pinned to
different reps cannot be kept whole: it is split, and the plan says so.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def pins(accounts: pd.DataFrame, locked: np.ndarray, named: dict[str, str], rep_index: dict[str, int]) -> np.ndarray:
    """Per account, the rep index it must end with (-1: free). Named beats locked; a locked
    account with no active owner in the group cannot stay, so it is free."""
    owner = accounts["owner_rep_id"].map(rep_index).fillna(-1).astype(int).to_numpy()
    pinned = np.where(locked & (owner >= 0), owner, -1)
    if named:
        to = accounts["account_id"].map(named).map(rep_index).fillna(-1).astype(int).to_numpy()
        pinned = np.where(to >= 0, to, pinned)
    return pinned


def family_roots(accounts: pd.DataFrame) -> pd.Series:
    """Each account's top-most ancestor through parent_account_id (itself when it has none).
    A parent outside the selection still ties its children together; a cycle stops where it
    repeats. Without the column (an instance built by hand) every account is its own family."""
    if "parent_account_id" not in accounts:
        return accounts["account_id"].copy()
    parent = dict(zip(accounts["account_id"], accounts["parent_account_id"], strict=True))
    roots: dict[str, str] = {}
    for account in accounts["account_id"]:
        seen = [account]
        node = account
        while (up := parent.get(node)) is not None and isinstance(up, str) and up and up not in seen:
            if up in roots:
                node = roots[up]
                break
            seen.append(up)
            node = up
        for a in seen:
            if a in parent:
                roots.setdefault(a, node)
    return accounts["account_id"].map(roots)


def has_families(accounts: pd.DataFrame) -> bool:
    return "parent_account_id" in accounts and bool(accounts["parent_account_id"].notna().any())


def family_keys(accounts: pd.DataFrame, pinned: np.ndarray, rep_ids: list[str]) -> tuple[pd.Series, list[str]]:
    """Unit keys that keep families whole, and notes on the families that had to be split."""
    roots = family_roots(accounts)
    members = roots.map(roots.value_counts())
    pinned_to = pd.Series(pinned).where(pinned >= 0)
    distinct = pinned_to.groupby(roots.to_numpy()).nunique()
    split = set(distinct[distinct > 1].index)
    keys = pd.Series(np.where(roots.isin(split), accounts["account_id"], "family:" + roots), index=accounts.index)
    notes = []
    families = int(((members > 1) & ~roots.isin(split)).groupby(roots).any().sum())
    if families:
        notes.append(f"{families} account families (parent and children) move as one piece each.")
    for root in sorted(split):
        reps = sorted({rep_ids[int(r)] for r in pinned_to[(roots == root).to_numpy()].dropna()})
        notes.append(
            f"Family {root} is pinned to {len(reps)} reps ({', '.join(reps)}) by locks or named accounts, "
            "so its accounts are planned one by one."
        )
    return keys, notes
