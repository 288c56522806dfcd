"""Salesforce report exports (Accounts, Opportunities, Users) mapped to the native tables.

The export's kind is recognised from its headers. Values keep their report conventions
(`$1,234.50`, `11/29/2026`); the mapping only renames columns and derives what Salesforce
does not hold: the region (from the billing country), the segment (from employees), owner
ids (from owner names), stages (from stage names and `Probability (%)`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd

from warehouse.importers.countries import REGION_OF, country_code
from warehouse.importers.reading import RawChunk, RawFile

HEADER_MAPS: dict[str, dict[str, str]] = {
    "users": {
        "User ID": "rep_id",
        "Full Name": "name",
        "Name": "name",
        "Email": "email",
        "Role": "role",
        "Title": "title",
        "Active": "active",
        "Manager": "manager_name",
        "Start Date": "hire_date",
        "Hire Date": "hire_date",
        "Created Date": "created_date",
        "Deactivated Date": "end_date",
    },
    "accounts": {
        "Account ID": "account_id",
        "Account Name": "name",
        "Billing Zip/Postal Code": "zip",
        "Billing Country": "country",
        "Billing City": "city",
        "Industry": "industry",
        "Employees": "employees",
        "Annual Revenue": "annual_revenue",
        "Account Owner": "owner_name",
        "Created Date": "created_date",
        "ARR": "arr",
    },
    "opportunities": {
        "Opportunity ID": "opp_id",
        "Opportunity Name": "name",
        "Account ID": "account_id",
        "Account Name": "account_name",
        "Opportunity Owner": "owner_name",
        "Stage": "stage",
        "Amount": "amount",
        "Close Date": "close_date",
        "Created Date": "created_date",
        "Type": "type",
        "Probability (%)": "probability",
        "Forecast Category": "forecast_category",
        "Closed": "is_closed",
        "Won": "is_won",
        "Product": "product",
        "Primary Product": "product",
        "Loss Reason": "lost_reason",
        "Push Count": "push_count",
        "Last Stage Change Date": "stage_changed_date",
    },
}
SALESFORCE_DATE_FORMATS = ("%m/%d/%Y", "%Y-%m-%d", "%m/%d/%y")
SEGMENT_BY_EMPLOYEES = ((2_000, "Enterprise"), (200, "Mid-Market"), (0, "SMB"))


@dataclass
class MappedFile:
    """A Salesforce export rewritten as native tables, in load order."""

    kind: str
    tables: list[tuple[str, list[str], list[RawChunk]]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def detect_kind(columns: list[str]) -> str | None:
    present = {c.strip().lower() for c in columns}
    if {"opportunity id", "stage"} <= present or {"opportunity name", "stage"} <= present:
        return "opportunities"
    if "account id" in present or "account name" in present:
        return "accounts"
    if "user id" in present or ({"email", "full name"} <= present):
        return "users"
    return None


def _rename(raw: RawFile, kind: str) -> tuple[pd.DataFrame, np.ndarray, list[tuple[int, str]]]:
    mapping = {k.lower(): v for k, v in HEADER_MAPS[kind].items()}
    frames, rows, ragged = [], [], []
    for chunk in raw.chunks:
        frames.append(chunk.frame)
        rows.append(chunk.rows)
        ragged.extend(chunk.ragged)
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=raw.columns)
    renamed: dict[str, str] = {}
    for column in frame.columns:
        target = mapping.get(column.strip().lower())
        if target and target not in renamed.values():
            renamed[column] = target
    frame = frame[list(renamed)].rename(columns=renamed)
    return frame, np.concatenate(rows) if rows else np.array([], np.int64), ragged


def _lookup(cur: duckdb.DuckDBPyConnection, sql: str) -> dict[str, str | None]:
    """lower(name) -> id; names held by two ids map to None (ambiguous)."""
    out: dict[str, str | None] = {}
    for name, ident in cur.execute(sql).fetchall():
        key = str(name).strip().lower()
        out[key] = None if key in out and out[key] != ident else ident
    return out


def _role(text: object) -> str:
    value = str(text or "").lower()
    if any(w in value for w in ("manager", "director", "vp", "vice president", "head of", "chief")):
        return "Manager"
    if any(w in value for w in ("sdr", "bdr", "development")):
        return "SDR"
    if "engineer" in value or "consultant" in value:
        return "SE"
    return "AE"


def _opp_type(text: object) -> str | None:
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return None
    value = str(text).lower()
    if "renew" in value:
        return "Renewal"
    if "new" in value:
        return "New Business"
    return "Expansion"


def _segment(employees: pd.Series) -> pd.Series:
    count = pd.to_numeric(employees.astype("string").str.replace(",", ""), errors="coerce")
    out = pd.Series(None, index=employees.index, dtype=object)
    for floor, name in reversed(SEGMENT_BY_EMPLOYEES):
        out[count >= floor] = name
    return out


def _chunk(frame: pd.DataFrame, rows: np.ndarray, ragged: list[tuple[int, str]]) -> list[RawChunk]:
    return [RawChunk(frame.reset_index(drop=True), rows, ragged)]


def map_file(raw: RawFile, kind: str, cur: duckdb.DuckDBPyConnection, today: str) -> MappedFile:
    frame, rows, ragged = _rename(raw, kind)
    mapped = MappedFile(kind=kind)
    if kind == "users":
        names = frame.get("name", pd.Series(dtype=object))
        role_text = frame["role"] if "role" in frame else frame.get("title", pd.Series(None, index=frame.index))
        frame["role"] = role_text.map(_role)
        if "manager_name" in frame:
            by_name = {str(n).lower(): i for n, i in zip(names, frame.get("rep_id", names), strict=True)}
            by_name.update({k: v for k, v in _lookup(cur, "SELECT name, rep_id FROM reps").items() if v})
            frame["manager_id"] = frame["manager_name"].map(lambda n: by_name.get(str(n).lower()) if n else None)
        if "hire_date" not in frame and "created_date" in frame:
            frame["hire_date"] = frame["created_date"]
        if "active" in frame:
            inactive = frame["active"].str.lower().isin(["false", "0", "no", "n"]).fillna(False)
            if "end_date" not in frame:
                frame["end_date"] = None
            no_date = inactive & frame["end_date"].isna()
            frame.loc[no_date, "end_date"] = today
            if no_date.any():
                mapped.notes.append(
                    f"{int(no_date.sum())} inactive users have no deactivation date: end_date set to {today}."
                )
        keep = [c for c in ("rep_id", "name", "email", "role", "manager_id", "hire_date", "end_date") if c in frame]
        mapped.tables.append(("reps", keep, _chunk(frame[keep], rows, ragged)))
        return mapped

    owners = _lookup(cur, "SELECT name, rep_id FROM reps")
    if "owner_name" in frame:
        frame["owner_rep_id"] = frame["owner_name"].map(lambda n: owners.get(str(n).strip().lower()) if n else None)
        unmatched = frame["owner_name"].notna() & frame["owner_rep_id"].isna()
        if unmatched.any():
            examples = ", ".join(sorted(frame.loc[unmatched, "owner_name"].unique())[:3])
            mapped.notes.append(
                f"{int(unmatched.sum())} rows have an owner that matches no user ({examples}); "
                "they load without owner. Import the Users export first to link them."
            )

    if kind == "accounts":
        if "country" in frame:
            frame["country"] = frame["country"].map(lambda c: country_code(c) or c if c else None)
            frame["region"] = frame["country"].map(lambda c: REGION_OF.get(c) if c else None)
        if "employees" in frame:
            frame["segment"] = _segment(frame["employees"])
        keep = [
            c
            for c in (
                "account_id",
                "name",
                "zip",
                "country",
                "city",
                "industry",
                "employees",
                "annual_revenue",
                "owner_rep_id",
                "region",
                "segment",
                "created_date",
                "arr",
            )
            if c in frame
        ]
        mapped.tables.append(("accounts", keep, _chunk(frame[keep], rows, ragged)))
        return mapped

    # Opportunities.
    if "account_id" not in frame and "account_name" in frame:
        accounts = _lookup(cur, "SELECT name, account_id FROM accounts")
        frame["account_id"] = frame["account_name"].map(lambda n: accounts.get(str(n).strip().lower()) if n else None)
    if "type" in frame:
        frame["type"] = frame["type"].map(_opp_type)
    stage_rows = _stages(frame)
    if stage_rows is not None:
        stage_chunk = RawChunk(stage_rows, np.arange(1, len(stage_rows) + 1, dtype=np.int64))
        mapped.tables.append(("stages", list(stage_rows.columns), [stage_chunk]))
    keep = [
        c
        for c in (
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
        )
        if c in frame
    ]
    mapped.tables.append(("opportunities", keep, _chunk(frame[keep], rows, ragged)))
    return mapped


def _stages(frame: pd.DataFrame) -> pd.DataFrame | None:
    """Stage rows from the export: probability is the median of `Probability (%)`."""
    if "stage" not in frame:
        return None
    probability = pd.to_numeric(frame.get("probability"), errors="coerce") / 100.0
    closed = frame.get("is_closed", pd.Series(None, index=frame.index)).str.lower().isin(["1", "true", "yes"])
    won = frame.get("is_won", pd.Series(None, index=frame.index)).str.lower().isin(["1", "true", "yes"])
    name_closed = frame["stage"].str.lower().str.startswith("closed").fillna(False)
    table = pd.DataFrame({"name": frame["stage"], "p": probability, "closed": closed | name_closed, "won": won}).dropna(
        subset=["name"]
    )
    if table.empty:
        return None
    grouped = table.groupby("name", sort=False).agg(p=("p", "median"), closed=("closed", "max"), won=("won", "max"))
    grouped["won"] |= grouped.index.str.lower().str.contains("won")
    grouped["p"] = grouped["p"].fillna(grouped["won"].astype(float).where(grouped["closed"], 0.1))
    grouped = grouped.sort_values(["closed", "p"], kind="stable")
    return pd.DataFrame(
        {
            "name": grouped.index,
            "sort_order": [str(i + 1) for i in range(len(grouped))],
            "default_probability": [f"{p:.4f}" for p in grouped["p"].clip(0, 1)],
            "is_closed": grouped["closed"].map(str).str.lower().to_numpy(),
            "is_won": (grouped["won"] & grouped["closed"]).map(str).str.lower().to_numpy(),
        }
    )
