"""A territory plan as a draft scenario: each moved account's new owner (and territory)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from tools.core.scenario import save_draft
from tools.territory.groups import Group
from tools.territory.models import TerritoryInput
from warehouse.connection import Warehouse
from warehouse.scenarios import Change

SAVED_METRICS = ("status", "disruption", "optimality_gap", "before", "after")


def changes(groups: list[Group], moves: pd.DataFrame) -> list[Change]:
    """Owner changes, and the territory of the new owner where it differs from the account's."""
    territory_of = {r.rep_id: r.territory_id for g in groups for r in g.reps.itertuples()}
    current = {a.account_id: a.territory_id for g in groups for a in g.accounts.itertuples()}
    out: list[Change] = []
    for m in moves.itertuples():
        key = (("account_id", str(m.account_id)),)
        out.append(Change("accounts", key, "owner_rep_id", m.from_rep_id, m.to_rep_id))
        new_territory = territory_of.get(m.to_rep_id)
        if new_territory and new_territory != current.get(m.account_id):
            out.append(Change("accounts", key, "territory_id", current.get(m.account_id), new_territory))
    return out


def save(
    warehouse: Warehouse,
    params: TerritoryInput,
    groups: list[Group],
    moves: pd.DataFrame,
    metrics: dict[str, Any],
    fingerprint: str,
    scope_text: str,
    user: str | None,
) -> dict[str, Any]:
    """Store the plan as a draft scenario whose summary states the arguments it was made with."""
    what = (
        f"{len(moves):,} account move{'s' if len(moves) != 1 else ''} in {scope_text}: +-{params.band:.0%} on "
        f"{', '.join(params.balance_on)}, by {params.unit}"
        + (f", disruption cap {params.max_disruption:g}" if params.max_disruption is not None else "")
        + (f", locks {', '.join(params.lock)}" if params.lock else ", no locks")
        + f" (status {metrics['status']})"
    )
    return save_draft(
        warehouse,
        name=params.save_scenario or "",
        kind="territory",
        changes=changes(groups, moves),
        user=user,
        params=params.model_dump(mode="json"),
        summary=what,
        metrics={k: metrics[k] for k in SAVED_METRICS},
        base_fingerprint=fingerprint,
    )
