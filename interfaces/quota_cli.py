"""`spm quota simulate`: allocate a target to reps and simulate attainment, pay and fairness."""

from __future__ import annotations

from enum import StrEnum

import typer

from interfaces.common import check_limits, handles_errors, open_warehouse, parse_amount, parse_date, parse_fraction

app = typer.Typer(help="Quota planning: allocate, simulate, test before publishing.", no_args_is_help=True)


class Method(StrEnum):
    historical = "historical"
    potential = "potential"
    blended = "blended"
    equal = "equal"
    current = "current"


@app.command()
@handles_errors
def simulate(
    ctx: typer.Context,
    period: str | None = typer.Option(
        None,
        "--period",
        help="Fiscal year, half or quarter, e.g. FY2028 or FY2028-Q1 (default: next fiscal year).",
        show_default=False,
    ),
    target: str | None = typer.Option(
        None, "--target", help="Target to allocate, e.g. 48M (default: the targets table).", show_default=False
    ),
    method: Method = typer.Option(
        Method.blended,
        "--method",
        help="historical, potential, blended, equal, or current (evaluate the stored quotas).",
    ),
    weights: str = typer.Option("0.5,0.5", "--weights", help="Blend weights H,P (history, potential), summing to 1."),
    over_assign: str = typer.Option(
        "10%", "--over-assign", help="Quotas add up to target x (1 + this), e.g. 10% or 0.1."
    ),
    filter_: list[str] = typer.Option(
        None, "--filter", help="region=..., segment=... or manager=REP_ID (a team); repeatable.", show_default=False
    ),
    adjust: list[str] = typer.Option(
        None, "--adjust", help="What-if: DIM=VALUE:+X% (region, segment, manager, rep), repeatable.", show_default=False
    ),
    leave: list[str] = typer.Option(
        None, "--leave", help="What-if: this rep leaves at the start of the period (repeatable).", show_default=False
    ),
    scenario: str | None = typer.Option(
        None, "--scenario", help="What-if: a saved territory or quota scenario.", show_default=False
    ),
    floor: str | None = typer.Option(None, "--floor", help="Minimum quota of a fully ramped rep.", show_default=False),
    cap: str | None = typer.Option(None, "--cap", help="Maximum quota of a fully ramped rep.", show_default=False),
    unit: str = typer.Option("1000", "--unit", help="Round quotas to this unit (0: no rounding)."),
    reallocate: bool = typer.Option(
        False, "--reallocate", help="Mid-period: credit bookings closed so far and re-allocate the rest."
    ),
    target_share: str = typer.Option(
        "60%", "--target-share", help="Share of reps at quota the over-assignment solver aims for."
    ),
    as_of: str | None = typer.Option(
        None, "--as-of", help="Simulate as of this date (YYYY-MM-DD).", show_default=False
    ),
    trials: int = typer.Option(10_000, "--trials", min=100, max=200_000, help="Monte Carlo trials."),
    seed: int = typer.Option(0, "--seed", help="Random seed."),
    save_scenario: str | None = typer.Option(
        None, "--save-scenario", help="Save the allocation as a draft quota scenario.", show_default=False
    ),
    comp_plan: str | None = typer.Option(
        None,
        "--comp-plan",
        help='Comp plan for every rep, as JSON: {"variable_share": 0.5, "threshold": 0.5, '
        '"accelerators": [{"from": 1.0, "multiplier": 1.5}], "cap": 3}.',
        show_default=False,
    ),
    json_: bool = typer.Option(False, "--json", help="Print the result as JSON on stdout."),
) -> None:
    """Allocate a period's target to reps, then simulate attainment, comp cost and fairness."""
    import json

    from interfaces.output import err, out, print_json
    from interfaces.recorded_write import run_as_user
    from interfaces.render import comparison_table, headline, recommendations_and_warnings, saved_scenario, table
    from tools.core.format import quantiles, share
    from tools.core.selection import parse_filters
    from tools.quota.models import Adjustment, CompPlanInput, QuotaInput
    from tools.quota.tool import run_quota
    from warehouse.errors import InputError

    try:
        w = tuple(float(x) for x in weights.split(","))
        adjustments = [Adjustment.parse(a) for a in adjust or []]
    except ValueError as exc:
        raise InputError(str(exc), "Examples: --weights 0.6,0.4 --adjust region=EMEA:+10%") from None
    plan = None
    if comp_plan:
        try:
            plan = CompPlanInput.model_validate(json.loads(comp_plan))
        except json.JSONDecodeError as exc:
            raise InputError(
                f"--comp-plan is not JSON ({exc.msg}).", """Example: --comp-plan '{"variable_share": 0.5}'"""
            ) from None
    if len(w) != 2:
        raise InputError(f"--weights {weights!r} needs two numbers.", "Example: --weights 0.6,0.4")
    params = QuotaInput(
        period=period,
        target=parse_amount(target, "--target"),
        method=method.value,
        weights=w,
        over_assign=parse_fraction(over_assign, "--over-assign") or 0.0,
        filters=parse_filters(filter_),
        adjustments=adjustments,
        leave=list(leave or []),
        scenario_id=scenario,
        floor=parse_amount(floor, "--floor"),
        cap=parse_amount(cap, "--cap"),
        unit=parse_amount(unit, "--unit") or 0.0,
        reallocate=reallocate,
        target_share=parse_fraction(target_share, "--target-share") or 0.6,
        as_of=parse_date(as_of, "--as-of"),
        trials=trials,
        seed=seed,
        save_scenario=save_scenario,
        comp_plan=plan,
    )
    check_limits(params)
    wh = open_warehouse(ctx, writable=bool(save_scenario))
    with err().status("Simulating quotas..."):
        result = run_as_user(
            ctx, wh, lambda who: run_quota(wh, params, scope=who.scope, user=who.user_id), saves=save_scenario
        )
    if json_:
        print_json(result.model_dump(mode="json"))
        return
    m = result.metrics
    headline(result)
    f = m["fairness"]
    out().print(
        f"Payout {quantiles(m['payout'])}; fairness: Gini of quota to potential {f['gini_quota_to_potential']:.2f}, "
        f"hit-probability spread top vs bottom decile {share(f['hit_probability_spread'])}, "
        f"{f['reps_over_capacity']} reps over capacity."
    )
    comparison_table(result)
    changed = [r for r in result.tables.get("rep_comparison", []) if r["quota_baseline"] != r["quota_what_if"]]
    table(
        "What-if by rep (quotas that change)",
        changed,
        ["rep_id", "name", "quota_baseline", "quota_what_if", "p_hit_baseline", "p_hit_what_if"],
        tool=result.tool,
    )
    table(
        "Reps",
        result.tables["reps"],
        ["rep_id", "name", "region", "segment", "quota", "p_hit", "expected_attainment", "potential", "capacity"],
        tool=result.tool,
    )
    table(
        "Recommended quota changes",
        result.tables.get("quota_changes", []),
        ["rep_id", "name", "quota", "recommended", "change_pct"],
        tool=result.tool,
    )
    saved_scenario(result, "quota rows")
    recommendations_and_warnings(result)
