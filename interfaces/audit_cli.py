"""`spm audit list|show|verify|replay`: the hash-chained trail of every run (agent and CLI writes).

Users see their own runs; roles that may `read_all_audit` (admins) see everyone's. The trail
holds other users' questions and answers, so it is scoped like the data it talks about.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from interfaces.common import handles_errors, open_warehouse

if TYPE_CHECKING:
    from warehouse.identity import User

app = typer.Typer(help="The audit trail of agent runs: list, show, verify, replay.", no_args_is_help=True)


def _sees_all(who: User) -> bool:
    from warehouse.identity import allowed

    return allowed(who.role, "read_all_audit")


def _check_run(who: User, header: dict[str, Any]) -> None:
    """Refuse another user's run to someone who may see only their own."""
    from warehouse.errors import PermissionDeniedError
    from warehouse.identity import roles_for

    if header.get("user_id") != who.user_id and not _sees_all(who):
        raise PermissionDeniedError(
            f"Run {header['run_id']} is another user's; {who.user_id} ({who.role}) sees only their own runs.",
            f"List yours with spm audit list; roles {roles_for('read_all_audit')} see every run.",
        )


@app.command("list")
@handles_errors
def list_(
    ctx: typer.Context,
    limit: int = typer.Option(20, "--limit", min=1, help="Most recent runs to show."),
    user: str | None = typer.Option(None, "--user", help="Only this user's runs.", show_default=False),
    json_: bool = typer.Option(False, "--json", help="Print as JSON on stdout."),
) -> None:
    """Recent runs, newest first (a run still `running` after a crash shows as incomplete)."""
    from interfaces.identity import acting_user
    from interfaces.output import print_json
    from interfaces.render import table
    from warehouse import audit

    wh = open_warehouse(ctx)
    with wh.held():
        who = acting_user(wh)
        if not _sees_all(who):
            if user not in (None, who.user_id):
                _check_run(who, {"run_id": f"of {user}", "user_id": user})
            user = who.user_id
        with wh.reader() as cur:
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

    from interfaces.identity import acting_user
    from interfaces.output import out, print_json
    from warehouse import audit

    wh = open_warehouse(ctx)
    with wh.held():
        who = acting_user(wh)
        with wh.reader() as cur:
            header = audit.run(cur, run_id)
            _check_run(who, header)
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
    from interfaces.identity import acting_user
    from interfaces.output import err, out, print_json
    from interfaces.settings import audit_key
    from warehouse import audit

    key = audit_key(settings())
    wh = open_warehouse(ctx)
    with wh.held():
        who = acting_user(wh)
        with wh.reader() as cur:
            if run_id:
                _check_run(who, audit.run(cur, run_id))
                results = [audit.verify(cur, run_id, key)]
            elif _sees_all(who):
                results = audit.verify_all(cur, key)
            else:  # their own runs, oldest first like verify_all
                own = [r["run_id"] for r in reversed(audit.runs(cur, 2**62, who.user_id))]
                results = [audit.verify(cur, r, key) for r in own]
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
    """Re-run a run's tool calls on the current data (with that run's user's scope); report whether
    each result matches and why not."""
    from agent.replay import replay as replay_run
    from interfaces.identity import acting_user
    from interfaces.output import out, print_json
    from interfaces.render import table
    from warehouse import audit

    wh = open_warehouse(ctx, writable=True)
    with wh.held():
        with wh.reader() as cur:
            _check_run(acting_user(wh), audit.run(cur, run_id))
        report = replay_run(wh, run_id)
    if json_:
        print_json(report.as_dict())
    else:
        table(f"Replay of {run_id}", [c.__dict__ for c in report.calls], ["seq", "tool", "match", "reason"])
        out().print("All replayed results match." if report.ok else "Some results differ (see reasons).")
    if not report.ok:
        raise typer.Exit(10)
