"""Data-quality checks: the anomalies that make plans wrong, each with its count and its fix.

Every check runs on a read cursor and returns a `Finding` even when it finds nothing (count 0),
so a report shows what was checked. `affects` names the tools whose results a finding can
distort; the tools attach those findings to their results as warnings.

A check can run on a slice of the warehouse (`CheckContext.where`, which the data-check tool
builds from the caller's scope and filters): opportunities belong to their account's region and
segment, accounts and AEs to their own, quotas to their rep's. The yardsticks some checks measure
against (a typical deal size, a sales cycle) are taken per region x segment from the slice's own
deals, so a region or segment slice finds exactly what the whole warehouse finds there, and a
scoped user's findings are built from nothing outside their scope.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

import pandas as pd

from warehouse.calendar import FiscalCalendar
from warehouse.connection import ReadCursor
from warehouse.errors import InputError

Severity = Literal["info", "warning", "error"]
EXAMPLES = 5
MAX_IDS = 10_000
OUTLIER_Z = 5.0  # robust z-score of log amount within the segment
STALE_MIN_DAYS = 90


@dataclass(frozen=True)
class Finding:
    check: str
    title: str
    severity: Severity
    count: int
    fix: str
    affects: tuple[str, ...]
    amount: float | None = None  # money involved (pipeline, ARR), where it means something
    breakdown: dict[str, int] = field(default_factory=dict)
    examples: list[dict[str, Any]] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)  # every affected record (capped at MAX_IDS)

    @property
    def ok(self) -> bool:
        return self.count == 0


# (subject, table alias, joined account alias) -> SQL condition and its parameters: the rows of
# a slice (tools/core/selection.py's `Selection.where` fits). A callable keeps this module free
# of the tools' selection code, which may import the warehouse but not the other way round.
Where = Callable[[str, str, str | None], tuple[str, list[Any]]]


def everything(subject: str, alias: str, account_alias: str | None = None) -> tuple[str, list[Any]]:
    """The whole warehouse: no condition."""
    return "TRUE", []


@dataclass(frozen=True)
class CheckContext:
    as_of: date
    calendar: FiscalCalendar
    where: Where = everything


def _examples(frame: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for row in frame.head(EXAMPLES).to_dict("records"):
        out.append({k: (v.isoformat() if isinstance(v, date) else v) for k, v in row.items()})
    return out


def _ids(frame: pd.DataFrame, column: str) -> list[str]:
    return [] if frame.empty else [str(v) for v in frame[column].head(MAX_IDS)]


def _records(cur: ReadCursor, sql: str, params: list[Any] | None = None) -> pd.DataFrame:
    frame = cur.query_df(sql, params)
    for column in frame.columns:
        if pd.api.types.is_datetime64_any_dtype(frame[column]):
            frame[column] = frame[column].dt.date
    return frame


def zombie_opportunities(cur: ReadCursor, ctx: CheckContext) -> Finding:
    cond, params = ctx.where("opportunities", "o", "a")
    rows = _records(
        cur,
        "SELECT o.opp_id, o.name, o.owner_rep_id, o.stage, o.close_date, o.amount "
        "FROM opportunities o LEFT JOIN accounts a USING (account_id) "
        f"WHERE NOT o.is_closed AND o.close_date < ? AND {cond} ORDER BY o.close_date, o.opp_id",
        [ctx.as_of, *params],
    )
    return Finding(
        check="zombie_opportunities",
        ids=_ids(rows, "opp_id"),
        title="Open opportunities whose close date has passed",
        severity="warning",
        count=len(rows),
        amount=float(rows["amount"].sum()),
        fix="Ask the owners to close them out or set a realistic close date; "
        "until then they inflate pipeline and coverage.",
        affects=("forecast", "metrics"),
        examples=_examples(rows),
    )


def stale_stages(cur: ReadCursor, ctx: CheckContext) -> Finding:
    cond, params = ctx.where("opportunities", "o", "a")
    # The yardstick is the median cycle of the won deals of the same region x segment in the slice.
    rows = _records(
        cur,
        f"""
        WITH cycle AS (
            SELECT a.region, a.segment, median(date_diff('day', o.created_date, o.close_date)) AS days
            FROM opportunities o JOIN accounts a USING (account_id)
            WHERE o.is_won AND {cond} GROUP BY a.region, a.segment
        )
        SELECT o.opp_id, o.name, o.owner_rep_id, o.stage,
               coalesce(o.stage_changed_date, o.created_date) AS in_stage_since,
               date_diff('day', coalesce(o.stage_changed_date, o.created_date), ?::DATE)
                   AS days_in_stage,
               o.amount
        FROM opportunities o
        LEFT JOIN accounts a USING (account_id)
        LEFT JOIN cycle c ON c.region = a.region AND c.segment = a.segment
        WHERE NOT o.is_closed AND o.close_date >= ? AND {cond}
          AND date_diff('day', coalesce(o.stage_changed_date, o.created_date), ?::DATE)
              > greatest({STALE_MIN_DAYS}, coalesce(c.days, 0))
        ORDER BY days_in_stage DESC, o.opp_id
        """,
        [*params, ctx.as_of, ctx.as_of, *params, ctx.as_of],
    )
    return Finding(
        check="stale_stages",
        ids=_ids(rows, "opp_id"),
        title=f"Open opportunities stuck in a stage longer than their region x segment's sales cycle "
        f"(at least {STALE_MIN_DAYS} days)",
        severity="info",
        count=len(rows),
        amount=float(rows["amount"].sum()),
        fix="Review them with the owners: advance, re-date or close them; stale deals win far "
        "less often than their stage suggests.",
        affects=("forecast",),
        examples=_examples(rows),
    )


_LEGAL = re.compile(
    r"\b(inc|llc|corp|corporation|co|company|ltd|limited|gmbh|sa|ag|bv|plc|pty|pte|kk|ltda|"
    r"de|cv|spa|the)\b"
)


def normalize_company(name: str) -> str:
    """Lower case, no punctuation, no legal form: 'ACME Corp.' and 'Acme Corporation' agree."""
    text = re.sub(r"[^\w\s]", " ", name.lower())
    return re.sub(r"\s+", " ", _LEGAL.sub(" ", text)).strip()


def duplicate_accounts(cur: ReadCursor, ctx: CheckContext) -> Finding:
    from rapidfuzz import fuzz, process

    # Both accounts of a pair must be in the slice: names are compared within the slice only.
    cond, params = ctx.where("accounts", "a", None)
    accounts = cur.query_df(
        "SELECT a.account_id, a.name, a.country, coalesce(a.zip, a.city, '') AS place, a.arr FROM accounts a "
        f"WHERE {cond} ORDER BY a.account_id",
        params,
    )
    accounts["norm"] = [normalize_company(n) for n in accounts["name"]]
    pairs = []
    for _, block in accounts.groupby(["country", "place"], sort=False, dropna=False):
        if len(block) < 2:
            continue
        names = block["norm"].tolist()
        scores = process.cdist(names, names, scorer=fuzz.token_sort_ratio, score_cutoff=92)
        ids, raw = block["account_id"].to_numpy(), block["name"].to_numpy()
        for i, j in zip(*scores.nonzero(), strict=True):
            if i < j:
                pairs.append(
                    {
                        "account_id": ids[i],
                        "name": raw[i],
                        "duplicate_id": ids[j],
                        "duplicate_name": raw[j],
                        "place": block["place"].iloc[0],
                        "similarity": int(scores[i, j]),
                    }
                )
    # In id order, not block order: a slice then lists its pairs in the order the whole warehouse does.
    frame = pd.DataFrame(pairs)
    if not frame.empty:
        frame = frame.sort_values(["account_id", "duplicate_id"], ignore_index=True)
    return Finding(
        check="duplicate_accounts",
        ids=[] if frame.empty else (frame["account_id"] + "~" + frame["duplicate_id"]).head(MAX_IDS).tolist(),
        title="Likely duplicate accounts (similar name at the same postal code)",
        severity="warning",
        count=len(frame),
        fix="Merge each pair in the CRM, keeping the record with the ARR and open deals; "
        "duplicates double-count potential in territory and quota plans.",
        affects=("territory", "quota"),
        examples=_examples(frame),
    )


def orphan_owners(cur: ReadCursor, ctx: CheckContext) -> Finding:
    cond, params = ctx.where("accounts", "a", None)
    rows = _records(
        cur,
        f"""
        SELECT a.account_id, a.name, a.owner_rep_id, r.end_date AS owner_left, a.arr,
               CASE WHEN a.owner_rep_id IS NULL THEN 'no_owner'
                    WHEN r.rep_id IS NULL THEN 'unknown_owner'
                    ELSE 'departed_owner' END AS problem
        FROM accounts a LEFT JOIN reps r ON r.rep_id = a.owner_rep_id
        WHERE (a.owner_rep_id IS NULL OR r.rep_id IS NULL OR r.end_date <= ?) AND {cond}
        ORDER BY a.arr DESC, a.account_id
        """,
        [ctx.as_of, *params],
    )
    opp_cond, opp_params = ctx.where("opportunities", "o", "a")
    open_opps = cur.scalar(
        f"""
        SELECT count(*) FROM opportunities o LEFT JOIN reps r ON r.rep_id = o.owner_rep_id
        LEFT JOIN accounts a ON a.account_id = o.account_id
        WHERE NOT o.is_closed AND (o.owner_rep_id IS NULL OR r.rep_id IS NULL OR r.end_date <= ?) AND {opp_cond}
        """,
        [ctx.as_of, *opp_params],
    )
    breakdown = rows["problem"].value_counts().to_dict()
    breakdown = {k: int(breakdown.get(k, 0)) for k in ("no_owner", "unknown_owner", "departed_owner")}
    breakdown["open_opportunities_affected"] = int(open_opps or 0)
    return Finding(
        check="orphan_owners",
        ids=_ids(rows, "account_id"),
        title="Accounts without an active owner (none, unknown, or departed)",
        severity="warning",
        count=len(rows),
        amount=float(rows["arr"].sum()),
        breakdown=breakdown,
        fix="Reassign them to active reps (the territory tool can propose owners); "
        "nobody is working these accounts or their renewals.",
        affects=("territory", "quota", "forecast"),
        examples=_examples(rows),
    )


def zips_without_territory(cur: ReadCursor, ctx: CheckContext) -> Finding:
    mapped = cur.scalar("SELECT count(*) FROM territory_geos")
    cond, params = ctx.where("accounts", "a", None)
    rows = (
        _records(
            cur,
            f"""
        SELECT a.account_id, a.name, a.country, a.zip, a.segment, a.owner_rep_id
        FROM accounts a
        WHERE a.zip IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM territory_geos t
            WHERE t.country = a.country AND t.zip = a.zip AND t.segment = a.segment) AND {cond}
        ORDER BY a.country, a.zip, a.account_id
        """,
            params,
        )
        if mapped
        else pd.DataFrame()
    )
    zips = 0 if rows.empty else rows[["country", "zip"]].drop_duplicates().shape[0]
    return Finding(
        check="zips_without_territory",
        ids=_ids(rows, "account_id"),
        title="Accounts in postal codes that no territory covers",
        severity="warning",
        count=len(rows),
        breakdown={"postal_codes": int(zips)},
        fix="Add the postal codes to a territory (territory_geos) or correct the account "
        "addresses; otherwise new accounts there get no owner.",
        affects=("territory",),
        examples=_examples(rows),
    )


def amount_outliers(cur: ReadCursor, ctx: CheckContext) -> Finding:
    cond, params = ctx.where("opportunities", "o", "a")
    # Deal sizes differ by region as well as segment: each deal is measured against the slice's
    # deals of its own region x segment.
    rows = _records(
        cur,
        f"""
        WITH o AS (
            SELECT o.opp_id, o.name, coalesce(a.region, '') AS region, coalesce(a.segment, '') AS segment,
                   o.stage, o.amount, ln(greatest(o.amount, 1e-9)) AS la
            FROM opportunities o LEFT JOIN accounts a USING (account_id)
            WHERE {cond}
        ), s AS (
            SELECT region, segment, median(la) AS med, greatest(mad(la), 0.05) * 1.4826 AS scale
            FROM o WHERE amount > 0 GROUP BY region, segment
        )
        SELECT o.opp_id, o.name, o.region, o.segment, o.stage, o.amount,
               round(exp(s.med), 0) AS typical_amount,
               round((o.la - s.med) / s.scale, 1) AS robust_z
        FROM o JOIN s USING (region, segment)
        WHERE o.amount <= 0 OR abs(o.la - s.med) / s.scale > {OUTLIER_Z}
        ORDER BY abs(o.la - s.med) / s.scale DESC, o.opp_id
        """,
        params,
    )
    return Finding(
        check="amount_outliers",
        ids=_ids(rows, "opp_id"),
        title=f"Opportunity amounts far outside their region x segment (robust z > {OUTLIER_Z:g}, or <= 0)",
        severity="error",
        count=len(rows),
        amount=float(rows["amount"].sum()),
        fix="Correct the amounts in the CRM (a typo adding zeros is the usual cause); "
        "one such deal can outweigh a region's whole pipeline.",
        affects=("forecast", "metrics", "quota"),
        examples=_examples(rows),
    )


def _quarter(ctx: CheckContext) -> tuple[str, date, date]:
    quarter = ctx.calendar.period_of(ctx.as_of, "quarter")
    return quarter.name, quarter.start, quarter.end


def active_reps_without_quota(cur: ReadCursor, ctx: CheckContext) -> Finding:
    name, _, _ = _quarter(ctx)
    has_quotas = cur.scalar("SELECT count(*) FROM quotas")
    cond, params = ctx.where("reps", "r", None)
    rows = (
        _records(
            cur,
            f"""
        SELECT r.rep_id, r.name, r.region, r.segment, r.hire_date
        FROM reps r
        WHERE r.role = 'AE' AND (r.hire_date IS NULL OR r.hire_date <= ?)
          AND (r.end_date IS NULL OR r.end_date > ?)
          AND NOT EXISTS (SELECT 1 FROM quotas q WHERE q.rep_id = r.rep_id AND q.period = ?)
          AND {cond}
        ORDER BY r.rep_id
        """,
            [ctx.as_of, ctx.as_of, name, *params],
        )
        if has_quotas
        else pd.DataFrame()
    )
    return Finding(
        check="active_reps_without_quota",
        ids=_ids(rows, "rep_id"),
        title=f"Active AEs without a quota for {name}",
        severity="warning",
        count=len(rows),
        fix=f"Assign {name} quotas to them (the quota tool can allocate them); attainment, "
        "capacity and comp cost otherwise leave them out.",
        affects=("quota", "capacity"),
        examples=_examples(rows),
    )


def quotas_without_rep(cur: ReadCursor, ctx: CheckContext) -> Finding:
    periods = [row[0] for row in cur.execute("SELECT DISTINCT period FROM quotas").fetchall()]
    bounds = []
    for period in periods:
        try:
            p = ctx.calendar.parse(period)
        except InputError:
            continue
        if p.end > ctx.as_of:  # current and future periods only: history is history
            bounds.append((period, p.start))
    if not bounds:
        rows = pd.DataFrame()
    else:
        values = ", ".join("(?, ?::DATE)" for _ in bounds)
        # A quota belongs to its rep's region and segment: one held by an unknown rep id is in no slice.
        cond, where_params = ctx.where("quotas", "q", None)
        params: list[Any] = [x for pair in bounds for x in pair] + where_params
        rows = _records(
            cur,
            f"""
            WITH p(period, start_date) AS (VALUES {values})
            SELECT q.rep_id, q.period, q.amount,
                   CASE WHEN r.rep_id IS NULL THEN 'unknown_rep' ELSE 'rep_left' END AS problem,
                   r.end_date AS rep_left_on
            FROM quotas q JOIN p USING (period)
            LEFT JOIN reps r ON r.rep_id = q.rep_id
            WHERE (r.rep_id IS NULL OR r.end_date <= p.start_date) AND {cond}
            ORDER BY q.period, q.rep_id
            """,
            params,
        )
    return Finding(
        check="quotas_without_rep",
        ids=[] if rows.empty else (rows["rep_id"] + "@" + rows["period"]).head(MAX_IDS).tolist(),
        title="Quotas of current or future periods held by reps who left or do not exist",
        severity="warning",
        count=len(rows),
        amount=float(rows["amount"].sum()) if len(rows) else 0.0,
        fix="Reassign these quotas to active reps or remove them; otherwise the quota plan "
        "does not add up to the target.",
        affects=("quota", "capacity"),
        examples=_examples(rows),
    )


CHECKS: dict[str, Callable[[ReadCursor, CheckContext], Finding]] = {
    "zombie_opportunities": zombie_opportunities,
    "stale_stages": stale_stages,
    "duplicate_accounts": duplicate_accounts,
    "orphan_owners": orphan_owners,
    "zips_without_territory": zips_without_territory,
    "amount_outliers": amount_outliers,
    "active_reps_without_quota": active_reps_without_quota,
    "quotas_without_rep": quotas_without_rep,
}


def run_checks(
    cur: ReadCursor,
    as_of: date,
    calendar: FiscalCalendar,
    only: list[str] | None = None,
    where: Where = everything,
) -> list[Finding]:
    """Run the named checks (all by default) as of a date, on the slice `where` selects (all by default)."""
    ctx = CheckContext(as_of=as_of, calendar=calendar, where=where)
    unknown = sorted(set(only or []) - set(CHECKS))
    if unknown:
        raise InputError(f"Unknown check(s): {', '.join(unknown)}.", f"Valid checks: {', '.join(CHECKS)}.")
    return [CHECKS[name](cur, ctx) for name in (only or CHECKS)]
