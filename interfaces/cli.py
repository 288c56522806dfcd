"""The `spm` command line: the composition root that reads settings and wires the parts.

Heavy libraries (pandas, DuckDB, LangGraph) are imported inside commands, so `spm --help`
and `spm --version` stay instant.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

import typer

from interfaces import (
    ask_cli,
    audit_cli,
    batch_cli,
    capacity_cli,
    chat_cli,
    data_cli,
    eval_cli,
    forecast_cli,
    memory_cli,
    pipeline_cli,
    quota_cli,
    scenario_cli,
    slack_cli,
    territory_cli,
    users_cli,
)
from interfaces.common import state_callback

app = typer.Typer(
    name="spm",
    help="spm-agent: an offline-first planning assistant for Sales Performance Management.\n\n"
    "Forecast, quota, territory and capacity tools over a DuckDB warehouse. Start with "
    "`spm demo`, or `spm data init --demo` and `spm data summary`.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(data_cli.app, name="data")
app.add_typer(quota_cli.app, name="quota")
app.add_typer(territory_cli.app, name="territory")
app.add_typer(capacity_cli.app, name="capacity")
app.add_typer(audit_cli.app, name="audit")
app.add_typer(scenario_cli.app, name="scenario")
app.add_typer(memory_cli.app, name="memory")
app.add_typer(users_cli.app, name="users")
app.add_typer(pipeline_cli.app, name="pipeline")
app.add_typer(forecast_cli.app, name="forecast")
app.command("ask")(ask_cli.ask)
app.command("chat")(chat_cli.chat)
app.command("batch")(batch_cli.batch)
app.command("slack")(slack_cli.slack)
app.command("eval")(eval_cli.eval_)
app.command("demo")(data_cli.demo)


def _version(value: bool) -> None:
    if value:
        try:
            typer.echo(f"spm-agent {version('spm-agent')}")
        except PackageNotFoundError:
            typer.echo("spm-agent (not installed)")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    warehouse: str | None = typer.Option(
        None,
        "--warehouse",
        "-w",
        help="Warehouse file (default: SPM_WAREHOUSE or data/warehouse.duckdb).",
        show_default=False,
    ),
    version_: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    state_callback(ctx, warehouse)


def main() -> None:
    app(prog_name="spm")


if __name__ == "__main__":
    main()
