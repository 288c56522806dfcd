"""`spm ask`: one question to the planning agent, answered with recommendations and a trail."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer

from interfaces.agent_view import render_result
from interfaces.common import handles_errors, open_warehouse, settings, warehouse_path


def _no_warehouse(ctx: typer.Context) -> None:
    """Right after `make demo` the default warehouse does not exist but the tour's does: say the
    exact command that asks the demo company instead of only how to create a warehouse."""
    from warehouse.errors import NotFoundError

    path, demo = warehouse_path(ctx), settings().demo_warehouse
    if path.is_file() or not demo.is_file() or path.resolve() == demo.resolve():
        return
    raise NotFoundError(
        f"No warehouse at {path}; the demo tour (`spm demo`, `make demo`) built its company at {demo}.",
        f'Ask the demo company: spm -w {demo} ask "..." (or export SPM_WAREHOUSE={demo}); '
        "or build the default warehouse with `spm data init --demo`.",
    )


def agent_for(ctx: typer.Context):
    from interfaces.compose import build_agent

    _no_warehouse(ctx)
    wh = open_warehouse(ctx, writable=True)
    with wh.reader():  # a missing or unreadable warehouse fails here, once, not once per question
        pass
    return build_agent(settings(), warehouse=wh)


@contextmanager
def watching(quiet: bool) -> Iterator[dict[str, Any]]:
    """The progress and token callbacks of a live view on stderr (interfaces/live_answer.py);
    none with `quiet` (--json: a script reads stdout and wants nothing but the JSON)."""
    from interfaces.live_answer import LiveAnswer
    from interfaces.output import err

    if quiet:
        yield {}
        return
    with LiveAnswer(err()) as live:
        yield {"on_progress": live.progress, "on_token": live.token}


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
        False,
        "--approve",
        help="Approve the change this question names (or the one the thread waits for); other writes wait.",
    ),
    reject: bool = typer.Option(False, "--reject", help="Decline the write the thread waits for."),
) -> None:
    """Ask the planning agent a question; it plans tool calls and answers with recommendations."""
    from interfaces.identity import acting_user
    from interfaces.output import print_json
    from warehouse.errors import InputError

    if approve and reject:
        raise InputError("Give --approve or --reject, not both.")
    agent = agent_for(ctx)
    who = acting_user(agent.warehouse, user)
    if question is None:
        if not thread or not (approve or reject):
            raise InputError(
                "No question given.",
                'Ask one (spm ask "Forecast next quarter by region"), or answer a pending approval '
                "with --thread ID --approve/--reject.",
            )
        with watching(json_) as live:
            result = agent.resume(thread, approved=approve, user=who, interface="cli", **live)
    else:
        if reject:
            raise InputError("--reject answers a pending approval; give --thread ID without a question.")
        with watching(json_) as live:
            result = agent.ask(question, thread_id=thread, user=who, interface="cli", approve=approve, **live)
    if json_:
        data = result.model_dump(mode="json")
        data.pop("tool_results", None)
        print_json(data)
    else:
        render_result(result)
    if result.status == "error":
        raise typer.Exit(1)
