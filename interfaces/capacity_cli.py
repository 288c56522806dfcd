"""`spm capacity gap`: can the team make the number, and who must we hire, where and by when?"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

import typer

from interfaces.common import check_limits, handles_errors, open_warehouse, parse_amount, parse_date, parse_fraction

app = typer.Typer(
    help="Capacity planning: headcount against target with ramp, attrition and hiring.", no_args_is_help=True
)


class Confidence(StrEnum):
    p50 = "p50"
    p80 = "p80"
    p90 = "p90"


def parse_month(value: str | None, option: str) -> date | None:
    """'2027-06' or '2027-06-15' -> the first day of that month."""
    if value is None:
        return None
    from warehouse.errors import InputError

    text = value.strip()
    try:
        day = date.fromisoformat(text + "-01" if len(text) == 7 else text)
    except ValueError:
        raise InputError(f"{option} {value!r} is not a month.", "Use YYYY-MM, e.g. 2027-06.") from None
    return day.replace(day=1)


def _positive(value: float | None, option: str, example: str) -> float | None:
    from warehouse.errors import InputError

    if value is not None and value <= 0:
        raise InputError(f"{option} must be positive, got {value:,.0f}.", f"Example: {option} {example}")
    return value


@app.command()
@handles_errors
def gap(
    ctx: typer.Context,
    period: str | None = typer.Option(
        None,
        "--period",
        help="Fiscal year, half or quarter, e.g. FY2028 (default: next fiscal year).",
        show_default=False,
    ),
    target: str | None = typer.Option(
        None, "--target", help="Target to plan for, e.g. 48M (default: the targets table).", show_default=False
    ),
    filter_: list[str] = typer.Option(
        None, "--filter", help="region=... or segment=... (repeatable).", show_default=False
    ),
    attrition: str | None = typer.Option(
        None, "--attrition", help="Annual AE attrition, e.g. 20% (default: last two years).", show_default=False
    ),
    ramp_months: int | None = typer.Option(
        None,
        "--ramp-months",
        min=0,
        max=36,
        help="Months to full productivity, linear (default: from history).",
        show_default=False,
    ),
    ramp_curve: str | None = typer.Option(
        None,
        "--ramp-curve",
        help="Share of full productivity by month of tenure, ending at 1: 0,0.25,0.5,0.75,1.",
        show_default=False,
    ),
    time_to_fill: int | None = typer.Option(
        None,
        "--time-to-fill-months",
        min=0,
        max=24,
        help="Months from opening a requisition to the start date.",
        show_default=False,
    ),
    productivity: str | None = typer.Option(
        None,
        "--productivity",
        help="Bookings of one ramped AE per month, e.g. 120K (default: from history).",
        show_default=False,
    ),
    backfill: bool = typer.Option(True, "--backfill/--no-backfill", help="Replace departures after the time to fill."),
    confidence: Confidence = typer.Option(
        Confidence.p50, "--confidence", help="Close the gap with this probability (p80: in 80% of outcomes)."
    ),
    freeze_from: str | None = typer.Option(
        None,
        "--freeze-from",
        help="Hiring freeze: no hire starts in this month or later (YYYY-MM).",
        show_default=False,
    ),
    max_hires: int | None = typer.Option(
        None,
        "--max-hires-per-month",
        min=1,
        help="Most new AEs a region x segment can start per month.",
        show_default=False,
    ),
    hires: int | None = typer.Option(
        None,
        "--hires",
        min=0,
        max=500,
        help="Evaluate exactly this many hires (we got approval for N).",
        show_default=False,
    ),
    hires_start: str | None = typer.Option(
        None, "--hires-start", help="Month the given hires all start (YYYY-MM; needs --hires).", show_default=False
    ),
    trials: int = typer.Option(10_000, "--trials", min=100, max=200_000, help="Monte Carlo trials."),
    seed: int = typer.Option(0, "--seed", help="Random seed."),
    scenario: str | None = typer.Option(
        None, "--scenario", help="What-if: a saved quota or territory scenario.", show_default=False
    ),
    as_of: str | None = typer.Option(None, "--as-of", help="Plan as of this date (YYYY-MM-DD).", show_default=False),
    json_: bool = typer.Option(False, "--json", help="Print the result as JSON on stdout."),
) -> None:
    """Capacity vs target by month, quarter and year; the fewest hires that close the gap."""
    from interfaces.output import err, out, print_json
    from interfaces.recorded_write import run_as_user
    from interfaces.render import comparison_table, headline, recommendations_and_warnings, table
    from tools.capacity.models import CapacityInput
    from tools.capacity.ramp import parse as parse_ramp
    from tools.capacity.tool import run_capacity
    from tools.core.format import money, share
    from tools.core.selection import parse_filters
    from warehouse.errors import InputError

    attrition_value = parse_fraction(attrition, "--attrition")
    if attrition_value is not None and not 0 <= attrition_value < 1:
        raise InputError(
            f"--attrition {attrition} is outside 0-100%.", "Give the share of AEs who leave in a year, e.g. 20%."
        )
    if ramp_curve is not None and ramp_months is not None:
        raise InputError("Give --ramp-months or --ramp-curve, not both.")
    params = CapacityInput(
        period=period,
        target=_positive(parse_amount(target, "--target"), "--target", "48M"),
        filters=parse_filters(filter_),
        attrition=attrition_value,
        ramp_months=ramp_months,
        ramp_curve=None if ramp_curve is None else [float(v) for v in parse_ramp(ramp_curve)],
        time_to_fill_months=time_to_fill,
        productivity=_positive(parse_amount(productivity, "--productivity"), "--productivity", "120K"),
        backfill=backfill,
        confidence=confidence.value,
        freeze_from=parse_month(freeze_from, "--freeze-from"),
        max_hires_per_month=max_hires,
        hires=hires,
        hires_start=hires_start,
        trials=trials,
        seed=seed,
        scenario_id=scenario,
        as_of=parse_date(as_of, "--as-of"),
    )
    check_limits(params)
    wh = open_warehouse(ctx)
    with err().status("Simulating capacity..."):
        result = run_as_user(ctx, wh, lambda who: run_capacity(wh, params, scope=who.scope))
    if json_:
        print_json(result.model_dump(mode="json"))
        return
    m = result.metrics
    headline(result)
    cos = m["cost_of_sales"]
    out().print(
        f"Headcount {m['headcount_now']} AEs + {m['open_requisitions']} open requisitions; "
        f"{m['expected_departures']:.1f} departures expected in {m['period']}. "
        f"P(capacity >= target) {share(m['p_target_met'])} -> {share(m['p_target_met_with_plan'])} with the plan; "
        f"plan OTE cost {money(m['plan_cost'])}; cost of sales "
        + (
            f"{share(cos['baseline'])} -> {share(cos['with_plan'])}."
            if cos["baseline"] and cos["with_plan"]
            else "n/a."
        )
    )
    comparison_table(result)
    table(
        "By region x segment",
        result.tables["groups"],
        [
            "region",
            "segment",
            "headcount",
            "open_requisitions",
            "target",
            "capacity_p50",
            "gap_p50",
            "hires",
            "remaining_gap",
            "last_useful_start",
            "ramp_months",
            "attrition_annual",
        ],
        tool=result.tool,
    )
    totals = [r for r in result.tables["by_period"] if r["region"] == "All" and r["grain"] != "month"]
    table(
        "By period (all groups)",
        totals,
        ["period", "target", "capacity_p50", "gap_p50", "headcount", "ramped_fte", "capacity_p50_with_plan"],
        tool=result.tool,
    )
    table(
        "Hiring plan",
        result.tables["hiring_plan"],
        ["start_month", "role", "region", "segment", "hires", "expected_adds"],
        tool=result.tool,
    )
    recommendations_and_warnings(result)
