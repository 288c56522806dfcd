"""Salesforce exports (Users, Accounts, Opportunities, Opportunity History) mapped to the native tables.

Standard and custom report exports are read, details-only or formatted, CSV or Excel
(`report_files.py` finds the header and drops title and footer rows), and also the Data
Export / Data Loader files that use API names (`Id`, `StageName`, `Region__c`). The export's
kind is recognised from its headers. Values keep their report conventions (`$1,234.50`,
`11/29/2026`); the mapping renames columns and derives what Salesforce does not hold, with a
note for each derivation: the region (from the billing country, or a user's division or role),
the segment (from employees), owner ids (from owner names, e-mails or ids), stages (from stage
names and `Probability (%)`), `Closed`/`Won` (from the stage), a user's hire date (from the
user's created date) and the order of history rows.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from warehouse.importers.crm_common import (
    ACCOUNT_COLUMNS,
    HISTORY_COLUMNS,
    OPPORTUNITY_COLUMNS,
    REP_COLUMNS,
    ExportKind,
    MappedFile,
    check_account_dimensions,
    chunk,
    closed_won_note,
    column,
    countries_and_regions,
    date_text,
    end_dates,
    header_key,
    hire_dates,
    history_seq,
    link_accounts,
    lookup,
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
)
from warehouse.importers.reading import RawFile

__all__ = ["HEADER_MAPS", "KINDS", "SALESFORCE_DATE_FORMATS", "MappedFile", "detect_kind", "map_file"]

SOURCE = "Salesforce"
SALESFORCE_DATE_FORMATS = ("%m/%d/%Y", "%Y-%m-%d", "%m/%d/%y")
_REGION = {"Region": "region", "Region__c": "region", "Sales Region": "region", "Sales_Region__c": "region"}
_SEGMENT = {"Segment": "segment", "Segment__c": "segment", "Customer Segment": "segment"}

USERS = ExportKind(
    "users",
    "Users",
    "Salesforce: Users report → Columns",
    {
        "User ID": "rep_id",
        "Id": "rep_id",
        "Full Name": "name",
        "Name": "name",
        "First Name": "first_name",
        "FirstName": "first_name",
        "Last Name": "last_name",
        "LastName": "last_name",
        "Email": "email",
        "Title": "title",
        "Role": "role_name",
        "Role Name": "role_name",
        "UserRole.Name": "role_name",
        "Division": "division",
        "Department": "department",
        "Active": "active",
        "IsActive": "active",
        "Manager ID": "manager_id",
        "ManagerId": "manager_id",
        "Manager": "manager_name",
        "Manager Name": "manager_name",
        "Start Date": "hire_date",
        "Hire Date": "hire_date",
        "Hire_Date__c": "hire_date",
        "Start_Date__c": "hire_date",
        "Created Date": "created_date",
        "CreatedDate": "created_date",
        "Deactivated Date": "end_date",
        "End Date": "end_date",
        "Termination Date": "end_date",
        **_REGION,
        **_SEGMENT,
        "OTE": "ote",
        "OTE__c": "ote",
    },
    (("rep_id",), ("name", "last_name")),
)
ACCOUNTS = ExportKind(
    "accounts",
    "Accounts",
    "Salesforce: Accounts report → Columns",
    {
        "Account ID": "account_id",
        "Id": "account_id",
        "Account Name": "name",
        "Name": "name",
        "Parent Account ID": "parent_account_id",
        "ParentId": "parent_account_id",
        "Parent Account": "parent_name",
        "Parent Account Name": "parent_name",
        "Billing Zip/Postal Code": "zip",
        "Billing Postal Code": "zip",
        "BillingPostalCode": "zip",
        "Billing Country": "country",
        "BillingCountry": "country",
        "Billing Country Code": "country",
        "BillingCountryCode": "country",
        "Billing City": "city",
        "BillingCity": "city",
        "Industry": "industry",
        "Employees": "employees",
        "NumberOfEmployees": "employees",
        "Annual Revenue": "annual_revenue",
        "AnnualRevenue": "annual_revenue",
        "Account Owner ID": "owner_id",
        "OwnerId": "owner_id",
        "Account Owner": "owner_name",
        "Owner Name": "owner_name",
        "Created Date": "created_date",
        "CreatedDate": "created_date",
        "ARR": "arr",
        "ARR__c": "arr",
        **_REGION,
        **_SEGMENT,
    },
    (("account_id",), ("name",)),
)
OPPORTUNITIES = ExportKind(
    "opportunities",
    "Opportunities",
    "Salesforce: Opportunities report → Columns",
    {
        "Opportunity ID": "opp_id",
        "Id": "opp_id",
        "Opportunity Name": "name",
        "Name": "name",
        "Account ID": "account_id",
        "AccountId": "account_id",
        "Account Name": "account_name",
        "Opportunity Owner ID": "owner_id",
        "OwnerId": "owner_id",
        "Opportunity Owner": "owner_name",
        "Owner Name": "owner_name",
        "Stage": "stage",
        "StageName": "stage",
        "Amount": "amount",
        "Close Date": "close_date",
        "CloseDate": "close_date",
        "Created Date": "created_date",
        "CreatedDate": "created_date",
        "Type": "type",
        "Opportunity Type": "type",
        "Probability (%)": "probability",
        "Probability": "probability",
        "Forecast Category": "forecast_category",
        "ForecastCategoryName": "forecast_category",
        "Closed": "is_closed",
        "IsClosed": "is_closed",
        "Won": "is_won",
        "IsWon": "is_won",
        "Product": "product",
        "Primary Product": "product",
        "Product__c": "product",
        "Loss Reason": "lost_reason",
        "Loss_Reason__c": "lost_reason",
        "Push Count": "push_count",
        "PushCount": "push_count",
        "Last Stage Change Date": "stage_changed_date",
        "LastStageChangeDate": "stage_changed_date",
        **_REGION,
        **_SEGMENT,
    },
    (("opp_id",), ("account_id", "account_name"), ("stage",), ("amount",), ("close_date",), ("created_date",)),
)
HISTORY = ExportKind(
    "opportunity_history",
    "Opportunity History",
    "Salesforce: Opportunity History report → Columns",
    {
        "Opportunity ID": "opp_id",
        "OpportunityId": "opp_id",
        "To Stage": "stage",
        "Stage": "stage",
        "StageName": "stage",
        "Amount": "amount",
        "Close Date": "close_date",
        "CloseDate": "close_date",
        # The change's date: a history report's Edit Date / Last Modified, the API file's CreatedDate.
        "Edit Date": "changed_date",
        "Last Modified Date": "changed_date",
        "Last Modified": "changed_date",
        "LastModifiedDate": "changed_date",
        "CreatedDate": "changed_date",
        "Created Date": "changed_date",
        "Forecast Category": "forecast_category",
        "ForecastCategory": "forecast_category",
        "ForecastCategoryName": "forecast_category",
        "Probability (%)": "probability",
        "Probability": "probability",
    },
    (("opp_id",), ("stage",), ("changed_date",)),
)
KINDS: dict[str, ExportKind] = {k.name: k for k in (USERS, ACCOUNTS, OPPORTUNITIES, HISTORY)}
HEADER_MAPS: dict[str, dict[str, str]] = {name: dict(kind.headers) for name, kind in KINDS.items()}
LOAD_ORDER = tuple(KINDS)  # users own accounts, accounts hold opportunities, opportunities have history

# Headers only one kind has (after the generic Id/Name of API files).
_HISTORY_MARKS = {"edit date", "from stage", "to stage", "opportunityid", "stage duration", "opportunity history id"}
_ACCOUNT_MARKS = {"account id", "account name", "billingcountry", "numberofemployees", "parentid", "parent account"}
_USER_MARKS = {"user id", "username", "isactive", "managerid", "userrole.name", "full name"}
_ID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def detect_kind(columns: list[str], sample: pd.DataFrame | None = None, name: str = "") -> str | None:
    """The export's kind from its headers; a history export is also told from an Opportunities
    one by a repeated Opportunity ID (`sample`: the file's rows) or its file name."""
    keys = {header_key(c) for c in columns} | {header_key(c.split(":", 1)[-1]) for c in columns}
    history = set(match_columns(columns, HISTORY).values())
    if {"opp_id", "stage"} <= history:
        opp_column = next((c for c, t in match_columns(columns, HISTORY).items() if t == "opp_id"), None)
        repeats = sample is not None and opp_column in sample and bool(sample[opp_column].dropna().duplicated().any())
        # An opportunity-with-products report repeats ids too (one row per line item): not history.
        dated = "changed_date" in history and "product" not in set(match_columns(columns, OPPORTUNITIES).values())
        if keys & _HISTORY_MARKS or (repeats and dated) or "history" in name.lower():
            return "opportunity_history"
    opportunities = set(match_columns(columns, OPPORTUNITIES).values())
    if "stage" in opportunities and opportunities & {"opp_id", "name"}:
        return "opportunities"
    if keys & _ACCOUNT_MARKS and "user id" not in keys:
        return "accounts"
    if keys & _USER_MARKS or {"email", "first name", "last name"} <= keys:
        return "users"
    return None


def id15(values: pd.Series) -> pd.Series:
    """18-character Salesforce ids as their 15-character form (15 plus a 3-character case
    checksum); anything else unchanged."""

    def one(value: object) -> object:
        if not isinstance(value, str) or len(value) != 18 or not value.isalnum():
            return value
        suffix = ""
        for start in (0, 5, 10):
            bits = sum(1 << i for i, ch in enumerate(value[start : start + 5]) if "A" <= ch <= "Z")
            suffix += _ID_CHARS[bits]
        return value[:15] if value[15:].upper() == suffix else value

    return values.map(one)


def link_ids(values: pd.Series, known: set[str]) -> pd.Series:
    """References (an opportunity's account, a user's manager, an owner) spelled as the ids
    they point to. Reports show 15-character ids, the API and Data Loader 18 (the same id plus
    a checksum): a reference in one form to a record stored in the other would link nothing.
    Ids themselves are stored as given; only references are rewritten, and only to an id that
    exists."""
    by_short = {k[:15]: k for k in known if len(k) == 18}
    short = id15(values)

    def one(value: object, fifteen: object) -> object:
        if not isinstance(value, str) or value in known:
            return value
        if isinstance(fifteen, str) and fifteen in known:
            return fifteen
        return by_short.get(value, value) if len(value) == 15 else value

    return pd.Series([one(v, f) for v, f in zip(values, short, strict=True)], index=values.index, dtype=object)


def _link(frame: pd.DataFrame, name: str, cur: duckdb.DuckDBPyConnection, sql: str, extra: str | None = None) -> None:
    if name not in frame:
        return
    known = {str(r[0]) for r in cur.execute(sql).fetchall()}
    if extra is not None and extra in frame:
        known |= {str(v) for v in frame[extra].dropna()}
    frame[name] = link_ids(frame[name], known)


def map_file(raw: RawFile, kind: str, cur: duckdb.DuckDBPyConnection, today: str) -> MappedFile:
    spec = KINDS[kind]
    frame, rows, ragged = rename(raw, spec)
    require(frame, spec, raw.path.name)
    mapped = MappedFile(kind=kind)
    reps, accounts = "SELECT rep_id FROM reps", "SELECT account_id FROM accounts"
    _link(frame, "owner_id", cur, reps)
    _link(frame, "manager_id", cur, reps, extra="rep_id")
    _link(frame, "parent_account_id", cur, accounts, extra="account_id")
    if kind == "opportunities":
        _link(frame, "account_id", cur, accounts)
    if kind == "opportunity_history":
        _link(frame, "opp_id", cur, "SELECT opp_id FROM opportunities")
    for name in ("hire_date", "created_date", "end_date", "close_date", "stage_changed_date"):
        if name in frame:
            frame[name] = date_text(frame[name])
    if kind == "users":
        table = map_users(frame, cur, today, mapped.notes)
    elif kind == "accounts":
        table = map_accounts(frame, cur, mapped.notes)
    elif kind == "opportunities":
        table = map_opportunities(frame, cur, mapped)
    else:
        frame, rows = history_seq(frame, rows)
        mapped.tables += stage_table(stage_rows(frame, cur, only_new=True))
        table = ("opportunity_history", HISTORY_COLUMNS)
    name, columns = table
    keep = present(frame, columns)
    mapped.tables.append((name, keep, chunk(frame[keep], rows, ragged)))
    return mapped


def map_users(
    frame: pd.DataFrame, cur: duckdb.DuckDBPyConnection, today: str, notes: list[str]
) -> tuple[str, list[str]]:
    """Users as reps: role from the title (else the role), region from division (else role),
    manager by id or name, hire date from the start date (else created date), end date for
    inactive users. Every derivation is noted."""
    if "name" not in frame or frame["name"].isna().all():
        first, last = column(frame, "first_name"), column(frame, "last_name")
        frame["name"] = (first.fillna("") + " " + last.fillna("")).str.strip().replace("", None)
    title = column(frame, "title").where(column(frame, "title").notna(), column(frame, "role_name"))
    frame["role"] = title.map(role_of)
    if "title" in frame or "role_name" in frame:
        notes.append("Role (AE, Manager, SDR, SE) derived from each user's title, or role where the title is empty.")
    people_regions(frame, cur, notes, {"division": "Division", "role_name": "Role", "department": "Department"})
    if "manager_id" not in frame and "manager_name" in frame:
        names = lookup(cur, "SELECT name, rep_id FROM reps")
        in_file = {str(n).strip().lower(): i for n, i in zip(frame["name"], frame["rep_id"], strict=True) if n}
        names.update(in_file)
        frame["manager_id"] = frame["manager_name"].map(
            lambda n: names.get(n.strip().lower()) if isinstance(n, str) else None
        )
        unmatched = frame["manager_name"].notna() & frame["manager_id"].isna()
        if unmatched.any():
            notes.append(
                f"{int(unmatched.sum())} users have a manager that matches no user "
                f"({', '.join(sorted(frame.loc[unmatched, 'manager_name'].unique())[:3])}); they load without manager."
            )
    hire_dates(frame, notes, "Start Date or Hire Date")
    end_dates(frame, today, notes)
    return "reps", REP_COLUMNS


def map_accounts(frame: pd.DataFrame, cur: duckdb.DuckDBPyConnection, notes: list[str]) -> tuple[str, list[str]]:
    owners(frame, cur, notes, "Users export")
    countries_and_regions(frame, notes, "billing")
    segments(frame, notes)
    parents(frame, cur, notes)
    return "accounts", ACCOUNT_COLUMNS


def map_opportunities(frame: pd.DataFrame, cur: duckdb.DuckDBPyConnection, mapped: MappedFile) -> tuple[str, list[str]]:
    notes = mapped.notes
    link_accounts(frame, cur, notes)
    owners(frame, cur, notes, "Users export")
    if "type" in frame:
        frame["type"] = frame["type"].map(opp_type)
    closed_won_note(frame, notes, "Closed", "Won")
    check_account_dimensions(frame, cur, notes)
    mapped.tables += stage_table(stage_rows(frame, cur))
    return "opportunities", OPPORTUNITY_COLUMNS
