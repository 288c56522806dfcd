"""The data-check tool: anomalies that make plans wrong, with counts, money involved and fixes.

The checks read the whole warehouse, so only callers whose data scope is everything may run
them: a regional user would otherwise learn counts and examples from other regions.
"""

from __future__ import annotations

from datetime import date

from tools.contract import DataWarning, Impact, Recommendation
from tools.data_check.models import DataCheckInput, DataCheckResult
from warehouse.checks import run_checks
from warehouse.connection import Warehouse
from warehouse.errors import PermissionDeniedError
from warehouse.fingerprint import fingerprint
from warehouse.identity import Scope

SEVERITY_RANK = {"error": 0, "warning": 1, "info": 2}
CONFIDENCE = {"error": 0.9, "warning": 0.7, "info": 0.5}


def run_data_check(warehouse: Warehouse, params: DataCheckInput, *, scope: Scope | None = None) -> DataCheckResult:
    scope = scope or Scope.everything()
    if scope.kind != "all":
        raise PermissionDeniedError(
            f"Data checks cover the whole warehouse; your data scope is {scope.describe()}.",
            "Ask an admin or analyst with an all-data scope to run them.",
        )
    with warehouse.reader() as cur:
        meta = dict(cur.execute("SELECT key, value FROM meta").fetchall())
        as_of = params.as_of or (date.fromisoformat(meta["as_of"]) if "as_of" in meta else date.today())
        findings = run_checks(cur, as_of, warehouse.calendar(), params.checks or None)
        fp = fingerprint(cur, ["opportunities", "accounts", "reps", "quotas", "geos", "territory_geos", "meta"])
    failing = sorted((f for f in findings if not f.ok), key=lambda f: (SEVERITY_RANK[f.severity], -f.count))
    rows = [
        {
            "check": f.check,
            "title": f.title,
            "severity": f.severity,
            "count": f.count,
            "amount": f.amount,
            "affects": ", ".join(f.affects),
            "fix": f.fix,
            "example": f.examples[0] if f.examples else None,
        }
        for f in sorted(findings, key=lambda f: (f.ok, SEVERITY_RANK[f.severity], -f.count))
    ]
    by_severity = {s: sum(1 for f in failing if f.severity == s) for s in ("error", "warning", "info")}
    summary = (
        f"{len(findings)} checks as of {as_of}: {len(failing)} found problems "
        f"({by_severity['error']} errors, {by_severity['warning']} warnings, {by_severity['info']} info)"
    )
    summary += f"; the largest is {failing[0].title.lower()} ({failing[0].count:,})." if failing else "; all clean."
    recs = [
        Recommendation(
            action=f.fix,
            rationale=f"{f.count:,} found: {f.title}"
            + (f", ${f.amount:,.0f} involved" if f.amount else "")
            + f"; affects {', '.join(f.affects)}.",
            impact=Impact(metric=f.title, before=float(f.count), after=0.0, unit="count"),
            confidence=CONFIDENCE[f.severity],
        )
        for f in failing
    ]
    return DataCheckResult(
        summary=summary,
        metrics={"as_of": as_of.isoformat(), "checks": len(findings), "failing": len(failing), **by_severity},
        tables={"findings": rows},
        recommendations=recs,
        warnings=[DataWarning(code=f.check, message=f"{f.title}: {f.count:,}", count=f.count) for f in failing],
        data_fingerprint=fp,
    )
