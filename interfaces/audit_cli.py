"""`spm audit list|show|verify|replay`: the agent's hash-chained trail of every run."""

from __future__ import annotations

import typer

from interfaces.common import handles_errors, open_warehouse

app = typer.Typer(help="The audit trail of agent runs: list, show, verify, replay.", no_args_is_help=True)


@app.command("list")
@handles_errors
def list_(
    ctx: typer.Context,
    limit: int = typer.Option(20, "--limit", min=1, help="Most recent runs to show."),
    user: str | None = typer.Option(None, "--user", help="Only this user's runs.", show_default=False),
    json_: bool = typer.Option(False, "--json", help="Print as JSON on stdout."),
) -> None:
    """Recent runs, newest first (a run still `running` after a crash shows as incomplete)."""
    from interfaces.output import print_json
    from interfaces.render import table
    from warehouse import audit

    with open_warehouse(ctx).reader() as cur:
        rows = audit.runs(cur, limit, user)
    if json_:
        print_json(rows)
        return
    table("Runs", [{**r, "started_at": str(r["started_at"])[:19]} for r in rows],
          ["run_id", "started_at", "user_id", "interface", "status", "steps", "question"])  # fmt: skip


@app.command()
@handles_errors
def show(
    ctx: typer.Context,
    run_id: str = typer.Argument(..., help="The run id (spm audit list)."),
    json_: bool = typer.Option(False, "--json", help="Print as JSON on stdout."),
) -> None:
    """A run's steps as a readable trail."""
    from rich.markup import escape

    from interfaces.output import out, print_json
    from warehouse import audit

    with open_warehouse(ctx).reader() as cur:
        header = audit.run(cur, run_id)
        steps = audit.steps(cur, run_id)
    if json_:
        print_json(
            {
                **{k: str(v) if k.endswith("_at") else v for k, v in header.items()},
                "trail": [s.as_dict() for s in steps],
            }
        )
        return
    out().print(f"[bold]{escape(header['question'])}[/]")
    out().print(
        f"run {header['run_id']} · thread {header['thread_id']} · user {header['user_id']} · {header['interface']} · "
        f"{header['model']} · {header['status']} · code {header['code_version']}"
    )
    for s in steps:
        took = f" ({s.duration_ms:,.0f} ms)" if s.duration_ms else ""
        args = "" if s.args is None else f" {escape(str(s.args))[:300]}"
        out().print(f"{s.seq:>3}. [bold]{s.kind}[/] {escape(s.name or '')}{took}{args}")
        if s.summary:
            out().print(f"     {escape(s.summary)}")
        if s.data_fingerprint:
            out().print(f"     [dim]data {s.data_fingerprint} · result {s.result_digest}[/]")
    if header.get("answer"):
        out().print()
        out().print(escape(header["answer"]))


@app.command()
@handles_errors
def verify(
    ctx: typer.Context,
    run_id: str | None = typer.Argument(None, help="One run (default: every run).", show_default=False),
    json_: bool = typer.Option(False, "--json", help="Print as JSON on stdout."),
) -> None:
    """Recompute the hash chain (and, with SPM_AUDIT_KEY, each run's signature); exit 3 naming what broke.

    Tells apart an edited, a deleted and a reordered step, a truncated trail and a rewritten header.
    """
    from interfaces.common import settings
    from interfaces.output import err, out, print_json
    from interfaces.settings import audit_key
    from warehouse import audit

    key = audit_key(settings())
    with open_warehouse(ctx).reader() as cur:
        results = [audit.verify(cur, run_id, key)] if run_id else audit.verify_all(cur, key)
    bad = [r for r in results if not r.ok]
    if json_:
        print_json([r.__dict__ for r in results])
    else:
        for r in bad:
            where = f" (first bad step {r.first_bad_seq})" if r.first_bad_seq else ""
            err().print(f"[bold red]BROKEN ({r.kind})[/] run {r.run_id}: {r.problem}{where}")
        out().print(f"{len(results) - len(bad)} of {len(results)} runs verified.")
    if bad:
        raise typer.Exit(3)


@app.command()
@handles_errors
def replay(
    ctx: typer.Context,
    run_id: str = typer.Argument(..., help="The run to replay."),
    json_: bool = typer.Option(False, "--json", help="Print as JSON on stdout."),
) -> None:
    """Re-run a run's tool calls on the current data; report whether each result matches and why not."""
    from agent.replay import replay as replay_run
    from interfaces.output import out, print_json
    from interfaces.render import table

    report = replay_run(open_warehouse(ctx, writable=True), run_id)
    if json_:
        print_json(report.as_dict())
    else:
        table(f"Replay of {run_id}", [c.__dict__ for c in report.calls], ["seq", "tool", "match", "reason"])
        out().print("All replayed results match." if report.ok else "Some results differ (see reasons).")
    if not report.ok:
        raise typer.Exit(10)
