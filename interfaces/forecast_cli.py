"""`spm forecast`: bookings forecast with P10/P50/P90, backtested, blended with pipeline."""

from __future__ import annotations

from enum import StrEnum

import typer

from interfaces.common import check_limits, handles_errors, open_warehouse, parse_date


class Grain(StrEnum):
    month = "month"
    quarter = "quarter"


class Method(StrEnum):
    auto = "auto"
    ets = "ets"
    arima = "arima"
    theta = "theta"
    naive = "naive"
    ensemble = "ensemble"


def parse_what_if(items: list[str] | None) -> dict[str, float]:
    """['win_rate=+5', 'deal_size=-5%'] -> {'win_rate_pts': 5.0, 'deal_size_pct': -5.0}."""
    from tools.forecast.models import WHAT_IF_KEYS
    from warehouse.errors import InputError

    out: dict[str, float] = {}
    for item in items or []:
        key, sep, raw = item.partition("=")
        field = WHAT_IF_KEYS.get(key.strip().lower())
        if not sep or field is None:
            raise InputError(
                f"What-if {item!r} is not KEY=VALUE with a known key.",
                "Keys: win_rate (points), pipeline_growth (%), deal_size (%), slip_rate (points); "
                "e.g. --what-if win_rate=+5 --what-if deal_size=-5%",
            )
        text = raw.strip().rstrip("%").replace("pts", "").replace("points", "").strip()
        try:
            out[field] = float(text)
        except ValueError:
            raise InputError(f"What-if {item!r}: {raw!r} is not a number.", "Example: win_rate=+5") from None
    return out


@handles_errors
def forecast(
    ctx: typer.Context,
    horizon: int = typer.Option(4, "--horizon", min=1, max=24, help="Periods to forecast."),
    grain: Grain = typer.Option(Grain.quarter, "--grain", help="Fiscal month or quarter."),
    by: str | None = typer.Option(
        None,
        "--by",
        help="Group by region, segment, product, rep (comma-separated, in hierarchy order).",
        show_default=False,
    ),
    filter_: list[str] = typer.Option(
        None,
        "--filter",
        help="DIM=VALUE[,VALUE] (repeatable), e.g. region=EMEA.",
        show_default=False,
    ),
    what_if: list[str] = typer.Option(
        None,
        "--what-if",
        help="KEY=VALUE (repeatable): win_rate=+5, pipeline_growth=+10%, deal_size=-5%, slip_rate=+10.",
        show_default=False,
    ),
    scenario: str | None = typer.Option(None, "--scenario", help="Evaluate a saved scenario.", show_default=False),
    method: Method = typer.Option(
        Method.auto, "--method", help="Time-series model (auto picks per series by backtest)."
    ),
    as_of: str | None = typer.Option(
        None,
        "--as-of",
        help="Forecast as if today were this date (YYYY-MM-DD).",
        show_default=False,
    ),
    seed: int = typer.Option(0, "--seed", help="Random seed."),
    trials: int = typer.Option(10_000, "--trials", min=100, max=200_000, help="Monte Carlo trials."),
    plot: str | None = typer.Option(None, "--plot", help="Save a chart: PATH.png or PATH.html.", show_default=False),
    json_: bool = typer.Option(False, "--json", help="Print the result as JSON on stdout."),
) -> None:
    """Forecast bookings: time series per group plus calibrated pipeline, P10/P50/P90, backtested."""
    from interfaces.output import err, print_json
    from interfaces.recorded_write import run_as_user
    from interfaces.render import comparison_table, headline, recommendations_and_warnings, table
    from tools.core.selection import parse_filters
    from tools.forecast.models import ForecastInput, WhatIf
    from tools.forecast.tool import run_forecast

    params = ForecastInput(
        horizon=horizon,
        grain=grain.value,
        by=[d for d in (by or "").split(",") if d.strip()],
        filters=parse_filters(filter_),
        what_if=WhatIf(**parse_what_if(what_if)),
        scenario_id=scenario,
        method=method.value,
        as_of=parse_date(as_of, "--as-of"),
        seed=seed,
        trials=trials,
    )
    check_limits(params)
    wh = open_warehouse(ctx)
    with err().status("Forecasting..."):
        result = run_as_user(ctx, wh, lambda who: run_forecast(wh, params, scope=who.scope))
    if plot:
        from tools.forecast.plot import save_plot

        saved = save_plot(result, plot)
        err().print(f"Saved the chart to {saved}.", markup=False)
    if json_:
        print_json(result.model_dump(mode="json"))
        return
    from interfaces.output import out

    headline(result)
    dims = [*params.by, *(["name"] if "rep" in params.by else [])]
    cols = ["period", *dims, "p10", "p50", "p90", "target", "gap", "coverage", "required_coverage", "to_build"]
    table(
        "Current period (in progress)",
        result.tables.get("current_period", []),
        ["period", *dims, "booked_to_date", *cols[len(dims) + 1 :]],
        tool=result.tool,
    )
    table("Forecast", result.tables["forecast"], cols, tool=result.tool)
    comparison_table(result)
    bt = result.metrics.get("backtest", {})
    if bt.get("mase") is not None:
        out().print(
            f"Backtest of {bt['series']} ({bt['windows']} origins x {bt['horizon']} periods): MASE {bt['mase']:.2f}, "
            f"WAPE {bt['wape']:.0%}, bias {bt['bias']:+.0%}, 80% interval coverage {bt['coverage_80']:.0%}."
        )
    elif bt.get("note"):
        out().print(f"Backtest of {bt['series']}: {bt['note']}.")
    wm = result.metrics.get("win_model")
    if wm and wm.get("brier") is not None:
        out().print(
            f"Win model ({wm['kind']}): Brier {wm['brier']:.3f} vs stage defaults {wm['brier_stage_default']:.3f} "
            f"and base rate {wm['brier_base_rate']:.3f} on {wm['holdout_rows']:,} holdout snapshots."
        )
    recommendations_and_warnings(result)
