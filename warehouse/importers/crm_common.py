"""What every CRM export mapper shares: header renaming, required fields, owners, regions,
segments, roles, stages and dates.

Salesforce and HubSpot exports differ in their headers, not in what they lack: neither has our
region or segment, owners come as names or e-mails, stages come with a probability or none.
The rules for deriving those live here once, so both mappers (and any later CRM) give the same
answer for the same data. Mappers keep values as the export's strings; only the validator
(`validate.py`) types them, with the report conventions (`$1,234.50`, `11/29/2026`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd

from warehouse.errors import InputError
from warehouse.importers.countries import REGION_OF, country_code
from warehouse.importers.reading import RawChunk, RawFile

SEGMENT_BY_EMPLOYEES = ((2_000, "Enterprise"), (200, "Mid-Market"), (0, "SMB"))
# Words that name a region in free text (a user's role, division or team), beyond the region
# names themselves; matched as whole words, case-insensitively.
REGION_WORDS = {
    "north america": "NA",
    "amer": "NA",
    "us": "NA",
    "usa": "NA",
    "canada": "NA",
    "europe": "EMEA",
    "emea": "EMEA",
    "uk": "EMEA",
    "dach": "EMEA",
    "nordics": "EMEA",
    "asia pacific": "APAC",
    "asia-pacific": "APAC",
    "apac": "APAC",
    "apj": "APAC",
    "anz": "APAC",
    "latin america": "LATAM",
    "latam": "LATAM",
}
_US_DATETIME = re.compile(r"^(\d{1,2}/\d{1,2}/\d{2,4})[,\s]+\d{1,2}:\d{2}.*$")
_NAME_WITH_EMAIL = re.compile(r"^(.*?)\s*[(<]\s*([^()<>\s]+@[^()<>\s]+)\s*[)>]$")  # "Jane Doe (jane@x.com)"
_TRUE = ("1", "true", "yes", "y", "x")


def _count(n: int, noun: str) -> str:
    """`1 row`, `3 rows`: a count with its noun, for the notes a user reads."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


@dataclass
class MappedFile:
    """A CRM export rewritten as native tables, in load order."""

    kind: str
    tables: list[tuple[str, list[str], list[RawChunk]]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ExportKind:
    """One export shape of a CRM: its headers, what it must hold and where a user adds a field."""

    name: str  # the kind's key: users, accounts, ... (also the --map `tables` name)
    label: str  # as the CRM names it: "Opportunities", "Deals"
    where: str  # where a missing field is added: "Salesforce: Opportunities report → Columns"
    headers: Mapping[str, str]  # export header -> mapped column; the first header of a column wins
    required: tuple[tuple[str, ...], ...] = ()  # mapped columns needed; a tuple is alternatives
    noun: str = "report"  # what the user edits to add a field: a Salesforce report, a HubSpot export

    def header_for(self, column: str) -> str:
        """The export's usual header for a mapped column (for messages)."""
        return next((h for h, c in self.headers.items() if c == column), column)


def header_key(name: str) -> str:
    """How headers are compared: case, surrounding and repeated spaces ignored."""
    return re.sub(r"\s+", " ", name.replace("\ufeff", "").strip().lower())


def _prefix_stripped(name: str) -> str:
    """'Opportunity: Amount' -> 'amount': custom report types prefix a field with its object."""
    return header_key(name.split(":", 1)[1]) if ":" in name else header_key(name)


def known_headers(kinds: Iterable[ExportKind]) -> set[str]:
    return {header_key(h) for kind in kinds for h in kind.headers}


def match_columns(columns: Iterable[str], kind: ExportKind) -> dict[str, str]:
    """File column -> mapped column. When two file columns mean one mapped column, the header
    listed first in the kind's map wins (`Edit Date` over `Created Date` for a change's date)."""
    priority = {header_key(h): i for i, h in enumerate(kind.headers)}
    targets = {header_key(h): c for h, c in kind.headers.items()}
    best: dict[str, tuple[int, str]] = {}  # mapped column -> (priority, file column)
    for column in columns:
        key = header_key(column)
        if key not in targets:
            key = _prefix_stripped(column)
        if key not in targets:
            continue
        target, rank = targets[key], priority[key]
        if target not in best or rank < best[target][0]:
            best[target] = (rank, column)
    return {column: target for target, (_, column) in best.items()}


def rename(raw: RawFile, kind: ExportKind) -> tuple[pd.DataFrame, np.ndarray, list[tuple[int, str]]]:
    """The file as one frame of mapped columns (unknown columns dropped), its row numbers and
    its rejected (ragged) rows."""
    frames, rows, ragged = [], [], []
    for chunk in raw.chunks:
        frames.append(chunk.frame)
        rows.append(chunk.rows)
        ragged.extend(chunk.ragged)
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=raw.columns)
    renamed = match_columns(frame.columns, kind)
    frame = frame[list(renamed)].rename(columns=renamed).astype(object)
    return frame, np.concatenate(rows) if rows else np.array([], np.int64), ragged


def require(frame: pd.DataFrame, kind: ExportKind, file: str) -> None:
    """Raise naming the first required field the export lacks, and where to add it."""
    for alternatives in kind.required:
        if not any(c in frame for c in alternatives):
            names = " or ".join(kind.header_for(c) for c in alternatives)
            raise InputError(
                f"{file} has no {names} column:",
                f"add the {kind.header_for(alternatives[0])} field to the {kind.noun} ({kind.where}), "
                "then export and import it again.",
            )


def chunk(frame: pd.DataFrame, rows: np.ndarray, ragged: list[tuple[int, str]]) -> list[RawChunk]:
    return [RawChunk(frame.reset_index(drop=True), rows, ragged)]


def present(frame: pd.DataFrame, columns: Iterable[str]) -> list[str]:
    """The columns of `columns` the frame has, in that order (the native columns to load)."""
    return [c for c in columns if c in frame]


def column(frame: pd.DataFrame, name: str) -> pd.Series:
    """A mapped column, or all-missing when the export lacks it."""
    return frame[name] if name in frame else pd.Series(None, index=frame.index, dtype=object)


def is_true(values: pd.Series) -> pd.Series:
    return values.astype("string").str.strip().str.lower().isin(_TRUE).fillna(False).astype(bool)


def lookup(cur: duckdb.DuckDBPyConnection, sql: str) -> dict[str, str | None]:
    """lower(name) -> id; names held by two ids map to None (ambiguous)."""
    out: dict[str, str | None] = {}
    for name, ident in cur.execute(sql).fetchall():
        if name is None:
            continue
        key = str(name).strip().lower()
        out[key] = None if key in out and out[key] != ident else ident
    return out


def first_listed(values: pd.Series) -> pd.Series:
    """'123;456' -> '123': association columns list every associated record, first is primary."""
    return values.map(lambda v: str(v).split(";")[0].strip() or None if isinstance(v, str) else None)


def date_text(values: pd.Series) -> pd.Series:
    """'11/29/2026 3:45 PM' -> '11/29/2026': report date-times carry a time the dates do not need
    (ISO date-times are already read by the validator)."""
    return values.map(lambda v: _US_DATETIME.sub(r"\1", v) if isinstance(v, str) else v)


def timestamps(values: pd.Series) -> pd.Series:
    """Date-times for ordering (history rows within a day keep their time); unreadable is NaT."""
    text = values.astype("string").str.replace(r"^(\d{1,2}/\d{1,2}/\d{2,4}),", r"\1", regex=True)
    return pd.to_datetime(text, errors="coerce", format="mixed")


def iso_dates(values: pd.Series, stamps: pd.Series) -> pd.Series:
    """ISO dates where `stamps` parsed; the original text elsewhere (so the validator names it)."""
    return stamps.dt.strftime("%Y-%m-%d").astype(object).where(stamps.notna(), values)


# --- owners ----------------------------------------------------------------------------------


def resolve_owners(values: pd.Series, cur: duckdb.DuckDBPyConnection, notes: list[str], users_export: str) -> pd.Series:
    """Owner text (a user id, an e-mail, a full name, or 'Name (email)') -> rep_id.

    Ids and e-mails are exact; names match case-insensitively and a name two users share
    matches nobody (reported, never guessed)."""
    reps = cur.execute("SELECT rep_id, name, email FROM reps").fetchall()
    ids = {str(r[0]) for r in reps}
    emails = lookup(cur, "SELECT email, rep_id FROM reps")
    names = lookup(cur, "SELECT name, rep_id FROM reps")
    ambiguous: set[str] = set()

    def one(value: object) -> str | None:
        if not isinstance(value, str) or not value.strip():
            return None
        text = value.strip()
        if text in ids:
            return text
        found = _NAME_WITH_EMAIL.match(text)
        name, email = (found[1], found[2]) if found else (text, text if "@" in text else "")
        for key, table in ((email.lower(), emails), (name.lower(), names)):
            if key and key in table:
                if table[key] is None:
                    ambiguous.add(text)
                return table[key]
        return None

    resolved = values.map(one)
    unmatched = values.notna() & resolved.isna()
    if unmatched.any():
        missing = sorted(str(v) for v in values[unmatched].unique() if v not in ambiguous)
        if missing:
            count = int(values[unmatched].isin(missing).sum())
            notes.append(
                f"{count} rows have an owner that matches no user ({', '.join(missing[:3])}); "
                f"they load without owner. Import the {users_export} first to link them."
            )
        if ambiguous:
            notes.append(
                f"Owner names shared by two users ({', '.join(sorted(ambiguous)[:3])}) match nobody: "
                "those rows load without owner. Export the owner's e-mail or user id to link them."
            )
    return resolved


# --- places, sizes, people -------------------------------------------------------------------


def countries_and_regions(frame: pd.DataFrame, notes: list[str], source: str) -> None:
    """Country names -> ISO codes; the region from the country where the export gives none."""
    if "country" in frame:
        frame["country"] = frame["country"].map(lambda c: (country_code(c) or c) if isinstance(c, str) else None)
    given = column(frame, "region")
    derived = column(frame, "country").map(lambda c: REGION_OF.get(c) if isinstance(c, str) else None)
    fill = given.isna() & derived.notna()
    frame["region"] = given.where(given.notna(), derived)
    if fill.any():
        notes.append(f"Region derived from the {source} country for {_count(int(fill.sum()), 'row')}.")
    unplaced = frame["region"].isna()
    if unplaced.any():
        countries = sorted({str(c) for c in column(frame, "country")[unplaced].dropna()})
        why = f" (country {', '.join(countries[:3])} is in no region)" if countries else " (no country)"
        notes.append(f"{int(unplaced.sum())} rows have no region{why}.")


def segments(frame: pd.DataFrame, notes: list[str]) -> None:
    """The segment from employees where the export gives none (Enterprise from 2,000, ...)."""
    given = column(frame, "segment")
    derived = segment_of(column(frame, "employees"))
    fill = given.isna() & derived.notna()
    frame["segment"] = given.where(given.notna(), derived)
    if fill.any():
        notes.append(
            f"Segment derived from employees for {_count(int(fill.sum()), 'row')} (Enterprise ≥ 2,000, Mid-Market ≥ 200)."
        )


def segment_of(employees: pd.Series) -> pd.Series:
    count = pd.to_numeric(employees.astype("string").str.replace(",", ""), errors="coerce")
    out = pd.Series(None, index=employees.index, dtype=object)
    for floor, name in reversed(SEGMENT_BY_EMPLOYEES):
        out[count >= floor] = name
    return out


def region_in_text(values: pd.Series, cur: duckdb.DuckDBPyConnection) -> pd.Series:
    """The region a free text names ('EMEA Account Executive', 'Team North America'), if one."""
    words = {**REGION_WORDS, **{str(n).lower(): str(n) for (n,) in cur.execute("SELECT name FROM regions").fetchall()}}
    words.update({r.lower(): r for r in set(REGION_OF.values())})
    pattern = re.compile(r"\b(" + "|".join(sorted(map(re.escape, words), key=len, reverse=True)) + r")\b", re.I)

    def one(value: object) -> str | None:
        found = pattern.search(value) if isinstance(value, str) else None
        return words[found[1].lower()] if found else None

    return values.map(one)


def role_of(text: object) -> str:
    """A job title or CRM role as one of our roles (AE carries quota)."""
    value = str(text or "").lower()
    if any(w in value for w in ("manager", "director", "vp", "vice president", "head of", "chief")):
        return "Manager"
    if any(w in value for w in ("sdr", "bdr", "development")):
        return "SDR"
    if "engineer" in value or "consultant" in value:
        return "SE"
    return "AE"


def opp_type(text: object) -> str | None:
    if not isinstance(text, str) or not text.strip():
        return None
    value = text.lower()
    if "renew" in value:
        return "Renewal"
    if "new" in value:
        return "New Business"
    return "Expansion"


def parents(frame: pd.DataFrame, cur: duckdb.DuckDBPyConnection, notes: list[str]) -> None:
    """`parent_account_id` from a parent id, or from a parent name matched to an account of the
    file or the warehouse (a name two accounts share matches neither)."""
    if "parent_name" not in frame and "parent_account_id" not in frame:
        return
    ids = set(frame["account_id"].dropna()) | {r[0] for r in cur.execute("SELECT account_id FROM accounts").fetchall()}
    names = lookup(cur, "SELECT name, account_id FROM accounts")
    in_file: dict[str, str | None] = {}
    for name, ident in zip(frame["name"], frame["account_id"], strict=True):
        if isinstance(name, str):
            key = name.strip().lower()
            in_file[key] = None if key in in_file and in_file[key] != ident else ident
    names.update(in_file)
    by_name = column(frame, "parent_name").map(
        lambda v: (v if v in ids else names.get(v.strip().lower())) if isinstance(v, str) else None
    )
    given = column(frame, "parent_account_id")
    frame["parent_account_id"] = given.where(given.notna(), by_name)
    unmatched = column(frame, "parent_name").notna() & frame["parent_account_id"].isna()
    if unmatched.any():
        examples = ", ".join(sorted(frame.loc[unmatched, "parent_name"].unique())[:3])
        notes.append(
            f"Parent account matching no account ({examples}) on {_count(int(unmatched.sum()), 'row')}: "
            "loaded without parent. Add the Parent Account ID field to link them."
        )


def people_regions(
    frame: pd.DataFrame, cur: duckdb.DuckDBPyConnection, notes: list[str], texts: Mapping[str, str]
) -> None:
    """A user's region from the export's region field, else from the first of `texts` (mapped
    column -> its export header, in order of trust) that names one ('EMEA Account Executive')."""
    given = column(frame, "region")
    region = given.copy()
    used: list[str] = []
    for name, label in texts.items():
        if name in frame:
            found = region_in_text(frame[name], cur)
            if (region.isna() & found.notna()).any():
                used.append(label)
            region = region.where(region.notna(), found)
    derived = given.isna() & region.notna()
    if derived.any():
        notes.append(f"Region derived from {' / '.join(used)} for {int(derived.sum())} users.")
    frame["region"] = region


def hire_dates(frame: pd.DataFrame, notes: list[str], fields: str) -> None:
    """hire_date from the export, else the user's created date (noted), else empty (noted)."""
    if "hire_date" in frame:
        return
    if "created_date" in frame:
        frame["hire_date"] = frame["created_date"]
        notes.append(f"No {fields} column: hire_date taken from each user's Created Date (when the login was made).")
    else:
        notes.append(f"No {fields} column: hire_date left empty (ramp and tenure treat these reps as fully ramped).")


def end_dates(frame: pd.DataFrame, today: str, notes: list[str]) -> None:
    if "active" not in frame:
        return
    inactive = frame["active"].astype("string").str.strip().str.lower().isin(["false", "0", "no", "n"]).fillna(False)
    if "end_date" not in frame:
        frame["end_date"] = None
    no_date = inactive & frame["end_date"].isna()
    frame.loc[no_date, "end_date"] = today
    if no_date.any():
        notes.append(
            f"{_count(int(no_date.sum()), 'inactive user')} without a deactivation date: end_date set to {today}."
        )


def owners(frame: pd.DataFrame, cur: duckdb.DuckDBPyConnection, notes: list[str], users_export: str) -> None:
    """owner_rep_id from the owner id column, else the owner's name or e-mail."""
    owner = column(frame, "owner_id")
    owner = owner.where(owner.notna(), column(frame, "owner_name"))
    if owner.notna().any():
        frame["owner_rep_id"] = resolve_owners(owner, cur, notes, users_export)


# The native columns each mapped kind fills (those the export provides or the mapping derives).
REP_COLUMNS = ["rep_id", "name", "email", "role", "region", "segment", "manager_id", "hire_date", "end_date", "ote"]
HISTORY_COLUMNS = ["opp_id", "seq", "changed_date", "stage", "amount", "close_date", "forecast_category"]
ACCOUNT_COLUMNS = [
    "account_id",
    "name",
    "parent_account_id",
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
]
OPPORTUNITY_COLUMNS = [
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
]


def link_accounts(frame: pd.DataFrame, cur: duckdb.DuckDBPyConnection, notes: list[str]) -> None:
    """account_id from the account's name where the export has no account id."""
    if "account_id" in frame and frame["account_id"].notna().any():
        return
    accounts = lookup(cur, "SELECT name, account_id FROM accounts")
    frame["account_id"] = column(frame, "account_name").map(
        lambda n: accounts.get(n.strip().lower()) if isinstance(n, str) else None
    )
    unmatched = column(frame, "account_name").notna() & frame["account_id"].isna()
    if unmatched.any():
        examples = ", ".join(sorted(frame.loc[unmatched, "account_name"].unique())[:3])
        notes.append(
            f"{int(unmatched.sum())} rows name an account that matches no account ({examples}); "
            "import the accounts first, or add the account id to the export."
        )


def check_account_dimensions(frame: pd.DataFrame, cur: duckdb.DuckDBPyConnection, notes: list[str]) -> None:
    """Opportunities hold no region or segment of their own (they are their account's): a
    Region__c / Segment__c on the export is compared with the account's and differences noted."""
    for name in ("region", "segment"):
        if name not in frame or frame[name].isna().all():
            continue
        stored = dict(cur.execute(f"SELECT account_id, {name} FROM accounts WHERE {name} IS NOT NULL").fetchall())
        theirs = frame["account_id"].map(stored)
        differ = frame[name].notna() & theirs.notna() & (frame[name].str.lower() != theirs.str.lower())
        notes.append(
            f"The export's {name} is read but not stored: an opportunity's {name} is its account's"
            + (f"; it differs from the account's on {_count(int(differ.sum()), 'row')}." if differ.any() else ".")
        )


# --- stages ----------------------------------------------------------------------------------


def stage_rows(
    frame: pd.DataFrame,
    cur: duckdb.DuckDBPyConnection,
    defaults: Mapping[str, float] | None = None,
    only_new: bool = False,
) -> pd.DataFrame | None:
    """Stage rows for the stages an export uses.

    A stage's probability is the median of the export's `probability` (percent), else the
    CRM's default for that stage name (`defaults`, lower-case names), else 1 for won, 0 for
    lost and 0.1 for an open stage. A stage is closed when the export says so or its name says
    so (Closed ..., Won, Lost). Names keep the warehouse's spelling when a stage exists in
    another case ('Closed won' is 'Closed Won'). `only_new` leaves existing stages untouched
    (history exports name stages their opportunities already created)."""
    if "stage" not in frame:
        return None
    existing = {
        str(name).lower(): (str(name), int(order))
        for name, order in cur.execute("SELECT name, sort_order FROM stages").fetchall()
    }
    probability = pd.to_numeric(column(frame, "probability"), errors="coerce") / 100.0
    names = frame["stage"].map(lambda s: existing.get(s.lower(), (s, 0))[0] if isinstance(s, str) else None)
    lowered = names.astype("string").str.lower()
    name_closed = lowered.str.contains(r"^closed|\bwon\b|\blost\b", regex=True).fillna(False).astype(bool)
    name_won = lowered.str.contains(r"\bwon\b", regex=True).fillna(False).astype(bool)
    table = pd.DataFrame(
        {
            "name": names,
            "p": probability,
            "closed": is_true(column(frame, "is_closed")) | name_closed,
            "won": is_true(column(frame, "is_won")) | name_won,
        }
    ).dropna(subset=["name"])
    if only_new:
        table = table[~table["name"].str.lower().isin(existing.keys())]
    if table.empty:
        return None
    grouped = table.groupby("name", sort=False).agg(p=("p", "median"), closed=("closed", "max"), won=("won", "max"))
    grouped["won"] &= grouped["closed"]
    default = pd.Series([(defaults or {}).get(str(n).lower()) for n in grouped.index], index=grouped.index, dtype=float)
    fallback = grouped["won"].astype(float).where(grouped["closed"], 0.1)
    grouped["p"] = grouped["p"].fillna(default).fillna(fallback)
    grouped = grouped.sort_values(["closed", "p"], kind="stable")
    start = max((order for _, order in existing.values()), default=0) if only_new else 0
    return pd.DataFrame(
        {
            "name": grouped.index,
            "sort_order": [str(start + i + 1) for i in range(len(grouped))],
            "default_probability": [f"{p:.4f}" for p in grouped["p"].clip(0, 1)],
            "is_closed": grouped["closed"].map(str).str.lower().to_numpy(),
            "is_won": grouped["won"].map(str).str.lower().to_numpy(),
        }
    )


def stage_table(stages: pd.DataFrame | None) -> list[tuple[str, list[str], list[RawChunk]]]:
    """The `stages` entry of a MappedFile (none when the export names no new stage)."""
    if stages is None:
        return []
    rows = np.arange(1, len(stages) + 1, dtype=np.int64)
    return [("stages", list(stages.columns), [RawChunk(stages, rows)])]


def closed_won_note(frame: pd.DataFrame, notes: list[str], closed: str, won: str) -> None:
    missing = [label for col, label in (("is_closed", closed), ("is_won", won)) if col not in frame]
    if missing:
        notes.append(f"No {' or '.join(missing)} column: derived from each row's stage.")


def history_seq(frame: pd.DataFrame, rows: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
    """History rows ordered by opportunity and change time (file order breaks ties), numbered
    1.. per opportunity; `changed_date` becomes an ISO date where it reads."""
    stamps = timestamps(frame["changed_date"])
    order = pd.DataFrame({"opp": frame["opp_id"].astype("string"), "at": stamps, "pos": np.arange(len(frame))})
    order = order.sort_values(["opp", "at", "pos"], kind="stable", na_position="last")
    sorted_frame = frame.iloc[order["pos"].to_numpy()].reset_index(drop=True)
    sorted_stamps = stamps.iloc[order["pos"].to_numpy()].reset_index(drop=True)
    sorted_frame["seq"] = (sorted_frame.groupby("opp_id", sort=False, dropna=False).cumcount() + 1).map(str)
    sorted_frame["changed_date"] = iso_dates(sorted_frame["changed_date"], sorted_stamps)
    return sorted_frame, rows[order["pos"].to_numpy()]
