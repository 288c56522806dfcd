"""The data-check tool: anomalies that make plans wrong, with counts, money involved and fixes.

The checks (warehouse/checks.py) run on the request's selection, the caller's data scope plus
its region/segment filters (tools/core/selection.py), pushed into each check's SQL: deals count
in their account's region and segment, accounts and AEs in their own, quotas in their rep's. A
regional leader therefore sees exactly the findings an admin sees filtered to that region, and
nothing from other regions: no counts, no examples, no yardstick built from their deals.
"""

from __future__ import annotations

from typing import Any, cast

from tools.contract import DataWarning, Impact, Recommendation
from tools.core import format as fmt
from tools.core.context import PlanContext
from tools.core.selection import Selection, Subject, resolve_filters
from tools.data_check.models import FILTER_DIMS, DataCheckInput, DataCheckResult
from warehouse.checks import CHECKS, Finding, Where, everything, run_checks
from warehouse.connection import Warehouse
from warehouse.fingerprint import fingerprint
from warehouse.identity import Scope

SEVERITY_RANK = {"error": 0, "warning": 1, "info": 2}
CONFIDENCE = {"error": 0.9, "warning": 0.7, "info": 0.5}
# How a summary counts each check's findings: (one, many).
NOUNS: dict[str, tuple[str, str]] = {
    "zombie_opportunities": ("zombie deal", "zombie deals"),
    "stale_stages": ("deal stuck in its stage", "deals stuck in their stage"),
    "duplicate_accounts": ("duplicate account pair", "duplicate account pairs"),
    "orphan_owners": ("account without an active owner", "accounts without an active owner"),
    "zips_without_territory": ("account in an unmapped postal code", "accounts in unmapped postal codes"),
    "amount_outliers": ("outlier deal amount", "outlier deal amounts"),
    "active_reps_without_quota": ("active AE without a quota", "active AEs without a quota"),
    "quotas_without_rep": (
        "quota held by a rep who left or does not exist",
        "quotas held by reps who left or do not exist",
    ),
}
assert set(NOUNS) == set(CHECKS), "every check needs its summary noun"
OPPORTUNITY_CHECKS = ("zombie_opportunities", "stale_stages", "amount_outliers")
YARDSTICK_CHECKS = ("stale_stages", "amount_outliers")


def run_data_check(warehouse: Warehouse, params: DataCheckInput, *, scope: Scope | None = None) -> DataCheckResult:
    with warehouse.reader() as cur:
        ctx = PlanContext.read(cur, params.as_of)
        sel = Selection.of(scope or Scope.everything(), resolve_filters(cur, params.filters, allowed=FILTER_DIMS))
        sliced = bool(sel.constraints)
        findings = run_checks(
            cur, ctx.as_of, ctx.calendar, params.checks or None, where=slice_where(sel) if sliced else everything
        )
        fp = fingerprint(cur, ["opportunities", "accounts", "reps", "quotas", "geos", "territory_geos", "meta"])
    where = sel.describe() if sliced else "all data"
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
    recs = [
        Recommendation(
            action=f.fix,
            rationale=f"{f.count:,} found{'' if not sliced else ' in ' + where}: {f.title}"
            + (f", {fmt.money(f.amount)} involved" if f.amount else "")
            + f"; affects {', '.join(f.affects)}.",
            impact=Impact(metric=f.title, before=float(f.count), after=0.0, unit="count"),
            confidence=CONFIDENCE[f.severity],
        )
        for f in failing
    ]
    return DataCheckResult(
        summary=_summary(where, ctx.as_of.isoformat(), findings, failing),
        metrics={
            "as_of": ctx.as_of.isoformat(),
            "slice": where,
            "checks": len(findings),
            "failing": len(failing),
            "clean": len(findings) - len(failing),
            **by_severity,
        },
        tables={"findings": rows},
        recommendations=recs,
        assumptions=_assumptions(where, [f.check for f in findings]) if sliced else [],
        warnings=[DataWarning(code=f.check, message=f"{f.title}: {f.count:,}", count=f.count) for f in failing],
        data_fingerprint=fp,
    )


def slice_where(sel: Selection) -> Where:
    """The selection as the checks' `where` (they name subjects as plain strings)."""

    def where(subject: str, alias: str, account_alias: str | None = None) -> tuple[str, list[Any]]:
        return sel.where(cast(Subject, subject), alias, account_alias)

    return where


def _count(f: Finding) -> str:
    one, many = NOUNS[f.check]
    text = f"{f.count:,} {one if f.count == 1 else many}"
    return text + (f" ({fmt.money(f.amount)})" if f.amount else "")


def _summary(where: str, as_of: str, findings: list[Finding], failing: list[Finding]) -> str:
    """'Region EMEA: 3 zombie deals ($214K), 1 duplicate account pair; 6 of 8 checks clean as of ...'."""
    head = where[0].upper() + where[1:]
    clean = len(findings) - len(failing)
    if not failing:
        return f"{head}: all {len(findings)} checks clean as of {as_of}."
    return f"{head}: {', '.join(_count(f) for f in failing)}; {clean} of {len(findings)} checks clean as of {as_of}."


def _assumptions(where: str, checks: list[str]) -> list[str]:
    """What slicing means for the checks that ran, and what a slice cannot show."""
    out = [
        f"Findings of {where} only: deals by their account's region and segment, accounts and AEs by their own, "
        "quotas by their rep's; a duplicate pair counts when both accounts are in it."
    ]
    if set(checks) & set(YARDSTICK_CHECKS):
        out.append(
            "Outlier amounts and stuck deals are measured against each region x segment's own deals in the slice "
            "(typical deal size, sales cycle), so a region or segment finds here what the whole warehouse finds there."
        )
    if set(checks) & set(OPPORTUNITY_CHECKS):
        out.append("Deals whose account is missing from the warehouse belong to no region or segment: not shown here.")
    if "quotas_without_rep" in checks:
        out.append(
            "Quotas held by rep ids the warehouse does not know belong to no region or segment, so a sliced check "
            "cannot show them; an unsliced check by an all-data user lists them."
        )
    return out
