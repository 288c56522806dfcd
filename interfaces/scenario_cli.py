"""`spm scenario list|show|compare`: the draft plans tools saved, side by side.

These only read (tools save drafts with --save-scenario; applying one goes through the agent's
approval). Scenarios span the organisation, so a user with a scoped view is refused, as in the agent.
"""

from __future__ import annotations

import typer

from interfaces.common import handles_errors, open_warehouse

app = typer.Typer(help="Saved draft scenarios: list, show, compare.", no_args_is_help=True)


def _run(ctx: typer.Context, action: str, names: list[str], json_: bool) -> None:
    from interfaces.output import print_json
    from interfaces.recorded_write import run_as_user
    from interfaces.render import headline, recommendations_and_warnings, table
    from tools.scenarios.models import ScenariosInput
    from tools.scenarios.tool import run_scenarios

    wh = open_warehouse(ctx)
    # As the agent's scenarios tool: a scoped user is refused (scenarios span the organisation).
    result = run_as_user(
        ctx, wh, lambda who: run_scenarios(wh, ScenariosInput(action=action, names=names), scope=who.scope)
    )
    if json_:
        print_json(result.model_dump(mode="json"))
        return
    headline(result)
    for name, rows in result.tables.items():
        if rows:
            table(name.capitalize(), rows, list(rows[0]), tool=result.tool)
    recommendations_and_warnings(result)


@app.command("list")
@handles_errors
def list_(ctx: typer.Context, json_: bool = typer.Option(False, "--json", help="Print as JSON on stdout.")) -> None:
    """Every saved scenario with its kind, status and number of changes."""
    _run(ctx, "list", [], json_)


@app.command()
@handles_errors
def show(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Scenario name or id."),
    json_: bool = typer.Option(False, "--json", help="Print as JSON on stdout."),
) -> None:
    """One scenario: its key metrics and the changes it would make."""
    _run(ctx, "show", [name], json_)


@app.command()
@handles_errors
def compare(
    ctx: typer.Context,
    a: str = typer.Argument(..., help="First scenario."),
    b: str = typer.Argument(..., help="Second scenario."),
    json_: bool = typer.Option(False, "--json", help="Print as JSON on stdout."),
) -> None:
    """Two scenarios' key metrics side by side, with the difference."""
    _run(ctx, "compare", [a, b], json_)
