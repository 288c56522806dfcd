"""`spm ask`: one question to the planning agent, answered with recommendations and a trail."""

from __future__ import annotations

import sys

import typer

from interfaces.common import handles_errors, settings, warehouse_path


def render_result(result: object, *, trail: bool = True) -> None:
    """Print an agent result for a person: answer, recommendations, compact step trail."""
    from rich.markdown import Markdown
    from rich.table import Table

    from agent.result import AgentResult
    from interfaces.output import err, out

    assert isinstance(result, AgentResult)
    answer = result.answer or "(no answer)"
    if out().is_terminal:
        out().print(Markdown(answer))
    else:  # piped: the Markdown source is the plain text; rich would pad every line to the width
        sys.stdout.write(answer + "\n")
    if result.recommendations:
        table = Table(title="Recommendations", title_justify="left", show_lines=False)
        for column in ("#", "action", "tool", "confidence"):
            table.add_column(column, overflow="fold")
        for i, rec in enumerate(result.recommendations[:8], start=1):
            table.add_row(str(i), rec.get("action", ""), rec.get("tool", ""), f"{rec.get('confidence', 0):.0%}")
        out().print(table)
    if trail:
        steps = " -> ".join(
            f"{s.kind}{'(' + s.name + ')' if s.name and s.kind in ('tool_call', 'error', 'approval') else ''}"
            for s in result.steps
        )
        grounded = (
            "grounded"
            if result.grounding.get("ok", True)
            else "NOT grounded: " + ", ".join(result.grounding.get("ungrounded", []))
        )
        err().print(
            f"[dim]run {result.run_id} · thread {result.thread_id} · {result.status} · {result.model} · {grounded}[/]"
        )
        err().print(f"[dim]{steps}[/]")


def agent_for(ctx: typer.Context):  # type: ignore[no-untyped-def]
    from interfaces.compose import build_agent
    from warehouse.connection import Warehouse

    wh = Warehouse(warehouse_path(ctx), writable=True, lock_timeout=settings().lock_timeout)
    return build_agent(settings(), warehouse=wh)


@handles_errors
def ask(
    ctx: typer.Context,
    question: str | None = typer.Argument(None, help="The question, in plain words.", show_default=False),
    json_: bool = typer.Option(False, "--json", help="Print the result as JSON on stdout."),
    thread: str | None = typer.Option(
        None, "--thread", help="Continue this conversation (follow-ups, approvals).", show_default=False
    ),
    user: str | None = typer.Option(
        None, "--user", help="Ask as this user (users table): their role and data scope apply.", show_default=False
    ),
    approve: bool = typer.Option(
        False, "--approve", help="Approve writes this question makes (or the one the thread waits for)."
    ),
    reject: bool = typer.Option(False, "--reject", help="Decline the write the thread waits for."),
) -> None:
    """Ask the planning agent a question; it plans tool calls and answers with recommendations."""
    from interfaces.compose import resolve_user
    from interfaces.output import print_json
    from warehouse.errors import InputError

    if approve and reject:
        raise InputError("Give --approve or --reject, not both.")
    agent = agent_for(ctx)
    who = resolve_user(agent.warehouse, user or settings().user)
    if question is None:
        if not thread or not (approve or reject):
            raise InputError(
                "No question given.",
                'Ask one (spm ask "Forecast next quarter by region"), or answer a pending approval '
                "with --thread ID --approve/--reject.",
            )
        result = agent.resume(thread, approved=approve, user=who, interface="cli")
    else:
        if reject:
            raise InputError("--reject answers a pending approval; give --thread ID without a question.")
        result = agent.ask(question, thread_id=thread, user=who, interface="cli", approve=approve)
    if json_:
        data = result.model_dump(mode="json")
        data.pop("tool_results", None)
        print_json(data)
    else:
        render_result(result)
    if result.status == "error":
        raise typer.Exit(1)
