"""`spm pipeline movement`: what changed in the open pipeline between two days, as a table and a
waterfall chart."""

from __future__ import annotations

from typing import Any

import typer

from interfaces.common import handles_errors, open_warehouse

app = typer.Typer(help="Pipeline: what moved in and out of it between two days.", no_args_is_help=True)


@app.command()
@handles_errors
def movement(
    ctx: typer.Context,
    since: str | None = typer.Option(
        None,
        "--since",
        help="The earlier day: 2026-11-23, 'last monday', 'last week', '2 weeks ago', 'quarter start' "
        "(default: seven days before --until).",
        show_default=False,
    ),
    until: str | None = typer.Option(
        None, "--until", help="The later day, same forms (default: the data's as-of date).", show_default=False
    ),
    close_in: str | None = typer.Option(
        None,
        "--close-in",
        help="Which pipeline: deals closing in this period (FY2027-Q4, 'next quarter') or 'all' "
        "(default: the quarter --until falls in).",
        show_default=False,
    ),
    by: str | None = typer.Option(
        None, "--by", help="Break down by region, segment, product, rep, manager (comma-separated).", show_default=False
    ),
    filter_: list[str] = typer.Option(
        None, "--filter", help="DIM=VALUE[,VALUE] (repeatable), e.g. region=EMEA.", show_default=False
    ),
    plot: str | None = typer.Option(
        None, "--plot", help="Save the waterfall: PATH.png or PATH.html.", show_default=False
    ),
    json_: bool = typer.Option(False, "--json", help="Print the result as JSON on stdout."),
) -> None:
    """New, pulled in, pushed out, won, lost, amount up and down, stage moves: start to end, reconciled."""
    from interfaces.output import err, print_json
    from interfaces.recorded_write import run_as_user
    from tools.core.selection import parse_filters
    from tools.pipeline.models import MovementInput
    from tools.pipeline.tool import run_movement

    params = MovementInput(
        since=since,
        until=until,
        close_in=close_in,
        by=[d.strip() for d in (by or "").split(",") if d.strip()],
        filters=parse_filters(filter_),
    )
    wh = open_warehouse(ctx)
    result = run_as_user(ctx, wh, lambda who: run_movement(wh, params, scope=who.scope))
    if plot:
        from tools.pipeline.plot import save_plot

        saved = save_plot(result, plot)
        err().print(f"Saved the waterfall to {saved}.", markup=False)
    if json_:
        print_json(result.model_dump(mode="json"))
        return
    show(result, params.by)


def show(result: Any, by: list[str]) -> None:
    """The movement's tables (a MovementResult) as the terminal shows them (also the demo tour's)."""
    from interfaces.render import headline, recommendations_and_warnings, table

    headline(result)
    table("Pipeline movement", result.tables["waterfall"], ["label", "amount", "deals", "running"], tool=result.tool)
    if by:
        flows = ["start", "new", "pulled_in", "amount_up", "amount_down", "pushed_out", "won", "lost", "end", "net"]
        table("By " + ", ".join(by), result.tables.get("by_group", []), [*by, *flows], tool=result.tool)
    table(
        "Stage moves",
        result.tables.get("stage_moves", [])[:8],
        ["from_stage", "to_stage", "direction", "deals", "amount"],
        tool=result.tool,
    )
    table(
        "Biggest moves",
        result.tables.get("deals", [])[:10],
        ["opp_id", "rep_name", "flow", "amount", "stage_before", "stage_after", "close_before", "close_after"],
        tool=result.tool,
    )
    recommendations_and_warnings(result)
