"""The native interchange format: one file per table, columns named as in the schema.

These specs are the single source of truth for what an import accepts: the validator reads
them, and `docs/data-format.md` is generated from them (a test keeps the two in step).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ColumnType = Literal[
    "id",
    "text",
    "int",
    "number",
    "money",
    "date",
    "bool",
    "enum",
    "period",
    "dimension",
    "country",
    "zip",
    "json",
]

ROLE_SYNONYMS = {
    "ae": "AE",
    "account executive": "AE",
    "account exec": "AE",
    "sales rep": "AE",
    "sales representative": "AE",
    "rep": "AE",
    "senior ae": "AE",
    "enterprise ae": "AE",
    "manager": "Manager",
    "sales manager": "Manager",
    "first line manager": "Manager",
    "director": "Manager",
    "sales director": "Manager",
    "rvp": "Manager",
    "sdr": "SDR",
    "bdr": "SDR",
    "sales development representative": "SDR",
    "se": "SE",
    "sales engineer": "SE",
    "solutions engineer": "SE",
    "other": "Other",
}
OPP_TYPE_SYNONYMS = {
    "new business": "New Business",
    "new": "New Business",
    "new logo": "New Business",
    "expansion": "Expansion",
    "upsell": "Expansion",
    "existing business": "Expansion",
    "cross-sell": "Expansion",
    "renewal": "Renewal",
}
FORECAST_CATEGORY_SYNONYMS = {
    "pipeline": "Pipeline",
    "best case": "Best Case",
    "bestcase": "Best Case",
    "upside": "Best Case",
    "commit": "Commit",
    "closed": "Closed",
    "omitted": "Omitted",
}
REQ_STATUS_SYNONYMS = {
    "open": "open",
    "filled": "filled",
    "cancelled": "cancelled",
    "canceled": "cancelled",
}


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType
    description: str
    example: str = ""
    required: bool = False  # present and non-empty on every row
    minimum: float | None = None
    maximum: float | None = None
    synonyms: dict[str, str] = field(default_factory=dict)  # lower-case input -> canonical
    dimension: str | None = None  # table holding the members of a dimension column
    allow_all: bool = False  # the value 'All' means every member (targets)
    default: str | None = None  # given to new rows when the cell is empty or the column absent


@dataclass(frozen=True)
class TableSpec:
    name: str
    key: tuple[str, ...]
    description: str
    columns: tuple[Column, ...]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]


def _c(name: str, type_: ColumnType, description: str, example: str = "", **kw: object) -> Column:
    return Column(name, type_, description, example, **kw)  # type: ignore[arg-type]


REGION = _c("region", "dimension", "Sales region by name; created if new.", "EMEA", dimension="regions")
SEGMENT = _c(
    "segment",
    "dimension",
    "Customer segment by name; created if new.",
    "Mid-Market",
    dimension="segments",
)
PRODUCT = _c("product", "dimension", "Product by name; created if new.", "Analytics", dimension="products")

SPECS: dict[str, TableSpec] = {
    spec.name: spec
    for spec in (
        TableSpec(
            "regions",
            ("name",),
            "Sales regions (optional: regions named in other files are created).",
            (
                _c("name", "text", "Region name.", "EMEA", required=True),
                _c("sort_order", "int", "Display order.", "1"),
            ),
        ),
        TableSpec(
            "segments",
            ("name",),
            "Customer segments.",
            (
                _c("name", "text", "Segment name.", "Enterprise", required=True),
                _c("sort_order", "int", "Display order.", "0"),
                _c(
                    "effort_weight",
                    "number",
                    "Relative workload of one account (territory balance).",
                    "3.0",
                    minimum=0,
                ),
            ),
        ),
        TableSpec(
            "products",
            ("name",),
            "Products.",
            (
                _c("name", "text", "Product name.", "Core Platform", required=True),
                _c("family", "text", "Product family.", "Platform"),
                _c("sort_order", "int", "Display order.", "0"),
            ),
        ),
        TableSpec(
            "stages",
            ("name",),
            "Opportunity stages with their default win probability.",
            (
                _c(
                    "name",
                    "text",
                    "Stage name as used in opportunities.",
                    "Proposal",
                    required=True,
                ),
                _c("sort_order", "int", "Position in the sales process.", "4", required=True),
                _c(
                    "default_probability",
                    "number",
                    "Default win probability, 0-1.",
                    "0.6",
                    required=True,
                    minimum=0,
                    maximum=1,
                ),
                _c("is_closed", "bool", "Stage ends the deal.", "false", required=True),
                _c("is_won", "bool", "Stage means won.", "false", required=True),
            ),
        ),
        TableSpec(
            "geos",
            ("country", "zip"),
            "Postal codes with their place and coordinates.",
            (
                _c("country", "country", "ISO 3166 alpha-2 country code.", "US", required=True),
                _c("zip", "zip", "Postal code.", "02139", required=True),
                _c("city", "text", "City.", "Cambridge"),
                _c("county", "text", "County.", "Middlesex County"),
                _c("state", "text", "State or province.", "MA"),
                _c("msa_code", "text", "US CBSA code.", "14460"),
                _c("msa_name", "text", "Metropolitan area name.", "Boston, MA"),
                _c("lat", "number", "Latitude.", "42.37", minimum=-90, maximum=90),
                _c("lon", "number", "Longitude.", "-71.10", minimum=-180, maximum=180),
                REGION,
            ),
        ),
        TableSpec(
            "territories",
            ("territory_id",),
            "Territories and their current owner.",
            (
                _c("territory_id", "id", "Territory id.", "T-NA-MM-01", required=True),
                _c("name", "text", "Territory name.", "NA Mid-Market 01", required=True),
                REGION,
                SEGMENT,
                _c("rep_id", "id", "Current owner (empty while vacant).", "R-00012"),
            ),
        ),
        TableSpec(
            "territory_geos",
            ("country", "zip", "segment"),
            "Which territory covers a postal code for a segment.",
            (
                _c("territory_id", "id", "Territory id.", "T-NA-MM-01", required=True),
                _c("country", "country", "ISO country code.", "US", required=True),
                _c("zip", "zip", "Postal code.", "02139", required=True),
                _c(
                    "segment",
                    "dimension",
                    "Segment the rule applies to.",
                    "Mid-Market",
                    required=True,
                    dimension="segments",
                ),
            ),
        ),
        TableSpec(
            "reps",
            ("rep_id",),
            "Sales people, current and departed.",
            (
                _c("rep_id", "id", "Rep id.", "R-00012", required=True),
                _c("name", "text", "Full name.", "Maya Okafor", required=True),
                _c("email", "text", "Work email.", "maya.okafor@example.com"),
                _c(
                    "role",
                    "enum",
                    "AE (carries quota), Manager, SDR, SE or Other; common titles are mapped. Empty: AE for a new rep.",
                    "AE",
                    synonyms=ROLE_SYNONYMS,
                    default="AE",
                ),
                REGION,
                SEGMENT,
                _c("territory_id", "id", "Territory held.", "T-NA-MM-01"),
                _c("manager_id", "id", "rep_id of the manager.", "R-00002"),
                _c("home_zip", "zip", "Home postal code (travel distance).", "02139"),
                _c("home_country", "country", "Home country code.", "US"),
                _c("hire_date", "date", "Start date.", "2024-03-04"),
                _c("end_date", "date", "Leaving date; empty while employed.", ""),
                _c("ote", "money", "On-target earnings per year.", "210000", minimum=0),
                _c("ramp_months", "int", "Months to full productivity.", "5", minimum=0, maximum=36),
            ),
        ),
        TableSpec(
            "accounts",
            ("account_id",),
            "Customers and prospects.",
            (
                _c("account_id", "id", "Account id.", "A-000123", required=True),
                _c("name", "text", "Company name.", "Summit Logistics Ltd", required=True),
                REGION,
                SEGMENT,
                _c("zip", "zip", "Postal code.", "02139"),
                _c("country", "country", "ISO country code.", "US"),
                _c("city", "text", "City.", "Cambridge"),
                _c("owner_rep_id", "id", "Owning rep.", "R-00012"),
                _c("territory_id", "id", "Territory.", "T-NA-MM-01"),
                _c(
                    "parent_account_id",
                    "id",
                    "Parent account in the account hierarchy; empty for a top-level account.",
                    "A-000100",
                ),
                _c(
                    "arr",
                    "money",
                    "Annual recurring revenue today (0 for prospects).",
                    "48000",
                    minimum=0,
                ),
                _c(
                    "potential",
                    "money",
                    "Estimated annual spend available to us.",
                    "150000",
                    minimum=0,
                ),
                _c(
                    "is_strategic",
                    "bool",
                    "Strategic account (never moved by rebalancing).",
                    "false",
                ),
                _c("industry", "text", "Industry.", "Logistics"),
                _c("employees", "int", "Employees.", "850", minimum=0),
                _c(
                    "annual_revenue",
                    "money",
                    "Annual revenue of the company.",
                    "120000000",
                    minimum=0,
                ),
                _c("created_date", "date", "Created in the CRM.", "2021-06-01"),
            ),
        ),
        TableSpec(
            "opportunities",
            ("opp_id",),
            "Deals, open and closed. account_id must exist.",
            (
                _c("opp_id", "id", "Opportunity id.", "O-0001234", required=True),
                _c(
                    "account_id",
                    "id",
                    "Account (must exist in the warehouse or the same import).",
                    "A-000123",
                    required=True,
                ),
                _c("name", "text", "Opportunity name.", "Summit Logistics - Analytics"),
                _c("owner_rep_id", "id", "Owning rep.", "R-00012"),
                PRODUCT,
                _c(
                    "type",
                    "enum",
                    "New Business, Expansion or Renewal.",
                    "New Business",
                    synonyms=OPP_TYPE_SYNONYMS,
                ),
                _c("created_date", "date", "Created.", "2026-03-02", required=True),
                _c("close_date", "date", "Expected or actual close.", "2026-06-30", required=True),
                _c(
                    "stage",
                    "text",
                    "Stage name (a row of stages; the standard stages exist).",
                    "Proposal",
                    required=True,
                ),
                _c("amount", "money", "Deal amount.", "45000", required=True, minimum=0),
                _c("is_closed", "bool", "Deal is closed (default: from the stage).", "false"),
                _c("is_won", "bool", "Deal is won (default: from the stage).", "false"),
                _c(
                    "forecast_category",
                    "enum",
                    "Pipeline, Best Case, Commit, Closed or Omitted.",
                    "Best Case",
                    synonyms=FORECAST_CATEGORY_SYNONYMS,
                ),
                _c("lost_reason", "text", "Why it was lost.", "Competitor"),
                _c("push_count", "int", "Times the close date moved out.", "1", minimum=0),
                _c("stage_changed_date", "date", "Entered its current stage.", "2026-05-10"),
            ),
        ),
        TableSpec(
            "opportunity_history",
            ("opp_id", "seq"),
            "Changes of stage, amount, close date and category.",
            (
                _c("opp_id", "id", "Opportunity (must exist).", "O-0001234", required=True),
                _c(
                    "seq",
                    "int",
                    "Order of the change within the opportunity.",
                    "3",
                    required=True,
                    minimum=1,
                ),
                _c("changed_date", "date", "Date of the change.", "2026-05-10", required=True),
                _c("stage", "text", "Stage after the change.", "Proposal", required=True),
                _c("amount", "money", "Amount after the change.", "45000", minimum=0),
                _c("close_date", "date", "Close date after the change.", "2026-06-30"),
                _c(
                    "forecast_category",
                    "enum",
                    "Category after the change.",
                    "Commit",
                    synonyms=FORECAST_CATEGORY_SYNONYMS,
                ),
            ),
        ),
        TableSpec(
            "bookings",
            ("booking_id",),
            "Won business. date and amount alone are enough for a history-only company.",
            (
                _c("booking_id", "id", "Booking id; derived from the row when absent.", "B-0000456"),
                _c("date", "date", "Booking date.", "2026-06-28", required=True),
                _c("amount", "money", "Amount (negative for reversals).", "45000", required=True),
                REGION,
                SEGMENT,
                PRODUCT,
                _c("rep_id", "id", "Credited rep.", "R-00012"),
                _c(
                    "account_id",
                    "id",
                    "Account; fills region and segment when they are empty.",
                    "A-000123",
                ),
                _c("opp_id", "id", "Opportunity.", "O-0001234"),
            ),
        ),
        TableSpec(
            "quotas",
            ("rep_id", "period"),
            "Quota per rep and fiscal period.",
            (
                _c("rep_id", "id", "Rep.", "R-00012", required=True),
                _c(
                    "period",
                    "period",
                    "Fiscal period: FY2027, FY2027-H1, FY2027-Q2 or 2026-09.",
                    "FY2027-Q2",
                    required=True,
                ),
                _c("amount", "money", "Quota.", "250000", required=True, minimum=0),
            ),
        ),
        TableSpec(
            "targets",
            ("period", "region", "segment"),
            "Company targets per fiscal period, region and segment.",
            (
                _c("period", "period", "Fiscal period.", "FY2027-Q2", required=True),
                _c(
                    "region",
                    "dimension",
                    "Region, or All.",
                    "EMEA",
                    dimension="regions",
                    allow_all=True,
                ),
                _c(
                    "segment",
                    "dimension",
                    "Segment, or All.",
                    "All",
                    dimension="segments",
                    allow_all=True,
                ),
                _c("amount", "money", "Target bookings.", "4200000", required=True, minimum=0),
            ),
        ),
        TableSpec(
            "comp_plans",
            ("plan_id",),
            "Commission plans.",
            (
                _c("plan_id", "id", "Plan id.", "CP-FY2027-MM", required=True),
                _c("name", "text", "Plan name.", "FY2027 Mid-Market AE plan", required=True),
                _c("role", "enum", "Role the plan applies to.", "AE", synonyms=ROLE_SYNONYMS),
                SEGMENT,
                _c(
                    "fiscal_year",
                    "int",
                    "Fiscal year (e.g. 2027).",
                    "2027",
                    minimum=1990,
                    maximum=2200,
                ),
                _c(
                    "variable_share",
                    "number",
                    "Share of OTE that is variable, 0-1.",
                    "0.5",
                    required=True,
                    minimum=0,
                    maximum=1,
                ),
                _c(
                    "threshold",
                    "number",
                    "Attainment below which nothing is paid.",
                    "0.4",
                    minimum=0,
                    maximum=2,
                ),
                _c(
                    "decelerator",
                    "number",
                    "Rate multiplier between threshold and 100%.",
                    "0.8",
                    minimum=0,
                    maximum=5,
                ),
                _c(
                    "accelerators",
                    "json",
                    'Tiers above 100%: [{"from": 1.0, "multiplier": 1.6}].',
                    '[{"from": 1.0, "multiplier": 1.6}]',
                ),
                _c(
                    "cap",
                    "number",
                    "Maximum payout as a multiple of target variable.",
                    "3.0",
                    minimum=0,
                ),
            ),
        ),
        TableSpec(
            "headcount_plan",
            ("req_id",),
            "Open and planned requisitions.",
            (
                _c("req_id", "id", "Requisition id.", "REQ-0042", required=True),
                _c("role", "enum", "Role.", "AE", required=True, synonyms=ROLE_SYNONYMS),
                REGION,
                SEGMENT,
                _c("territory_id", "id", "Territory to fill.", "T-EMEA-MM-04"),
                _c("planned_start", "date", "Planned start date.", "2027-03-01", required=True),
                _c(
                    "status",
                    "enum",
                    "open, filled or cancelled.",
                    "open",
                    synonyms=REQ_STATUS_SYNONYMS,
                ),
                _c("ote", "money", "Budgeted OTE.", "190000", minimum=0),
                _c("backfill_for", "id", "rep_id replaced.", "R-00031"),
            ),
        ),
    )
}

# Tables in dependency order: members first, then the rows that refer to them.
LOAD_ORDER = tuple(SPECS)


def markdown() -> str:
    """`docs/data-format.md`, generated from the specs."""
    lines = [
        "# Native data format",
        "",
        "Generated from `warehouse/importers/specs.py`; do not edit by hand "
        "(`python -m warehouse.importers.specs > docs/data-format.md`).",
        "",
        "`spm data import PATH... --format native` loads CSV (UTF-8, comma, semicolon or tab "
        "separated, header row), Excel `.xlsx` (first sheet, header row) or Parquet files named "
        "after the table they fill: "
        "`accounts.csv`, `opportunities_2026.parquet` (the part after `_` is free). A folder "
        "imports every such file in it. Column names are the schema's snake_case names "
        "(case and surrounding spaces are ignored); unknown columns are ignored and reported.",
        "",
        "Rules for every table:",
        "",
        "- Each row is loaded or rejected with its file, row number (the header is row 1), "
        "column and reason; `read = loaded + rejected` for every file.",
        "- `--strict` loads nothing if any row is rejected. Any failure leaves the warehouse as "
        "it was: the whole import is one transaction.",
        "- Rows are upserted on the table's key: importing a file again updates rows, never "
        "duplicates them. Columns absent from a file keep their stored values on update.",
        "- Dimension members (regions, segments, products) are given by name and created when "
        "missing; names match existing members case-insensitively (`emea` is `EMEA`).",
        "- Types: `date` is `YYYY-MM-DD`; `money` and `number` are plain numbers with a dot "
        "decimal (thousands separators `,` and a leading `$` are tolerated); `bool` is "
        "true/false, yes/no, 1/0; `period` is a fiscal period name; `country` is an ISO "
        "3166 alpha-2 code; `zip` keeps leading zeros (4-digit US ZIPs from spreadsheets are "
        "padded).",
        "",
    ]
    for spec in SPECS.values():
        lines += [
            f"## `{spec.name}`",
            "",
            spec.description,
            "",
            f"Key: `{', '.join(spec.key)}`.",
            "",
        ]
        lines += ["| column | type | required | description | example |", "|---|---|---|---|---|"]
        for col in spec.columns:
            lines.append(
                f"| `{col.name}` | {col.type} | {'yes' if col.required else ''} | {col.description} | `{col.example}` |"
            )
        lines.append("")
    lines += _crm_sections()
    lines += _mapping_section()
    return "\n".join(lines)


def _crm_sections() -> list[str]:
    """The Salesforce and HubSpot export docs, from the mappers' own header maps."""
    from warehouse.importers import hubspot, salesforce
    from warehouse.importers.crm_common import ExportKind

    def headers(kinds: dict[str, ExportKind]) -> list[str]:
        out: list[str] = []
        for kind in kinds.values():
            pairs = ", ".join(f"`{src}` → `{dst}`" for src, dst in kind.headers.items())
            out += [f"- **{kind.label}** (`{kind.name}`): {pairs}.", ""]
        return out

    return [
        "## CRM exports: common rules",
        "",
        "`--format salesforce` and `--format hubspot` read a CRM's own exports, as CSV (UTF-8 with or "
        "without BOM; comma, semicolon or tab separated) or Excel `.xlsx`. Each file's kind is "
        "recognised from its headers (matched ignoring case and spaces; a custom report type's "
        "`Object: Field` prefix is ignored), and the files load in dependency order (users, "
        "accounts, opportunities, history), whatever order they are given in. Values keep the "
        "CRM's conventions: `$1,234.50` amounts, US `11/29/2026` dates, date-times "
        "(`11/29/2026 3:45 PM`, `2026-11-29 14:05`), quoted commas. Every derivation below is "
        "reported in the file's notes.",
        "",
        '- **Formatted reports.** A header below title and filter lines (Salesforce "Export → '
        'Formatted Report", "Printable View") is found (the row among the first 30 holding the '
        "most known headers); those lines, blank rows, subtotals and group headings (`Subtotal`, "
        "`Stage: Prospecting (3 records)`), and the footer (`Grand Totals (123 records)`, "
        "`Confidential Information - Do Not Distribute`, `Copyright (c) ... salesforce.com`, "
        "`Generated By: ...`) are dropped and counted; a Grand Totals count that differs from "
        "the rows read is reported. In a summary report, whose grouping columns (leftmost) show "
        "each group's value on its first row only, those values are filled down onto the "
        "group's rows (a leading column that starts with a value, has blanks and never repeats a "
        "value on consecutive rows) and the filled columns are named in the notes.",
        "- **Region** comes from the export's region field when it has one (`Region`, "
        "`Region__c`), else from the country (US and Canada: NA; Europe, Middle East and Africa: "
        "EMEA; Asia-Pacific: APAC; Latin America: LATAM); a user's region from its division, "
        "role or team when it names one (`EMEA AE`, `North America Sales`).",
        "- **Segment** comes from the export's segment field, else employees (Enterprise from "
        "2,000, Mid-Market from 200, SMB below).",
        "- **Owners** match users by id, e-mail (also `Name (email)`) or full name; a name two "
        "users share matches nobody. Unmatched owners load empty and are listed.",
        "- **Roles** (AE, Manager, SDR, SE) come from the job title, else the CRM role.",
        "- **Hire dates**: without a start/hire date column, a user's created date is used, else "
        "hire_date stays empty. Inactive users without a deactivation date get the import date as "
        "end_date.",
        "- **Parent accounts** (`parent_account_id`) come from a parent id, else a parent name "
        "matched to an account of the file or the warehouse.",
        "- **Stages** are created from the export's stage names, with the median of its "
        "probability column (else the CRM's default probability, else 1 won, 0 lost, 0.1 open); a "
        "stage whose name matches an existing one in another case keeps the stored spelling. "
        "Without closed/won columns, a deal's closed and won flags come from its stage.",
        "- **Missing fields**: a file without a field its kind needs fails before anything is "
        "written, naming the field and where to add it (`Opportunities.csv has no Amount column: "
        "add the Amount field to the report (Salesforce: Opportunities report → Columns)`). A "
        "file of no recognised kind fails listing the kinds recognised (and says so when it is "
        "the other CRM's export).",
        "",
        "## Salesforce exports",
        "",
        "Standard and custom report exports (details-only or formatted), and Data Export / Data "
        "Loader files with API names (`Id`, `StageName`, `Region__c`). Reports show 15-character "
        "ids, the API 18-character ones: a reference (an opportunity's account, an owner, a "
        "manager, a parent) in either form links to the record stored in the other. An "
        "Opportunity History export is told from an Opportunities one by `Edit Date`, `From Stage` "
        'or `To Stage`, "history" in its file name, or a repeated Opportunity ID with a date '
        "column; its rows are numbered (`seq`) per opportunity in date-time order, and only stages "
        "no opportunity used yet are created. Opportunities have no region or segment of their own "
        "(they are their account's): a `Region__c` / `Segment__c` is compared with the account's "
        "and differences are reported. Mapped headers (the first of two headers for one column "
        "wins):",
        "",
        *headers(salesforce.KINDS),
        "## HubSpot exports",
        "",
        'Exports of the Companies and Deals views ("Export view" or all properties) and of '
        "the users (Settings → Users & Teams → Export users, or an owners list with `Owner ID`). "
        "Deal stages are the labels (`Closed won`, `Contract sent`) or HubSpot's internal ids "
        "(`closedwon`); without `Deal probability` (a fraction, 0.6) the default pipeline's "
        "probabilities apply (Appointment scheduled 0.2, Qualified to buy 0.4, Presentation "
        "scheduled 0.6, Decision maker bought-in 0.8, Contract sent 0.9, Closed won 1, Closed "
        "lost 0). A deal associated with several companies takes the first (primary). Forecast "
        "category `Not forecasted` is Omitted. An owner without `Owner ID` / `User ID` uses the "
        "e-mail as rep id. A Contacts export is refused (spm plans from companies, deals and "
        "owners). Mapped headers:",
        "",
        *headers(hubspot.KINDS),
    ]


def _mapping_section() -> list[str]:
    """The docs of `--map`, `--dry-run`, `--decimal` and `--rejects` (warehouse/importers/mapping.py)."""
    return [
        "## Mapping files and dry runs",
        "",
        "Files whose headers are not the native column names (a CRM's `Region__c`, a "
        "spreadsheet's `Customer Number`) need no editing: `spm data import FILES --map "
        "mapping.yaml` renames them first. A mapping file is YAML with two optional sections:",
        "",
        "```yaml",
        "columns:            # every file",
        "  Region__c: region",
        "  Segment__c: segment",
        "tables:             # one table (or a Salesforce/HubSpot export kind) only",
        "  accounts:",
        "    Customer Number: account_id",
        "```",
        "",
        "- Source headers match as native headers do: case, surrounding spaces, inner spaces and "
        "dashes are ignored (`customer number` and `Customer-Number` are `Customer Number`).",
        "- A target is a column of that table (above), or for an export kind a column its reader "
        "understands. A `columns` entry applies to the files whose table has that column; a "
        "table's own entry wins over a `columns` entry for the same header or the same column.",
        "- Refused, before anything is imported, with the entry and the fix: a file that is not "
        "YAML, a key given twice, a section other than `columns` and `tables`, an unknown table, "
        "a target that is not a column of its table (the closest column is suggested), two "
        "headers onto one column. Quote headers YAML reads as booleans or numbers (`'Yes'`, `'2024'`).",
        "- A header that is still unknown is ignored and reported with the column it probably "
        "means: `unknown column 'Regoin' — did you mean region?` (`Region__c` suggests "
        "`region` too: a Salesforce `__c` suffix, underscores and spaces are ignored when matching).",
        "",
        "`--dry-run` reads and checks every file and row exactly as an import would, then writes "
        "nothing to the warehouse (no rows, no import record, no audit run): it shows per file "
        "the columns mapped, unknown headers with suggestions, how many rows were read, would "
        "load and would be rejected, and the first 20 rejected rows. It exits 0 when every row "
        "would load and 10 when some would be rejected.",
        "",
        "`--decimal ,` reads numbers and amounts written with a decimal comma (`1.234,50` is "
        "1234.5); the default `--decimal .` reads `1,234.50`.",
        "",
        "`--rejects FILE` writes every rejected row (file, row, column, reason, value) as CSV. "
        "It must be a new file (`--force` replaces one that exists) in an existing folder, and "
        "neither an input file, a file inside an input folder, the mapping file nor the "
        "warehouse; otherwise the command stops before importing anything. Cells that a "
        "spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, a tab or a "
        "carriage return) are written with a leading `'`. If the file cannot be written once the "
        "import has committed (a full disk), the command warns, says what was imported and keeps "
        "the import's exit code.",
        "",
    ]


if __name__ == "__main__":
    print(markdown(), end="")
