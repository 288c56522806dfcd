"""The forecast call roll-up: for one fiscal period, per manager's team (or per rep of one team),
side by side: closed to date, the open pipeline by forecast category (Commit, Best Case,
Pipeline, Omitted), the reps' calls, the manager's call, the model's P10/P50/P90, and each
caller's historical accuracy, so a leader sees whose number to trust.

Teams are the current ones (reps.manager_id): a manager's book is their reports' deals and
bookings plus their own. Past periods are scored against those same books (the warehouse keeps
no history of who reported to whom). The model's range is the forecast tool's own, run for the
team's slice (filter manager=M) within the caller's scope, so it is the figure `spm forecast
--filter manager=M` shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pandas as pd

from tools.contract import DataWarning, Impact, Recommendation, ToolResult
from tools.core import format as fmt
from tools.core.context import PlanContext
from tools.core.periods import parse_period
from tools.forecast.calls import Accuracy, accuracy, standing
from tools.forecast.models import ForecastInput
from warehouse.calendar import Period
from warehouse.connection import ReadCursor, Warehouse
from warehouse.errors import InputError, NotFoundError, PermissionDeniedError
from warehouse.fingerprint import fingerprint
from warehouse.forecast_calls import read_calls
from warehouse.identity import Scope

TABLES = ("forecast_calls", "bookings", "opportunities", "reps", "meta")
CATEGORY_COLUMNS = {"Commit": "commit", "Best Case": "best_case", "Pipeline": "pipeline", "Omitted": "omitted"}
MODEL_TRIALS = 2_000
MAX_AHEAD = 4  # quarters ahead the model is run for
UNITS = {
    "closed": "USD",
    "commit": "USD",
    "best_case": "USD",
    "pipeline": "USD",
    "omitted": "USD",
    "reps_call": "USD",
    "manager_call": "USD",
    "manager_best_case": "USD",
    "call_accuracy": "share",
    "call_bias": "share",
    "calls_scored": "count",
    "caller": "text",
    "level": "text",
}


class RollupResult(ToolResult):
    tool: str = "forecast_rollup"


@dataclass(frozen=True)
class Book:
    caller: str  # the rep or manager whose book it is
    name: str
    level: str  # team | rep
    members: tuple[str, ...]  # rep ids whose deals and bookings are the book's


def _books(cur: ReadCursor, scope: Scope, manager: str | None) -> list[Book]:
    """The teams in scope (managers with reports), or the reps of `manager`'s team and the team."""
    reps = cur.query_df("SELECT rep_id, name, manager_id, region, segment, end_date FROM reps ORDER BY rep_id")
    managed = reps.dropna(subset=["manager_id"]).groupby("manager_id")["rep_id"].apply(tuple)
    names = dict(zip(reps["rep_id"], reps["name"], strict=True))
    info = reps.set_index("rep_id")
    if manager is not None:
        match = reps[(reps["rep_id"] == manager) | (reps["name"].str.lower() == manager.lower())]
        if match.empty or match["rep_id"].iloc[0] not in managed.index:
            raise NotFoundError(f"{manager!r} manages no one.", "Name a manager by rep id, e.g. --manager R-00001.")
        m = str(match["rep_id"].iloc[0])
        _check_scope(scope, m, info)
        team = managed[m]
        active = [r for r in team if pd.isna(info.loc[r, "end_date"])]
        books = [Book(r, names[r], "rep", (r,)) for r in active]
        return [*books, Book(m, names[m], "team", (m, *team))]
    out = []
    for m, team in managed.items():
        if _in_scope(scope, str(m), info):
            out.append(Book(str(m), names.get(str(m), str(m)), "team", (str(m), *team)))
    if scope.kind == "own" and not out:
        r = str(scope.value)
        out.append(Book(r, names.get(r, r), "rep", (r,)))
    return out


def _in_scope(scope: Scope, rep_id: str, info: pd.DataFrame) -> bool:
    if scope.kind == "all":
        return True
    if scope.kind in ("team", "own"):
        return rep_id == scope.value
    column = "region" if scope.kind == "region" else "segment"
    return rep_id in info.index and info.loc[rep_id, column] == scope.value


def _check_scope(scope: Scope, rep_id: str, info: pd.DataFrame) -> None:
    if not _in_scope(scope, rep_id, info):
        raise PermissionDeniedError(
            f"The team of {rep_id} is outside {scope.describe()}.", "Ask for a team inside your scope."
        )


def _booked(cur: ReadCursor, start: date, stop: date) -> pd.Series:
    frame = cur.query_df(
        "SELECT rep_id, sum(amount) AS booked FROM bookings WHERE date >= ? AND date < ? GROUP BY rep_id",
        [start, stop],
    )
    return frame.set_index("rep_id")["booked"] if len(frame) else pd.Series(dtype=float)


def _open_by_category(cur: ReadCursor, period: Period) -> pd.DataFrame:
    return cur.query_df(
        """SELECT owner_rep_id AS rep_id, coalesce(forecast_category, 'Pipeline') AS category, sum(amount) AS amount
           FROM opportunities WHERE NOT is_closed AND close_date >= ? AND close_date < ?
           GROUP BY ALL""",
        [period.start, period.end],
    )


def _book_sum(series: pd.Series, members: tuple[str, ...]) -> float:
    return float(series.reindex(list(members)).fillna(0.0).sum())


def _model(
    warehouse: Warehouse, scope: Scope, ctx: PlanContext, period: Period, manager: str | None, by_rep: bool
) -> dict[str, dict[str, float]]:
    """The forecast's P10/P50/P90 for `period`: {caller or 'total': quantiles}; {} past or too far."""
    from tools.forecast.tool import run_forecast

    current = ctx.calendar.period_of(ctx.as_of, "quarter")
    if period.grain != "quarter" or period.end <= current.start:
        return {}
    ahead = (period.start.year - current.start.year) * 12 + period.start.month - current.start.month
    k = ahead // 3
    if k > MAX_AHEAD:
        return {}
    params = ForecastInput(
        horizon=max(k, 1),
        trials=MODEL_TRIALS,
        by=["rep"] if by_rep else [],
        filters={"manager": [manager]} if manager else {},
    )
    try:
        result = run_forecast(warehouse, params, scope=scope)
    except (InputError, NotFoundError, PermissionDeniedError):
        return {}
    rows = result.tables.get("current_period", []) if k == 0 else result.tables.get("forecast", [])
    out = {}
    for row in rows:
        if row["period"] != period.name:
            continue
        key = (
            str(row["rep"])
            if by_rep and row.get("level") == "rep"
            else "total"
            if row.get("level") == "total"
            else None
        )
        if key:
            out[key] = {q: float(row[q]) for q in ("p10", "p50", "p90")}
    return out


def run_rollup(
    warehouse: Warehouse, *, period: str | None = None, manager: str | None = None, scope: Scope | None = None
) -> RollupResult:
    scope = scope or Scope.everything()
    with warehouse.reader() as cur:
        ctx = PlanContext.read(cur)
        p = parse_period(period, ctx.calendar, ctx.as_of) if period else ctx.calendar.period_of(ctx.as_of, "quarter")
        books = _books(cur, scope, manager)
        if not books:
            raise NotFoundError(f"No team or rep in {scope.describe()}.", "Import reps with their managers.")
        booked = _booked(cur, p.start, min(p.end, ctx.booked_until))
        open_deals = _open_by_category(cur, p)
        calls = read_calls(cur)
        past = [q for q in ctx.calendar.periods(date(1900, 1, 1), ctx.as_of, "quarter") if q.end <= ctx.as_of]
        names = {q.name for q in past}
        past_booked = _past_booked(cur, [q for q in past if q.name in set(calls["period"])] if len(calls) else [])
        fp = fingerprint(cur, TABLES)
    teams = [b for b in books if b.level == "team"]
    model = {}
    if manager is not None:
        model = _model(warehouse, scope, ctx, p, teams[0].caller, by_rep=True)
        if "total" in model:
            model[teams[0].caller] = model.pop("total")
    else:
        for team in teams:
            found = _model(warehouse, scope, ctx, p, team.caller, by_rep=False)
            if "total" in found:
                model[team.caller] = found["total"]
        overall = _model(warehouse, scope, ctx, p, None, by_rep=False)
        if "total" in overall:
            model["total"] = overall["total"]
    now = standing(calls[calls["period"] == p.name]) if len(calls) else calls
    book_actuals = _book_actuals(books, past_booked)
    ends = {q.name: datetime.combine(q.end, datetime.min.time()) for q in past if q.name in names}
    scores = accuracy(calls, book_actuals, ends) if len(calls) else {}
    rows = [_row(b, p, booked, open_deals, now, model, scores) for b in books]
    rows.append(_total(rows, model.get("total"), manager is not None))
    return RollupResult(
        summary=_summary(p, rows, scope, scores, books),
        metrics={
            "period": p.name,
            "in_progress": p.contains(ctx.as_of),
            "booked_until": ctx.booked_until.isoformat(),
            "teams": len(teams),
            "teams_called": sum(1 for r in rows if r["level"] == "team" and r["manager_call"] is not None),
            "scope": scope.describe(),
        },
        tables={"rollup": rows, "calls": _call_rows(now)},
        recommendations=_recommendations(rows, p),
        assumptions=[
            "A manager's book is their current reports' deals and bookings plus their own; past periods are "
            "scored against the same books.",
            "A call is the whole period's bookings, what is closed included; accuracy compares the commit call "
            "standing at each closed period's end with what the book booked.",
            f"The model's range is the forecast tool's ({MODEL_TRIALS:,} trials) for each team's slice.",
        ],
        warnings=_warnings(rows),
        data_fingerprint=fp,
    )


def _past_booked(cur: ReadCursor, periods: list[Period]) -> dict[str, pd.Series]:
    return {q.name: _booked(cur, q.start, q.end) for q in periods}


def _book_actuals(books: list[Book], past: dict[str, pd.Series]) -> pd.DataFrame:
    rows = [
        {"caller_rep_id": b.caller, "period": name, "booked": _book_sum(series, b.members)}
        for name, series in past.items()
        for b in books
    ]
    # A rep of a team is also scored on their own calls when the view is the leader's.
    return pd.DataFrame(rows, columns=["caller_rep_id", "period", "booked"])


def _call(now: pd.DataFrame, caller: str, category: str) -> float | None:
    if now.empty:
        return None
    hit = now[(now["caller_rep_id"] == caller) & (now["category"] == category)]
    return float(hit["amount"].iloc[0]) if len(hit) else None


def _row(
    b: Book,
    p: Period,
    booked: pd.Series,
    open_deals: pd.DataFrame,
    now: pd.DataFrame,
    model: dict[str, dict[str, float]],
    scores: dict[str, Accuracy],
) -> dict[str, Any]:
    row: dict[str, Any] = {"level": b.level, "caller": b.caller, "name": b.name, "closed": _book_sum(booked, b.members)}
    mine = open_deals[open_deals["rep_id"].isin(b.members)]
    for category, column in CATEGORY_COLUMNS.items():
        row[column] = float(mine.loc[mine["category"] == category, "amount"].sum())
    reps = [m for m in b.members if m != b.caller] if b.level == "team" else [b.caller]
    calls = [c for c in (_call(now, r, "commit") for r in reps) if c is not None]
    row["reps_call"] = sum(calls) if calls else None
    row["reps_calling"] = f"{len(calls)} of {len(reps)}"
    row["manager_call"] = _call(now, b.caller, "commit") if b.level == "team" else None
    row["manager_best_case"] = _call(now, b.caller, "best_case") if b.level == "team" else None
    q = model.get(b.caller, {})
    row.update({k: q.get(k) for k in ("p10", "p50", "p90")})
    score = scores.get(b.caller)
    row["call_accuracy"] = score.mean_abs_error if score else None
    row["call_bias"] = score.bias if score else None
    row["calls_scored"] = score.periods if score else 0
    return row


def _total(rows: list[dict[str, Any]], quantiles: dict[str, float] | None, team_view: bool) -> dict[str, Any]:
    if team_view:  # the team row is the total of its reps
        team = dict(rows[-1])
        rows.pop()
        return {**team, "level": "team"}
    out: dict[str, Any] = {"level": "total", "caller": "-", "name": "Total"}
    for column in ("closed", *CATEGORY_COLUMNS.values()):
        out[column] = sum(r[column] for r in rows)
    for column in ("reps_call", "manager_call", "manager_best_case"):
        found = [r[column] for r in rows if r[column] is not None]
        out[column] = sum(found) if found else None
    out["reps_calling"] = "-"
    out.update({k: (quantiles or {}).get(k) for k in ("p10", "p50", "p90")})
    out.update({"call_accuracy": None, "call_bias": None, "calls_scored": 0})
    return out


def _summary(
    p: Period, rows: list[dict[str, Any]], scope: Scope, scores: dict[str, Accuracy], books: list[Book]
) -> str:
    total = rows[-1]
    teams = [r for r in rows if r["level"] == "team"]
    called = [r for r in teams if r["manager_call"] is not None]
    where = f"the team of {total['name']} ({total['caller']})" if total["level"] == "team" else scope.describe()
    parts = [f"{p.name} forecast calls ({where}): {fmt.money(total['closed'])} closed"]
    parts.append(f"{fmt.money(total['commit'])} open in Commit, {fmt.money(total['best_case'])} in Best Case")
    if total["manager_call"] is not None and total["level"] == "team":
        parts.append(f"the manager calls {fmt.money(total['manager_call'])} commit")
    elif total["manager_call"] is not None:
        parts.append(f"managers call {fmt.money(total['manager_call'])} commit ({len(called)} of {len(teams)} teams)")
    if total["reps_call"] is not None:
        parts.append(f"reps call {fmt.money(total['reps_call'])}")
    if total.get("p50") is not None:
        parts.append(
            f"the model's P50 is {fmt.money(total['p50'])} (P10 {fmt.money(total['p10'])}, P90 {fmt.money(total['p90'])})"
        )
    text = "; ".join(parts) + "."
    names = {b.caller: b.name for b in books}
    ranked = sorted(((s.mean_abs_error, c) for c, s in scores.items() if c in names and s.mean_abs_error is not None))
    if len(ranked) >= 2:
        best, worst = ranked[0][1], ranked[-1][1]
        text += f" Most accurate caller: {names[best]} ({scores[best].text()}); least: {names[worst]} ({scores[worst].text()})."
    return text


def _recommendations(rows: list[dict[str, Any]], p: Period) -> list[Recommendation]:
    recs = []
    for r in rows:
        call, lo, hi = r.get("manager_call"), r.get("p10"), r.get("p90")
        if r["level"] != "team" or call is None or lo is None or hi is None or lo <= call <= hi:
            continue
        side = "above the model's P90" if call > hi else "below the model's P10"
        history = (
            f"; their past calls were within {fmt.share(r['call_accuracy'])} on average ({r['call_bias']:+.0%} bias)"
            if r.get("call_accuracy") is not None
            else ""
        )
        recs.append(
            Recommendation(
                action=f"Inspect {r['name']}'s {p.name} commit call of {fmt.money(call)}: it is {side} "
                f"({fmt.money(lo)} to {fmt.money(hi)}).",
                rationale=f"{fmt.money(r['closed'])} is closed and {fmt.money(r['commit'])} is open in Commit; the "
                f"model's P50 is {fmt.money(r['p50'])}{history}.",
                impact=Impact(metric=f"{r['name']} {p.name} call vs model P50", before=call, after=r["p50"]),
                confidence=0.6,
                group={"manager": r["caller"]},
            )
        )
    return sorted(recs, key=lambda rec: -abs((rec.impact.before or 0) - (rec.impact.after or 0)))


def _call_rows(now: pd.DataFrame) -> list[dict[str, Any]]:
    if now.empty:
        return []
    out = []
    for r in now.sort_values(["caller_rep_id", "category"]).itertuples():
        out.append(
            {
                "caller": r.caller_rep_id,
                "name": r.caller_name,
                "category": r.category,
                "amount": float(r.amount),
                "version": int(r.version),
                "comment": r.comment if isinstance(r.comment, str) else None,
                "submitted_by": r.submitted_by,
                "submitted_at": pd.Timestamp(r.submitted_at).isoformat(timespec="minutes"),
            }
        )
    return out


def _warnings(rows: list[dict[str, Any]]) -> list[DataWarning]:
    teams = [r for r in rows if r["level"] == "team"]
    missing = [r["name"] for r in teams if r["manager_call"] is None]
    if not missing or len(teams) <= 1:
        return []
    return [
        DataWarning(
            code="calls_missing",
            message=f"{len(missing)} of {len(teams)} managers have not called this period: {', '.join(missing[:6])}"
            + ("..." if len(missing) > 6 else ""),
            count=len(missing),
        )
    ]
