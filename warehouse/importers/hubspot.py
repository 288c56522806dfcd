"""HubSpot exports (Owners, Companies, Deals) mapped to the native tables.

HubSpot exports a view of an object ("Export view" / "Export all properties") as CSV or
XLSX with the property labels as headers (`Record ID`, `Company name`, `Deal Stage`); the
kind is recognised from them. Owners are HubSpot's users (Settings → Users & Teams → Export
users, or an owners list with `Owner ID`). What HubSpot does not hold is derived as for
Salesforce (`crm_common.py`): region from `Country/Region` (or an owner's team), segment from
`Number of Employees`, owner ids from the owner's name or e-mail, stages with HubSpot's default
probabilities, closed/won from the stage.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from warehouse.importers.crm_common import (
    ACCOUNT_COLUMNS,
    OPPORTUNITY_COLUMNS,
    REP_COLUMNS,
    ExportKind,
    MappedFile,
    check_account_dimensions,
    chunk,
    closed_won_note,
    column,
    countries_and_regions,
    end_dates,
    first_listed,
    header_key,
    hire_dates,
    iso_dates,
    link_accounts,
    match_columns,
    opp_type,
    owners,
    parents,
    people_regions,
    present,
    rename,
    require,
    role_of,
    segments,
    stage_rows,
    stage_table,
    timestamps,
)
from warehouse.importers.reading import RawFile

__all__ = ["HEADER_MAPS", "KINDS", "MappedFile", "detect_kind", "map_file"]

SOURCE = "HubSpot"
# HubSpot's default sales pipeline: stage -> win probability (its internal ids map to the labels).
DEFAULT_STAGES: dict[str, float] = {
    "appointment scheduled": 0.2,
    "qualified to buy": 0.4,
    "presentation scheduled": 0.6,
    "decision maker bought-in": 0.8,
    "contract sent": 0.9,
    "closed won": 1.0,
    "closed lost": 0.0,
}
STAGE_IDS = {
    "appointmentscheduled": "Appointment scheduled",
    "qualifiedtobuy": "Qualified to buy",
    "presentationscheduled": "Presentation scheduled",
    "decisionmakerboughtin": "Decision maker bought-in",
    "contractsent": "Contract sent",
    "closedwon": "Closed won",
    "closedlost": "Closed lost",
}
# HubSpot's forecast categories that are not ours by name.
FORECAST_CATEGORIES = {"not forecasted": "Omitted", "omit": "Omitted", "closed won": "Closed", "closed lost": "Omitted"}
_REGION = {"Region": "region", "Sales Region": "region"}
_SEGMENT = {"Segment": "segment", "Customer Segment": "segment"}

OWNERS = ExportKind(
    "owners",
    "Owners",
    "HubSpot: Settings → Users & Teams → Export users",
    {
        "Owner ID": "rep_id",
        "User ID": "rep_id",
        "HubSpot Owner ID": "rep_id",
        "ID": "rep_id",
        "Name": "name",
        "Full Name": "name",
        "First Name": "first_name",
        "Last Name": "last_name",
        "Email": "email",
        "Job title": "title",
        "Title": "title",
        "Role": "role_name",
        "Primary team": "team",
        "Team": "team",
        "Teams": "team",
        "Additional teams": "other_teams",
        "Active": "active",
        "Status": "status",
        "Archived": "archived",
        "Deactivated": "archived",
        "Start Date": "hire_date",
        "Hire Date": "hire_date",
        "Created at": "created_date",
        "Created Date": "created_date",
        "Create Date": "created_date",
        **_REGION,
        **_SEGMENT,
    },
    (("rep_id", "email"), ("name", "last_name")),
    "export",
)
COMPANIES = ExportKind(
    "companies",
    "Companies",
    "HubSpot: Companies → Export, with the property in the view or all properties",
    {
        "Record ID": "account_id",
        "Company ID": "account_id",
        "Company Record ID": "account_id",
        "Company name": "name",
        "Name": "name",
        "Parent Company ID": "parent_account_id",
        "Parent Company Record ID": "parent_account_id",
        "Parent Company": "parent_name",
        "Company owner": "owner_name",
        "Company owner ID": "owner_id",
        "Country/Region": "country",
        "Country": "country",
        "Postal Code": "zip",
        "Zip": "zip",
        "City": "city",
        "Industry": "industry",
        "Number of Employees": "employees",
        "Annual Revenue": "annual_revenue",
        "Annual recurring revenue": "arr",
        "ARR": "arr",
        "Create Date": "created_date",
        **_REGION,
        **_SEGMENT,
    },
    (("account_id",), ("name",)),
    "export",
)
DEALS = ExportKind(
    "deals",
    "Deals",
    "HubSpot: Deals → Export, with the property in the view or all properties",
    {
        "Record ID": "opp_id",
        "Deal ID": "opp_id",
        "Deal Name": "name",
        "Associated Company IDs (Primary)": "account_id",
        "Associated Company ID (Primary)": "account_id",
        "Associated Company IDs": "account_id",
        "Associated Company ID": "account_id",
        "Associated Company (Primary)": "account_name",
        "Associated Company": "account_name",
        "Deal owner": "owner_name",
        "Deal owner ID": "owner_id",
        "Deal Stage": "stage",
        "Pipeline": "pipeline",
        "Amount": "amount",
        "Close Date": "close_date",
        "Create Date": "created_date",
        "Deal Type": "type",
        "Deal probability": "probability",
        "Forecast category": "forecast_category",
        "Is Deal Closed?": "is_closed",
        "Is Closed": "is_closed",
        "Is Closed Won": "is_won",
        "Closed Lost Reason": "lost_reason",
        "Product": "product",
        **_REGION,
        **_SEGMENT,
    },
    (("opp_id",), ("account_id", "account_name"), ("stage",), ("amount",), ("close_date",), ("created_date",)),
    "export",
)
KINDS: dict[str, ExportKind] = {k.name: k for k in (OWNERS, COMPANIES, DEALS)}
HEADER_MAPS: dict[str, dict[str, str]] = {name: dict(kind.headers) for name, kind in KINDS.items()}
LOAD_ORDER = tuple(KINDS)  # owners own companies, companies hold deals
# Exports HubSpot has that spm does not plan from: kind -> why, and what to export instead.
UNSUPPORTED = {
    "contacts": (
        "Contacts export: spm plans from companies, deals and owners, not contacts. "
        "Export Companies, Deals and the users (Settings → Users & Teams → Export users) instead."
    ),
}
_CONTACT_MARKS = {"contact owner", "lifecycle stage", "lead status", "email domain", "contact id"}
_COMPANY_MARKS = {"company name", "company domain name", "number of employees", "country/region", "company owner"}
_OWNER_MARKS = {"owner id", "user id", "hubspot owner id", "primary team", "team", "teams"}


def detect_kind(columns: list[str], sample: pd.DataFrame | None = None, name: str = "") -> str | None:
    """The export's kind from its headers (`sample` and `name` are unused: HubSpot's kinds are
    told apart by their headers alone)."""
    keys = {header_key(c) for c in columns}
    if "deal stage" in keys or ("stage" in match_columns(columns, DEALS).values() and "deal name" in keys):
        return "deals"
    if keys & _CONTACT_MARKS:
        return "contacts"
    if keys & _COMPANY_MARKS:
        return "companies"
    if keys & _OWNER_MARKS or {"email", "first name", "last name"} <= keys:
        return "owners"
    return None


def _dates(frame: pd.DataFrame, names: tuple[str, ...]) -> None:
    """HubSpot writes date-times (`2026-03-04 14:22`, `2026-03-04T14:22:05Z`) or US dates:
    dates are kept as ISO dates where they read."""
    for name in names:
        if name in frame:
            frame[name] = iso_dates(frame[name], timestamps(frame[name]))


def _label(value: object) -> object:
    """HubSpot's internal enum values (`COMPUTER_SOFTWARE`) as labels (`Computer Software`)."""
    if isinstance(value, str) and "_" in value and value.isupper():
        return value.replace("_", " ").title()
    return value


def map_file(raw: RawFile, kind: str, cur: duckdb.DuckDBPyConnection, today: str) -> MappedFile:
    spec = KINDS[kind]
    frame, rows, ragged = rename(raw, spec)
    require(frame, spec, raw.path.name)
    mapped = MappedFile(kind=kind)
    _dates(frame, ("hire_date", "created_date", "close_date"))
    if kind == "owners":
        table, columns = map_owners(frame, cur, today, mapped.notes)
    elif kind == "companies":
        if "industry" in frame:
            frame["industry"] = frame["industry"].map(_label)
        owners(frame, cur, mapped.notes, "owners export")
        countries_and_regions(frame, mapped.notes, "company")
        segments(frame, mapped.notes)
        parents(frame, cur, mapped.notes)
        table, columns = "accounts", ACCOUNT_COLUMNS
    else:
        table, columns = map_deals(frame, cur, mapped)
    keep = present(frame, columns)
    mapped.tables.append((table, keep, chunk(frame[keep], rows, ragged)))
    return mapped


def map_owners(
    frame: pd.DataFrame, cur: duckdb.DuckDBPyConnection, today: str, notes: list[str]
) -> tuple[str, list[str]]:
    """HubSpot users as reps. Without an Owner ID / User ID column the e-mail is the rep id
    (HubSpot itself assigns owners by e-mail on import)."""
    if "rep_id" not in frame:
        frame["rep_id"] = frame["email"].str.lower()
        notes.append("No Owner ID or User ID column: each owner's e-mail is used as its rep id.")
    if "name" not in frame or frame["name"].isna().all():
        first, last = column(frame, "first_name"), column(frame, "last_name")
        frame["name"] = (first.fillna("") + " " + last.fillna("")).str.strip().replace("", None)
    title = column(frame, "title").where(column(frame, "title").notna(), column(frame, "role_name"))
    frame["role"] = title.map(role_of)
    if "title" in frame or "role_name" in frame:
        notes.append("Role (AE, Manager, SDR, SE) derived from each owner's job title, or role where it is empty.")
    people_regions(frame, cur, notes, {"team": "Team", "other_teams": "Additional teams", "role_name": "Role"})
    # HubSpot marks departed users as archived/deactivated rather than inactive.
    if "active" not in frame:
        status = column(frame, "status").astype("string").str.lower()
        archived = column(frame, "archived").astype("string").str.strip().str.lower()
        gone = status.isin(["deactivated", "archived", "inactive"]) | archived.isin(["true", "yes", "1"])
        if ("status" in frame) or ("archived" in frame):
            frame["active"] = (~gone.fillna(False)).map(str).str.lower()
    hire_dates(frame, notes, "Start Date or Hire Date")
    end_dates(frame, today, notes)
    return "reps", REP_COLUMNS


def map_deals(frame: pd.DataFrame, cur: duckdb.DuckDBPyConnection, mapped: MappedFile) -> tuple[str, list[str]]:
    notes = mapped.notes
    for name in ("account_id", "account_name"):
        if name in frame:
            several = frame[name].astype("string").str.contains(";", regex=False).fillna(False)
            frame[name] = first_listed(frame[name])
            if several.any():
                notes.append(f"{int(several.sum())} deals list several companies: the first (primary) is used.")
    link_accounts(frame, cur, notes)
    owners(frame, cur, notes, "owners export")
    frame["stage"] = frame["stage"].map(lambda s: STAGE_IDS.get(s.strip().lower(), s) if isinstance(s, str) else s)
    if "probability" in frame:
        # HubSpot's deal probability is a fraction (0.6); percent-style exports (60) are kept.
        p = pd.to_numeric(frame["probability"].astype("string").str.rstrip("%"), errors="coerce")
        scale = 100.0 if p.max(skipna=True) <= 1 else 1.0
        frame["probability"] = (p * scale).map(lambda v: None if pd.isna(v) else f"{v:g}")
    if "forecast_category" in frame:
        frame["forecast_category"] = frame["forecast_category"].map(
            lambda c: FORECAST_CATEGORIES.get(c.strip().lower(), c) if isinstance(c, str) else c
        )
    if "type" in frame:
        frame["type"] = frame["type"].map(opp_type)
    closed_won_note(frame, notes, "Is Deal Closed?", "Is Closed Won")
    check_account_dimensions(frame, cur, notes)
    stages = stage_rows(frame, cur, defaults=DEFAULT_STAGES)
    if stages is not None and "probability" not in frame:
        notes.append("No Deal probability column: stages take HubSpot's default probabilities.")
    mapped.tables += stage_table(stages)
    return "opportunities", OPPORTUNITY_COLUMNS
