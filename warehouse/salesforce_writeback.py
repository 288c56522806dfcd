"""Writing approved plans back to Salesforce: account owners and Collaborative Forecasts quotas.

A scenario's changes (warehouse.scenarios) become Salesforce records:

- `accounts.owner_rep_id` -> `Account.OwnerId` (Data Loader file `Account_owners.csv`: `Id,OwnerId`);
- `quotas.amount` -> `ForecastingQuota` (Collaborative Forecasts' quota object; file
  `ForecastingQuota.csv`: `QuotaOwnerId,StartDate,QuotaAmount`), one row per user and forecast
  period, the period named by its first day. Collaborative Forecasts keeps monthly or quarterly
  quotas, so a year or half quota is reported, not split on a guess.

A change Salesforce cannot hold is reported with its reason, never dropped: a rep or an account
without a Salesforce Id (they were not synced from Salesforce), a territory (no standard field),
a year quota. Only approved or applied scenarios are written back. A push first reads the
current values and writes only what differs, so pushing the same scenario again changes nothing;
a value someone changed in Salesforce since the plan was made is a conflict, left alone unless
the caller overwrites.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from warehouse.calendar import FiscalCalendar
from warehouse.errors import ConflictError, InputError, SpmError
from warehouse.files import write_atomically
from warehouse.importers.salesforce_api import SalesforceClient, salesforce_errors
from warehouse.scenarios import Scenario, get_scenario, scenario_changes

# Salesforce record ids: 15 or 18 characters, the first three name the object (005 User, 001 Account).
_ID = r"[A-Za-z0-9]{12}(?:[A-Za-z0-9]{3})?"
USER_ID = re.compile(rf"^005{_ID}$")
ACCOUNT_ID = re.compile(rf"^001{_ID}$")
PUSHABLE = ("approved", "applied")
BATCH = 200  # records per sObject Collections request (the API's maximum)
OWNER_FILE = "Account_owners.csv"
QUOTA_FILE = "ForecastingQuota.csv"
SKIPPED_FILE = "not_exported.csv"
Action = Literal["update", "insert", "unchanged", "conflict", "missing"]


@dataclass(frozen=True)
class OwnerChange:
    account_id: str
    old: str | None
    new: str


@dataclass(frozen=True)
class QuotaChange:
    rep_id: str
    period: str
    start_date: str  # the forecast period's first day, YYYY-MM-DD
    old: float | None
    new: float


@dataclass(frozen=True)
class Skipped:
    table: str
    key: str
    column: str
    new: str | None
    reason: str


@dataclass
class WritebackPlan:
    scenario: Scenario
    owners: list[OwnerChange] = field(default_factory=list)
    quotas: list[QuotaChange] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


def _number(value: str | None) -> float | None:
    try:
        return None if value is None else float(value)
    except ValueError:
        return None


def plan_writeback(cur: Any, scenario_ref: str, calendar: FiscalCalendar) -> WritebackPlan:
    """A scenario's net changes (the last new value per cell, the first old one) as Salesforce changes."""
    scenario = get_scenario(cur, scenario_ref)
    net: dict[tuple[str, tuple[tuple[str, str], ...], str], tuple[str | None, str | None]] = {}
    for change in scenario_changes(cur, scenario.scenario_id):
        cell = (change.table, change.key, change.column)
        old = net[cell][0] if cell in net else change.old
        net[cell] = (old, change.new)
    plan = WritebackPlan(scenario)
    for (table, key, column), (old, new) in net.items():
        values = dict(key)
        label = "/".join(values.values())

        def skip(
            reason: str, table: str = table, label: str = label, column: str = column, new: str | None = new
        ) -> None:
            plan.skipped.append(Skipped(table, label, column, new, reason))

        if (table, column) == ("accounts", "owner_rep_id"):
            account = values["account_id"]
            if not ACCOUNT_ID.match(account):
                skip(f"account {account} has no Salesforce Account Id (it was not synced from Salesforce)")
            elif not new:
                skip("a Salesforce account always has an owner; the plan leaves it without one")
            elif not USER_ID.match(new):
                skip(f"rep {new} has no Salesforce User Id (not synced from Salesforce); map or sync the rep first")
            else:
                plan.owners.append(OwnerChange(account, old, new))
        elif (table, column) == ("quotas", "amount"):
            rep, period_name = values["rep_id"], values["period"]
            amount = _number(new)
            try:
                period = calendar.parse(period_name)
            except InputError:
                skip(f"{period_name!r} is not a fiscal period")
                continue
            if not USER_ID.match(rep):
                skip(f"rep {rep} has no Salesforce User Id (not synced from Salesforce); map or sync the rep first")
            elif period.grain not in ("month", "quarter"):
                skip(f"Collaborative Forecasts quotas are monthly or quarterly; {period_name} is a {period.grain}")
            elif amount is None:
                skip("the plan removes the quota; Salesforce quotas are changed, not deleted, by a write-back")
            else:
                plan.quotas.append(QuotaChange(rep, period.name, period.start.isoformat(), _number(old), amount))
        else:
            skip(f"{table}.{column} has no standard Salesforce field (territories: Enterprise Territory Management)")
    return plan


def require_pushable(scenario: Scenario) -> None:
    if scenario.status not in PUSHABLE:
        raise ConflictError(
            f"Scenario {scenario.scenario_id} ({scenario.name}) is {scenario.status}: only approved or applied "
            "scenarios are written to Salesforce.",
            "Apply it first (it needs an approval: spm scenario apply), then push or export it.",
        )


# --- Data Loader files ------------------------------------------------------------------------


def _csv(header: list[str], rows: list[list[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def _amount(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))


def export_files(plan: WritebackPlan, out: Path) -> dict[str, Any]:
    """Write the plan as Data Loader CSV files in `out` (0600: they are company data)."""
    require_pushable(plan.scenario)
    written: dict[str, int] = {}
    if plan.owners:
        write_atomically(out / OWNER_FILE, _csv(["Id", "OwnerId"], [[o.account_id, o.new] for o in plan.owners]))
        written[OWNER_FILE] = len(plan.owners)
    if plan.quotas:
        rows = [[q.rep_id, q.start_date, _amount(q.new)] for q in plan.quotas]
        write_atomically(out / QUOTA_FILE, _csv(["QuotaOwnerId", "StartDate", "QuotaAmount"], rows))
        written[QUOTA_FILE] = len(plan.quotas)
    if plan.skipped:
        skipped: list[list[Any]] = [[s.table, s.key, s.column, s.new, s.reason] for s in plan.skipped]
        write_atomically(out / SKIPPED_FILE, _csv(["table", "key", "column", "new_value", "reason"], skipped))
        written[SKIPPED_FILE] = len(plan.skipped)
    return {
        "scenario": plan.scenario.scenario_id,
        "name": plan.scenario.name,
        "out": str(out),
        "files": written,
        "skipped": [asdict(s) for s in plan.skipped],
    }


# --- the push ---------------------------------------------------------------------------------


@dataclass
class PushItem:
    sobject: Literal["Account", "ForecastingQuota"]
    key: str  # Account Id, or QuotaOwnerId/StartDate
    api_field: str  # OwnerId, QuotaAmount
    current: str | None  # the value in Salesforce now
    target: str
    action: Action
    record_id: str | None = None  # the Salesforce record to update
    extra: dict[str, str] = field(default_factory=dict)  # fields of a record to insert
    result: str | None = None  # after a push: updated, inserted, or the error


@dataclass
class PushResult:
    scenario_id: str
    name: str
    status: str
    items: list[PushItem]
    skipped: list[Skipped]
    pushed: bool = False
    error: str | None = None  # a failure that stopped the push part way (what was done is counted)

    def counts(self) -> dict[str, int]:
        out = {a: 0 for a in ("update", "insert", "unchanged", "conflict", "missing")}
        for item in self.items:
            out[item.action] += 1
        out["skipped"] = len(self.skipped)
        out["written"] = sum(1 for i in self.items if i.result in ("updated", "inserted"))
        out["failed"] = sum(1 for i in self.items if i.result not in (None, "updated", "inserted"))
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario_id,
            "name": self.name,
            "status": self.status,
            "pushed": self.pushed,
            "counts": self.counts(),
            "error": self.error,
            "items": [asdict(i) for i in self.items],
            "skipped": [asdict(s) for s in self.skipped],
        }


def _quoted(values: list[str]) -> str:
    return ", ".join("'" + v.replace("\\", "\\\\").replace("'", "\\'") + "'" for v in values)


def _query_all(client: SalesforceClient, text: str) -> list[dict[str, Any]]:
    page = client.query(text)
    records = list(page.get("records", []))
    while not page.get("done", True) and page.get("nextRecordsUrl"):
        page = client.query_more(page["nextRecordsUrl"], identifier_is_url=True)
        records.extend(page.get("records", []))
    return records


def _same(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is b
    try:
        return abs(float(a) - float(b)) < 0.005
    except (TypeError, ValueError):
        return str(a) == str(b)


def _decide(current: Any, old: Any, new: Any, exists: bool) -> Action:
    if not exists:
        return "insert"
    if _same(current, new):
        return "unchanged"
    if old is None or _same(current, old):
        return "update"
    return "conflict"  # changed in Salesforce since the plan was made


def forecasting_type_id(client: SalesforceClient, developer_name: str) -> str | None:
    """The Id of the forecast type quotas belong to (None: the org has no such type)."""
    with salesforce_errors("reading the forecast types (is Collaborative Forecasts enabled?)"):
        found = _query_all(client, f"SELECT Id FROM ForecastingType WHERE DeveloperName = {_quoted([developer_name])}")
    return found[0]["Id"] if found else None


def compare(client: SalesforceClient, plan: WritebackPlan, forecasting_type: str | None = None) -> PushResult:
    """What a push would do: each change against the value in Salesforce now."""
    items: list[PushItem] = []
    if plan.owners:
        current: dict[str, str | None] = {}
        ids = [o.account_id for o in plan.owners]
        with salesforce_errors("reading the accounts' current owners"):
            for i in range(0, len(ids), BATCH):
                soql = f"SELECT Id, OwnerId FROM Account WHERE Id IN ({_quoted(ids[i : i + BATCH])})"
                current.update({r["Id"]: r.get("OwnerId") for r in _query_all(client, soql)})
        by_prefix = {k[:15]: v for k, v in current.items()}  # 15- and 18-character ids name the same record
        for o in plan.owners:
            found = o.account_id[:15] in by_prefix
            now = by_prefix.get(o.account_id[:15])
            action: Action = _decide(now, o.old, o.new, found) if found else "missing"
            items.append(PushItem("Account", o.account_id, "OwnerId", now, o.new, action, record_id=o.account_id))
    if plan.quotas:
        type_id = forecasting_type_id(client, forecasting_type) if forecasting_type else None
        owners = sorted({q.rep_id for q in plan.quotas})
        existing: dict[tuple[str, str], dict[str, Any]] = {}
        with salesforce_errors("reading the current quotas (ForecastingQuota)"):
            for i in range(0, len(owners), BATCH):
                soql = (
                    "SELECT Id, QuotaOwnerId, StartDate, QuotaAmount, ForecastingTypeId FROM ForecastingQuota "
                    f"WHERE QuotaOwnerId IN ({_quoted(owners[i : i + BATCH])})"
                )
                if type_id:
                    soql += f" AND ForecastingTypeId = {_quoted([type_id])}"
                for r in _query_all(client, soql):
                    existing[(str(r["QuotaOwnerId"])[:15], str(r["StartDate"]))] = r
        for q in plan.quotas:
            row = existing.get((q.rep_id[:15], q.start_date))
            now = None if row is None else row.get("QuotaAmount")
            extra = {"QuotaOwnerId": q.rep_id, "StartDate": q.start_date} | (
                {"ForecastingTypeId": type_id} if type_id else {}
            )
            items.append(
                PushItem(
                    "ForecastingQuota",
                    f"{q.rep_id}/{q.start_date}",
                    "QuotaAmount",
                    None if now is None else _amount(float(now)),
                    _amount(q.new),
                    _decide(now, q.old, q.new, row is not None),
                    record_id=None if row is None else row["Id"],
                    extra=extra,
                )
            )
    s = plan.scenario
    return PushResult(s.scenario_id, s.name, s.status, items, plan.skipped)


def _errors(result: dict[str, Any]) -> str:
    parts = [f"{e.get('statusCode', '')}: {e.get('message', '')}" for e in result.get("errors") or []]
    return "; ".join(parts) or "failed"


def push(client: SalesforceClient, result: PushResult, *, overwrite: bool = False) -> PushResult:
    """Write the differing values through sObject Collections (200 records a request, each record
    succeeding or failing on its own). A failure of a whole request stops the push; what was
    written before it stays counted in `result`, so the caller can record what happened."""
    if result.status not in PUSHABLE:  # never a draft, whoever calls
        raise ConflictError(
            f"Scenario {result.scenario_id} is {result.status}: only approved or applied scenarios are pushed."
        )
    todo = [i for i in result.items if i.action in ("update", "insert") or (overwrite and i.action == "conflict")]
    groups: list[tuple[str, list[PushItem]]] = [
        ("PATCH", [i for i in todo if i.record_id is not None]),
        ("POST", [i for i in todo if i.record_id is None]),
    ]
    result.pushed = True
    try:
        for method, group in groups:
            for start in range(0, len(group), BATCH):
                batch = group[start : start + BATCH]
                records = [
                    {
                        "attributes": {"type": i.sobject},
                        **({"id": i.record_id} if i.record_id else i.extra),
                        # Amounts go as JSON numbers; ids as text.
                        i.api_field: float(i.target) if i.api_field == "QuotaAmount" else i.target,
                    }
                    for i in batch
                ]
                with salesforce_errors(f"writing {batch[0].sobject} records"):
                    answers = client.restful(
                        "composite/sobjects", method=method, json={"allOrNone": False, "records": records}
                    )
                for item, answer in zip(batch, answers or [], strict=False):
                    if answer.get("success"):
                        item.result = "updated" if method == "PATCH" else "inserted"
                        item.record_id = item.record_id or answer.get("id")
                    else:
                        item.result = _errors(answer)
    except SpmError as exc:
        result.error = exc.message
    return result
