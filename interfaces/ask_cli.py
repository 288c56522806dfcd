"""`spm ask`: one question to the planning agent, answered with recommendations and a trail."""

from __future__ import annotations

import typer

from interfaces.agent_view import render_result
from interfaces.common import handles_errors, open_warehouse, settings


def agent_for(ctx: typer.Context):
    from interfaces.compose import build_agent

    wh = open_warehouse(ctx, writable=True)
    with wh.reader():  # a missing or unreadable warehouse fails here, once, not once per question
        pass
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
    from interfaces.output import print_json
    from warehouse.errors import InputError
    from warehouse.users import find_user

    if approve and reject:
        raise InputError("Give --approve or --reject, not both.")
    agent = agent_for(ctx)
    who = find_user(agent.warehouse, user or settings().user)
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
