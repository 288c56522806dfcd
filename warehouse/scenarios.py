"""Scenarios: draft plans stored as cell-level overlays on the base data.

A scenario (a territory rebalance, a quota plan) is a named set of changes: for a row of an
allow-listed table, identified by its key, a column goes from an old to a new value. Tools
evaluate a scenario by applying its changes to the frames they loaded (`overlay`), never to the
base tables; applying it to the base tables (`apply_scenario`) is an approved write done in
one transaction, which first checks that every old value is still current.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import pandas as pd

from warehouse.errors import ConflictError, InputError, NotFoundError
from warehouse.names import SCENARIO_NAME_EXAMPLE, scenario_name_problem

ScenarioKind = Literal["territory", "quota", "forecast", "capacity"]
# (table, column) pairs a scenario may change, with the table's key columns.
EDITABLE: dict[tuple[str, str], tuple[str, ...]] = {
    ("accounts", "owner_rep_id"): ("account_id",),
    ("accounts", "territory_id"): ("account_id",),
    ("quotas", "amount"): ("rep_id", "period"),
}


@dataclass(frozen=True)
class Change:
    table: str
    key: tuple[tuple[str, str], ...]  # ((column, value), ...)
    column: str
    old: str | None
    new: str | None

    def __post_init__(self) -> None:
        expected = EDITABLE.get((self.table, self.column))
        if expected is None:
            raise InputError(f"A scenario cannot change {self.table}.{self.column}.")
        if tuple(k for k, _ in self.key) != expected:
            raise InputError(f"{self.table} rows are identified by {', '.join(expected)}.")


@dataclass
class Scenario:
    scenario_id: str
    name: str
    kind: str
    status: str
    created_by: str | None
    created_at: datetime
    base_fingerprint: str | None
    params: dict[str, Any] = field(default_factory=dict)
    summary: str | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    changes: int = 0  # rows changed (an account moved is one row, whatever columns change)


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and value != value):
        return None
    return str(value)


def save_scenario(
    cur: Any,
    *,
    name: str,
    kind: ScenarioKind,
    changes: Iterable[Change],
    created_by: str | None = None,
    params: dict[str, Any] | None = None,
    summary: str | None = None,
    metrics: dict[str, Any] | None = None,
    base_fingerprint: str | None = None,
) -> Scenario:
    """Store a draft scenario (inside the caller's write transaction)."""
    name = name.strip()
    if not name:
        raise InputError("A scenario needs a name.", "Example: --save-scenario emea-rebalance")
    problem = scenario_name_problem(name)
    if problem:
        raise InputError(problem[0].upper() + problem[1:] + ".", f"Example: --save-scenario {SCENARIO_NAME_EXAMPLE}")
    if cur.execute("SELECT count(*) FROM scenarios WHERE name = ?", [name]).fetchone()[0]:
        raise ConflictError(f"A scenario named {name!r} already exists.", "Choose another name.")
    scenario_id = "SCN-" + uuid.uuid4().hex[:8]
    now = datetime.now()
    cur.execute(
        "INSERT INTO scenarios VALUES (?, ?, ?, 'draft', ?, ?, ?, ?, ?, ?)",
        [
            scenario_id,
            name,
            kind,
            created_by,
            now,
            base_fingerprint,
            json.dumps(params or {}, default=str),
            summary,
            json.dumps(metrics or {}, default=str),
        ],
    )
    changes = list(changes)
    rows = [
        (scenario_id, i + 1, c.table, json.dumps(dict(c.key)), c.column, _text(c.old), _text(c.new))
        for i, c in enumerate(changes)
    ]
    if rows:
        cur.executemany("INSERT INTO scenario_changes VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    return Scenario(
        scenario_id,
        name,
        kind,
        "draft",
        created_by,
        now,
        base_fingerprint,
        params or {},
        summary,
        metrics or {},
        rows_changed(changes),
    )


def _row(values: tuple[Any, ...], changes: int) -> Scenario:
    sid, name, kind, status, by, at, fp, params, summary, metrics = values
    return Scenario(
        sid,
        name,
        kind,
        status,
        by,
        at,
        fp,
        json.loads(params or "{}"),
        summary,
        json.loads(metrics or "{}"),
        int(changes),
    )


_SELECT = """
SELECT s.scenario_id, s.name, s.kind, s.status, s.created_by, s.created_at, s.base_fingerprint,
       s.params, s.summary, s.metrics,
       (SELECT count(DISTINCT c.table_name || ' ' || c.row_key) FROM scenario_changes c WHERE c.scenario_id = s.scenario_id)
FROM scenarios s
"""


def list_scenarios(cur: Any) -> list[Scenario]:
    return [_row(r[:10], r[10]) for r in cur.execute(_SELECT + " ORDER BY s.created_at, s.name").fetchall()]


def get_scenario(cur: Any, ref: str) -> Scenario:
    """A scenario by id or name, or an error listing the ones that exist."""
    row = cur.execute(_SELECT + " WHERE s.scenario_id = ? OR s.name = ?", [ref, ref]).fetchone()
    if row is None:
        known = [f"{s.scenario_id} ({s.name})" for s in list_scenarios(cur)]
        raise NotFoundError(
            f"No scenario {ref!r}.",
            f"Known scenarios: {', '.join(known)}."
            if known
            else "No scenarios saved yet (tools save them with --save-scenario).",
        )
    return _row(row[:10], row[10])


def scenario_changes(cur: Any, scenario_id: str) -> list[Change]:
    rows = cur.execute(
        "SELECT table_name, row_key, column_name, old_value, new_value FROM scenario_changes "
        "WHERE scenario_id = ? ORDER BY seq",
        [scenario_id],
    ).fetchall()
    return [Change(t, tuple(json.loads(k).items()), c, o, n) for t, k, c, o, n in rows]


def rows_changed(changes: Iterable[Change]) -> int:
    """How many rows the changes touch (a moved account is one row, however many columns)."""
    return len({(c.table, c.key) for c in changes})


def describe_changes(changes: Sequence[Change]) -> str:
    """'26 accounts (owner_rep_id on 26, territory_id on 26)': rows per table, then columns."""
    if not changes:
        return "nothing"
    parts = []
    for table in sorted({c.table for c in changes}):
        mine = [c for c in changes if c.table == table]
        columns = Counter(c.column for c in mine)
        detail = ", ".join(f"{column} on {n:,}" for column, n in sorted(columns.items()))
        parts.append(f"{rows_changed(mine):,} {table} ({detail})")
    return "; ".join(parts)


def overlay(frame: pd.DataFrame, changes: Iterable[Change], table: str) -> pd.DataFrame:
    """`frame` (rows of `table`) with the scenario's changes to that table applied."""
    relevant = [c for c in changes if c.table == table]
    if not relevant:
        return frame
    out = frame.copy()
    key_cols = list(EDITABLE[(table, relevant[0].column)])
    index = {tuple(str(v) for v in row): i for i, row in enumerate(out[key_cols].itertuples(index=False))}
    new_rows = []
    for change in relevant:
        key = tuple(v for _, v in change.key)
        column = out[change.column]
        value: Any = change.new
        if pd.api.types.is_numeric_dtype(column) and value is not None:
            value = float(value)
        i = index.get(key)
        if i is None:
            new_rows.append({**dict(change.key), change.column: value})
        else:
            out.iloc[i, out.columns.get_loc(change.column)] = value
    if new_rows:
        out = pd.concat([out, pd.DataFrame(new_rows)], ignore_index=True)
    return out


def apply_scenario(cur: Any, scenario_id: str, approved_by: str) -> int:
    """Write a scenario's changes to the base tables (inside the caller's transaction)."""
    scenario = get_scenario(cur, scenario_id)
    if scenario.status != "draft" and scenario.status != "approved":
        raise ConflictError(f"Scenario {scenario.scenario_id} is {scenario.status}; only drafts can be applied.")
    changes = scenario_changes(cur, scenario.scenario_id)
    for change in changes:
        where = " AND ".join(f"{k} = ?" for k, _ in change.key)
        values = [v for _, v in change.key]
        current = cur.execute(f"SELECT {change.column} FROM {change.table} WHERE {where}", values).fetchone()
        if (
            current is not None
            and _text(current[0]) != change.old
            and not (change.old is not None and current[0] is not None and _same_number(current[0], change.old))
        ):
            raise ConflictError(
                f"{change.table} {dict(change.key)} changed since the scenario was made "
                f"({change.column} is {current[0]!r}, the scenario expected {change.old!r}).",
                "Re-run the tool on the current data and save a new scenario.",
            )
        if current is None:
            cols = [k for k, _ in change.key] + [change.column]
            cur.execute(
                f"INSERT INTO {change.table} ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})",
                [*values, change.new],
            )
        else:
            cur.execute(f"UPDATE {change.table} SET {change.column} = ? WHERE {where}", [change.new, *values])
    cur.execute(
        "UPDATE scenarios SET status = 'applied', summary = coalesce(summary, '') || ? WHERE scenario_id = ?",
        [f" [applied by {approved_by} at {datetime.now():%Y-%m-%d %H:%M}]", scenario.scenario_id],
    )
    return rows_changed(changes)


def _same_number(a: Any, b: str) -> bool:
    try:
        return abs(float(a) - float(b)) < 1e-6
    except (TypeError, ValueError):
        return False
