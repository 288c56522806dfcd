"""`spm forecast`: bookings forecast with P10/P50/P90, backtested, blended with pipeline; and the
weekly call: `spm forecast call` (submit a number), `spm forecast calls` (every version),
`spm forecast rollup` (calls beside closed, categories and the model, with callers' accuracy)."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

import typer

from interfaces.common import check_limits, handles_errors, open_warehouse, parse_amount, parse_date, warehouse_as_of

if TYPE_CHECKING:
    import pandas as pd

    from warehouse.connection import Warehouse
    from warehouse.identity import User

app = typer.Typer(
    help="Forecast bookings (P10/P50/P90), and submit and roll up forecast calls.",
    invoke_without_command=True,
    no_args_is_help=False,
)


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


@app.callback(invoke_without_command=True)
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
    """Forecast bookings: time series per group plus calibrated pipeline, P10/P50/P90, backtested.

    Subcommands: `call` submits a forecast call, `calls` lists them, `rollup` sets them beside the model."""
    if ctx.invoked_subcommand is not None:
        return
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


@app.command()
@handles_errors
def call(
    ctx: typer.Context,
    amount: str = typer.Argument(..., help="The whole period's bookings you call, closed included: 2.4M, 850K."),
    period: str | None = typer.Option(
        None, "--period", help="Fiscal period, e.g. FY2027-Q4 (default: the quarter in progress).", show_default=False
    ),
    category: str = typer.Option("commit", "--category", help="commit or best_case."),
    comment: str | None = typer.Option(None, "--comment", help="What the number rests on.", show_default=False),
    for_: str | None = typer.Option(
        None,
        "--for",
        help="Whose call (rep or manager id or name; default: yours). A manager may call for a rep of the team.",
        show_default=False,
    ),
    json_: bool = typer.Option(False, "--json", help="Print the stored call as JSON on stdout."),
) -> None:
    """Submit a forecast call: the next version of your (or a rep's) number for a period, audited."""
    from dataclasses import asdict

    from interfaces.identity import acting_user
    from interfaces.output import err, print_json
    from interfaces.recorded_write import RecordedWrite, command_text
    from tools.core import format as fmt
    from tools.core.periods import parse_period
    from warehouse.errors import InputError
    from warehouse.forecast_calls import category as check_category
    from warehouse.forecast_calls import submit_call

    value = parse_amount(amount, "AMOUNT")
    if value is None:
        raise InputError("A call needs an amount.", "Example: spm forecast call 2.4M --period FY2027-Q4")
    check_category(category)
    wh = open_warehouse(ctx, writable=True)
    with wh.held():
        user = acting_user(wh)
        cal, day = wh.calendar(), warehouse_as_of(wh)
        named = parse_period(period, cal, day) if period else cal.period_of(day, "quarter")
        write = RecordedWrite(
            wh,
            user,
            "submit_forecast_call",
            "forecast_call",
            command_text(ctx),
            tables=("forecast_calls",),
            doing="submit forecast calls",
        )
        with write.writing():
            with wh.writer() as cur:
                stored = submit_call(
                    cur,
                    scope=user.scope,
                    caller=for_,
                    period=named.name,
                    category_=category,
                    amount=value,
                    comment=comment,
                    submitted_by=user.user_id,
                    run_id=write.run_id,
                )
            # Committed: from here on nothing may raise.
            write.args = {k: v for k, v in asdict(stored).items() if k != "submitted_at"}
            write.answer = (
                f"{stored.caller_name} ({stored.caller_rep_id}) calls {stored.period} {stored.category.replace('_', ' ')} "
                f"{fmt.money(stored.amount)} (version {stored.version}), entered by {user.user_id}."
            )
    if json_:
        print_json({**asdict(stored), "submitted_at": stored.submitted_at.isoformat()})
        return
    err().print(write.answer + (f" Comment: {stored.comment}" if stored.comment else ""), markup=False)


@app.command()
@handles_errors
def calls(
    ctx: typer.Context,
    period: str | None = typer.Option(None, "--period", help="Only this fiscal period.", show_default=False),
    for_: str | None = typer.Option(None, "--for", help="Only this caller (rep id or name).", show_default=False),
    json_: bool = typer.Option(False, "--json", help="Print the calls as JSON on stdout."),
) -> None:
    """Every version of the forecast calls, newest first: who called what, when, and who entered it."""
    from interfaces.output import out, print_json
    from interfaces.render import table
    from tools.core.periods import parse_period
    from warehouse.forecast_calls import read_calls

    wh = open_warehouse(ctx)

    def listing(user: User) -> list[dict[str, Any]]:
        name = parse_period(period, wh.calendar(), warehouse_as_of(wh)).name if period else None
        with wh.reader() as cur:
            frame = read_calls(cur, name, for_)
        return _visible(wh, user, frame)

    with wh.held():
        from interfaces.identity import acting_user

        rows = listing(acting_user(wh))
    if json_:
        print_json(rows)
        return
    if not rows:
        out().print("No forecast calls yet: submit one with `spm forecast call 2.4M --period FY2027-Q4`.")
        return
    columns = ["period", "caller_rep_id", "caller_name", "category", "amount", "version", "submitted_at"]
    table("Forecast calls", rows, [*columns, "submitted_by", "comment"], limit=60, units={"amount": "USD"})


def _visible(wh: Warehouse, user: User, frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The calls of callers inside the user's scope (a rep sees their own, a manager the team's)."""
    import pandas as pd

    from tools.core.selection import Selection

    if frame.empty:
        return []
    sel = Selection.of(user.scope)
    where, params = sel.where("reps", "r")
    with wh.reader() as cur:
        allowed = {row[0] for row in cur.execute(f"SELECT r.rep_id FROM reps r WHERE {where}", params).fetchall()}
    shown = frame[frame["caller_rep_id"].isin(allowed)].copy()
    shown["submitted_at"] = pd.to_datetime(shown["submitted_at"]).dt.strftime("%Y-%m-%d %H:%M")
    shown = shown.drop(columns=["run_id", "manager_id"], errors="ignore")
    return [{k: (None if pd.isna(v) else v) for k, v in row.items()} for row in shown.to_dict("records")]


@app.command()
@handles_errors
def rollup(
    ctx: typer.Context,
    period: str | None = typer.Option(
        None, "--period", help="Fiscal period (default: the quarter in progress).", show_default=False
    ),
    manager: str | None = typer.Option(
        None, "--manager", help="One team, rep by rep (manager's rep id or name).", show_default=False
    ),
    json_: bool = typer.Option(False, "--json", help="Print the result as JSON on stdout."),
) -> None:
    """The call roll-up: closed to date, Commit / Best Case / Pipeline, the reps' and managers' calls,
    the model's P10/P50/P90 and each caller's past accuracy, team by team."""
    from interfaces.output import err, print_json
    from interfaces.recorded_write import run_as_user
    from tools.forecast.rollup import run_rollup

    wh = open_warehouse(ctx)
    with err().status("Rolling up the calls..."):
        result = run_as_user(ctx, wh, lambda who: run_rollup(wh, period=period, manager=manager, scope=who.scope))
    if json_:
        print_json(result.model_dump(mode="json"))
        return
    show_rollup(result)


ROLLUP_COLUMNS = [
    "name",
    "closed",
    "commit",
    "best_case",
    "pipeline",
    "reps_call",
    "manager_call",
    "manager_best_case",
    "p10",
    "p50",
    "p90",
    "call_accuracy",
    "call_bias",
]


def show_rollup(result: Any) -> None:
    """The roll-up (a tools.forecast.rollup.RollupResult) as the terminal shows it (also the demo tour's)."""
    from interfaces.render import headline, recommendations_and_warnings, table
    from tools.forecast.rollup import UNITS

    headline(result)
    table(f"Forecast calls, {result.metrics['period']}", result.tables["rollup"], ROLLUP_COLUMNS, units=UNITS)
    recommendations_and_warnings(result)
