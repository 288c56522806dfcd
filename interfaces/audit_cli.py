"""`spm audit list|show|verify|replay`: the hash-chained trail of every run (agent and CLI writes).

Users see their own runs; roles that may `read_all_audit` (admins) see everyone's. The trail
holds other users' questions and answers, so it is scoped like the data it talks about.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from interfaces.common import handles_errors, open_warehouse

if TYPE_CHECKING:
    from agent.result import Usage
    from warehouse.audit import Step
    from warehouse.identity import User

app = typer.Typer(
    help="The audit trail of agent runs and recorded writes: list, show, verify, replay, seal, anchor.",
    no_args_is_help=True,
)


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


def _trail(ctx: typer.Context, *, writable: bool = False) -> Any:
    """The warehouse, with the trails of finished runs still journaled beside it imported first
    (warehouse/audit_journal.py), so every command sees every run."""
    from interfaces.common import settings
    from interfaces.settings import audit_key
    from warehouse import audit_journal

    wh = open_warehouse(ctx, writable=writable)
    audit_journal.drain(wh, audit_key(settings()))
    return wh


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

    wh = _trail(ctx)
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

    wh = _trail(ctx)
    with wh.held():
        who = acting_user(wh)
        with wh.reader() as cur:
            header = audit.run(cur, run_id)
            _check_run(who, header)
            steps = audit.steps(cur, run_id)
    usage = _usage(steps)
    if json_:
        print_json(
            {
                **{k: str(v) if k.endswith("_at") else v for k, v in header.items()},
                "usage": usage.model_dump(mode="json"),
                "trail": [s.as_dict() for s in steps],
            }
        )
        return
    out().print(f"[bold]{escape(header['question'])}[/]")
    out().print(
        f"run {header['run_id']} · thread {header['thread_id']} · user {header['user_id']} · {header['interface']} · "
        f"{header['model']} · {header['status']} · code {header['code_version']}"
    )
    if usage.model_calls:
        out().print(f"[dim]{usage_line(usage)}[/]")
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


def _usage(steps: list[Step]) -> Usage:
    """The run's tokens from its `llm_call` steps, priced at today's SPM_PRICES (the trail keeps
    the tokens each call reported, so a run is priced again when the table changes)."""
    from agent.result import StepView, Usage
    from interfaces.common import settings
    from interfaces.prices import configured_prices

    views = [StepView(seq=s.seq, kind=s.kind, name=s.name, args=s.args) for s in steps]
    return Usage.of(views, configured_prices(settings()))


def usage_line(usage: Usage) -> str:
    """`3 model calls · 1,200 tokens in · 340 out · $0.0012` (the cost only where it is known)."""
    calls = f"{usage.model_calls} model call{'s' if usage.model_calls != 1 else ''}"
    cost = "" if usage.cost_usd is None else f" · {usd(usage.cost_usd)}"
    return f"{calls} · {usage.input_tokens:,} tokens in · {usage.output_tokens:,} out{cost}"


def usd(amount: float) -> str:
    """Dollars to the cent, or to four significant digits below a cent (model calls cost fractions of one)."""
    return f"${amount:,.2f}" if amount >= 0.01 or amount == 0 else f"${amount:.4g}"


@app.command()
@handles_errors
def verify(
    ctx: typer.Context,
    run_id: str | None = typer.Argument(None, help="One run (default: every run).", show_default=False),
    anchor: str | None = typer.Option(
        None, "--anchor", help="A ledger head printed earlier by `spm audit anchor` (SEQ:HASH).", show_default=False
    ),
    json_: bool = typer.Option(False, "--json", help="Print as JSON on stdout."),
) -> None:
    """Recompute the step chains and the ledger over every run (with SPM_AUDIT_KEY, its signatures);
    exit 3 naming what broke.

    Tells apart an edited, deleted or reordered step, a truncated trail, an edited header, a run
    rolled back to an earlier state, a deleted run, a cut or edited ledger, a bad signature, an
    unsigned or unsealed record, and a trail that no longer holds the given anchor.
    """
    from rich.markup import escape

    from interfaces.common import settings
    from interfaces.identity import acting_user
    from interfaces.output import err, out, print_json
    from interfaces.settings import audit_key
    from warehouse import audit, audit_journal

    key = audit_key(settings())
    wh = _trail(ctx)
    with wh.held():
        who = acting_user(wh)
        with wh.reader() as cur:
            if run_id and anchor:
                from warehouse.errors import InputError

                raise InputError("--anchor checks the whole trail; leave out the run id.")
            if run_id:
                _check_run(who, audit.run(cur, run_id))
                results = [audit.verify(cur, run_id, key)]
            elif _sees_all(who):
                results = audit.verify_all(cur, key, anchor)
            else:  # their own runs, oldest first like verify_all
                own = [r["run_id"] for r in reversed(audit.runs(cur, 2**62, who.user_id))]
                results = [audit.verify(cur, r, key) for r in own]
        if not run_id and _sees_all(who):  # journals set aside on import: a trail edited before it got in
            results += [audit.Verification(r, False, 0, f"journal not imported: {why}", None, "journal_rejected")
                        for r, why in audit_journal.rejected(wh, key)]  # fmt: skip
    bad = [r for r in results if not r.ok]
    if json_:
        print_json([r.__dict__ for r in results])
    else:
        for r in bad:
            where = f" (first bad step {r.first_bad_seq})" if r.first_bad_seq else ""
            what = "ledger" if r.run_id == "-" else f"run {r.run_id}"
            err().print(f"[bold red]BROKEN ({r.kind})[/] {what}: {escape(r.problem or '')}{where}")
        runs = [r for r in results if r.run_id != "-" and r.kind != "run_deleted"]
        bad_runs = [r for r in runs if not r.ok]
        out().print(f"{len(runs) - len(bad_runs)} of {len(runs)} runs verified.")
        if any(r.kind in audit.SEALABLE for r in bad) and len(bad) == sum(r.kind in audit.SEALABLE for r in bad):
            err().print("Runs recorded before the ledger or the key: review them, then run `spm audit seal`.")
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

    wh = _trail(ctx, writable=True)
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


@app.command()
@handles_errors
def seal(ctx: typer.Context) -> None:
    """Record the runs written before the ledger existed (and sign its head with SPM_AUDIT_KEY), once.

    Admins only. Refuses when `spm audit verify` finds anything but unsealed or unsigned records,
    so sealing never hides an edit. The sealing itself is a recorded run.
    """
    from agent.version import code_version
    from interfaces.common import settings
    from interfaces.identity import acting_user
    from interfaces.output import out
    from interfaces.settings import audit_key
    from warehouse import audit
    from warehouse.errors import PermissionDeniedError
    from warehouse.identity import allowed, roles_for

    wh = _trail(ctx, writable=True)
    who = acting_user(wh)
    if not allowed(who.role, "seal_audit"):
        raise PermissionDeniedError(
            f"{who.user_id} ({who.role}) may not seal the audit trail.",
            f"Ask a user with role {roles_for('seal_audit')}.",
        )
    key = audit_key(settings())
    run_id, count = audit.seal(wh, user_id=who.user_id, code_version=code_version(), key=key)
    signed = " and signed the ledger's head" if key else " (no SPM_AUDIT_KEY: the ledger is chained, not signed)"
    out().print(f"Sealed {count} earlier run(s){signed}; recorded as run {run_id}.")


@app.command()
@handles_errors
def anchor(ctx: typer.Context) -> None:
    """Print the ledger's head (SEQ:HASH). Keep it outside the warehouse (a ticket, a log, another
    machine); `spm audit verify --anchor SEQ:HASH` later proves the trail still holds it, which
    catches a roll-back of the whole file that no signature can."""
    from interfaces.output import out
    from warehouse import audit

    with _trail(ctx).reader() as cur:
        out().print(audit.anchor(cur), markup=False, highlight=False)
