"""Syncing Salesforce through its API: SOQL fetches, incremental by SystemModstamp, one transaction.

The caller hands in an already logged-in client (a `simple_salesforce.Salesforce`, or anything
with its `query`, `query_more` and `bulk2` calls), so credentials never reach this layer.

Records take the same road as a report export (`salesforce.map_file`, then `TableLoader`), so a
synced record is validated, rejected and reported exactly like a row of an imported file. What
the API gives better than an export is used instead of guessing: owners and managers come as
User Ids (not names), stages come from `OpportunityStage` (not medians of a file's
probabilities). Each object's high-water mark (the highest SystemModstamp read) is stored in
`crm_sync_state` in the same transaction as its records, so a sync that fails or rolls back
leaves both the data and the marks as they were, and the next sync asks again.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np
import pandas as pd

from warehouse.calendar import FiscalCalendar
from warehouse.connection import Warehouse
from warehouse.errors import InputError, SpmError
from warehouse.importers import salesforce
from warehouse.importers.crm_common import MappedFile
from warehouse.importers.loader import DIMENSION_TABLES, FileReport, TableLoader
from warehouse.importers.reading import RawChunk, RawFile
from warehouse.importers.run import ImportReport
from warehouse.importers.specs import SPECS
from warehouse.importers.staging import stage_chunks, workspace
from warehouse.importers.validate import REJECTION_COLUMNS, Coercer, Members

SOURCE = "salesforce"
# Above this many changed records an object is read with Bulk API 2.0 (one job, CSV pages of
# up to 50,000) instead of REST query pages of 2,000: fewer API calls against the daily limit.
BULK_THRESHOLD = 10_000
Method = Literal["rest", "bulk"]


class SalesforceClient(Protocol):
    """The calls of `simple_salesforce.Salesforce` this module makes."""

    sf_instance: str

    def query(self, query: str, include_deleted: bool = False, **kwargs: Any) -> Any: ...

    def query_more(
        self,
        next_records_identifier: str,
        identifier_is_url: bool = False,
        include_deleted: bool = False,
        **kwargs: Any,
    ) -> Any: ...

    def restful(self, path: str, params: dict[str, Any] | None = None, method: str = "GET", **kwargs: Any) -> Any: ...


@dataclass(frozen=True)
class ObjectQuery:
    """What is read of one sObject. The fields keep their API names: `salesforce.map_file` reads
    them as it reads a Data Export / Data Loader file (`Id`, `OwnerId`, `UserRole.Name`)."""

    sobject: str
    kind: str  # the export kind map_file maps: users | accounts | opportunities | opportunity_history
    fields: tuple[str, ...]
    where: str | None = None  # a fixed filter, ANDed with the high-water mark


QUERIES: tuple[ObjectQuery, ...] = (
    ObjectQuery(
        "User",
        "users",
        ("Id", "Name", "Email", "Title", "UserRole.Name", "IsActive", "ManagerId", "CreatedDate", "SystemModstamp"),
        # People only: no integration, portal or Chatter users (they own nothing we plan).
        where="UserType = 'Standard'",
    ),
    ObjectQuery(
        "Account",
        "accounts",
        (
            "Id",
            "Name",
            "ParentId",
            "BillingPostalCode",
            "BillingCountry",
            "BillingCity",
            "Industry",
            "NumberOfEmployees",
            "AnnualRevenue",
            "OwnerId",
            "CreatedDate",
            "SystemModstamp",
        ),
    ),
    ObjectQuery(
        "Opportunity",
        "opportunities",
        (
            "Id",
            "Name",
            "AccountId",
            "OwnerId",
            "StageName",
            "Amount",
            "CloseDate",
            "CreatedDate",
            "Type",
            "Probability",
            "ForecastCategoryName",
            "IsClosed",
            "IsWon",
            "LastStageChangeDate",
            "SystemModstamp",
        ),
    ),
    ObjectQuery(
        "OpportunityHistory",
        "opportunity_history",
        (
            "Id",
            "OpportunityId",
            "CreatedDate",
            "StageName",
            "Amount",
            "CloseDate",
            "ForecastCategory",
            "SystemModstamp",
        ),
    ),
)
STAGE_QUERY = "SELECT MasterLabel, SortOrder, DefaultProbability, IsClosed, IsWon FROM OpportunityStage"


@dataclass
class Fetched:
    """One object's records as read: flat string values, in the order Salesforce returned them."""

    query: ObjectQuery
    records: list[dict[str, str | None]]
    method: Method
    pages: int
    since: datetime | None  # the high-water mark asked from (None: everything)

    @property
    def high_water(self) -> datetime | None:
        stamps = [parse_timestamp(r.get("SystemModstamp")) for r in self.records]
        found = [s for s in stamps if s is not None]
        return max(found) if found else None


@dataclass
class ObjectSync:
    """How one object was read and what became of its records (`read = loaded + rejected`)."""

    sobject: str
    method: Method
    pages: int
    since: str | None
    high_water: str | None
    read: int = 0
    loaded: int = 0
    rejected: int = 0


@dataclass
class SyncReport:
    report: ImportReport
    objects: list[ObjectSync]
    instance: str
    full: bool

    def to_dict(self, max_rejections: int = 10_000) -> dict[str, Any]:
        return {
            **self.report.to_dict(max_rejections),
            "source": SOURCE,
            "instance": self.instance,
            "full": self.full,
            "objects": [asdict(o) for o in self.objects],
        }


# --- reading ----------------------------------------------------------------------------------


def parse_timestamp(text: str | None) -> datetime | None:
    """A Salesforce datetime (`2026-05-10T12:00:00.000+0000` or `...Z`) as naive UTC."""
    if not text:
        return None
    value = text.strip().replace("Z", "+00:00")
    if len(value) > 5 and value[-5] in "+-" and value[-3] != ":":  # +0000 -> +00:00
        value = f"{value[:-2]}:{value[-2:]}"
    try:
        stamp = datetime.fromisoformat(value)
    except ValueError:
        return None
    return stamp.astimezone(UTC).replace(tzinfo=None) if stamp.tzinfo else stamp


def soql_timestamp(stamp: datetime) -> str:
    """A SOQL datetime literal (unquoted, UTC)."""
    return f"{stamp:%Y-%m-%dT%H:%M:%S}.{stamp.microsecond // 1000:03d}Z"


def soql(query: ObjectQuery, since: datetime | None, *, count: bool = False) -> str:
    conditions = [c for c in (query.where, f"SystemModstamp > {soql_timestamp(since)}" if since else None) if c]
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    if count:
        return f"SELECT COUNT() FROM {query.sobject}{where}"
    # Oldest change first: a REST read cut off by an error has read a prefix of the changes.
    return f"SELECT {', '.join(query.fields)} FROM {query.sobject}{where} ORDER BY SystemModstamp"


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    return text or None


def flatten(record: dict[str, Any], prefix: str = "") -> dict[str, str | None]:
    """A REST record as flat strings: `{"UserRole": {"Name": "AE"}}` -> `{"UserRole.Name": "AE"}`,
    the way Bulk API 2.0 names relationship columns in its CSV."""
    out: dict[str, str | None] = {}
    for key, value in record.items():
        if key == "attributes":
            continue
        if isinstance(value, dict):
            out.update(flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = _text(value)
    return out


def _rest_pages(client: SalesforceClient, text: str) -> Iterator[list[dict[str, Any]]]:
    """Query pages, following `nextRecordsUrl` (queryMore) until `done`."""
    page = client.query(text)
    while True:
        yield page.get("records", [])
        if page.get("done", True) or not page.get("nextRecordsUrl"):
            return
        page = client.query_more(page["nextRecordsUrl"], identifier_is_url=True)


def _bulk_pages(client: Any, sobject: str, text: str, wait: float) -> Iterator[list[dict[str, str | None]]]:
    """Bulk API 2.0 query job result pages (CSV, followed by `Sforce-Locator`)."""
    for csv_text in getattr(client.bulk2, sobject).query(text, wait=wait):
        reader = csv.DictReader(io.StringIO(csv_text))
        yield [{k: (v if v != "" else None) for k, v in row.items()} for row in reader]


def fetch(
    client: SalesforceClient,
    query: ObjectQuery,
    since: datetime | None,
    *,
    bulk_threshold: int = BULK_THRESHOLD,
    bulk_wait: float = 2.0,
) -> Fetched:
    """Read an object's records changed after `since` (all of them when None)."""
    with salesforce_errors(f"reading {query.sobject} records"):
        total = int(client.query(soql(query, since, count=True)).get("totalSize", 0))
        method: Method = "bulk" if total > bulk_threshold else "rest"
        records: list[dict[str, str | None]] = []
        pages = 0
        if total:
            text = soql(query, since)
            source = (
                _bulk_pages(client, query.sobject, text, bulk_wait)
                if method == "bulk"
                else ([flatten(r) for r in page] for page in _rest_pages(client, text))
            )
            for page in source:
                records.extend(page)
                pages += 1
    return Fetched(query, records, method, pages, since)


def fetch_stages(client: SalesforceClient) -> list[dict[str, str | None]]:
    with salesforce_errors("reading the opportunity stages (OpportunityStage)"):
        return [flatten(r) for page in _rest_pages(client, STAGE_QUERY) for r in page]


# --- mapping to the import pipeline's shapes --------------------------------------------------


def _label(sobject: str) -> str:
    return f"Salesforce {sobject}"


def _stage_chunk(stages: list[dict[str, str | None]]) -> RawChunk | None:
    """OpportunityStage rows as the native stages table (DefaultProbability is percent; the table holds 0-1)."""
    if not stages:
        return None
    frame = pd.DataFrame(
        {
            "name": [s.get("MasterLabel") for s in stages],
            "sort_order": [s.get("SortOrder") for s in stages],
            "default_probability": [
                None if s.get("DefaultProbability") is None else f"{float(s['DefaultProbability'] or 0) / 100:.4f}"
                for s in stages
            ],
            "is_closed": [s.get("IsClosed") for s in stages],
            "is_won": [s.get("IsWon") for s in stages],
        },
        dtype=object,
    )
    return RawChunk(frame, np.arange(1, len(frame) + 1, dtype=np.int64))


def map_records(
    fetched: Fetched, cur: Any, today: str, stages: list[dict[str, str | None]] | None = None
) -> MappedFile:
    """An object's records mapped exactly as `map_file` maps a Data Export file of them (so the
    same derivations, notes and checks apply), with two things the API knows better."""
    records = fetched.records
    frame = pd.DataFrame({f: [r.get(f) for r in records] for f in fetched.query.fields}, dtype=object)
    rows = np.arange(1, len(frame) + 1, dtype=np.int64)  # row n is the n-th record read
    raw = RawFile(Path(_label(fetched.query.sobject)), list(frame.columns), iter([RawChunk(frame, rows)]))
    mapped = salesforce.map_file(raw, fetched.query.kind, cur, today)
    if fetched.query.kind == "opportunities":
        # Stages as Salesforce defines them (order, default probability), not medians of the records read.
        chunk = _stage_chunk(stages or [])
        if chunk is not None:
            mapped.tables = [t for t in mapped.tables if t[0] != "stages"]
            mapped.tables.insert(0, ("stages", list(chunk.frame.columns), [chunk]))
    if fetched.query.kind == "opportunity_history" and fetched.since is not None:
        _continue_seq(mapped, cur)
    return mapped


def _continue_seq(mapped: MappedFile, cur: Any) -> None:
    """History rows never change once written, so an incremental read only appends: map_file
    numbers an opportunity's rows 1.. within what was read, and they continue after the stored
    ones. (A full read keeps 1..: the same rows get the same numbers and update in place.)"""
    stored = {
        str(o): int(n)
        for o, n in cur.execute("SELECT opp_id, max(seq) FROM opportunity_history GROUP BY opp_id").fetchall()
    }
    for name, _, chunks in mapped.tables:
        if name != "opportunity_history":
            continue
        for chunk in chunks:
            frame = chunk.frame
            offset = frame["opp_id"].map(lambda o: stored.get(str(o), 0) if isinstance(o, str) else 0)
            seq = pd.to_numeric(frame["seq"], errors="coerce")
            frame["seq"] = (seq + offset).map(lambda v: None if pd.isna(v) else str(int(v))).astype(object)


# --- the sync -----------------------------------------------------------------------------


class _StrictRollback(Exception):
    """Raised inside the transaction to undo a strict sync that rejected records."""


def high_water_marks(warehouse: Warehouse) -> dict[str, datetime | None]:
    with warehouse.reader() as cur:
        rows = cur.execute("SELECT object, high_water FROM crm_sync_state WHERE source = ?", [SOURCE]).fetchall()
    return {obj: mark for obj, mark in rows}


def sync_salesforce(
    warehouse: Warehouse,
    client: SalesforceClient,
    *,
    full: bool = False,
    strict: bool = False,
    bulk_threshold: int = BULK_THRESHOLD,
    bulk_wait: float = 2.0,
    today: date | None = None,
    imported_by: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> SyncReport:
    """Read Users, Accounts, Opportunities and their history changed since the last sync (all
    of them with `full`) and load them in one transaction; see the module docstring."""
    marks = {} if full else high_water_marks(warehouse)
    fetched: list[Fetched] = []
    for query in QUERIES:
        if progress:
            progress(f"Reading {query.sobject} records...")
        fetched.append(
            fetch(client, query, marks.get(query.sobject), bulk_threshold=bulk_threshold, bulk_wait=bulk_wait)
        )
    opportunities = next(f for f in fetched if f.query.kind == "opportunities")
    stages = fetch_stages(client) if opportunities.records else []

    import_id = uuid.uuid4().hex[:12]
    day = (today or date.today()).isoformat()
    reports: list[FileReport] = []
    rejections: list[pd.DataFrame] = []
    objects: list[ObjectSync] = []
    created: dict[str, list[str]] = {}
    committed = False
    work = workspace()  # the import pipeline's private connection where rows are staged and typed
    try:
        with warehouse.writer() as cur:
            meta = dict(cur.execute("SELECT key, value FROM meta").fetchall())
            existing = {
                table: {name.lower(): name for (name,) in cur.execute(f"SELECT name FROM {table}").fetchall()}
                for table in DIMENSION_TABLES
            }
            coercer = Coercer(
                calendar=FiscalCalendar(int(meta.get("fiscal_year_start_month", "1"))),
                members=Members(existing),
                date_formats=salesforce.SALESFORCE_DATE_FORMATS,
                currency=meta.get("currency", "USD"),
            )
            loader = TableLoader(cur, work, coercer)
            for got in fetched:
                sobject = got.query.sobject
                mapped = map_records(got, cur, day, stages)
                summary = ObjectSync(sobject, got.method, got.pages, _iso(got.since), _iso(got.high_water or got.since))
                for table, columns, chunks in mapped.tables:
                    label = _label(sobject) if table != "stages" else f"{_label(sobject)} (stages)"
                    report, rejected = loader.load(SPECS[table], stage_chunks(work, columns, chunks), label)
                    if table != "stages":
                        report.notes.extend(mapped.notes)
                        summary.read, summary.loaded, summary.rejected = report.read, report.loaded, report.rejected
                    reports.append(report)
                    rejections.append(_with_record_ids(rejected, got if table != "stages" else None))
                if summary.read != len(got.records):  # every fetched record is loaded or rejected
                    raise RuntimeError(
                        f"{sobject}: fetched {len(got.records)} records but the loader read {summary.read}."
                    )
                objects.append(summary)
            created = loader.created
            total_rejected = sum(r.rejected for r in reports)
            if strict and total_rejected:
                raise _StrictRollback
            for got, summary in zip(fetched, objects, strict=True):
                _store_mark(cur, got, summary, import_id)
            cur.execute(
                "INSERT INTO imports (import_id, imported_at, format, files, rows_read, rows_loaded, rows_rejected, "
                "created_members, imported_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    import_id,
                    datetime.now(),
                    "salesforce-api",
                    f"Salesforce API at {client.sf_instance}: " + ", ".join(o.sobject for o in objects),
                    sum(r.read for r in reports),
                    sum(r.loaded for r in reports),
                    total_rejected,
                    ", ".join(f"{t}: {', '.join(n)}" for t, n in created.items()) or None,
                    imported_by,
                ],
            )
            committed = True
    except _StrictRollback:
        committed = False
    finally:
        work.close()
    if not committed:
        for summary in objects:
            summary.loaded = 0
    frames = [r for r in rejections if not r.empty]
    all_rejections = (
        pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=[*REJECTION_COLUMNS, "record_id"])
    )
    done = ImportReport(
        import_id=import_id,
        format="salesforce-api",
        strict=strict,
        committed=committed,
        files=reports,
        rejections=all_rejections,
        created_members=created if committed else {},
    )
    return SyncReport(done, objects, client.sf_instance, full)


def _iso(stamp: datetime | None) -> str | None:
    return stamp.isoformat() if stamp else None


def _with_record_ids(rejected: pd.DataFrame, got: Fetched | None) -> pd.DataFrame:
    """Rejections name the Salesforce record (row n is the n-th record read), so it can be fixed there."""
    if rejected.empty:
        return rejected
    ids = [r.get("Id") for r in got.records] if got is not None else []
    rejected = rejected.copy()
    rejected["record_id"] = [ids[int(r) - 1] if 0 < int(r) <= len(ids) else None for r in rejected["row"]]
    return rejected


def _store_mark(cur: Any, got: Fetched, summary: ObjectSync, import_id: str) -> None:
    """Advance the object's high-water mark (never backwards: a `--full` re-read keeps the later one).

    Rejected records count too: fixing one in Salesforce changes its SystemModstamp, and that
    brings it back in the next sync."""
    mark = got.high_water
    cur.execute(
        """
        INSERT INTO crm_sync_state (source, object, high_water, synced_at, import_id,
                                    records_read, records_loaded, records_rejected)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (source, object) DO UPDATE SET
            high_water = greatest(coalesce(crm_sync_state.high_water, excluded.high_water),
                                  coalesce(excluded.high_water, crm_sync_state.high_water)),
            synced_at = excluded.synced_at, import_id = excluded.import_id,
            records_read = excluded.records_read, records_loaded = excluded.records_loaded,
            records_rejected = excluded.records_rejected
        """,
        [SOURCE, got.query.sobject, mark, datetime.now(), import_id, summary.read, summary.loaded, summary.rejected],
    )


# --- errors ---------------------------------------------------------------------------------


def _api_problem(content: Any) -> str:
    """`ERROR_CODE: message` from a Salesforce error body (a list of {errorCode, message})."""
    items = content if isinstance(content, list) else [content]
    parts = []
    for item in items[:3]:
        if isinstance(item, dict):
            code = item.get("errorCode") or item.get("error") or ""
            text = item.get("message") or item.get("error_description") or ""
            parts.append(f"{code}: {text}".strip(": "))
        elif item:
            parts.append(str(item)[:200])
    return "; ".join(parts) or "no details"


def describe_error(exc: BaseException, doing: str) -> SpmError | None:
    """A Salesforce or network failure as an error naming the problem and the fix (None: not one).
    Messages quote Salesforce's error code and message, never URLs, headers or request bodies."""
    from requests import exceptions as http
    from simple_salesforce import exceptions as sf

    if isinstance(exc, sf.SalesforceAuthenticationFailed):
        return InputError(
            f"Salesforce refused the login while {doing} ({exc.code}: {exc.auth_message}).",
            "Check SPM_SF_USERNAME, SPM_SF_PASSWORD and SPM_SF_TOKEN (Salesforce: Settings > Reset My Security "
            "Token), or SPM_SF_CONSUMER_KEY and SPM_SF_PRIVATE_KEY_FILE for JWT; SPM_SF_DOMAIN=test for a sandbox.",
        )
    if isinstance(exc, sf.SalesforceExpiredSession):
        return InputError(
            f"Salesforce answered 401 while {doing}: the session expired or was revoked ({_api_problem(exc.content)}).",
            "Run the command again to log in afresh with SPM_SF_USERNAME/SPM_SF_PASSWORD/SPM_SF_TOKEN (or the JWT "
            "settings); if it recurs, the connected app's session policy or an admin is revoking the session.",
        )
    if isinstance(exc, sf.SalesforceMalformedRequest):
        return InputError(
            f"Salesforce rejected the request while {doing} ({_api_problem(exc.content)}).",
            "The integration user needs the API Enabled permission and read access to the fields listed in "
            "docs/salesforce-sync.md (field-level security hides a field as if it did not exist).",
        )
    if isinstance(exc, sf.SalesforceRefusedRequest):
        return InputError(
            f"Salesforce refused the request while {doing} ({_api_problem(exc.content)}).",
            "REQUEST_LIMIT_EXCEEDED: wait for the 24-hour API limit to recover; otherwise give the integration "
            "user API access and permission on the object.",
        )
    if isinstance(exc, sf.SalesforceResourceNotFound):
        return InputError(
            f"Salesforce has no such resource while {doing} ({_api_problem(exc.content)}).",
            "Check SPM_SF_DOMAIN / SPM_SF_INSTANCE_URL (your My Domain) and that the org has this object.",
        )
    if isinstance(exc, sf.SalesforceError):
        return InputError(
            f"Salesforce failed while {doing} (HTTP {exc.status}: {_api_problem(exc.content)}).",
            "Try again later; https://status.salesforce.com shows incidents.",
        )
    if isinstance(exc, sf.SalesforceOperationError):
        return InputError(f"A Salesforce Bulk API job failed while {doing} ({str(exc)[:300]}).", "Try again later.")
    if isinstance(exc, http.ConnectionError | http.Timeout):
        return InputError(
            f"Cannot reach Salesforce while {doing} ({type(exc).__name__}).",
            "Check the network and SPM_SF_DOMAIN / SPM_SF_INSTANCE_URL.",
        )
    return None


@contextmanager
def salesforce_errors(doing: str) -> Iterator[None]:
    """Turn Salesforce and network failures inside the block into `describe_error`'s errors."""
    try:
        yield
    except Exception as exc:
        problem = describe_error(exc, doing)
        if problem is None:
            raise
        raise problem from None  # the original carries URLs and response bodies: not for users
