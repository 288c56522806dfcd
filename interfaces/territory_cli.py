"""`spm territory rebalance`: balanced territories with the fewest moves, a bound and a map."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer

from interfaces.common import check_limits, handles_errors, open_warehouse, parse_amount, parse_fraction

app = typer.Typer(help="Territory planning: rebalance accounts across reps.", no_args_is_help=True)


class Metric(StrEnum):
    potential = "potential"
    arr = "arr"
    workload = "workload"
    pipeline = "pipeline"


class Unit(StrEnum):
    account = "account"
    zip = "zip"
    msa = "msa"
    state = "state"


def parse_caps(text: str) -> list[float]:
    """'2%,5%,10%' (or 0.02,0.05) as shares; 'auto' as an empty list (the default caps)."""
    if text.strip().lower() in ("", "auto"):
        return []
    caps = [parse_fraction(part.strip(), "--pareto") for part in text.split(",") if part.strip()]
    return [c for c in caps if c is not None]


def read_lock_file(path: Path) -> list[str]:
    """Account ids from a file: one per line, or a CSV with an account_id column."""
    from warehouse.errors import InputError, NotFoundError

    if not path.is_file():
        raise NotFoundError(
            f"No lock file {path}.", "Give --lock strategic, late-stage, none or a file of account ids."
        )
    lines = [line.strip() for line in path.read_text(encoding="utf-8-sig").splitlines() if line.strip()]
    if not lines:
        raise InputError(f"The lock file {path} is empty.")
    header = [h.strip().lower() for h in lines[0].split(",")]
    if "account_id" in header:
        col = header.index("account_id")
        return [row.split(",")[col].strip() for row in lines[1:] if row.split(",")[col].strip()]
    return lines


def read_named(items: list[str]) -> dict[str, str]:
    """Named accounts from ACCOUNT=REP pairs and/or CSV files with account_id and rep_id columns."""
    import csv

    from warehouse.errors import InputError, NotFoundError

    named: dict[str, str] = {}
    for item in items:
        if "=" in item and not Path(item).is_file():
            account, _, rep = item.partition("=")
            pairs = [(account.strip(), rep.strip())]
        else:
            path = Path(item)
            if not path.is_file():
                raise NotFoundError(
                    f"No named-accounts file {path}.", "Give ACCOUNT=REP, or a CSV with account_id,rep_id."
                )
            with path.open(encoding="utf-8-sig", newline="") as f:
                rows = list(csv.DictReader(f))
            header = {k.strip().lower(): k for k in (rows[0] if rows else {})}
            if not {"account_id", "rep_id"} <= set(header):
                raise InputError(
                    f"{path} needs account_id and rep_id columns (found: {', '.join(header) or 'none'}).",
                    "Export the named-account list with those two columns.",
                )
            pairs = [(r[header["account_id"]].strip(), r[header["rep_id"]].strip()) for r in rows]
        for account, rep in pairs:
            if not account or not rep:
                raise InputError(
                    f"--named {item!r} has an empty account or rep.", "Write ACCOUNT=REP, e.g. A-00012=R-00031."
                )
            if named.get(account, rep) != rep:
                raise InputError(
                    f"Account {account} is named for both {named[account]} and {rep}.", "Name each account once."
                )
            named[account] = rep
    return named


@app.command()
@handles_errors
def rebalance(
    ctx: typer.Context,
    filter_: list[str] = typer.Option(
        None, "--filter", help="region=... and/or segment=... (repeatable).", show_default=False
    ),
    balance_on: list[Metric] = typer.Option(
        None, "--balance-on", help="Metric to balance (repeatable; default potential).", show_default=False
    ),
    band: str = typer.Option("5%", "--band", help="Allowed deviation from each rep's target, e.g. 5% or 0.05."),
    max_disruption: str | None = typer.Option(
        None,
        "--max-disruption",
        help="Cap on the value moved: a share (10%) or an amount (2M); then imbalance is minimised.",
        show_default=False,
    ),
    lock: list[str] = typer.Option(
        None,
        "--lock",
        help="strategic, late-stage, none, or a file of account ids (repeatable; default strategic + late-stage).",
        show_default=False,
    ),
    named: list[str] = typer.Option(
        [],
        "--named",
        help="Named account pinned to a rep: ACCOUNT=REP, or a CSV with account_id,rep_id; repeat or mix. "
        "Overrides locks; its parent/child family follows it.",
    ),
    keep_families: bool = typer.Option(
        True, "--keep-families/--split-families", help="Move parent/child account families as one piece."
    ),
    open_seats: bool = typer.Option(
        False,
        "--open-seats",
        help="Carve books for open AE requisitions (the headcount plan's to-be-hired seats), ramped from their start.",
    ),
    unit: Unit = typer.Option(Unit.account, "--unit", help="Move whole accounts, ZIPs, metro areas or states."),
    allow_cross_segment: bool = typer.Option(
        False, "--allow-cross-segment", help="Let accounts move to reps of other segments."
    ),
    travel_weight: float = typer.Option(
        0.0, "--travel-weight", min=0, help="Cost per km between a rep's home and an account."
    ),
    count_weight: float = typer.Option(
        0.0, "--count-weight", min=0, help="Extra disruption per account moved (share of an average account's value)."
    ),
    max_accounts: int | None = typer.Option(
        None, "--max-accounts", min=1, help="Most accounts a rep may own.", show_default=False
    ),
    max_change_per_rep: int | None = typer.Option(
        None,
        "--max-change-per-rep",
        min=0,
        help="Most accounts any one rep may gain or lose (in + out).",
        show_default=False,
    ),
    k_nearest: int = typer.Option(
        5,
        "--k-nearest",
        min=1,
        max=50,
        help="Reps each unit starts with as candidates besides its owner (more are added while they can lower the plan's cost).",
    ),
    time_limit: float = typer.Option(
        60.0, "--time-limit", min=1, help="Seconds for the whole run; when it cuts, the best plan found and its gap."
    ),
    pareto: str | None = typer.Option(
        None,
        "--pareto",
        help="Trade balance against disruption: caps on the value moved (e.g. 2%,5%,10%, or 'auto' for 1-20%); "
        "the best balance within each beside the plan that meets the band.",
        show_default=False,
    ),
    pareto_chart: str | None = typer.Option(
        None,
        "--pareto-chart",
        help="Draw the balance-vs-disruption trade-off: PATH.png or PATH.html (implies --pareto auto).",
        show_default=False,
    ),
    save_scenario: str | None = typer.Option(
        None, "--save-scenario", help="Save the plan as a draft territory scenario.", show_default=False
    ),
    map_: str | None = typer.Option(
        None, "--map", help="Draw the plan: PATH.html (interactive) or PATH.png.", show_default=False
    ),
    json_: bool = typer.Option(False, "--json", help="Print the result as JSON on stdout."),
) -> None:
    """Move the fewest accounts so every rep is within the band of their target, with a proven bound."""
    from interfaces.output import err, out, print_json
    from interfaces.recorded_write import run_as_user
    from interfaces.render import headline, recommendations_and_warnings, saved_scenario, table
    from tools.core.format import money, share
    from tools.core.selection import parse_filters
    from tools.territory.models import TerritoryInput
    from tools.territory.tool import run_territory

    locks: list[str] = []
    for item in lock or ["strategic", "late-stage"]:
        if item in ("strategic", "late-stage"):
            locks.append(item)
        elif item != "none":
            locks += read_lock_file(Path(item))
    cap = None
    if max_disruption is not None:
        cap = (
            parse_fraction(max_disruption, "--max-disruption")
            if max_disruption.strip().endswith("%")
            else parse_amount(max_disruption, "--max-disruption")
        )
    params = TerritoryInput(
        filters=parse_filters(filter_),
        balance_on=[m.value for m in balance_on] if balance_on else ["potential"],
        band=parse_fraction(band, "--band") or 0.05,
        max_disruption=cap,
        lock=locks,
        named=read_named(named),
        keep_families=keep_families,
        open_seats=open_seats,
        unit=unit.value,
        allow_cross_segment=allow_cross_segment,
        travel_weight=travel_weight,
        count_weight=count_weight,
        max_accounts=max_accounts,
        max_change_per_rep=max_change_per_rep,
        k_nearest=k_nearest,
        time_limit=time_limit,
        pareto=parse_caps(pareto or "auto") if pareto is not None or pareto_chart else None,
        save_scenario=save_scenario,
    )
    check_limits(params)
    if pareto_chart:
        from tools.territory.pareto_chart import check_path

        check_path(pareto_chart)  # before the run: a bad path should not cost a minute of solving
    wh = open_warehouse(ctx, writable=bool(save_scenario))
    with err().status("Optimising territories..."):
        result = run_as_user(
            ctx,
            wh,
            lambda who: run_territory(wh, params, scope=who.scope, user=who.user_id, map_path=map_),
            saves=save_scenario,
        )
    if pareto_chart:
        from tools.territory.pareto_chart import save_pareto_chart

        scope = ", ".join(v for vs in params.filters.values() for v in vs) or "All regions"
        result.metrics["pareto_chart"] = str(
            save_pareto_chart(result.tables["pareto"], pareto_chart, params.band, scope)
        )
    if json_:
        print_json(result.model_dump(mode="json"))
        return
    m = result.metrics
    headline(result)
    d = m["disruption"]
    out().print(
        f"Disruption: {d['accounts']:,} accounts, value {money(d['value'])} ({share(d['value_share'])} of value, "
        f"{share(d['arr_share'])} of ARR); lower bound {money(m['lower_bound'])}, plan {money(m['objective'])}."
    )
    for reason in m.get("status_reason", []):
        err().print(f"[yellow]infeasible:[/] {reason}")
    table(
        "Groups",
        result.tables["groups"],
        ["group", "reps", "accounts", "status", "band_met", "moves", "optimality_gap", "seconds"],
        tool=result.tool,
    )
    first = params.balance_on[0]
    if "pareto" in result.tables:
        table(
            "Balance vs disruption",
            result.tables["pareto"],
            ["plan", "moved_share", "accounts_moved", "reps_outside_band", "worst_deviation", "excess"],
            tool=result.tool,
        )
    table(
        f"Reps ({first})",
        result.tables["reps"],
        [
            "rep_id",
            "name",
            "region",
            "segment",
            f"{first}_ratio_before",
            f"{first}_ratio_after",
            "accounts_before",
            "accounts_after",
        ],
        tool=result.tool,
    )
    table(
        "Moves",
        result.tables["moves"],
        ["account_id", "from_rep_id", "to_rep_id", "value", "late_stage_pipeline", "reason"],
        limit=25,
        tool=result.tool,
        wrap=("reason",),
    )
    saved_scenario(result, "changes")
    if "map" in m:
        err().print(f"Saved the map to {m['map']}.", markup=False)
    if "pareto_chart" in m:
        err().print(f"Saved the trade-off chart to {m['pareto_chart']}.", markup=False)
    recommendations_and_warnings(result)
